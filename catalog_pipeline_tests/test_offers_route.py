"""GET /admin/model-sync/offers and the discrepancies in /status, through the whole server app."""

from __future__ import annotations

import pytest

from .across_helpers import LLAMA_HF_ID
from .server_fakes import KEY, FakeClock, FakeRuns, server_client
from .synced_catalog import synced, synced_catalog_file  # noqa: F401 - fixtures

AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture
def admin(synced, monkeypatch):
    monkeypatch.setenv("CATALOG_DATABASE_URL", synced)
    with server_client(FakeRuns(), FakeClock()) as client:
        yield client


def test_offers_cheapest_first_with_exact_prices(admin):
    answer = admin.get("/admin/model-sync/offers", params={"model": "llama 3.3 70b"}, headers=AUTH)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["canonical_model"]["hf_id"] == LLAMA_HF_ID
    assert [(o["provider"], o["model"]) for o in body["offers"]] == [
        ("huggingface", LLAMA_HF_ID), ("novita", "meta-llama/llama-3.3-70b-instruct"), ("groq", "llama-3.3-70b-versatile"),
    ]
    groq = body["offers"][-1]
    assert (groq["pricing_prompt"], groq["price_source"]) == ("0.00000059", "huggingface-router")


@pytest.mark.parametrize("query, status, message", [
    ({}, 400, "model is required"),
    ({"model": ""}, 400, "model is required"),
    ({"model": "x" * 201}, 400, "longer than 200"),
    ({"model": "nothing like it"}, 404, "no canonical model matches 'nothing like it'"),
])
def test_bad_or_unmatched_queries(admin, query, status, message):
    answer = admin.get("/admin/model-sync/offers", params=query, headers=AUTH)
    assert answer.status_code == status and message in answer.json()["message"]
    assert answer.json()["success"] is False


def test_a_repeated_model_parameter_is_refused(admin):
    answer = admin.get("/admin/model-sync/offers?model=a&model=b", headers=AUTH)
    assert answer.status_code == 400 and "given 2 times" in answer.json()["message"]


def test_the_route_needs_the_key_and_is_documented(admin):
    assert admin.get("/admin/model-sync/offers", params={"model": "llama"}).status_code == 401
    document = admin.get("/admin/openapi.json", headers=AUTH).json()
    assert "/admin/model-sync/offers" in document["paths"]


def test_status_lists_price_discrepancies(admin):
    status = admin.get("/admin/model-sync/status", headers=AUTH).json()
    (entry,) = status["price_discrepancies"]
    assert (entry["provider"], entry["field"], entry["provider_value"], entry["second_value"], entry["ratio"]) == (
        "novita", "pricing_prompt", "0.00000026", "0.00000013", "2",
    )
