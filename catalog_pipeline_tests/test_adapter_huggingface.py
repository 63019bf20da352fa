from decimal import Decimal

import pytest

import catalog_pipeline
from catalog_pipeline.pipeline.normalize import PayloadShapeError

from .adapter_helpers import D, fixture_payload, load_json, normalize_payloads, row
from .conftest import FIXTURES, shared_sample
from .http_server import json_reply
from .sync_helpers import materialize_provider


def test_row_carries_the_cheapest_live_offer_with_both_prices():
    result = normalize_payloads("huggingface", fixture_payload("huggingface_models.json"))
    assert result.skipped == [] and len(result.frame) == 6
    # nebius is cheaper but staging; sambanova is cheaper but has no output price.
    orion = row(result, "acme/Orion-70B-Instruct")
    assert orion["metadata"]["price_offer_provider"] == "groq"
    assert orion["pricing_prompt"] == D("0.00000059") and orion["pricing_completion"] == D("0.00000079")
    assert orion["context_length"] == 65536  # from the chosen offer, not the largest
    assert orion["supports_function_calling"] is False
    assert [offer["provider"] for offer in orion["metadata"]["offers"]] == ["together", "groq", "nebius", "sambanova"]
    assert "throughput" not in orion["metadata"]["offers"][0]  # live metrics would churn every sync
    # Cheapest = lowest input + output: 2 + 1.5 beats 1 + 3.
    split = row(result, "acme/Split-405B")
    assert split["metadata"]["price_offer_provider"] == "fireworks-ai"
    assert split["pricing_prompt"] == D("0.000002") and split["pricing_completion"] == D("0.0000015")
    assert split["supports_vision"] is True


def test_price_tie_goes_to_provider_name_order():
    result = normalize_payloads("huggingface", fixture_payload("huggingface_models.json"))
    tie = row(result, "acme/Tie-8B")
    assert tie["metadata"]["price_offer_provider"] == "cerebras"
    assert tie["pricing_prompt"] == D("0.0000002") and tie["context_length"] == 8192


def test_unpriced_free_and_dead_models():
    result = normalize_payloads("huggingface", fixture_payload("huggingface_models.json"))
    unpriced = row(result, "acme/Unpriced-32B")  # the only priced offer is in error
    assert unpriced["pricing_prompt"] is None and unpriced["pricing_completion"] is None
    assert unpriced["metadata"]["price_offer_provider"] is None
    assert unpriced["context_length"] == 32768  # max over live offers (the 131072 one is in error)
    assert unpriced["supports_function_calling"] is True and unpriced["is_active"] is True
    free = row(result, "acme/Free-3B")
    assert free["pricing_prompt"] == Decimal(0) and free["pricing_completion"] == Decimal(0)
    down = row(result, "acme/Down-13B")
    assert down["is_active"] is False and down["pricing_prompt"] is None and down["context_length"] is None


def test_health_status_is_the_best_status_the_serving_providers_publish():
    payload = fixture_payload("huggingface_models.json")
    payload["data"].append({"id": "acme/Soon-7B", "providers": [
        {"provider": "nscale", "status": "error"}, {"provider": "together", "status": "staging"}]})
    payload["data"].append({"id": "acme/Silent-7B", "providers": [{"provider": "together", "status": 3}]})
    result = normalize_payloads("huggingface", payload)
    assert row(result, "acme/Unpriced-32B")["health_status"] == "live"  # live beside an offer in error
    assert row(result, "acme/Down-13B")["health_status"] == "error"
    assert row(result, "acme/Soon-7B")["health_status"] == "staging"
    assert row(result, "acme/Silent-7B")["health_status"] is None  # not a status word: unknown


def test_bad_entries_are_skipped_with_reason_and_the_rest_load():
    payload = fixture_payload("huggingface_models.json")
    payload["data"].append({"object": "model", "providers": []})
    payload["data"].append({"id": "bad/price", "providers": [
        {"provider": "together", "status": "live", "pricing": {"input": "cheap", "output": 1}}]})
    payload["data"].append({"id": "bad/providers", "providers": "together"})
    result = normalize_payloads("huggingface", payload)
    assert len(result.frame) == 6
    assert any("missing field 'id'" in reason for reason in result.skipped)
    assert any(r.startswith("bad/price:") and "'cheap' is not a number" in r for r in result.skipped)
    assert any(reason.startswith("bad/providers:") for reason in result.skipped)


def test_wrong_shape_is_an_error_naming_it():
    with pytest.raises(PayloadShapeError, match="expected a JSON object with 'data'"):
        normalize_payloads("huggingface", [])


def test_real_sample_exact_prices():
    result = normalize_payloads("huggingface", load_json(shared_sample("huggingface.json")))
    assert result.fetched == 4 and result.skipped == []
    # together and fireworks-ai both quote 3/15: the tie goes to fireworks-ai by name.
    kimi = row(result, "moonshotai/Kimi-K3")
    assert kimi["metadata"]["price_offer_provider"] == "fireworks-ai"
    assert kimi["pricing_prompt"] == D("0.000003") and kimi["pricing_completion"] == D("0.000015")
    assert kimi["context_length"] == 1048576 and kimi["supports_vision"] is True
    # fireworks-ai has no pricing here, so together's 1 / 4.05 is the only candidate.
    inkling = row(result, "thinkingmachines/Inkling")
    assert inkling["metadata"]["price_offer_provider"] == "together"
    assert inkling["pricing_prompt"] == D("0.000001") and inkling["pricing_completion"] == D("0.00000405")
    assert inkling["context_length"] == 524288
    glm = row(result, "zai-org/GLM-5.2")
    assert glm["pricing_prompt"] == D("0.0000014") and glm["pricing_completion"] == D("0.0000044")


def test_sync_over_http(provider_env, sqlite_url):
    provider_env.route("/huggingface/models", json_reply((FIXTURES / "huggingface_models.json").read_bytes()))
    result = materialize_provider("huggingface", sqlite_url)
    assert result.success
    (request,) = [r for r in provider_env.requests if r.path == "/huggingface/models"]
    assert request.headers["Authorization"] == "Bearer test-key-huggingface-0123456789"
    stored = catalog_pipeline.get_models_by_provider_slug("huggingface", database_url=sqlite_url)
    rows = {r["provider_model_id"]: r for r in stored}
    assert len(rows) == 6
    orion = rows["acme/Orion-70B-Instruct"]
    assert orion["pricing_prompt"] == D("0.00000059") and orion["metadata"]["price_offer_provider"] == "groq"
    assert orion["metadata"]["offers"][0]["pricing"] == {"input": "0.88", "output": "0.88"}
    assert rows["acme/Down-13B"]["is_active"] is False and rows["acme/Down-13B"]["health_status"] == "error"
    assert orion["health_status"] == "live"
