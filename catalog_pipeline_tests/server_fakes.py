"""Stand-ins for catalog-server's in-process tests: a fake run backend (no Dagster), a fake UI
app, a clock the test moves, and the app under test wired to them."""

from __future__ import annotations

import asyncio
import warnings

import pytest
from starlette.responses import PlainTextResponse

with warnings.catch_warnings():  # starlette 1.x prefers httpx2 and says so at import; httpx works
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from catalog_pipeline.providers import ADAPTERS
from catalog_pipeline.server.admin_api import with_json_forms
from catalog_pipeline.server.app import create_server_app
from catalog_pipeline.server.runs import RunSummary
from catalog_pipeline.server.secrets import Redactor, provider_keys
from catalog_pipeline.server.syncs import SyncService

KEY = "unit-admin-key-0123456789abcdefXYZ"
PROVIDER_KEY = "sk-provider-secret-0123456789"

SUCCESS_METADATA = {
    "message": "Synced 3 models from openrouter. Fetched: 4, Transformed: 3, Skipped: 1",
    "provider_id": 7, "dry_run": False, "fetched": 4, "transformed": 3, "skipped": 1,
    "added": 1, "updated": 1, "reactivated": 0, "deactivated": 1, "unchanged": 1,
    "diff": {"added": ["a/new"], "updated": {"a/old": {"pricing_prompt": ["0.1", "0.2"]}}, "reactivated": [], "deactivated": ["a/gone"]},
}


class FakeRuns:
    """Stands in for DagsterRuns: launches are recorded, each launched run stays active."""

    def __init__(self) -> None:
        self.launched: list[tuple[str, bool, dict[str, str]]] = []
        self.active: dict[str, str] = {}
        self.outcomes: dict[str, RunSummary] = {}
        self.launch_delay = 0.0
        self.fail: dict[str, str] = {}  # provider -> error message of its (failed) run
        self.reads = 0  # calls of last_runs: one per status snapshot

    async def launch(self, provider: str, *, dry_run: bool, tags: dict[str, str]) -> str:
        await asyncio.sleep(self.launch_delay)
        run_id = f"run-{len(self.launched) + 1}-{provider}"
        self.launched.append((provider, dry_run, tags))
        self.active[provider] = run_id
        if provider in self.fail:
            summary = RunSummary(run_id, provider, "FAILURE", error=self.fail[provider])
        else:
            metadata = {**SUCCESS_METADATA, "dry_run": dry_run,
                        "message": SUCCESS_METADATA["message"].replace("openrouter", provider)}
            summary = RunSummary(run_id, provider, "SUCCESS", started_at=100.0, ended_at=101.5, metadata=metadata)
        self.outcomes[run_id] = summary
        return run_id

    def active_run_id(self, provider: str) -> str | None:
        return self.active.get(provider)

    def last_runs(self, providers: list[str]) -> dict[str, RunSummary]:
        self.reads += 1
        return {summary.provider: summary for summary in self.outcomes.values() if summary.provider in providers}

    async def wait(self, run_id: str, *, timeout: float) -> RunSummary | None:
        return self.outcomes.get(run_id)


async def fake_ui(scope, receive, send):
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.close", "code": 1000})
        return
    await PlainTextResponse("dagster ui")(scope, receive, send)


class FakeClock:
    """A monotonic clock that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def server_client(runs: FakeRuns, clock: FakeClock) -> TestClient:
    """The whole server app (auth, access log, admin API, fake UI) behind a TestClient."""
    redact = Redactor(with_json_forms([KEY, *provider_keys()]))  # as server/cli.py builds it
    app = create_server_app(KEY, SyncService(runs), fake_ui, redact, clock=clock)
    return TestClient(app, base_url="http://127.0.0.1")


# Fixtures: test modules import them by name.
@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, sqlite_url: str):
    for module in ADAPTERS.values():
        monkeypatch.delenv(module.SPEC.api_key_env_var, raising=False)
    monkeypatch.setenv("OPENROUTER_API_KEY", PROVIDER_KEY)
    monkeypatch.setenv("CATALOG_DATABASE_URL", sqlite_url)


@pytest.fixture
def runs(env) -> FakeRuns:
    return FakeRuns()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def client(runs: FakeRuns, clock: FakeClock):
    with server_client(runs, clock) as test_client:
        yield test_client
