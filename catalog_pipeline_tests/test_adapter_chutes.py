import json
from decimal import Decimal

import pytest

from catalog_pipeline import get_models_by_provider_slug
from catalog_pipeline.pipeline.normalize import PayloadShapeError

from .adapter_helpers import D, fixture_payload, load_json, normalize_payloads, row
from .conftest import FIXTURES, shared_sample
from .http_server import json_reply
from .sync_helpers import materialize_provider


def test_prices_are_usd_per_million_numbers():
    result = normalize_payloads("chutes", fixture_payload("chutes_models.json"))
    assert result.skipped == []
    reasoner = row(result, "acme/Reasoner-70B-TEE")
    assert reasoner["pricing_prompt"] == D("0.00000125")
    assert reasoner["pricing_completion"] == D("0.000005")
    assert reasoner["pricing_cache_read"] == D("0.000000125")
    assert reasoner["context_length"] == 131072 and reasoner["max_output_tokens"] == 65536
    assert reasoner["modality"] == "text+image->text"
    assert reasoner["supports_function_calling"] is True and reasoner["supports_reasoning"] is True
    assert reasoner["supports_vision"] is True
    assert reasoner["metadata"]["root"] == "acme/Reasoner-70B-FP8" and reasoner["metadata"]["quantization"] == "fp8"
    assert "price" not in reasoner["metadata"]


def test_sparse_entry_uses_max_model_len_and_trims_float_noise():
    edge = row(normalize_payloads("chutes", fixture_payload("chutes_models.json")), "tiny/Edge-1B-TEE")
    assert edge["context_length"] == 32768  # no context_length: max_model_len
    assert edge["pricing_prompt"] == D("0.0000000104")  # 0.010399999999999998 per 1M
    assert edge["modality"] is None and edge["supports_function_calling"] is None


def test_free_and_unpriced():
    result = normalize_payloads("chutes", fixture_payload("chutes_models.json"))
    free = row(result, "free/Hobby-8B-TEE")
    assert free["pricing_prompt"] == Decimal(0) and free["pricing_completion"] == Decimal(0)
    assert free["pricing_cache_read"] is None
    assert free["context_length"] == 8192  # context_length wins over max_model_len
    assert free["supports_function_calling"] is False
    unpriced = row(result, "Unpriced-Omni-30B-TEE")
    assert unpriced["pricing_prompt"] is None and unpriced["pricing_completion"] is None
    assert row(result, "qwen/Coder-32B-TEE")["pricing_completion"] == D("0.0000012")


def test_bad_entries_are_skipped_with_reason_and_the_rest_load():
    payload = fixture_payload("chutes_models.json")
    payload["data"].append({"root": "no/id", "pricing": {"prompt": 1, "completion": 1}})
    payload["data"].append({"id": "bad/price", "pricing": {"prompt": {"usd": 1}, "completion": 1}})
    payload["data"].append({"id": "bad/pricing", "pricing": [1, 2]})
    result = normalize_payloads("chutes", payload)
    assert len(result.frame) == 5
    assert any("missing field 'id'" in reason for reason in result.skipped)
    assert any(r.startswith("bad/price:") and "pricing.prompt: expected a number, got dict" in r for r in result.skipped)
    assert any(r.startswith("bad/pricing:") and "pricing is list" in r for r in result.skipped)


def test_wrong_shape_is_an_error_naming_it():
    with pytest.raises(PayloadShapeError, match="expected a JSON object with 'data'"):
        normalize_payloads("chutes", {"models": []})


def test_real_sample_2026_07_exact_prices():
    snapshot = load_json(shared_sample("chutes.json"))
    # The sample wraps the upstream list in its own snapshot envelope; rebuild the real top level.
    payload = {"object": "list", "data": snapshot["data"]}
    result = normalize_payloads("chutes", payload)
    assert result.fetched == 15 and result.skipped == []
    qwen = row(result, "Qwen/Qwen3-32B-TEE")
    assert qwen["pricing_prompt"] == D("0.000000104")
    assert qwen["pricing_completion"] == D("0.000000416")
    assert qwen["pricing_cache_read"] == D("0.000000052")
    assert qwen["context_length"] == 40960 and qwen["supports_reasoning"] is True
    glm = row(result, "zai-org/GLM-5.2-TEE")
    assert glm["pricing_prompt"] == D("0.00000125") and glm["context_length"] == 1048576
    nemotron = row(result, "Nemotron-3-Nano-Omni-30B-TEE")
    assert nemotron["context_length"] == 131072 and nemotron["pricing_prompt"] == D("0.0000000245")
    gemma = row(result, "google/gemma-4-31B-turbo-TEE")
    assert gemma["context_length"] == 131072  # context_length, not the larger max_model_len


def test_sync_over_real_http(provider_env, sqlite_url):
    # Served as plain JSON (floats), as the provider sends it.
    provider_env.route("/chutes/models", json_reply(json.loads((FIXTURES / "chutes_models.json").read_text())))
    result = materialize_provider("chutes", sqlite_url)
    assert result.success
    rows = {r["provider_model_id"]: r for r in get_models_by_provider_slug("chutes", database_url=sqlite_url)}
    assert len(rows) == 5
    assert rows["acme/Reasoner-70B-TEE"]["pricing_prompt"] == D("0.00000125")
    assert rows["Unpriced-Omni-30B-TEE"]["pricing_prompt"] is None
    assert provider_env.hits("/chutes/models") == 1
