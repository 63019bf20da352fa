import pytest

from catalog_pipeline import get_models_by_provider_slug
from catalog_pipeline.pipeline.normalize import PayloadShapeError

from .adapter_helpers import D, fixture_payload, normalize_payloads, row
from .conftest import FIXTURES
from .http_server import json_reply
from .sync_helpers import materialize_provider


def test_per_token_strings_are_not_divided_again():
    result = normalize_payloads("nebius", fixture_payload("nebius_models.json"))
    assert result.skipped == []
    reasoner = row(result, "acme-ai/Reasoner-70B")
    assert reasoner["pricing_prompt"] == D("0.0000008")  # 0.80 USD per 1M
    assert reasoner["pricing_completion"] == D("0.0000024")
    assert reasoner["model_name"] == "Reasoner 70B" and reasoner["context_length"] == 131072
    assert reasoner["supports_function_calling"] is True and reasoner["supports_reasoning"] is True
    assert reasoner["metadata"]["quantization"] == "fp8"
    fast = row(result, "acme-ai/Reasoner-70B-fast")  # the -fast variant is its own id and price
    assert fast["pricing_prompt"] == D("0.000002") and fast["pricing_completion"] == D("0.000006")


def test_vision_image_and_request_meters():
    vision = row(normalize_payloads("nebius", fixture_payload("nebius_models.json")), "pixel/Vision-12B")
    assert vision["pricing_prompt"] == D("0.00000005")
    assert vision["pricing_image"] == D("0.0002") and vision["pricing_request"] == D("0")
    assert vision["input_modalities"] == ["text", "image"] and vision["output_modalities"] == ["text"]
    assert vision["modality"] == "text+image->text" and vision["supports_vision"] is True
    assert vision["supports_function_calling"] is False


def test_free_is_zero_and_unpriced_is_none():
    result = normalize_payloads("nebius", fixture_payload("nebius_models.json"))
    free = row(result, "tiny/Edge-1B-free")
    assert free["pricing_prompt"] == D("0") and free["pricing_completion"] == D("0")
    embedder = row(result, "embed/Embedder-v2")
    assert embedder["pricing_prompt"] is None and embedder["pricing_completion"] is None
    assert embedder["context_length"] is None  # 0 means unknown
    assert embedder["supports_function_calling"] is None  # no feature list at all


def test_bad_entries_are_skipped_with_reason_and_the_rest_load():
    payload = fixture_payload("nebius_models.json")
    payload["data"].append({"name": "no id", "pricing": {"prompt": "0"}})
    payload["data"].append({"id": "bad/price", "pricing": {"prompt": "0.0000x", "completion": "0"}})
    result = normalize_payloads("nebius", payload)
    assert len(result.frame) == 5
    assert any("missing field 'id'" in reason for reason in result.skipped)
    assert any(r.startswith("bad/price:") and "'0.0000x' is not a number" in r for r in result.skipped)


def test_wrong_shape_is_an_error_naming_it():
    with pytest.raises(PayloadShapeError, match="expected a JSON object with 'data'"):
        normalize_payloads("nebius", {"models": []})


def test_sync_over_http_asks_for_verbose_with_bearer(provider_env, sqlite_url):
    provider_env.route("/nebius/models", json_reply((FIXTURES / "nebius_models.json").read_bytes()))
    result = materialize_provider("nebius", sqlite_url)
    assert result.success
    rows = {r["provider_model_id"]: r for r in get_models_by_provider_slug("nebius", database_url=sqlite_url)}
    assert len(rows) == 5
    assert rows["acme-ai/Reasoner-70B"]["pricing_completion"] == D("0.0000024")
    (request,) = provider_env.requests
    assert request.query == {"verbose": ["true"]}
    assert request.headers["Authorization"] == "Bearer test-key-nebius-0123456789"
