"""GET /admin/model-sync/changes and the expiring models in /status, through the whole server app
on each database (the catalog-server process itself is test_server_process.py's)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from .change_scenarios import GROQ, load, model, produce_one_change_of_each_kind
from .server_fakes import KEY, FakeClock, FakeRuns, server_client

from catalog_pipeline.db.engine import catalog_engine

AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture
def server(catalog_url, monkeypatch):
    produce_one_change_of_each_kind(catalog_url)
    monkeypatch.setenv("CATALOG_DATABASE_URL", catalog_url)
    with server_client(FakeRuns(), FakeClock()) as client:
        yield client


def get(server, path: str, **params):
    return server.get(path, params=params, headers=AUTH)


def test_changes_page_filter_refuse_bad_queries_and_status_lists_expiring_models(server, catalog_url: str):
    assert server.get("/admin/model-sync/changes").status_code == 401

    everything = get(server, "/admin/model-sync/changes", limit="1000").json()
    assert everything["next_cursor"] is None
    rows = everything["changes"]
    assert len(rows) == 13 and [r["id"] for r in rows] == sorted((r["id"] for r in rows), reverse=True)
    kinds = {}
    for row in rows:
        kinds[row["kind"]] = kinds.get(row["kind"], 0) + 1
    assert kinds == {"added": 5, "changed": 2, "delisted": 2, "relisted": 2, "price_held": 1, "price_accepted": 1}
    held = next(r for r in rows if r["kind"] == "price_held")
    assert (held["provider"], held["provider_model_id"], held["field"], held["old_value"], held["new_value"]) == (
        "openrouter", "m/b", "pricing_prompt", "0.000001", "0.01")

    paged, cursor = [], None
    while True:
        page = get(server, "/admin/model-sync/changes", limit="4", **({"cursor": cursor} if cursor else {})).json()
        paged += page["changes"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [r["id"] for r in paged] == [r["id"] for r in rows]

    assert [r["provider_model_id"] for r in get(server, "/admin/model-sync/changes", provider="groq").json()["changes"]] == ["g/x"]
    changed = get(server, "/admin/model-sync/changes", kind="changed", provider="openrouter").json()["changes"]
    assert [(r["field"], r["old_value"], r["new_value"]) for r in changed] == [
        ("expiration_date", None, "2030-12-01"), ("context_length", 8192, 16384)]
    later = (datetime.now(timezone.utc) + timedelta(minutes=5)).isoformat()
    assert get(server, "/admin/model-sync/changes", since=later).json() == {"changes": [], "next_cursor": None}
    assert len(get(server, "/admin/model-sync/changes", since="2020-01-01T00:00:00Z").json()["changes"]) == 13

    for params, named in [
        ({"limit": "0"}, "limit must be a whole number from 1 to 1000"),
        ({"limit": "ten"}, "limit must be a whole number"),
        ({"cursor": "-3"}, "cursor must be a whole number"),
        ({"kind": "renamed"}, "kind must be one of added, delisted"),
        ({"since": "yesterday"}, "since must be an ISO 8601 time"),
        ({"provider": "nope"}, "provider: unknown provider 'nope'"),
        ({"provider": ""}, "provider is empty"),
        ({"sort": "asc"}, "unknown parameter 'sort'"),
    ]:
        answer = get(server, "/admin/model-sync/changes", **params)
        assert answer.status_code == 400 and named in answer.json()["message"], (params, answer.text)
    twice = server.get("/admin/model-sync/changes?kind=added&kind=changed", headers=AUTH)
    assert twice.status_code == 400 and "kind is given more than once" in twice.json()["message"]

    document = get(server, "/admin/openapi.json").json()
    operation = document["paths"]["/admin/model-sync/changes"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"since", "provider", "kind", "limit", "cursor"}

    today = datetime.now(timezone.utc).date()
    load(
        catalog_engine(catalog_url), GROQ,
        model("g/x"),
        model("g/soon", expiration_date=today + timedelta(days=10), deprecation_date=today - timedelta(days=20)),
        model("g/today", expiration_date=today),
        model("g/later", expiration_date=today + timedelta(days=31)),
        model("g/gone-already", expiration_date=today - timedelta(days=1)),
        model("g/inactive", expiration_date=today + timedelta(days=3), is_active=False),
    )
    status = get(server, "/admin/model-sync/status").json()
    assert status["expiring_within_30_days"] == [
        {"provider": "groq", "provider_model_id": "g/today", "expiration_date": today.isoformat(), "deprecation_date": None},
        {"provider": "groq", "provider_model_id": "g/soon", "expiration_date": (today + timedelta(days=10)).isoformat(),
         "deprecation_date": (today - timedelta(days=20)).isoformat()},
    ]
    assert isinstance(date.fromisoformat(status["expiring_within_30_days"][0]["expiration_date"]), date)
