"""A real `catalog-server` process (webserver, admin API, dagster-daemon) on a free loopback port,
with every provider pointed at a local fixture server. One server for the module; each test makes
the syncs it reads (or takes them from a module fixture) and waits for the runs it starts, so the
tests pass in any order, except the shutdown test: it stops the module's server, so it comes last.
The sync of every provider at once and the browser test are in test_server_runs.py, on a server
of their own (a module runs whole on one worker)."""

from __future__ import annotations

import base64
import copy
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest

from catalog_pipeline.db.engine import catalog_engine
from catalog_pipeline.providers import ADAPTERS

from .catalog_server_fixtures import (  # noqa: F401 - fixtures_http is a fixture
    AUTH, KEY, KILLED, PROVIDER_KEYS, SECRETS, SYNCED_ALONE, call, fixture, fixtures_http, graphql, runs_of, start_server,
)
from .http_server import FixtureServer, Reply, json_reply
from .server_process import ServerProcess, wait_for_exit
from .table_dump import dump_all_tables


def deepinfra_changed() -> dict:
    """The DeepInfra list a day later: one model gone, one repriced, one new."""
    payload = copy.deepcopy(fixture("deepinfra_models.json"))
    gone = payload["data"].pop()
    payload["data"][0]["metadata"]["pricing"]["input_tokens"] = 2.5
    payload["data"].append({**copy.deepcopy(payload["data"][1]), "id": "acme/Brand-New-1B"})
    payload["gone"] = gone["id"]
    return payload


@pytest.fixture(scope="module")
def server(fixtures_http: FixtureServer, tmp_path_factory: pytest.TempPathFactory):
    # The access log is on: the shutdown test reads every request the module made in the server's log.
    process = start_server(fixtures_http, tmp_path_factory.mktemp("catalog_server"), log_level="info")
    yield process
    process.stop()  # nothing left to do after the shutdown test stopped it


@pytest.fixture(scope="module")
def groq_refused(server: ServerProcess) -> httpx.Response:
    """The answer to one sync of groq, whose provider refuses the key with 401 and echoes it in its
    error body: the run fails. Shared by the tests that read such a failure, one run for all."""
    return call(server, "POST", "/admin/model-sync/provider/groq", AUTH)


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


def test_sync_then_a_dry_run_reports_the_diff_and_writes_nothing(server: ServerProcess, fixtures_http: FixtureServer):
    """The module's first sync, on its empty catalog: a dry run, the sync, a dry run of a changed
    list. Every table of the catalog is the same before and after each dry run (the API's case of
    test_dry_run_writes_nothing.py, on the empty catalog and on a populated one)."""
    database_url = f"sqlite:///{server.database}"
    fixtures_http.route("/deepinfra/models", json_reply(fixture("deepinfra_models.json")))
    catalog_engine(database_url)
    empty = dump_all_tables(database_url)
    assert all(rows == [] for name, rows in empty.items() if not name.endswith("alembic_version")), "an earlier test synced"
    first = call(server, "POST", "/admin/model-sync/provider/deepinfra?dry_run=true", AUTH)
    assert first.status_code == 200, first.text
    assert first.json()["details"]["diff"]["added"]
    assert dump_all_tables(database_url) == empty

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
    try:
        populated = dump_all_tables(database_url)
        dry = call(server, "POST", "/admin/model-sync/provider/deepinfra?dry_run=true", AUTH)
        assert dry.status_code == 200, dry.text
        assert dump_all_tables(database_url) == populated
    finally:
        fixtures_http.route("/deepinfra/models", json_reply(fixture("deepinfra_models.json")))
    details = dry.json()["details"]
    assert details["dry_run"] is True and details["models_synced"] == 0
    diff = details["diff"]
    assert diff["added"] == ["acme/Brand-New-1B"]
    assert diff["deactivated"] == [changed["gone"]]
    assert list(diff["updated"]) == ["acme/Chat-70B-Instruct"]
    assert "pricing_prompt" in diff["updated"]["acme/Chat-70B-Instruct"]
    status = call(server, "GET", "/admin/model-sync/status", AUTH).json()
    last = next(p for p in status["providers"] if p["provider"] == "deepinfra")["last_run"]
    assert last["status"] == "SUCCESS" and last["dry_run"] is True
    assert last["counts"]["added"] == 1 and last["counts"]["deactivated"] == 1


def test_two_simultaneous_syncs_of_one_provider_give_one_run_and_one_409(server: ServerProcess):
    before = {run["runId"] for run in runs_of(server, "openrouter")}
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
    (run,) = [run for run in runs_of(server, "openrouter") if run["runId"] not in before]  # in the UI's run history
    tags = {tag["key"]: tag["value"] for tag in run["tags"]}
    assert run["status"] == "SUCCESS"
    assert tags["catalog/trigger"] == "admin-api" and tags["catalog/endpoint"] == "provider"


def test_a_provider_key_echoed_by_the_provider_never_reaches_the_answer(groq_refused: httpx.Response):
    response = groq_refused
    assert response.status_code == 500
    body = response.json()
    assert body["success"] is False and body["message"].startswith("groq: HTTP 401")
    assert PROVIDER_KEYS["GROQ_API_KEY"] not in response.text


def test_a_provider_without_its_key_is_skipped(server: ServerProcess):
    response = call(server, "POST", "/admin/model-sync/provider/fireworks?wait=false", AUTH)
    assert response.status_code == 422
    assert response.json()["message"] == "skipped: FIREWORKS_API_KEY is not set"


def test_providers_and_status_report_the_catalog(server: ServerProcess, groq_refused: httpx.Response):
    synced = call(server, "POST", f"/admin/model-sync/provider/{SYNCED_ALONE}", AUTH)
    assert synced.status_code == 200, synced.text
    count = synced.json()["details"]["models_synced"]
    assert count > 0
    assert groq_refused.status_code == 500

    providers = {p["slug"]: p for p in call(server, "GET", "/admin/model-sync/providers", AUTH).json()["providers"]}
    assert set(providers) == set(ADAPTERS)
    assert providers["deepinfra"]["api_key_set"] is True and providers["fireworks"]["api_key_set"] is False
    listed = providers[SYNCED_ALONE]
    assert listed["model_count"] == count and 0 < listed["active_model_count"] <= count and listed["last_synced_at"]

    status = call(server, "GET", "/admin/model-sync/status", AUTH).json()
    entries = {p["provider"]: p for p in status["providers"]}
    last = entries[SYNCED_ALONE]["last_run"]
    assert last["status"] == "SUCCESS" and last["dry_run"] is False and last["trigger"] == "admin-api"
    assert last["counts"]["models_synced"] == count
    assert last["started_at"] and last["ended_at"] and last["duration_seconds"] >= 0
    assert entries[SYNCED_ALONE]["stale"] is False and "fireworks" in status["stale_providers"]
    assert entries["groq"]["last_run"]["status"] == "FAILURE"
    assert entries["groq"]["last_run"]["error"].startswith("groq: HTTP 401")
    assert status["catalog"]["providers"][SYNCED_ALONE] == {"models": count, "active_models": listed["active_model_count"]}
    assert status["catalog"]["models"] == sum(p["models"] for p in status["catalog"]["providers"].values())


def test_the_ui_serves_the_code_location_and_the_daemon_monitors_runs(server: ServerProcess):
    repositories = graphql(server, "{ repositoriesOrError { ... on RepositoryConnection { nodes { location { name } jobs { name } } } } }")
    (repository,) = repositories["repositoriesOrError"]["nodes"]
    assert repository["location"]["name"] == "catalog_pipeline"
    assert {"catalog_sync", "catalog_replay"} <= {job["name"] for job in repository["jobs"]}
    health = graphql(server, "{ instance { daemonHealth { allDaemonStatuses { daemonType required } } } }")
    required = {d["daemonType"] for d in health["instance"]["daemonHealth"]["allDaemonStatuses"] if d["required"]}
    assert {"QUEUED_RUN_COORDINATOR", "SCHEDULER", "MONITORING"} <= required  # run monitoring is on


def wait_for(condition, timeout: float = 120.0, what: str = "condition"):
    """Poll `condition` until it returns something truthy (a process outside the test decides when)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def run_failure_message(server: ServerProcess, run_id: str) -> str:
    query = """query Logs($runId: ID!) { logsForRun(runId: $runId) { ... on EventConnection {
        events { __typename ... on MessageEvent { message } } } } }"""
    events = graphql(server, query, runId=run_id)["logsForRun"]["events"]
    return " ".join(event["message"] for event in events if event["__typename"] == "RunFailureEvent")


def test_a_killed_sync_models_never_blocks_the_next_sync(server: ServerProcess, fixtures_http: FixtureServer, tmp_path: Path):
    released = threading.Event()
    fixtures_http.route(f"/held/{KILLED}/models", Reply(status=200, body=fixture(f"{KILLED}_models.json"),
                                                         headers={"Content-Type": "application/json"}, hold=released))
    # The marker finds what the killed process leaves behind (its compute-log watchers exit on their own).
    marker = f"CATALOG_TEST_KILLED_SYNC={uuid.uuid4().hex}"
    env = {name: value for name, value in server.env.items() if name != "ADMIN_API_KEY"} | dict([marker.split("=")])
    env[ADAPTERS[KILLED].SPEC.base_url_env_var] = f"{fixtures_http.url}/held/{KILLED}"
    log = open(tmp_path / "sync-models.log", "wb")
    sync = subprocess.Popen([sys.executable, "-m", "catalog_pipeline.cli.sync_models", "--providers", KILLED],
                            env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        def started_by_sync():
            for run in runs_of(server, KILLED):
                tags = {tag["key"]: tag["value"] for tag in run["tags"]}
                if tags.get("catalog/pid") == str(sync.pid) and run["status"] == "STARTED":
                    return run["runId"]
            assert sync.poll() is None, (tmp_path / "sync-models.log").read_text()
            return None

        # Its run fetches inside the run: once the held fetch arrives the run has started, so the
        # server's GraphQL is asked once, not polled while sync-models starts (seconds of its CPU).
        wait_for(lambda: fixtures_http.hits(f"/held/{KILLED}/models") or sync.poll() is not None, what="the held fetch")
        dead_run = wait_for(started_by_sync, what=f"sync-models (pid {sync.pid}) to start its run")
        sync.send_signal(signal.SIGKILL)
        sync.wait(timeout=30)
    finally:
        released.set()
        if sync.poll() is None:
            sync.kill()
            sync.wait()
        log.close()
        wait_for_exit(marker)  # not to be counted as the server's by the shutdown test

    response = call(server, "POST", f"/admin/model-sync/provider/{KILLED}", AUTH)
    assert response.status_code == 200, response.text  # not 409: the dead run no longer holds the provider
    assert response.json()["details"]["run_id"] != dead_run
    (dead,) = [run for run in runs_of(server, KILLED) if run["runId"] == dead_run]
    assert dead["status"] == "FAILURE"
    message = run_failure_message(server, dead_run)
    assert f"pid {sync.pid}" in message and "gone" in message, message


def test_a_key_in_the_query_string_is_refused_and_never_logged_and_shutdown_is_clean(
    server: ServerProcess, groq_refused: httpx.Response
):
    """Last in the module: it stops the module's server, whose log then holds every request and run
    of the module, groq's echoed key among them."""
    runs_before = runs_in(server.env["DAGSTER_HOME"])
    try:
        for path in ("/admin/model-sync/status", "/runs"):
            refused = call(server, "GET", f"{path}?api_key={KEY}&key={KEY}&token={KEY}")
            assert refused.status_code == 401
        assert call(server, "GET", "/admin/model-sync/status?stale_after_hours=1e308", AUTH).status_code == 400
        assert call(server, "POST", "/admin/model-sync/provider/groq?dry_run=", AUTH).status_code == 400
        assert runs_in(server.env["DAGSTER_HOME"]) == runs_before  # the 400s launched nothing
        assert groq_refused.status_code == 500  # the provider echoed its key
    finally:
        leftovers = server.stop()
    assert leftovers == [], f"processes left running: {leftovers}"
    assert server.process.returncode == 0, server.log()[-2000:]
    log = server.log()
    assert "stopped dagster-daemon" in log
    assert '"GET /admin/model-sync/status" 401' in log and '"GET /runs" 401' in log  # the access log is on
    assert '"POST /admin/model-sync/provider/groq" 400' in log and '"POST /admin/model-sync/provider/groq" 500' in log
    assert "api_key=" not in log and "stale_after_hours=" not in log and "dry_run=" not in log
    for text in [log, *server.responses]:
        for secret in SECRETS:
            assert secret not in text


def runs_in(dagster_home: str) -> int:
    with sqlite3.connect(Path(dagster_home) / "history" / "runs.db") as conn:
        return conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
