from decimal import Decimal

from catalog_pipeline.pipeline.normalize import PayloadShapeError

import pytest

from catalog_pipeline import get_models_by_provider_slug

from .adapter_helpers import D, fixture_payload, load_json, normalize_payloads, row
from .conftest import shared_sample
from .http_server import json_reply
from .sync_helpers import materialize_provider


def test_prices_are_usd_per_token_strings_kept_exact():
    result = normalize_payloads("openrouter", fixture_payload("openrouter_models.json"))
    assert result.skipped == []
    large = row(result, "acme/reasoner-large")
    assert large["pricing_prompt"] == D("0.000003")
    assert large["pricing_completion"] == D("0.000015")
    assert large["pricing_image"] == D("0.0048")
    assert large["pricing_request"] == D("0")
    assert large["pricing_cache_read"] == D("0.0000003")
    assert large["pricing_cache_write"] == D("0.00000375")
    assert large["max_output_tokens"] == 64000
    assert large["supports_function_calling"] is True
    assert large["supports_reasoning"] is True
    assert large["supports_vision"] is True
    assert large["modality"] == "text+image->text"
    tiny = row(result, "tiny/edge-1b")
    assert str(tiny["pricing_prompt"]) in ("5E-9", "0.000000005") and tiny["pricing_prompt"] == D("0.000000005")
    assert tiny["max_output_tokens"] is None
    assert tiny["pricing_image"] is None  # absent key: unknown, not 0


def test_minus_one_is_unknown_and_zero_is_free():
    result = normalize_payloads("openrouter", fixture_payload("openrouter_models.json"))
    auto = row(result, "openrouter/auto")
    assert auto["pricing_prompt"] is None and auto["pricing_completion"] is None
    free = row(result, "tiny/edge-1b:free")
    assert free["pricing_prompt"] == Decimal(0) and free["pricing_completion"] == Decimal(0)


def test_unknown_fields_land_in_metadata():
    result = normalize_payloads("openrouter", fixture_payload("openrouter_models.json"))
    painter = row(result, "pixel/painter-2")
    assert painter["metadata"]["pricing_other"] == {"audio": "0.000001"}
    assert painter["output_modalities"] == ["image", "text"]


def test_bad_entries_are_skipped_with_reason_and_the_rest_load():
    payload = fixture_payload("openrouter_models.json")
    payload["data"].append({"name": "no id", "pricing": {"prompt": "0", "completion": "0"}})
    payload["data"].append({"id": "bad/price", "pricing": {"prompt": "cheap", "completion": "0"}})
    result = normalize_payloads("openrouter", payload)
    assert len(result.frame) == 5
    assert any("missing field 'id'" in reason for reason in result.skipped)
    assert any(reason.startswith("bad/price:") and "'cheap' is not a number" in reason for reason in result.skipped)


def test_wrong_shape_is_an_error_naming_it():
    with pytest.raises(PayloadShapeError, match="expected a JSON object with 'data'"):
        normalize_payloads("openrouter", {"models": []})


def test_real_sample_2026_exact_prices():
    result = normalize_payloads("openrouter", load_json(shared_sample("openrouter.json")))
    assert result.fetched == 344
    assert result.skipped == []
    assert row(result, "openrouter/auto")["pricing_prompt"] is None
    gpt5 = row(result, "openai/gpt-5")
    assert gpt5["pricing_prompt"] == D("0.00000125") and gpt5["pricing_completion"] == D("0.00001")
    assert gpt5["pricing_cache_read"] == D("0.000000125") and gpt5["max_output_tokens"] == 128000
    flash = row(result, "google/gemini-2.5-flash")
    assert flash["pricing_image"] == D("0.001238")
    assert flash["pricing_cache_write"] == D("0.00000008333333333333334")  # strings are kept to the digit
    free = row(result, "liquid/lfm-2.5-1.2b-thinking:free")
    assert free["pricing_prompt"] == 0 and free["context_length"] == 32768
    # Every price is non-negative and no price is binary-float noise.
    for column in ("pricing_prompt", "pricing_completion"):
        values = [v for v in result.frame[column] if v is not None]
        assert all(isinstance(v, Decimal) and v >= 0 for v in values)


def test_real_sample_2025_loads_without_canonical_slug():
    result = normalize_payloads("openrouter", load_json(shared_sample("openrouter-2025-05.json")))
    assert result.fetched == 321 and result.skipped == []


def test_sync_over_http_asks_for_all_modalities_and_follows_links_next(provider_env, sqlite_url):
    payload = fixture_payload("openrouter_models.json")
    first = {"data": payload["data"][:3], "links": {"next": f"{provider_env.url}/openrouter/models?offset=3"}}
    last = {"data": payload["data"][3:], "links": {"next": None}}
    provider_env.route("/openrouter/models", json_reply(first), json_reply(last))
    assert materialize_provider("openrouter", sqlite_url).success
    calls = [r for r in provider_env.requests if r.path == "/openrouter/models"]
    assert [r.query for r in calls] == [{"output_modalities": ["all"]}, {"offset": ["3"]}]
    stored = get_models_by_provider_slug("openrouter", database_url=sqlite_url)
    assert sorted(r["provider_model_id"] for r in stored) == sorted(m["id"] for m in payload["data"])
