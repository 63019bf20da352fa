import pytest

from catalog_pipeline import get_models_by_provider_slug
from catalog_pipeline.pipeline.normalize import PayloadShapeError

from .adapter_helpers import D, fixture_payload, load_json, normalize_payloads, row
from .conftest import FIXTURES, shared_sample
from .http_server import json_reply
from .sync_helpers import materialize_provider


def test_integer_units_are_1e_minus_10_usd_per_token():
    result = normalize_payloads("novita", fixture_payload("novita_models.json"))
    assert result.skipped == []
    big = row(result, "acme/reasoner-405b-instruct")
    assert big["pricing_prompt"] == D("0.000003")  # 30000 units = 3.00 USD per 1M
    assert big["pricing_completion"] == D("0.000005")
    assert big["pricing_cache_read"] == D("0.0000015")
    assert big["model_name"] == "Acme Reasoner 405B"
    assert big["context_length"] == 131072 and big["max_output_tokens"] == 16384
    assert big["supports_function_calling"] is True and big["supports_reasoning"] is True
    assert big["modality"] == "text->text"
    assert big["metadata"]["model_type"] == "chat" and big["metadata"]["tags"] == ["HOT"]
    vision = row(result, "pixel/vision-11b")
    assert vision["pricing_prompt"] == D("1E-10")  # the smallest unit
    assert vision["pricing_completion"] == D("0.0000012345")
    assert vision["supports_vision"] is True and vision["supports_function_calling"] is False


def test_old_shape_free_unpriced_and_inactive():
    result = normalize_payloads("novita", fixture_payload("novita_models.json"))
    small = row(result, "tiny/edge-8b-instruct")
    assert small["pricing_prompt"] == D("0.000000063") and small["model_name"] == "tiny/edge-8b-instruct"
    assert small["supports_function_calling"] is None and small["modality"] is None  # old shape: unknown
    free = row(result, "tiny/edge-8b-instruct:free")
    assert free["pricing_prompt"] == D("0") and free["pricing_completion"] == D("0")
    unpriced = row(result, "new/unpriced-7b")
    assert unpriced["pricing_prompt"] is None and unpriced["context_length"] is None
    assert row(result, "old/retired-13b")["is_active"] is False  # status 0: not available
    assert small["is_active"] is True


def test_bad_entries_are_skipped_with_reason_and_the_rest_load():
    payload = fixture_payload("novita_models.json")
    payload["data"].append({"title": "no id", "input_token_price_per_m": 1})
    payload["data"].append({"id": "bad/price", "input_token_price_per_m": "lots"})
    result = normalize_payloads("novita", payload)
    assert len(result.frame) == 6
    assert any("missing field 'id'" in reason for reason in result.skipped)
    assert any(r.startswith("bad/price:") and "'lots' is not a number" in r for r in result.skipped)


def test_wrong_shape_is_an_error_naming_it():
    with pytest.raises(PayloadShapeError, match="expected a JSON object with 'data'"):
        normalize_payloads("novita", [{"id": "bare/array"}])


def test_real_sample_2024_wrapped_in_its_envelope():
    sample = load_json(shared_sample("novita.json"))
    result = normalize_payloads("novita", {"data": sample})
    assert result.fetched == 18 and result.skipped == []
    big = row(result, "meta-llama/llama-3.1-405b-instruct")
    assert big["pricing_prompt"] == D("0.000003") and big["pricing_completion"] == D("0.000005")
    assert big["context_length"] == 32768
    small = row(result, "meta-llama/llama-3-8b-instruct")
    assert small["pricing_prompt"] == D("0.000000063") and small["context_length"] == 8192
    assert row(result, "microsoft/wizardlm-2-8x22b")["context_length"] == 65535


def test_sync_over_http_with_bearer(provider_env, sqlite_url):
    provider_env.route("/novita/models", json_reply((FIXTURES / "novita_models.json").read_bytes()))
    result = materialize_provider("novita", sqlite_url)
    assert result.success
    rows = {r["provider_model_id"]: r for r in get_models_by_provider_slug("novita", database_url=sqlite_url)}
    assert len(rows) == 6
    assert rows["acme/reasoner-405b-instruct"]["pricing_prompt"] == D("0.000003")
    assert rows["old/retired-13b"]["is_active"] is False
    (request,) = provider_env.requests
    assert request.headers["Authorization"] == "Bearer test-key-novita-0123456789"
