from decimal import Decimal

import pytest

import catalog_pipeline
from catalog_pipeline.pipeline.normalize import PayloadShapeError

from .adapter_helpers import D, fixture_payload, load_json, normalize_payloads, row
from .conftest import FIXTURES, shared_sample
from .http_server import json_reply
from .sync_helpers import materialize_provider


def test_integer_prices_are_1e_minus_10_usd_per_token():
    result = normalize_payloads("xai", fixture_payload("xai_models.json"))
    assert result.skipped == [] and len(result.frame) == 5
    # The documented example: grok-3 at 30000 / 150000 = USD 3 / 15 per 1M tokens.
    grok3 = row(result, "grok-3")
    assert grok3["pricing_prompt"] == D("0.000003") and grok3["pricing_completion"] == D("0.000015")
    assert grok3["pricing_cache_read"] == D("0.00000075")
    assert grok3["metadata"]["other_prices_usd"]["search_price"] == D("0.025")  # per search
    assert grok3["context_length"] == 131072
    mini = row(result, "grok-3-mini")
    assert mini["pricing_prompt"] == D("0.0000003") and mini["pricing_completion"] == D("0.0000005")
    assert mini["pricing_cache_read"] == D("0.000000075")


def test_long_context_tier_and_aliases_stay_in_metadata():
    result = normalize_payloads("xai", fixture_payload("xai_models.json"))
    grok4 = row(result, "grok-4-0709")
    other = grok4["metadata"]["other_prices_usd"]
    assert other["prompt_text_token_price_long_context"] == D("0.000006")
    assert other["completion_text_token_price_long_context"] == D("0.00003")
    assert grok4["metadata"]["long_context_threshold"] == 128000
    assert grok4["metadata"]["aliases"] == ["grok-4", "grok-4-latest"]
    assert grok4["supports_vision"] is True and grok4["context_length"] == 256000
    assert "grok-4" not in set(result.frame["provider_model_id"])  # aliases are not extra rows


def test_zero_is_free_and_missing_is_unknown():
    result = normalize_payloads("xai", fixture_payload("xai_models.json"))
    free = row(result, "grok-preview-free")
    assert free["pricing_prompt"] == Decimal(0) and free["pricing_completion"] == Decimal(0)
    assert free["pricing_cache_read"] is None
    vision = row(result, "grok-2-vision-1212")
    assert vision["pricing_prompt"] is None and vision["pricing_completion"] is None


def test_bad_entries_are_skipped_with_reason_and_the_rest_load():
    payload = fixture_payload("xai_models.json")
    payload["models"].append({"prompt_text_token_price": 1})
    payload["models"].append({"id": "bad-price", "prompt_text_token_price": "cheap"})
    result = normalize_payloads("xai", payload)
    assert len(result.frame) == 5
    assert any("missing field 'id'" in reason for reason in result.skipped)
    assert any(reason.startswith("bad-price:") and "'cheap' is not a number" in reason for reason in result.skipped)


def test_wrong_shape_is_an_error_naming_it():
    with pytest.raises(PayloadShapeError, match="expected a JSON object with 'models'"):
        normalize_payloads("xai", {"code": "unauthorized", "error": "bad key"})


def test_real_sample_of_the_unpriced_list_loads_without_prices():
    result = normalize_payloads("xai", load_json(shared_sample("xai.json")))
    assert result.fetched == 14 and result.skipped == [] and len(result.frame) == 14
    assert all(value is None for value in result.frame["pricing_prompt"])
    grok4 = row(result, "grok-4-0709")
    assert grok4["metadata"] == {"created": 1752019200, "owned_by": "xai"}


def test_sync_over_http(provider_env, sqlite_url):
    provider_env.route("/xai/language-models", json_reply((FIXTURES / "xai_models.json").read_bytes()))
    result = materialize_provider("xai", sqlite_url)
    assert result.success
    (request,) = [r for r in provider_env.requests if r.path == "/xai/language-models"]
    assert request.headers["Authorization"] == "Bearer test-key-xai-0123456789"
    stored = catalog_pipeline.get_models_by_provider_slug("xai", database_url=sqlite_url)
    rows = {r["provider_model_id"]: r for r in stored}
    assert len(rows) == 5
    assert rows["grok-3"]["pricing_prompt"] == D("0.000003") and rows["grok-3"]["pricing_completion"] == D("0.000015")
    assert rows["grok-3"]["metadata"]["other_prices_usd"]["search_price"] == "0.025"
