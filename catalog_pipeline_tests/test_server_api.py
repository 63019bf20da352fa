"""The admin API's contract in process: strict query input (400, nothing launched), no key taken
from the query string or written to the access log, the constant-time key check, the status
snapshot cache, the derived OpenAPI document and the /admin/docs reference."""

from __future__ import annotations

import hmac
import json
import logging
import re

import pytest

from catalog_pipeline.server import auth
from catalog_pipeline.server.access_log import ACCESS_LOGGER
from catalog_pipeline.server.routes import ROUTERS
from catalog_pipeline.server.status import MAX_STALE_AFTER_HOURS, SNAPSHOT_TTL_SECONDS

from .server_fakes import KEY, FakeClock, FakeRuns, server_client
from .server_fakes import client, clock, env, runs  # noqa: F401 - fixtures

AUTH = {"Authorization": f"Bearer {KEY}"}
SYNC_PATHS = ["/admin/model-sync/provider/openrouter", "/admin/model-sync/all"]

BAD_FLAGS = {
    "empty": "dry_run=",
    "yes": "dry_run=yes",
    "no": "dry_run=no",
    "maybe": "dry_run=maybe",
    "padded": "dry_run=%20true",
    "2": "dry_run=2",
    "repeated, conflicting": "dry_run=true&dry_run=false",
    "repeated, same": "dry_run=false&dry_run=false",
    "wait empty": "wait=",
    "wait repeated": "wait=false&wait=false",
    "wait on": "wait=on",
}


@pytest.mark.parametrize("path", SYNC_PATHS)
@pytest.mark.parametrize("case", list(BAD_FLAGS))
def test_an_ambiguous_flag_is_400_and_launches_nothing(client, runs: FakeRuns, path: str, case: str):
    query = BAD_FLAGS[case]
    response = client.post(f"{path}?{query}", headers=AUTH)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["success"] is False
    assert query.split("=")[0] in body["message"]  # names the parameter
    assert runs.launched == []


@pytest.mark.parametrize("raw,expected", [
    ("true", True), ("TRUE", True), ("True", True), ("1", True),
    ("false", False), ("FALSE", False), ("fAlSe", False), ("0", False), (None, False),
])
def test_dry_run_accepts_exactly_true_false_1_0_in_any_case(client, runs: FakeRuns, raw, expected):
    query = "wait=false" + (f"&dry_run={raw}" if raw is not None else "")
    response = client.post(f"/admin/model-sync/provider/openrouter?{query}", headers=AUTH)
    assert response.status_code == 202, response.text
    ((_, dry_run, _),) = runs.launched
    assert dry_run is expected


@pytest.mark.parametrize("raw,expected_status", [("0", 202), ("FALSE", 202), ("1", 200), (None, 200)])
def test_wait_defaults_to_true_and_parses_like_dry_run(client, raw, expected_status):
    query = f"?wait={raw}" if raw is not None else ""
    assert client.post(f"/admin/model-sync/provider/openrouter{query}", headers=AUTH).status_code == expected_status


@pytest.mark.parametrize("raw", ["1e308", "1e400", "-1", "0", "nan", "NaN", "inf", "-inf", "", "abc", "12h",
                                 str(MAX_STALE_AFTER_HOURS * 2), "12&stale_after_hours=24"])
def test_stale_after_hours_out_of_range_or_not_a_number_is_400_never_500(client, raw: str):
    response = client.get(f"/admin/model-sync/status?stale_after_hours={raw}", headers=AUTH)
    assert response.status_code == 400, response.text
    assert response.json()["success"] is False
    assert "stale_after_hours" in response.json()["message"]


@pytest.mark.parametrize("raw", ["0.5", "12", "1e1", str(int(MAX_STALE_AFTER_HOURS))])
def test_stale_after_hours_in_range_is_used(client, raw: str):
    response = client.get(f"/admin/model-sync/status?stale_after_hours={raw}", headers=AUTH)
    assert response.status_code == 200, response.text
    assert response.json()["stale_after_hours"] == float(raw)


QUERY_KEY_NAMES = ["key", "api_key", "apikey", "token", "access_token", "admin_key", "authorization", "ADMIN_API_KEY"]


@pytest.mark.parametrize("path", ["/admin/model-sync/status", "/admin/docs", "/runs"])
@pytest.mark.parametrize("name", QUERY_KEY_NAMES)
def test_a_key_in_the_query_string_is_never_authentication(client, runs: FakeRuns, path: str, name: str):
    value = f"Bearer%20{KEY}" if name == "authorization" else KEY
    assert client.get(f"{path}?{name}={value}").status_code == 401
    assert client.post(f"/admin/model-sync/provider/openrouter?{name}={value}").status_code == 401
    assert runs.launched == []


def test_the_access_log_shows_the_path_and_status_never_the_query(client, caplog: pytest.LogCaptureFixture):
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        client.get(f"/admin/model-sync/status?api_key={KEY}&stale_after_hours=5", headers=AUTH)
        client.get(f"/admin/model-sync/status?api_key={KEY}")
        client.get(f"/runs?token={KEY}")
    lines = [record.getMessage() for record in caplog.records if record.name == ACCESS_LOGGER]
    assert len(lines) == 3
    assert '"GET /admin/model-sync/status" 200' in lines[0]
    assert '"GET /admin/model-sync/status" 401' in lines[1]
    assert '"GET /runs" 401' in lines[2]
    for line in lines:
        assert "?" not in line and KEY not in line and "api_key" not in line


def test_the_key_check_is_constant_time(client, monkeypatch: pytest.MonkeyPatch):
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(auth.hmac, "compare_digest", spy)
    assert client.get("/admin/model-sync/providers", headers=AUTH).status_code == 200
    assert client.get("/admin/model-sync/providers", headers={"Authorization": f"Bearer {KEY[:-1]}!"}).status_code == 401
    assert client.get("/admin/model-sync/providers", headers={"Authorization": "Bearer"}).status_code == 401
    # Every request, even a malformed one, went through one comparison of equal-length digests.
    assert len(calls) == 3
    assert all(len(a) == len(b) == 32 for a, b in calls)
    assert calls[0][0] == calls[0][1] and calls[1][0] != calls[1][1]


def test_status_is_read_at_most_once_per_snapshot_lifetime_and_after_a_sync(client, runs: FakeRuns, clock: FakeClock):
    first = client.get("/admin/model-sync/status", headers=AUTH).json()
    for _ in range(5):
        assert client.get("/admin/model-sync/status", headers=AUTH).json()["generated_at"] == first["generated_at"]
        client.get("/admin/model-sync/providers", headers=AUTH)
    assert runs.reads == 1
    clock.advance(SNAPSHOT_TTL_SECONDS)
    client.get("/admin/model-sync/status", headers=AUTH)
    assert runs.reads == 2
    client.post("/admin/model-sync/provider/openrouter", headers=AUTH)  # this server's own sync
    entry = next(p for p in client.get("/admin/model-sync/status", headers=AUTH).json()["providers"] if p["provider"] == "openrouter")
    assert runs.reads == 3 and entry["last_run"]["status"] == "SUCCESS"


def test_openapi_is_derived_from_the_routes(client):
    response = client.get("/admin/openapi.json", headers=AUTH)
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    document = response.json()
    routes = {"/admin" + route.path: set(route.methods) for router in ROUTERS for route in router.routes if route.include_in_schema}
    documented = {path: {method.upper() for method in ops} for path, ops in document["paths"].items()}
    assert documented == routes
    assert set(documented) >= {f"/admin/model-sync/{p}" for p in ("providers", "status", "provider/{slug}", "all", "changes")}
    assert document["components"]["securitySchemes"]["adminKey"] == {
        "type": "http", "scheme": "bearer", "description": "ADMIN_API_KEY as a Bearer token"}
    schemas = document["components"]["schemas"]
    for path, ops in document["paths"].items():
        for method, operation in ops.items():
            assert operation["security"] == [{"adminKey": []}], (method, path)
            assert "401" in operation["responses"], (method, path)
            ok = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
            assert schemas[ok]["properties"], (method, path)
    sync = document["paths"]["/admin/model-sync/provider/{slug}"]["post"]
    assert {p["name"] for p in sync["parameters"]} == {"slug", "dry_run", "wait"}
    assert {"400", "404", "409", "422", "500"} <= set(sync["responses"])
    (hours,) = document["paths"]["/admin/model-sync/status"]["get"]["parameters"]
    assert hours["name"] == "stale_after_hours"
    bounds = next(option for option in hours["schema"]["anyOf"] if option.get("type") == "number")
    assert bounds["exclusiveMinimum"] == 0 and bounds["maximum"] == MAX_STALE_AFTER_HOURS


def test_admin_docs_lists_every_route_and_loads_nothing_from_outside(client):
    document = client.get("/admin/openapi.json", headers=AUTH).json()
    response = client.get("/admin/docs", headers=AUTH)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    page = response.text
    for path, ops in document["paths"].items():
        for method, operation in ops.items():
            assert path in page and operation["summary"] in page, (method, path)
    for parameter in ("dry_run", "wait", "stale_after_hours"):
        assert parameter in page
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page, re.I)
    assert "@import" not in page and "url(" not in page
    assert "<link" not in page.lower()


def test_unknown_admin_routes_and_bad_slugs_keep_the_json_error_shape(client, runs: FakeRuns):
    response = client.post("/admin/model-sync/provider/openrouter/extra", headers=AUTH)
    assert response.status_code == 404 and response.json() == {"success": False, "message": "Not Found"}
    assert runs.launched == []


def test_a_secret_that_json_escapes_is_masked_in_answers(runs: FakeRuns, clock: FakeClock, monkeypatch: pytest.MonkeyPatch):
    odd = 'sk-"quoted\\key-\u00e9-0123456789'
    monkeypatch.setenv("OPENROUTER_API_KEY", odd)
    runs.fail["openrouter"] = f"openrouter: HTTP 401 Unauthorized: bad key {odd}"
    with server_client(runs, clock) as client:
        response = client.post("/admin/model-sync/provider/openrouter", headers=AUTH)
    assert response.status_code == 500
    message = response.json()["message"]
    assert message.startswith("openrouter: HTTP 401 Unauthorized: bad key ") and odd not in message
    assert odd not in response.text and json.dumps(odd)[1:-1] not in response.text
