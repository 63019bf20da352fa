"""catalog-server in process: auth on every route (Starlette TestClient), the sync rules with a
fake run backend, and the small pieces (key validation, redaction, daemon cleanup). Strict query
input, the OpenAPI document and /admin/docs: test_server_api.py."""

from __future__ import annotations

import asyncio
import base64
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

with warnings.catch_warnings():  # starlette 1.x prefers httpx2 and says so at import; httpx works
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient, WebSocketDenialResponse
from starlette.websockets import WebSocketDisconnect

from catalog_pipeline.providers import ADAPTERS, PROVIDER_SLUGS
from catalog_pipeline.server.auth import AdminKeyError, validate_admin_key
from catalog_pipeline.server.daemon import DaemonProcess
from catalog_pipeline.instance import prepare_dagster_home
from catalog_pipeline.server.secrets import Redactor
from catalog_pipeline.server.status import SNAPSHOT_TTL_SECONDS
from catalog_pipeline.server.syncs import SyncService

from .server_fakes import KEY, PROVIDER_KEY, SUCCESS_METADATA, FakeClock, FakeRuns
from .server_fakes import client, clock, env, runs  # noqa: F401 - fixtures



ADMIN_ROUTES = [
    ("GET", "/admin/model-sync/providers"),
    ("POST", "/admin/model-sync/provider/openrouter?wait=false"),
    ("POST", "/admin/model-sync/all?wait=false"),
    ("GET", "/admin/model-sync/status"),
    ("GET", "/admin/openapi.json"),
    ("GET", "/admin/docs"),
]
UI_ROUTES = [("GET", "/"), ("GET", "/runs"), ("POST", "/graphql")]


def basic(password: str, user: str = "admin") -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


WRONG_CREDENTIALS = {
    "no key": None,
    "wrong key": f"Bearer {'x' * len(KEY)}",
    "last character differs": f"Bearer {KEY[:-1]}{'Y' if KEY[-1] != 'Y' else 'Z'}",
    "longer key": f"Bearer {KEY}0",
    "shorter key": f"Bearer {KEY[:-1]}",
    "empty bearer": "Bearer ",
    "key without scheme": KEY,
    "basic with wrong password": basic(KEY[:-1] + "!"),
    "token scheme": f"Token {KEY}",
}


def call(client: TestClient, method: str, path: str, authorization: str | None):
    headers = {"Authorization": authorization} if authorization is not None else {}
    return client.request(method, path, headers=headers)


@pytest.mark.parametrize("method,path", ADMIN_ROUTES + UI_ROUTES)
@pytest.mark.parametrize("case", list(WRONG_CREDENTIALS))
def test_every_route_refuses_a_missing_or_wrong_key(client: TestClient, runs: FakeRuns, method, path, case):
    response = call(client, method, path, WRONG_CREDENTIALS[case])
    assert response.status_code == 401
    assert any(value.startswith("Bearer") for value in response.headers.get_list("www-authenticate"))
    assert KEY not in response.text
    assert runs.launched == []


@pytest.mark.parametrize("method,path", ADMIN_ROUTES + UI_ROUTES)
@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_every_route_accepts_the_key_as_bearer_in_any_case(client: TestClient, method, path, scheme):
    response = call(client, method, path, f"{scheme} {KEY}")
    assert response.status_code in (200, 202), response.text


@pytest.mark.parametrize("method,path", ADMIN_ROUTES)
def test_admin_routes_take_no_basic_auth(client: TestClient, runs: FakeRuns, method, path):
    response = call(client, method, path, basic(KEY))
    assert response.status_code == 401
    assert runs.launched == []


@pytest.mark.parametrize("method,path", UI_ROUTES)
def test_the_ui_takes_basic_auth_with_the_key_as_password_and_challenges_browsers(client: TestClient, method, path):
    assert call(client, method, path, basic(KEY, user="anyone")).status_code == 200
    assert call(client, method, path, basic(KEY, user="")).status_code == 200
    refused = call(client, method, path, None)
    assert refused.headers.get_list("www-authenticate")[0].startswith('Basic realm=')


def test_two_authorization_headers_are_refused(client: TestClient):
    response = client.get("/admin/openapi.json", headers=[("Authorization", f"Bearer {KEY}"), ("Authorization", "Bearer x")])
    assert response.status_code == 401


def test_ui_websocket_needs_the_key(client: TestClient):
    with pytest.raises(WebSocketDenialResponse) as refused:  # the handshake is answered 401
        with client.websocket_connect("/graphql"):
            pass
    assert refused.value.status_code == 401
    assert KEY not in refused.value.text
    with client.websocket_connect("/graphql", headers={"Authorization": basic(KEY)}) as socket:
        with pytest.raises(WebSocketDisconnect):
            socket.receive_text()  # accepted, then closed normally by the fake UI


def test_unknown_provider_is_404(client: TestClient, runs: FakeRuns):
    response = client.post("/admin/model-sync/provider/no-such-provider", headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code == 404
    assert response.json()["success"] is False
    assert runs.launched == []


def test_sync_answers_the_shape_operators_script_against(client: TestClient, runs: FakeRuns):
    response = client.post("/admin/model-sync/provider/openrouter", headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert body["message"] == SUCCESS_METADATA["message"]
    details = body["details"]
    assert {k: details[k] for k in ("provider", "provider_id", "models_fetched", "models_transformed", "models_synced")} == {
        "provider": "openrouter", "provider_id": 7, "models_fetched": 4, "models_transformed": 3, "models_synced": 3}
    assert details["run_id"] == "run-1-openrouter"
    assert "diff" not in details
    ((provider, dry_run, tags),) = runs.launched
    assert (provider, dry_run) == ("openrouter", False)
    assert tags["catalog/trigger"] == "admin-api" and tags["catalog/endpoint"] == "provider"


def test_dry_run_returns_the_diff(client: TestClient, runs: FakeRuns):
    response = client.post("/admin/model-sync/provider/openrouter?dry_run=true", headers={"Authorization": f"Bearer {KEY}"})
    details = response.json()["details"]
    assert details["dry_run"] is True and details["models_synced"] == 0
    assert details["diff"]["updated"] == {"a/old": {"pricing_prompt": ["0.1", "0.2"]}}
    assert details["diff"]["deactivated"] == ["a/gone"]
    assert runs.launched[0][1] is True


def test_wait_false_answers_202_with_the_run_id(client: TestClient):
    response = client.post("/admin/model-sync/provider/openrouter?wait=false", headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code == 202
    assert response.json()["details"]["run_id"] == "run-1-openrouter"


def test_bad_flag_is_400(client: TestClient, runs: FakeRuns):
    response = client.post("/admin/model-sync/provider/openrouter?dry_run=maybe", headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code == 400
    assert runs.launched == []


def test_a_failed_run_answers_500_with_its_cause_and_no_key(client: TestClient, runs: FakeRuns):
    runs.fail["openrouter"] = f"openrouter: HTTP 401 Unauthorized: 'bad key {PROVIDER_KEY}'"
    response = client.post("/admin/model-sync/provider/openrouter", headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code == 500
    body = response.json()
    assert body["success"] is False and body["message"].startswith("openrouter: HTTP 401")
    assert PROVIDER_KEY not in response.text


def test_a_provider_without_its_key_is_skipped_not_run(client: TestClient, runs: FakeRuns):
    response = client.post("/admin/model-sync/provider/groq", headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code == 422
    assert response.json()["message"] == "skipped: GROQ_API_KEY is not set"
    assert runs.launched == []


def test_a_running_provider_is_409(client: TestClient, runs: FakeRuns):
    runs.active["openrouter"] = "queued-by-the-schedule"
    response = client.post("/admin/model-sync/provider/openrouter", headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code == 409
    assert response.json()["details"]["run_id"] == "queued-by-the-schedule"
    assert runs.launched == []


def test_two_simultaneous_requests_give_one_run_and_one_409(runs: FakeRuns):
    runs.launch_delay = 0.2  # the second request arrives while the first is still launching
    service = SyncService(runs)

    async def both():
        return await asyncio.gather(*(service.sync_provider("openrouter", dry_run=False, wait=False, tags={}) for _ in range(2)))

    answers = asyncio.run(both())
    assert sorted(answer.status_code for answer in answers) == [202, 409]
    assert len(runs.launched) == 1


def test_all_launches_one_run_per_provider_and_reports_the_rest(env, runs: FakeRuns, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("GROQ_API_KEY", "gsk-test-0123456789")
    runs.fail["groq"] = "groq: HTTP 500 Internal Server Error"
    runs.active["deepinfra"] = "already-queued"
    monkeypatch.setenv("DEEPINFRA_API_KEY", "di-test-0123456789")
    answer = asyncio.run(SyncService(runs).sync_all(dry_run=False, wait=True, tags={}))
    assert answer.status_code == 200
    by_provider = {entry["provider"]: entry for entry in answer.body["details"]["providers"]}
    assert list(by_provider) == PROVIDER_SLUGS
    assert by_provider["openrouter"]["status"] == "succeeded" and by_provider["openrouter"]["models_synced"] == 3
    assert by_provider["groq"]["status"] == "failed" and "HTTP 500" in by_provider["groq"]["message"]
    assert by_provider["deepinfra"]["status"] == "already_running"
    launched = {provider for provider, _, _ in runs.launched}
    for slug, module in ADAPTERS.items():
        if module.SPEC.key_required and slug not in ("groq", "deepinfra"):
            assert by_provider[slug] == {"provider": slug, "status": "skipped", "message": f"skipped: {module.SPEC.api_key_env_var} is not set"}
            assert slug not in launched
    assert answer.body["success"] is False  # groq failed; the others still ran
    assert "openrouter" in launched and "deepinfra" not in launched


def test_providers_list_says_whether_keys_are_set_never_their_values(client: TestClient):
    response = client.get("/admin/model-sync/providers", headers={"Authorization": f"Bearer {KEY}"})
    listed = {p["slug"]: p for p in response.json()["providers"]}
    assert list(listed) == PROVIDER_SLUGS
    assert listed["openrouter"]["api_key_set"] is True and listed["groq"]["api_key_set"] is False
    assert listed["groq"]["api_key_env_var"] == "GROQ_API_KEY"
    assert set(listed["groq"]) >= {"name", "kind", "active_model_count", "last_synced_at"}
    assert PROVIDER_KEY not in response.text


def test_status_reports_last_runs_totals_and_staleness(client: TestClient):
    headers = {"Authorization": f"Bearer {KEY}"}
    client.post("/admin/model-sync/provider/openrouter", headers=headers)
    body = client.get("/admin/model-sync/status?stale_after_hours=12", headers=headers).json()
    assert body["stale_after_hours"] == 12
    entries = {p["provider"]: p for p in body["providers"]}
    last = entries["openrouter"]["last_run"]
    assert last["status"] == "SUCCESS" and last["duration_seconds"] == 1.5
    assert last["counts"]["models_fetched"] == 4 and last["error"] is None
    assert entries["groq"]["last_run"] is None
    assert entries["groq"]["stale"] is True  # never synced (the fake wrote nothing)
    assert body["catalog"] == {"models": 0, "active_models": 0, "providers": {}}
    assert client.get("/admin/model-sync/status?stale_after_hours=-1", headers=headers).status_code == 400


@pytest.mark.parametrize("key,reason", [
    (None, "is not set"), ("", "is not set"), ("a" * 15, "at least 16"), ("a" * 15 + " ", "without spaces"),
])
def test_unusable_admin_keys_are_refused_without_echoing_them(key, reason):
    with pytest.raises(AdminKeyError, match=reason) as refused:
        validate_admin_key(key)
    if key:
        assert key not in str(refused.value)
    assert validate_admin_key("b" * 16) == "b" * 16


@pytest.mark.parametrize("key", [None, "too-short-key"])
def test_catalog_server_refuses_to_start_without_a_usable_key(key, tmp_path: Path):
    env = {"PATH": "/usr/bin:/bin", "DAGSTER_HOME": str(tmp_path)}
    if key:
        env["ADMIN_API_KEY"] = key
    done = subprocess.run([sys.executable, "-m", "catalog_pipeline.server.cli"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "refusing to start: ADMIN_API_KEY" in done.stderr
    if key:
        assert key not in done.stderr + done.stdout


def test_redactor_masks_every_secret():
    redact = Redactor(["abcd-secret-1", "abcd-secret-10", "x"])
    assert redact("k=abcd-secret-10 j=abcd-secret-1 x") == "k=[redacted] j=[redacted] x"


def test_default_instance_config_is_written_once_and_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import dagster as dg

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    home = prepare_dagster_home(say=lambda message: None)
    config = home / "dagster.yaml"
    assert "dequeue_interval_seconds: 1" in config.read_text()
    config.write_text(config.read_text() + "# operator edit\n")
    prepare_dagster_home(say=lambda message: None)
    assert config.read_text().endswith("# operator edit\n")
    with dg.DagsterInstance.get() as instance:
        assert instance.run_coordinator.__class__.__name__ == "QueuedRunCoordinator"


def test_daemon_process_leaves_no_process_behind():
    # A grandchild that ignores SIGTERM (as a stuck run worker might) reports its pid once it
    # runs, so the test never races its start.
    grandchild_code = ("import os, signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                       "print(os.getpid(), flush=True); time.sleep(60)")
    script = f"import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', {grandchild_code!r}]); time.sleep(60)"
    with DaemonProcess([sys.executable, "-c", script], stdout=subprocess.PIPE) as daemon:
        group = daemon.process.pid
        grandchild = int(daemon.process.stdout.readline())
        os.kill(grandchild, 0)  # running now
    assert daemon.process.poll() is not None
    with pytest.raises(ProcessLookupError):
        os.killpg(group, 0)
    assert not _running(grandchild)


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")  # a killed process its new parent has not reaped yet is gone


def test_unknown_admin_paths_and_methods_answer_json(client: TestClient):
    headers = {"Authorization": f"Bearer {KEY}"}
    missing = client.get("/admin/model-sync/nothing-here", headers=headers)
    assert missing.status_code == 404 and missing.json()["success"] is False
    wrong_method = client.get("/admin/model-sync/all", headers=headers)
    assert wrong_method.status_code == 405 and wrong_method.json()["success"] is False
    assert client.get("/admin/model-sync/nothing-here", headers={"Authorization": basic(KEY)}).status_code == 401


def test_status_lists_held_price_changes_until_accepted(client: TestClient, clock: FakeClock, sqlite_url: str):
    from decimal import Decimal

    from catalog_pipeline.db.engine import catalog_engine
    from catalog_pipeline.db.load import load_provider_models
    from catalog_pipeline.db.price_holds import accept_pending
    from catalog_pipeline.pipeline.records import ModelRecord, records_to_frame

    engine = catalog_engine(sqlite_url)
    spec = ADAPTERS["openrouter"].SPEC
    load_provider_models(engine, spec, records_to_frame([ModelRecord("a/model", pricing_prompt=Decimal("0.000001"))]))
    load_provider_models(engine, spec, records_to_frame([ModelRecord("a/model", pricing_prompt=Decimal("0.001"))]))
    headers = {"Authorization": f"Bearer {KEY}"}
    body = client.get("/admin/model-sync/status", headers=headers).json()
    assert body["providers_with_pending_price_changes"] == ["openrouter"]
    (entry,) = [p for p in body["providers"] if p["provider"] == "openrouter"]
    (held,) = entry["pending_price_changes"]
    assert (held["model"], held["field"], held["kept"], held["pending"]) == ("a/model", "pricing_prompt", "0.000001", "0.001")
    accept_pending(engine, "openrouter")
    clock.advance(SNAPSHOT_TTL_SECONDS)  # outside the server: seen once the snapshot expires
    body = client.get("/admin/model-sync/status", headers=headers).json()
    assert body["providers_with_pending_price_changes"] == []
