from decimal import Decimal

import pytest

import catalog_pipeline
from catalog_pipeline.pipeline.normalize import PayloadShapeError

from .adapter_helpers import D, fixture_payload, load_json, normalize_payloads, row
from .conftest import FIXTURES, shared_sample
from .http_server import json_reply
from .sync_helpers import materialize_provider


def test_prices_are_usd_per_token_strings_kept_exact():
    result = normalize_payloads("cerebras", fixture_payload("cerebras_models.json"))
    assert result.skipped == [] and len(result.frame) == 5
    oss = row(result, "gpt-oss-120b")
    assert oss["pricing_prompt"] == D("0.00000035") and oss["pricing_completion"] == D("0.00000075")
    assert oss["context_length"] == 131072 and oss["max_output_tokens"] == 40960
    assert oss["supports_function_calling"] is True and oss["supports_reasoning"] is True
    assert oss["supports_streaming"] is True and oss["supports_vision"] is False
    assert oss["model_name"] == "GPT OSS 120B"


def test_free_deprecated_and_placeholder_zeros():
    result = normalize_payloads("cerebras", fixture_payload("cerebras_models.json"))
    free = row(result, "zai-glm-lite")
    assert free["pricing_prompt"] == Decimal(0) and free["pricing_completion"] == Decimal(0)
    # Compatibility zeros for image/request/cache are placeholders, not prices.
    assert free["pricing_image"] is None and free["pricing_request"] is None and free["pricing_cache_read"] is None
    assert free["metadata"]["pricing_other"] == {"image": "0", "request": "0", "input_cache_read": "0"}
    assert free["supports_function_calling"] is True  # `tools` spelling
    assert row(result, "llama3.1-8b")["is_active"] is False


def test_unpriced_and_unknown_pricing_keys_are_not_guessed():
    result = normalize_payloads("cerebras", fixture_payload("cerebras_models.json"))
    preview = row(result, "qwen-vl-preview")
    assert preview["pricing_prompt"] is None and preview["supports_vision"] is True
    assert preview["metadata"]["preview"] is True and preview["supports_reasoning"] is None
    odd = row(result, "odd-pricing-70b")  # input/output in an unknown unit: kept, not converted
    assert odd["pricing_prompt"] is None and odd["pricing_completion"] is None
    assert odd["metadata"]["pricing_other"] == {"input": Decimal("0.6"), "output": Decimal("1.2")}
    assert odd["supports_function_calling"] is True  # capabilities given as a list


def test_bad_entries_are_skipped_with_reason_and_the_rest_load():
    payload = fixture_payload("cerebras_models.json")
    payload["data"].append({"name": "no id"})
    payload["data"].append({"id": "bad-price", "pricing": {"prompt": "cheap", "completion": "0"}})
    result = normalize_payloads("cerebras", payload)
    assert len(result.frame) == 5
    assert any("missing field 'id'" in reason for reason in result.skipped)
    assert any(reason.startswith("bad-price:") and "'cheap' is not a number" in reason for reason in result.skipped)


def test_wrong_shape_is_an_error_naming_it():
    with pytest.raises(PayloadShapeError, match="expected a JSON object with 'data'"):
        normalize_payloads("cerebras", [{"id": "llama3.1-8b"}])


def test_real_sample_of_the_account_list_loads_without_prices():
    # The sample is /v1/models with its envelope stripped by the app that saved it.
    sample = load_json(shared_sample("cerebras.json"))
    result = normalize_payloads("cerebras", {"object": "list", "data": sample})
    assert result.fetched == 9 and result.skipped == [] and len(result.frame) == 9
    llama = row(result, "llama-3.3-70b")
    assert llama["pricing_prompt"] is None and llama["context_length"] is None
    assert llama["is_active"] is True and llama["metadata"] == {"owned_by": "Cerebras", "created": 0}


def test_sync_over_http_without_a_key(provider_env, sqlite_url, monkeypatch):
    monkeypatch.delenv("CEREBRAS_API_KEY")  # the public catalogue needs none
    provider_env.route("/cerebras/models", json_reply((FIXTURES / "cerebras_models.json").read_bytes()))
    result = materialize_provider("cerebras", sqlite_url)
    assert result.success
    (request,) = [r for r in provider_env.requests if r.path == "/cerebras/models"]
    assert "Authorization" not in request.headers
    stored = catalog_pipeline.get_models_by_provider_slug("cerebras", database_url=sqlite_url)
    rows = {r["provider_model_id"]: r for r in stored}
    assert len(rows) == 5
    assert rows["gpt-oss-120b"]["pricing_prompt"] == D("0.00000035")
    assert rows["llama3.1-8b"]["is_active"] is False
