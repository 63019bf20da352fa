from decimal import Decimal

import pytest

import catalog_pipeline
from catalog_pipeline.pipeline.normalize import PayloadShapeError

from .adapter_helpers import D, fixture_payload, normalize_payloads, row
from .conftest import FIXTURES
from .http_server import json_reply
from .sync_helpers import materialize_provider


def test_prices_are_usd_per_million_converted_to_per_token():
    result = normalize_payloads("together", fixture_payload("together_models.json"))
    assert result.skipped == [] and len(result.frame) == 7
    llama = row(result, "meta-llama/Llama-3.3-70B-Instruct-Turbo")
    assert llama["pricing_prompt"] == D("0.00000088") and llama["pricing_completion"] == D("0.00000088")
    assert llama["model_name"] == "Meta Llama 3.3 70B Instruct Turbo" and llama["context_length"] == 131072
    coder = row(result, "Qwen/Qwen2.5-Coder-32B-Instruct")
    assert coder["pricing_prompt"] == D("0.00000125") and coder["pricing_completion"] == D("0.0000035")
    assert coder["metadata"]["pricing_other"] == {"finetune": Decimal("0.5")}


def test_zero_is_free_only_for_free_ids_and_a_lone_zero_is_kept():
    result = normalize_payloads("together", fixture_payload("together_models.json"))
    free = row(result, "meta-llama/Llama-3.3-70B-Instruct-Turbo-Free")
    assert free["pricing_prompt"] == Decimal(0) and free["pricing_completion"] == Decimal(0)
    dedicated = row(result, "acme/Dedicated-Only-7B")  # 0/0 without -Free: no serverless price
    assert dedicated["pricing_prompt"] is None and dedicated["pricing_completion"] is None
    assert dedicated["metadata"]["pricing"]["hourly"] == Decimal("1.2")
    embed = row(result, "BAAI/bge-large-en-v1.5")
    assert embed["pricing_prompt"] == D("0.00000002") and embed["pricing_completion"] == Decimal(0)
    assert embed["output_modalities"] == ["embeddings"]


def test_non_token_types_have_unknown_token_prices():
    result = normalize_payloads("together", fixture_payload("together_models.json"))
    flux = row(result, "black-forest-labs/FLUX.1-schnell")
    assert flux["pricing_prompt"] is None and flux["pricing_completion"] is None and flux["pricing_image"] is None
    assert flux["output_modalities"] == ["image"] and flux["metadata"]["type"] == "image"
    whisper = row(result, "openai/whisper-large-v3")
    assert whisper["pricing_prompt"] is None and whisper["modality"] == "audio->text"


def test_bad_entries_are_skipped_with_reason_and_the_rest_load():
    payload = fixture_payload("together_models.json")
    payload.append({"type": "chat", "pricing": {"input": 1, "output": 1}})
    payload.append({"id": "bad/price", "type": "chat", "pricing": {"input": "cheap", "output": 1}})
    payload.append("not an object")
    result = normalize_payloads("together", payload)
    assert len(result.frame) == 7
    assert any("missing field 'id'" in reason for reason in result.skipped)
    assert any(r.startswith("bad/price:") and "'cheap' is not a number" in r for r in result.skipped)
    assert any("expected an object" in reason for reason in result.skipped)


def test_wrong_shape_is_an_error_naming_it():
    with pytest.raises(PayloadShapeError, match="expected a list at the top level"):
        normalize_payloads("together", {"data": []})


def test_sync_over_http(provider_env, sqlite_url):
    provider_env.route("/together/models", json_reply((FIXTURES / "together_models.json").read_bytes()))
    result = materialize_provider("together", sqlite_url)
    assert result.success
    (request,) = [r for r in provider_env.requests if r.path == "/together/models"]
    assert request.headers["Authorization"] == "Bearer test-key-together-0123456789"
    stored = catalog_pipeline.get_models_by_provider_slug("together", database_url=sqlite_url)
    rows = {r["provider_model_id"]: r for r in stored}
    assert len(rows) == 7
    assert rows["meta-llama/Llama-3.3-70B-Instruct-Turbo"]["pricing_prompt"] == D("0.00000088")
    assert rows["meta-llama/Llama-3.3-70B-Instruct-Turbo-Free"]["pricing_completion"] == Decimal(0)
    assert rows["acme/Dedicated-Only-7B"]["pricing_prompt"] is None
