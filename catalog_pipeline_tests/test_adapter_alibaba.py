import pytest

from catalog_pipeline import get_models_by_provider_slug
from catalog_pipeline.pipeline.normalize import PayloadShapeError
from catalog_pipeline.providers import adapter_for

from .adapter_helpers import fixture_payload, normalize_payloads, row
from .http_server import json_reply
from .sync_helpers import materialize_provider, skipped_reason

PRICE_COLUMNS = ("pricing_prompt", "pricing_completion", "pricing_image", "pricing_request", "pricing_cache_read", "pricing_cache_write")


def test_ids_only_and_every_price_unknown():
    result = normalize_payloads("alibaba", fixture_payload("alibaba_models.json"))
    assert result.skipped == [] and len(result.frame) == 6
    for model_id in ("qwen-max", "qwen-plus-2025-09-11", "qwen-turbo-us"):
        record = row(result, model_id)
        assert all(record[column] is None for column in PRICE_COLUMNS)  # unknown, never 0
        assert record["context_length"] is None and record["modality"] is None
        assert record["supports_vision"] is None  # not False: the list says nothing
        assert record["model_name"] == model_id
        assert record["metadata"] == {"owned_by": "system", "created": 1760000000}


def test_bad_entries_are_skipped_with_reason_and_the_rest_load():
    payload = fixture_payload("alibaba_models.json")
    payload["data"] += [{"object": "model", "owned_by": "system"}, {"id": "", "object": "model"}, "qwen-raw-string"]
    result = normalize_payloads("alibaba", payload)
    assert len(result.frame) == 6
    assert any("missing field 'id'" in reason for reason in result.skipped)
    assert any("missing or empty model id" in reason for reason in result.skipped)
    assert any("expected an object, got str" in reason for reason in result.skipped)


def test_wrong_shape_is_an_error_naming_it():
    with pytest.raises(PayloadShapeError, match="expected a list at data"):
        normalize_payloads("alibaba", {"object": "list", "data": {"id": "qwen-max"}})


def test_key_is_required():
    assert adapter_for("alibaba").SPEC.key_required is True


def test_sync_over_real_http_sends_bearer_key(provider_env, sqlite_url):
    provider_env.route("/alibaba/models", json_reply(fixture_payload("alibaba_models.json")))
    result = materialize_provider("alibaba", sqlite_url)
    assert result.success
    rows = get_models_by_provider_slug("alibaba", database_url=sqlite_url)
    assert [r["provider_model_id"] for r in rows][:2] == ["qwen-max", "qwen-plus"]
    assert all(r["pricing_prompt"] is None for r in rows)
    (request,) = provider_env.requests
    assert request.headers["Authorization"] == "Bearer test-key-alibaba-0123456789"


def test_sync_without_key_is_skipped_with_reason(provider_env, sqlite_url, monkeypatch):
    monkeypatch.delenv("ALIBABA_API_KEY")
    result = materialize_provider("alibaba", sqlite_url)
    assert result.success and not result.asset_materializations_for_node("model_catalog")
    assert skipped_reason(result) == "skipped: ALIBABA_API_KEY is not set"
    assert provider_env.requests == []
