from decimal import Decimal

import pytest

from catalog_pipeline import get_models_by_provider_slug
from catalog_pipeline.pipeline.normalize import PayloadShapeError

from .adapter_helpers import D, fixture_payload, load_json, normalize_payloads, row
from .conftest import shared_sample
from .http_server import json_reply
from .sync_helpers import materialize_provider

SLUG = "vercel-ai-gateway"


def test_token_prices_are_usd_per_token_strings():
    result = normalize_payloads(SLUG, fixture_payload("vercel-ai-gateway_models.json"))
    assert result.skipped == []
    large = row(result, "acme/reasoner-large")
    assert large["pricing_prompt"] == D("0.00000125")
    assert large["pricing_completion"] == D("0.00001")
    assert large["pricing_cache_read"] == D("0.000000125")
    assert large["pricing_cache_write"] == D("0.0000015625")
    assert large["pricing_image"] is None
    assert large["context_length"] == 400000 and large["max_output_tokens"] == 128000
    assert large["modality"] == "text+image->text"
    assert large["supports_function_calling"] is True and large["supports_reasoning"] is True
    assert large["supports_vision"] is True
    other = large["metadata"]["pricing_other"]
    assert other["web_search"] == "0.01" and other["input_tiers"][1] == {"cost": "0.0000025", "min": 272000}
    assert "price_unit" not in large["metadata"]  # a language model


def test_image_model_price_per_image_and_unit_recorded():
    result = normalize_payloads(SLUG, fixture_payload("vercel-ai-gateway_models.json"))
    painter = row(result, "pixel/painter-2")
    assert painter["pricing_image"] == D("0.04") and painter["pricing_prompt"] is None
    assert painter["metadata"]["price_unit"] == "image"
    assert painter["context_length"] is None and painter["max_output_tokens"] is None  # 0 = n/a
    motion = row(result, "pixel/motion-1")  # pricing {}: unknown
    assert all(motion[c] is None for c in ("pricing_prompt", "pricing_completion", "pricing_image", "pricing_request"))
    assert motion["metadata"]["price_unit"] is None and motion["metadata"]["type"] == "video"


def test_free_model_other_meters_and_deprecation():
    result = normalize_payloads(SLUG, fixture_payload("vercel-ai-gateway_models.json"))
    free = row(result, "tiny/edge-1b")
    assert free["pricing_prompt"] == Decimal(0) and free["pricing_completion"] == Decimal(0)
    assert free["supports_function_calling"] is False and free["supports_vision"] is False
    assert free["modality"] is None  # no modalities in the entry
    scribe = row(result, "voice/scribe")
    assert scribe["pricing_prompt"] is None
    assert scribe["metadata"]["pricing_other"] == {"transcription_duration_cost_per_second": "0.0001"}
    assert scribe["metadata"]["deprecated_at"] == 1790000000 and scribe["is_active"] is True
    embed = row(result, "embed/small")
    assert embed["pricing_prompt"] == D("0.00000002") and embed["pricing_completion"] is None


def test_bad_entries_are_skipped_with_reason_and_the_rest_load():
    payload = fixture_payload("vercel-ai-gateway_models.json")
    payload["data"] += [
        {"name": "no id", "pricing": {"input": "0", "output": "0"}},
        {"id": "bad/price", "pricing": {"input": "cheap", "output": "0"}},
        {"id": "bad/pricing", "pricing": "0.000001"},
    ]
    result = normalize_payloads(SLUG, payload)
    assert len(result.frame) == 6
    reasons = "\n".join(result.skipped)
    assert "missing field 'id'" in reasons
    assert "bad/price: pricing.input: 'cheap' is not a number" in reasons
    assert "bad/pricing: pricing is str, expected an object" in reasons


def test_wrong_shape_is_an_error_naming_it():
    with pytest.raises(PayloadShapeError, match="expected a JSON object with 'data'"):
        normalize_payloads(SLUG, {"models": {}})


def test_real_capture_2026_07_exact_prices():
    capture = load_json(shared_sample("vercel-ai-gateway.json"))
    # The capture keys list entries by id under "models"; rebuild the real /v1/models top level.
    payload = {"object": "list", "data": list(capture["models"].values())}
    result = normalize_payloads(SLUG, payload)
    assert result.fetched == 2 and result.skipped == []
    v32 = row(result, "deepseek/deepseek-v3.2")
    assert v32["pricing_prompt"] == D("0.00000028") and v32["pricing_completion"] == D("0.00000042")
    assert v32["pricing_cache_read"] == D("0.000000028")
    assert v32["context_length"] == 128000 and v32["max_output_tokens"] == 8000
    assert v32["supports_function_calling"] is True and v32["supports_reasoning"] is False
    thinking = row(result, "deepseek/deepseek-v3.2-thinking")
    assert thinking["pricing_prompt"] == D("0.00000062") and thinking["pricing_completion"] == D("0.00000185")
    assert thinking["pricing_cache_read"] is None and thinking["supports_reasoning"] is True
    assert thinking["model_name"] == "DeepSeek V3.2 Thinking"


def test_sync_over_real_http(provider_env, sqlite_url):
    provider_env.route(f"/{SLUG}/models", json_reply(fixture_payload("vercel-ai-gateway_models.json")))
    result = materialize_provider(SLUG, sqlite_url)
    assert result.success
    rows = {r["provider_model_id"]: r for r in get_models_by_provider_slug(SLUG, database_url=sqlite_url)}
    assert len(rows) == 6
    assert rows["acme/reasoner-large"]["pricing_prompt"] == D("0.00000125")
    assert rows["pixel/painter-2"]["pricing_image"] == D("0.04")
    assert rows["pixel/painter-2"]["metadata"]["price_unit"] == "image"
    (request,) = provider_env.requests
    assert request.path == f"/{SLUG}/models"
    assert request.headers["Authorization"] == "Bearer test-key-vercel-ai-gateway-0123456789"
