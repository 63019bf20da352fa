import pytest

from catalog_pipeline import get_models_by_provider_slug
from catalog_pipeline.pipeline.normalize import PayloadShapeError

from .adapter_helpers import D, fixture_payload, load_json, normalize_payloads, row
from .conftest import FIXTURES, shared_sample
from .http_server import json_reply
from .sync_helpers import materialize_provider


def test_prices_are_per_1m_despite_the_docs_saying_per_1k():
    result = normalize_payloads("aihubmix", fixture_payload("aihubmix_models.json"))
    assert result.skipped == []
    flagship = row(result, "acme-5")
    assert flagship["pricing_prompt"] == D("0.00000125")
    assert flagship["pricing_completion"] == D("0.00001")
    assert flagship["pricing_cache_read"] == D("0.000000125")
    assert flagship["model_name"] == "Acme 5" and flagship["description"] == "Flagship reasoning model."
    assert flagship["context_length"] == 400000 and flagship["max_output_tokens"] == 128000
    claudish = row(result, "claudish-4")
    assert claudish["pricing_cache_write"] == D("0.00000375") and claudish["model_name"] == "claudish-4"


def test_comma_strings_become_lists_and_flags():
    result = normalize_payloads("aihubmix", fixture_payload("aihubmix_models.json"))
    flagship = row(result, "acme-5")
    assert flagship["input_modalities"] == ["text", "image"] and flagship["modality"] == "text+image->text"
    assert flagship["supports_vision"] is True and flagship["supports_function_calling"] is True
    assert flagship["supports_reasoning"] is True
    free = row(result, "open-8b-free")
    assert free["metadata"]["features"] == [] and free["supports_function_calling"] is False


def test_free_unpriced_and_non_token_types():
    result = normalize_payloads("aihubmix", fixture_payload("aihubmix_models.json"))
    free = row(result, "open-8b-free")
    assert free["pricing_prompt"] == D("0") and free["pricing_completion"] == D("0")
    assert row(result, "mystery-preview")["pricing_prompt"] is None
    painter = row(result, "painter-3")  # image model: unit undocumented, kept unconverted
    assert painter["pricing_prompt"] is None and painter["pricing_image"] is None
    assert painter["metadata"]["pricing_unconverted"] == {"input": D("0.04"), "output": 0}
    assert painter["output_modalities"] == ["image"] and painter["context_length"] is None
    embed = row(result, "embed-large")
    assert embed["pricing_prompt"] == D("0.00000013") and embed["output_modalities"] is None


def test_bad_entries_are_skipped_with_reason_and_the_rest_load():
    payload = fixture_payload("aihubmix_models.json")
    payload["data"].append({"id": "uses-id-not-model_id", "types": "llm", "pricing": {"input": 1}})
    payload["data"].append({"model_id": "bad-price", "types": "llm", "pricing": {"input": "1,25"}})
    result = normalize_payloads("aihubmix", payload)
    assert len(result.frame) == 6
    assert any("missing field 'model_id'" in reason for reason in result.skipped)
    assert any(r.startswith("bad-price:") and "'1,25' is not a number" in r for r in result.skipped)


def test_wrong_shape_is_an_error_naming_it():
    with pytest.raises(PayloadShapeError, match="expected a JSON object with 'data'"):
        normalize_payloads("aihubmix", {"success": False, "message": "rate limited"})


def test_real_docs_example():
    result = normalize_payloads("aihubmix", load_json(shared_sample("aihubmix.json")))
    assert result.fetched == 5 and result.skipped == []
    gpt5 = row(result, "gpt-5")
    assert gpt5["pricing_prompt"] == D("0.00000125") and gpt5["pricing_completion"] == D("0.00001")
    assert gpt5["pricing_cache_read"] == D("0.000000125") and gpt5["context_length"] == 400000
    nano = row(result, "gpt-5-nano")
    assert nano["pricing_prompt"] == D("0.00000005") and nano["pricing_completion"] == D("0.0000004")
    pro = row(result, "gpt-5-pro")
    assert pro["pricing_prompt"] == D("0.000015") and pro["pricing_cache_read"] is None


def test_sync_over_http_public_list(provider_env, sqlite_url):
    provider_env.route("/aihubmix/models", json_reply((FIXTURES / "aihubmix_models.json").read_bytes()))
    result = materialize_provider("aihubmix", sqlite_url)
    assert result.success
    rows = {r["provider_model_id"]: r for r in get_models_by_provider_slug("aihubmix", database_url=sqlite_url)}
    assert len(rows) == 6
    assert rows["acme-5"]["pricing_prompt"] == D("0.00000125")
    assert rows["painter-3"]["metadata"]["pricing_unconverted"] == {"input": "0.04", "output": 0}
    (request,) = provider_env.requests
    assert request.path == "/aihubmix/models" and request.query == {}
