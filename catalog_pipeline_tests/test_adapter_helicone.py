import pytest

from catalog_pipeline import get_models_by_provider_slug
from catalog_pipeline.pipeline.normalize import PayloadShapeError

from .adapter_helpers import D, fixture_payload, normalize_payloads, row
from .conftest import FIXTURES
from .http_server import json_reply
from .sync_helpers import materialize_provider


def test_cheapest_offer_per_1m_becomes_per_token_without_float_noise():
    result = normalize_payloads("helicone", fixture_payload("helicone_models.json"))
    assert result.skipped == []
    mini = row(result, "acme-chat-mini")
    assert mini["pricing_prompt"] == D("0.00000015")  # 0.15000000000000002 per 1M, noise cut
    assert mini["pricing_completion"] == D("0.0000006")
    assert mini["pricing_cache_read"] == D("0.000000075")
    assert mini["pricing_cache_write"] is None
    assert mini["pricing_image"] is None  # Helicone's image price is per 1M image tokens, not per image
    assert mini["metadata"]["price_offer_provider"] == "openai"
    assert [o["provider"] for o in mini["metadata"]["offers"]] == ["openai", "azure"]
    assert mini["context_length"] == 128000 and mini["max_output_tokens"] == 16384
    assert mini["supports_vision"] is True and mini["supports_function_calling"] is True
    assert mini["supports_reasoning"] is False and mini["modality"] == "text+image->text"


def test_nested_per_token_endpoint_object_is_never_mixed_in():
    payload = fixture_payload("helicone_models.json")
    before = row(normalize_payloads("helicone", payload), "acme-chat-mini")
    for endpoint in payload["data"]["models"][0]["endpoints"]:
        endpoint["endpoint"]["pricing"] = [{"threshold": 0, "input": 0.001, "output": 0.002}]
        endpoint["endpoint"]["contextLength"] = 1
    after = row(normalize_payloads("helicone", payload), "acme-chat-mini")
    assert after == before
    assert all("endpoint" not in offer for offer in after["metadata"]["offers"])


def test_tie_is_broken_by_provider_name_and_tiers_are_kept():
    claude = row(normalize_payloads("helicone", fixture_payload("helicone_models.json")), "claude-like-4")
    assert claude["metadata"]["price_offer_provider"] == "anthropic"  # same price as vertex
    assert claude["pricing_prompt"] == D("0.000003") and claude["pricing_completion"] == D("0.000015")
    assert claude["pricing_cache_read"] == D("3E-7") and claude["pricing_cache_write"] == D("0.00000375")
    vertex = next(o for o in claude["metadata"]["offers"] if o["provider"] == "vertex")
    assert vertex["pricingTiers"][1]["threshold"] == 200000
    assert claude["supports_reasoning"] is True


def test_free_and_unpriced():
    result = normalize_payloads("helicone", fixture_payload("helicone_models.json"))
    free = row(result, "open-free-8b")
    assert free["pricing_prompt"] == D("0") and free["pricing_completion"] == D("0")
    assert free["metadata"]["price_offer_provider"] == "chutes"
    mystery = row(result, "mystery-preview")
    assert mystery["pricing_prompt"] is None and mystery["pricing_completion"] is None
    assert mystery["metadata"]["price_offer_provider"] is None
    assert len(mystery["metadata"]["offers"]) == 1


def test_bad_entries_are_skipped_with_reason_and_the_rest_load():
    payload = fixture_payload("helicone_models.json")
    payload["data"]["models"].append({"name": "no id", "endpoints": []})
    payload["data"]["models"].append(
        {"id": "bad-price", "endpoints": [{"provider": "x", "pricing": {"prompt": "cheap", "completion": 1}}]}
    )
    result = normalize_payloads("helicone", payload)
    assert len(result.frame) == 5
    assert any("missing field 'id'" in reason for reason in result.skipped)
    assert any(r.startswith("bad-price:") and "'cheap' is not a number" in r for r in result.skipped)


def test_wrong_shape_is_an_error_naming_it():
    with pytest.raises(PayloadShapeError, match="expected a JSON object with 'data.models'"):
        normalize_payloads("helicone", {"data": None, "error": "Internal server error"})
    with pytest.raises(PayloadShapeError, match="expected a JSON object with 'data'"):
        normalize_payloads("helicone", {"models": []})


def test_sync_over_http_without_a_key(provider_env, sqlite_url, monkeypatch):
    monkeypatch.delenv("HELICONE_API_KEY")
    body = (FIXTURES / "helicone_models.json").read_bytes()
    provider_env.route("/helicone/public/model-registry/models", json_reply(body))
    result = materialize_provider("helicone", sqlite_url)
    assert result.success
    rows = {r["provider_model_id"]: r for r in get_models_by_provider_slug("helicone", database_url=sqlite_url)}
    assert len(rows) == 5
    assert rows["acme-chat-mini"]["pricing_prompt"] == D("0.00000015")
    assert rows["claude-like-4"]["metadata"]["price_offer_provider"] == "anthropic"
    (request,) = provider_env.requests
    assert "Authorization" not in request.headers  # public registry
