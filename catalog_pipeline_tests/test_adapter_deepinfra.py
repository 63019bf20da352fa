from decimal import Decimal

import pytest

from catalog_pipeline.pipeline.normalize import PayloadShapeError

from .adapter_helpers import D, fixture_payload, load_json, normalize_payloads, row
from .conftest import shared_sample


def test_per_million_prices_become_per_token():
    result = normalize_payloads("deepinfra", fixture_payload("deepinfra_models.json"))
    assert result.skipped == []
    chat = row(result, "acme/Chat-70B-Instruct")
    assert chat["pricing_prompt"] == D("0.00000125") and chat["pricing_completion"] == D("0.00001")
    assert chat["context_length"] == 131072 and chat["max_output_tokens"] == 131072
    vision = row(result, "acme/Vision-27B")
    assert vision["pricing_completion"] == D("0.0000026")  # 2.5999999999999996 per 1M: float noise trimmed
    assert vision["pricing_cache_read"] == D("0.000000052")
    assert vision["supports_vision"] is True and vision["modality"] == "text+image->text"
    assert vision["supports_reasoning"] is True
    assert row(result, "acme/Free-Demo-3B")["pricing_prompt"] == Decimal(0)


def test_null_metadata_means_unknown_not_free():
    image = row(normalize_payloads("deepinfra", fixture_payload("deepinfra_models.json")), "stability/Image-XL")
    assert image["pricing_prompt"] is None and image["context_length"] is None and image["modality"] is None


def test_bad_entries_are_skipped_with_reason():
    payload = fixture_payload("deepinfra_models.json")
    payload["data"].append({"id": "bad/meta", "metadata": "oops"})
    payload["data"].append({"id": "bad/price", "metadata": {"pricing": {"input_tokens": [1], "output_tokens": 1}}})
    result = normalize_payloads("deepinfra", payload)
    assert len(result.frame) == 5
    assert any(r.startswith("bad/meta: metadata is str") for r in result.skipped)
    assert any(r.startswith("bad/price: pricing.input_tokens: expected a number") for r in result.skipped)


def test_wrong_shape_is_an_error():
    with pytest.raises(PayloadShapeError, match="expected a list at data"):
        normalize_payloads("deepinfra", {"object": "list", "data": None})


def test_real_sample_2026_04_exact_prices():
    result = normalize_payloads("deepinfra", load_json(shared_sample("deepinfra.json")))
    assert result.fetched == 154 and len(result.frame) == 154 and result.skipped == []
    qwen = row(result, "Qwen/Qwen3.5-27B")
    assert qwen["pricing_prompt"] == D("0.00000026") and qwen["pricing_completion"] == D("0.0000026")
    deepseek = row(result, "deepseek-ai/DeepSeek-V3.2")
    assert deepseek["pricing_cache_read"] == D("0.00000013") and deepseek["context_length"] == 163840
    assert sum(v is None for v in result.frame["pricing_prompt"]) == 66  # the metadata: null entries
