"""A real `catalog-server` process (webserver, admin API, dagster-daemon) on a free loopback port,
with every provider pointed at a local fixture server. One server for the module: the tests run
in file order and the last one stops it and checks nothing was left behind."""

from __future__ import annotations

import base64
import copy
import json
import os
import socket
import sqlite3
import threading
from pathlib import Path

import httpx
import pytest

from catalog_pipeline.providers import ADAPTERS

from .http_server import FixtureServer, json_reply
from .server_process import ServerProcess

FIXTURES = Path(__file__).parent / "fixtures"
KEY = "proc-admin-key-0123456789-abcdefgh"
PROVIDER_KEYS = {"DEEPINFRA_API_KEY": "di-secret-key-0123456789", "GROQ_API_KEY": "gsk-secret-key-0123456789"}
SECRETS = [KEY, *PROVIDER_KEYS.values()]
AUTH = {"Authorization": f"Bearer {KEY}"}

seen_responses: list[str] = []


def fixture(name: str):
    return json.loads((FIXTURES / name).read_text())


def deepinfra_changed() -> dict:
    """The DeepInfra list a day later: one model gone, one repriced, one new."""
    payload = copy.deepcopy(fixture("deepinfra_models.json"))
    gone = payload["data"].pop()
    payload["data"][0]["metadata"]["pricing"]["input_tokens"] = 2.5
    payload["data"].append({**copy.deepcopy(payload["data"][1]), "id": "acme/Brand-New-1B"})
    payload["gone"] = gone["id"]
    return payload


@pytest.fixture(scope="module")
def fixtures_http():
    with FixtureServer() as server:
        server.route("/openrouter/models", json_reply(fixture("openrouter_models.json")))
        server.route("/deepinfra/models", json_reply(fixture("deepinfra_models.json")))
        # A provider that echoes the caller's key in its error body.
        server.route("/groq/models", json_reply({"error": f"invalid api key {PROVIDER_KEYS['GROQ_API_KEY']}"}, status=401))
        yield server


@pytest.fixture(scope="module")
def server(fixtures_http: FixtureServer, tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("catalog_server")
    env = {
        name: value for name, value in os.environ.items()
        if not name.endswith(("_API_KEY", "_BASE_URL")) and name not in ("DAGSTER_HOME", "CATALOG_DATABASE_URL")
    }
    for slug, module in ADAPTERS.items():
        env[module.SPEC.base_url_env_var] = f"{fixtures_http.url}/{slug}"
    env.update(PROVIDER_KEYS)
    env.update(ADMIN_API_KEY=KEY, DAGSTER_HOME=str(tmp / "dagster_home"), CATALOG_DATABASE_URL=f"sqlite:///{tmp / 'catalog.db'}")
    process = ServerProcess(env, tmp / "server.log").start(KEY)
    process.database = tmp / "catalog.db"
    yield process
    process.stop()


def call(server: ServerProcess, method: str, path: str, headers: dict[str, str] | None = None, **kwargs) -> httpx.Response:
    response = httpx.request(method, server.url + path, headers=headers or {}, timeout=120, **kwargs)
    seen_responses.append("\n".join([response.text, *(f"{k}: {v}" for k, v in response.headers.items())]))
    return response


def basic(password: str) -> str:
    return "Basic " + base64.b64encode(f"operator:{password}".encode()).decode()


GET_ROUTES = ["/admin/model-sync/providers", "/admin/model-sync/status", "/admin/openapi.json"]
SYNC_ROUTES = ["/admin/model-sync/provider/openrouter", "/admin/model-sync/all"]
UI_ROUTES = ["/", "/runs", "/server_info"]
WRONG = {
    "no key": None,
    "wrong key": f"Bearer {'z' * len(KEY)}",
    "last character differs": f"Bearer {KEY[:-1]}X",
    "different length": f"Bearer {KEY}{KEY}",
    "basic on the admin API": basic(KEY),
}


@pytest.mark.parametrize("case", list(WRONG))
def test_admin_routes_refuse_missing_and_wrong_keys(server: ServerProcess, case: str):
    headers = {"Authorization": WRONG[case]} if WRONG[case] else {}
    for path in GET_ROUTES:
        response = call(server, "GET", path, headers)
        assert response.status_code == 401, path
        assert response.headers["www-authenticate"].startswith("Bearer")
    for path in SYNC_ROUTES:
        assert call(server, "POST", path, headers).status_code == 401, path


@pytest.mark.parametrize("scheme", ["Bearer", "bearer"])
def test_admin_routes_answer_the_key(server: ServerProcess, scheme: str):
    for path in GET_ROUTES:
        assert call(server, "GET", path, {"Authorization": f"{scheme} {KEY}"}).status_code == 200, path


@pytest.mark.parametrize("case", [c for c in WRONG if c != "basic on the admin API"] + ["basic, wrong password"])
def test_the_ui_and_its_graphql_refuse_missing_and_wrong_keys(server: ServerProcess, case: str):
    authorization = basic(KEY[::-1]) if case == "basic, wrong password" else WRONG[case]
    headers = {"Authorization": authorization} if authorization else {}
    for path in UI_ROUTES:
        assert call(server, "GET", path, headers).status_code == 401, path
    graphql = call(server, "POST", "/graphql", headers, json={"query": "{ version }"})
    assert graphql.status_code == 401
    assert "Basic" in graphql.headers["www-authenticate"]


@pytest.mark.parametrize("authorization", [f"Bearer {KEY}", f"bearer {KEY}", basic(KEY)])
def test_the_ui_answers_bearer_and_basic(server: ServerProcess, authorization: str):
    headers = {"Authorization": authorization}
    assert "<html" in call(server, "GET", "/", headers).text.lower()
    graphql = call(server, "POST", "/graphql", headers, json={"query": "{ version }"})
    assert graphql.status_code == 200 and graphql.json()["data"]["version"]


def websocket_handshake_status(server: ServerProcess, authorization: str | None) -> bytes:
    request = (
        "GET /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Protocol: graphql-ws\r\n"
    )
    if authorization:
        request += f"Authorization: {authorization}\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall((request + "\r\n").encode())
        return sock.recv(4096).split(b"\r\n", 1)[0]


def test_the_ui_websocket_needs_the_key(server: ServerProcess):
    assert b" 401 " in websocket_handshake_status(server, None) + b" "
    assert b" 401 " in websocket_handshake_status(server, f"Bearer {KEY[:-1]}X") + b" "
    assert b" 101 " in websocket_handshake_status(server, basic(KEY)) + b" "


def test_unknown_provider_is_404(server: ServerProcess):
    response = call(server, "POST", "/admin/model-sync/provider/not-a-provider", AUTH)
    assert response.status_code == 404
    assert response.json()["success"] is False


def catalog_snapshot(database: Path) -> tuple[list, list]:
    with sqlite3.connect(database) as conn:
        return (conn.execute("SELECT * FROM providers ORDER BY id").fetchall(),
                conn.execute("SELECT * FROM models ORDER BY id").fetchall())


def test_sync_then_a_dry_run_reports_the_diff_and_writes_nothing(server: ServerProcess, fixtures_http: FixtureServer):
    synced = call(server, "POST", "/admin/model-sync/provider/deepinfra?dry_run=false", AUTH)
    assert synced.status_code == 200, synced.text
    body = synced.json()
    assert body["success"] is True
    assert body["message"] == "Synced 5 models from deepinfra. Fetched: 5, Transformed: 5, Skipped: 0"
    details = body["details"]
    assert {k: details[k] for k in ("provider", "models_fetched", "models_transformed", "models_synced")} == {
        "provider": "deepinfra", "models_fetched": 5, "models_transformed": 5, "models_synced": 5}
    assert isinstance(details["provider_id"], int) and details["run_id"]

    changed = deepinfra_changed()
    fixtures_http.route("/deepinfra/models", json_reply({"object": "list", "data": changed["data"]}))
    before = catalog_snapshot(server.database)
    dry = call(server, "POST", "/admin/model-sync/provider/deepinfra?dry_run=true", AUTH)
    assert dry.status_code == 200, dry.text
    assert catalog_snapshot(server.database) == before
    details = dry.json()["details"]
    assert details["dry_run"] is True and details["models_synced"] == 0
    diff = details["diff"]
    assert diff["added"] == ["acme/Brand-New-1B"]
    assert diff["deactivated"] == [changed["gone"]]
    assert list(diff["updated"]) == ["acme/Chat-70B-Instruct"]
    assert "pricing_prompt" in diff["updated"]["acme/Chat-70B-Instruct"]


def runs_of(server: ServerProcess, provider: str) -> list[dict]:
    query = """query Runs($filter: RunsFilter) { runsOrError(filter: $filter) {
        ... on Runs { results { runId status tags { key value } } } } }"""
    variables = {"filter": {"tags": [{"key": "dagster/partition", "value": provider}]}}
    response = call(server, "POST", "/graphql", AUTH, json={"query": query, "variables": variables})
    return response.json()["data"]["runsOrError"]["results"]


def test_two_simultaneous_syncs_of_one_provider_give_one_run_and_one_409(server: ServerProcess):
    answers: list[httpx.Response] = []
    start = threading.Barrier(2)

    def request() -> None:
        start.wait()
        answers.append(call(server, "POST", "/admin/model-sync/provider/openrouter?wait=true", AUTH))

    threads = [threading.Thread(target=request) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answer.status_code for answer in answers) == [200, 409]
    conflict = next(answer for answer in answers if answer.status_code == 409).json()
    assert conflict["success"] is False and "already" in conflict["message"]
    (run,) = runs_of(server, "openrouter")  # visible in the UI's run history, tagged
    tags = {tag["key"]: tag["value"] for tag in run["tags"]}
    assert run["status"] == "SUCCESS"
    assert tags["catalog/trigger"] == "admin-api" and tags["catalog/endpoint"] == "provider"


def test_a_provider_key_echoed_by_the_provider_never_reaches_the_answer(server: ServerProcess):
    response = call(server, "POST", "/admin/model-sync/provider/groq", AUTH)
    assert response.status_code == 500
    body = response.json()
    assert body["success"] is False and body["message"].startswith("groq: HTTP 401")
    assert PROVIDER_KEYS["GROQ_API_KEY"] not in response.text


def test_a_provider_without_its_key_is_skipped(server: ServerProcess):
    response = call(server, "POST", "/admin/model-sync/provider/fireworks?wait=false", AUTH)
    assert response.status_code == 422
    assert response.json()["message"] == "skipped: FIREWORKS_API_KEY is not set"


def test_providers_and_status_report_the_catalog(server: ServerProcess):
    providers = {p["slug"]: p for p in call(server, "GET", "/admin/model-sync/providers", AUTH).json()["providers"]}
    assert set(providers) == set(ADAPTERS)
    assert providers["deepinfra"]["api_key_set"] is True and providers["fireworks"]["api_key_set"] is False
    assert providers["deepinfra"]["active_model_count"] == 5 and providers["deepinfra"]["last_synced_at"]

    status = call(server, "GET", "/admin/model-sync/status", AUTH).json()
    entries = {p["provider"]: p for p in status["providers"]}
    last = entries["deepinfra"]["last_run"]
    assert last["status"] == "SUCCESS" and last["dry_run"] is True
    assert last["counts"]["added"] == 1 and last["counts"]["deactivated"] == 1
    assert last["started_at"] and last["ended_at"] and last["duration_seconds"] >= 0
    assert entries["deepinfra"]["stale"] is False and "fireworks" in status["stale_providers"]
    assert entries["groq"]["last_run"]["status"] == "FAILURE"
    assert entries["groq"]["last_run"]["error"].startswith("groq: HTTP 401")
    assert status["catalog"]["providers"]["deepinfra"] == {"models": 5, "active_models": 5}
    assert status["catalog"]["models"] == sum(p["models"] for p in status["catalog"]["providers"].values())


def test_all_launches_one_run_per_provider_with_a_key(server: ServerProcess):
    response = call(server, "POST", "/admin/model-sync/all?dry_run=true&wait=false", AUTH)
    assert response.status_code == 202
    entries = {entry["provider"]: entry for entry in response.json()["details"]["providers"]}
    assert set(entries) == set(ADAPTERS)
    for slug, module in ADAPTERS.items():
        if module.SPEC.key_required and module.SPEC.api_key_env_var not in PROVIDER_KEYS:
            assert entries[slug]["status"] == "skipped", slug
        else:
            assert entries[slug]["status"] == "queued" and entries[slug]["run_id"], slug
    run_ids = {entry["run_id"] for entry in entries.values() if entry["status"] == "queued"}
    assert len(run_ids) == sum(1 for entry in entries.values() if entry["status"] == "queued")


def test_no_secret_in_any_answer_or_log_and_nothing_left_running(server: ServerProcess):
    assert seen_responses
    for text in seen_responses:
        for secret in SECRETS:
            assert secret not in text
    leftovers = server.stop()
    assert leftovers == [], f"processes left running: {leftovers}"
    assert server.process.returncode == 0, server.log()[-2000:]
    log = server.log()
    assert "stopped dagster-daemon" in log
    for secret in SECRETS:
        assert secret not in log
