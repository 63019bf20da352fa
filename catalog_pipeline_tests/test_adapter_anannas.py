import pytest

from catalog_pipeline import get_models_by_provider_slug
from catalog_pipeline.pipeline.normalize import PayloadShapeError

from .adapter_helpers import D, fixture_payload, normalize_payloads, row
from .conftest import FIXTURES
from .http_server import json_reply
from .sync_helpers import materialize_provider


def test_prices_read_as_usd_per_1m():
    result = normalize_payloads("anannas", fixture_payload("anannas_models.json"))
    assert result.skipped == []
    mini = row(result, "openai/gpt-5-mini")
    assert mini["pricing_prompt"] == D("0.00000025") and mini["pricing_completion"] == D("0.000002")
    assert mini["context_length"] == 400000 and mini["max_output_tokens"] == 128000
    assert mini["supports_function_calling"] is True and mini["supports_reasoning"] is True
    claude = row(result, "anthropic/claude-like-4")
    assert claude["pricing_prompt"] == D("0.000003") and claude["pricing_completion"] == D("0.000015")
    edge = row(result, "tiny/edge-1b")
    assert edge["pricing_prompt"] == D("1E-13") and edge["pricing_completion"] == D("0.00000002")


def test_free_is_zero_and_unpriced_is_none():
    result = normalize_payloads("anannas", fixture_payload("anannas_models.json"))
    free = row(result, "meta-llama/llama-3.3-8b-instruct:free")
    assert free["pricing_prompt"] == D("0") and free["pricing_completion"] == D("0")
    mystery = row(result, "mystery/preview")
    assert mystery["pricing_prompt"] is None and mystery["context_length"] is None
    assert mystery["supports_function_calling"] is None


def test_bad_entries_are_skipped_with_reason_and_the_rest_load():
    payload = fixture_payload("anannas_models.json")
    payload["data"].append({"object": "model", "pricing": {"input": 1, "output": 1}})
    payload["data"].append({"id": "bad/price", "pricing": {"input": -1, "output": 1}})
    payload["data"].append({"id": "bad/pricing", "pricing": [1, 2]})
    result = normalize_payloads("anannas", payload)
    assert len(result.frame) == 5
    assert any("missing field 'id'" in reason for reason in result.skipped)
    assert any(r.startswith("bad/price:") and "is negative" in r for r in result.skipped)
    assert any(r.startswith("bad/pricing:") and "expected an object" in r for r in result.skipped)


def test_wrong_shape_is_an_error_naming_it():
    with pytest.raises(PayloadShapeError, match="expected a list at data"):
        normalize_payloads("anannas", {"object": "list", "data": {"id": "x"}})


def test_sync_over_http_asks_for_details_with_bearer(provider_env, sqlite_url):
    provider_env.route("/anannas/models", json_reply((FIXTURES / "anannas_models.json").read_bytes()))
    result = materialize_provider("anannas", sqlite_url)
    assert result.success
    rows = {r["provider_model_id"]: r for r in get_models_by_provider_slug("anannas", database_url=sqlite_url)}
    assert len(rows) == 5
    assert rows["openai/gpt-5-mini"]["pricing_prompt"] == D("0.00000025")
    (request,) = provider_env.requests
    assert request.query == {"details": ["true"]}
    assert request.headers["Authorization"] == "Bearer test-key-anannas-0123456789"
