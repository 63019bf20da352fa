"""The catalog-server the server test modules start: every provider pointed at one loopback fixture
server, two provider keys set, the answers' text kept to search for secrets. A server costs ~10 s
of CPU to start and each run ~4 s (a new interpreter importing the code location), so a module
starts one and its tests share it."""

from __future__ import annotations

import json
import os
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
SYNCED_ALONE = "cerebras"  # synced only by the status test
KILLED = "chutes"  # synced only by the killed-sync test (and dry runs of /all)


def fixture(name: str):
    return json.loads((FIXTURES / name).read_text())


def serve_fixtures(server: FixtureServer) -> None:
    server.route("/openrouter/models", json_reply(fixture("openrouter_models.json")))
    server.route("/deepinfra/models", json_reply(fixture("deepinfra_models.json")))
    server.route(f"/{SYNCED_ALONE}/models", json_reply(fixture(f"{SYNCED_ALONE}_models.json")))
    server.route(f"/{KILLED}/models", json_reply(fixture(f"{KILLED}_models.json")))
    # A provider that echoes the caller's key in its error body.
    server.route("/groq/models", json_reply({"error": f"invalid api key {PROVIDER_KEYS['GROQ_API_KEY']}"}, status=401))


@pytest.fixture(scope="module")
def fixtures_http():
    with FixtureServer() as server:
        serve_fixtures(server)
        yield server


def start_server(fixtures_http: FixtureServer, tmp: Path, log_level: str = "warning") -> ServerProcess:
    env = {
        name: value for name, value in os.environ.items()
        if not name.endswith(("_API_KEY", "_BASE_URL")) and name not in ("DAGSTER_HOME", "CATALOG_DATABASE_URL")
    }
    for slug, module in ADAPTERS.items():
        env[module.SPEC.base_url_env_var] = f"{fixtures_http.url}/{slug}"
    env.update(PROVIDER_KEYS)
    env.update(ADMIN_API_KEY=KEY, DAGSTER_HOME=str(tmp / "dagster_home"), CATALOG_DATABASE_URL=f"sqlite:///{tmp / 'catalog.db'}")
    process = ServerProcess(env, tmp / "server.log", log_level=log_level).start(KEY)
    process.database = tmp / "catalog.db"
    process.responses = []  # every answer this server gave the tests, headers included
    return process


def call(server: ServerProcess, method: str, path: str, headers: dict[str, str] | None = None, **kwargs) -> httpx.Response:
    response = server.http.request(method, server.url + path, headers=headers or {}, timeout=600, **kwargs)  # /all waits for 12 runs: minutes on a busy machine
    server.responses.append("\n".join([response.text, *(f"{k}: {v}" for k, v in response.headers.items())]))
    return response


def graphql(server: ServerProcess, query: str, **variables) -> dict:
    response = call(server, "POST", "/graphql", AUTH, json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    return response.json()["data"]


def runs_of(server: ServerProcess, provider: str) -> list[dict]:
    query = """query Runs($filter: RunsFilter) { runsOrError(filter: $filter) {
        ... on Runs { results { runId status tags { key value } } } } }"""
    data = graphql(server, query, filter={"tags": [{"key": "dagster/partition", "value": provider}]})
    return data["runsOrError"]["results"]
