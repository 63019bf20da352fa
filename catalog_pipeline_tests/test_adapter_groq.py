import pytest

from catalog_pipeline.pipeline.normalize import PayloadShapeError

from .adapter_helpers import fixture_payload, load_json, normalize_payloads, row
from .conftest import shared_sample


def test_no_prices_context_window_and_inactive_models():
    result = normalize_payloads("groq", fixture_payload("groq_models.json"))
    assert result.skipped == []
    assert all(v is None for v in result.frame["pricing_prompt"])
    llama = row(result, "llama-3.3-70b-versatile")
    assert llama["context_length"] == 131072 and llama["max_output_tokens"] == 32768
    assert llama["supports_function_calling"] is None  # not in the documented shape: unknown
    assert row(result, "mixtral-8x7b-32768")["is_active"] is False


def test_optional_features_are_read_when_present():
    oss = row(normalize_payloads("groq", fixture_payload("groq_models.json")), "openai/gpt-oss-120b")
    assert oss["supports_function_calling"] is True and oss["supports_reasoning"] is True
    assert oss["modality"] == "text->text"


def test_bad_entries_and_wrong_shape():
    payload = fixture_payload("groq_models.json")
    payload["data"].append({"object": "model", "context_window": 1})
    payload["data"].append({"id": "weird", "context_window": "big"})
    result = normalize_payloads("groq", payload)
    assert len(result.frame) == 5
    assert any("missing field 'id'" in r for r in result.skipped)
    assert any(r.startswith("weird: context_length is not an integer") for r in result.skipped)
    with pytest.raises(PayloadShapeError):
        normalize_payloads("groq", [{"id": "x"}])


def test_real_sample_2026_03():
    result = normalize_payloads("groq", load_json(shared_sample("groq.json")))
    assert result.fetched == 20 and len(result.frame) == 20
    kimi = row(result, "moonshotai/kimi-k2-instruct-0905")
    assert kimi["context_length"] == 262144 and kimi["max_output_tokens"] == 16384
    assert kimi["pricing_prompt"] is None
    # TTS entries report more output than context; both are kept as the provider says.
    orpheus = row(result, "canopylabs/orpheus-v1-english")
    assert (orpheus["context_length"], orpheus["max_output_tokens"]) == (4000, 50000)
