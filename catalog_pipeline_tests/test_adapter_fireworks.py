import pytest

import catalog_pipeline
from catalog_pipeline.pipeline.normalize import PayloadShapeError

from .adapter_helpers import fixture_payload, normalize_payloads, row
from .conftest import FIXTURES
from .http_server import json_reply
from .sync_helpers import materialize_provider

PRICE_COLUMNS = ("pricing_prompt", "pricing_completion", "pricing_image", "pricing_request",
                 "pricing_cache_read", "pricing_cache_write")


def test_no_prices_in_the_api_so_every_price_is_unknown():
    result = normalize_payloads("fireworks", fixture_payload("fireworks_models.json"))
    assert result.skipped == [] and len(result.frame) == 6
    for column in PRICE_COLUMNS:
        assert all(value is None for value in result.frame[column])


def test_capability_flags_and_context():
    result = normalize_payloads("fireworks", fixture_payload("fireworks_models.json"))
    quasar = row(result, "accounts/fireworks/models/quasar-v3")
    assert quasar["context_length"] == 163840
    assert quasar["supports_function_calling"] is True and quasar["supports_vision"] is False
    assert quasar["modality"] == "text->text" and quasar["metadata"]["kind"] == "HF_BASE_MODEL"
    lumen = row(result, "accounts/fireworks/models/lumen-vl-32b")
    assert lumen["supports_vision"] is True and lumen["input_modalities"] == ["text", "image"]


def test_embedding_kind_wins_over_supports_chat_and_flumina_is_image():
    result = normalize_payloads("fireworks", fixture_payload("fireworks_models.json"))
    embed = row(result, "accounts/fireworks/models/nomic-embed-text-v2")
    assert embed["output_modalities"] == ["embeddings"] and embed["context_length"] is None
    flux = row(result, "accounts/fireworks/models/flux-lite-schnell")
    assert flux["output_modalities"] == ["image"]
    assert flux["context_length"] is None  # 0 means not applicable


def test_router_entries_are_rows_and_old_shape_leaves_capabilities_unknown():
    result = normalize_payloads("fireworks", fixture_payload("fireworks_models.json"))
    router = row(result, "accounts/fireworks/routers/quasar-fast")
    assert router["metadata"]["router"] is True and router["output_modalities"] == ["text"]
    old = row(result, "accounts/fireworks/models/old-llama-13b")
    assert old["supports_function_calling"] is None and old["supports_vision"] is None
    assert old["modality"] is None and old["context_length"] is None


def test_bad_entries_are_skipped_with_reason_and_the_rest_load():
    payload = fixture_payload("fireworks_models.json")
    payload["data"].append({"object": "model", "supports_tools": True})
    payload["data"].append({"id": "accounts/fireworks/models/bad-ctx", "context_length": "long"})
    result = normalize_payloads("fireworks", payload)
    assert len(result.frame) == 6
    assert any("missing field 'id'" in reason for reason in result.skipped)
    assert any(r.startswith("accounts/fireworks/models/bad-ctx:") and "context_length" in r for r in result.skipped)


def test_wrong_shape_is_an_error_naming_it():
    with pytest.raises(PayloadShapeError, match="expected a JSON object with 'data'"):
        normalize_payloads("fireworks", {"models": []})


def test_sync_over_http(provider_env, sqlite_url):
    provider_env.route("/fireworks/models", json_reply((FIXTURES / "fireworks_models.json").read_bytes()))
    result = materialize_provider("fireworks", sqlite_url)
    assert result.success
    (request,) = [r for r in provider_env.requests if r.path == "/fireworks/models"]
    assert request.headers["Authorization"] == "Bearer test-key-fireworks-0123456789"
    stored = catalog_pipeline.get_models_by_provider_slug("fireworks", database_url=sqlite_url)
    rows = {r["provider_model_id"]: r for r in stored}
    assert len(rows) == 6
    assert rows["accounts/fireworks/models/quasar-v3"]["context_length"] == 163840
    assert rows["accounts/fireworks/models/quasar-v3"]["pricing_prompt"] is None


def test_missing_key_skips_the_sync(provider_env, sqlite_url, monkeypatch):
    monkeypatch.delenv("FIREWORKS_API_KEY")
    result = materialize_provider("fireworks", sqlite_url)
    assert result.success and not result.asset_materializations_for_node("model_catalog")
    assert provider_env.hits("/fireworks/models") == 0
