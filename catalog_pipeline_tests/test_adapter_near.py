import copy
from decimal import Decimal

import pytest

from catalog_pipeline import get_models_by_provider_slug
from catalog_pipeline.pipeline.normalize import PayloadShapeError

from .adapter_helpers import D, fixture_payload, normalize_payloads, row
from .http_server import json_reply
from .sync_helpers import materialize_provider


def test_amount_times_ten_to_minus_scale_is_usd_per_token():
    result = normalize_payloads("near", fixture_payload("near_models.json"))
    assert result.skipped == []
    reasoner = row(result, "acme/Reasoner-V3")
    # {"amount": 1250, "scale": 9} = 1.25 USD per 1M tokens.
    assert reasoner["pricing_prompt"] == D("0.00000125")
    assert reasoner["pricing_completion"] == D("0.00001")
    assert reasoner["pricing_cache_read"] == D("0.000000125")
    assert reasoner["pricing_image"] is None  # costPerImage 0 on a text-only model: n/a, not free
    assert reasoner["model_name"] == "Acme Reasoner V3"  # metadata.modelDisplayName
    assert reasoner["description"] == "A reasoning model in a TEE."
    assert reasoner["context_length"] == 163840 and reasoner["max_output_tokens"] == 32768
    assert reasoner["supports_function_calling"] is True and reasoner["supports_reasoning"] is True
    assert reasoner["modality"] == "text->text"
    assert reasoner["metadata"]["providerType"] == "vllm" and reasoner["metadata"]["aliases"] == ["reasoner-v3"]
    assert reasoner["metadata"]["textPricing"]["tiers"][0]["above"] == 128000


def test_one_usd_per_million_is_amount_1000_at_scale_9():
    payload = fixture_payload("near_models.json")
    payload["models"][0]["inputCostPerToken"] = {"amount": 1000, "scale": 9, "currency": "USD"}
    assert row(normalize_payloads("near", payload), "acme/Reasoner-V3")["pricing_prompt"] == D("0.000001")


def test_other_scales_image_price_free_and_unpriced():
    result = normalize_payloads("near", fixture_payload("near_models.json"))
    legacy = row(result, "legacy/Old-Scale-7B")
    assert legacy["pricing_prompt"] == D("0.0000002")  # amount 2 at scale 7
    assert legacy["pricing_completion"] == D("0.0000006")
    painter = row(result, "pixel/Painter-2")
    assert painter["pricing_image"] == D("0.04")  # 40000000 nano-USD per image
    assert painter["context_length"] is None  # 0 = n/a
    assert painter["modality"] == "text->image"
    free = row(result, "tiny/Edge-1B")
    assert free["pricing_prompt"] == Decimal(0) and free["pricing_completion"] == Decimal(0)
    assert free["supports_function_calling"] is None and free["modality"] is None
    unpriced = row(result, "mystery/Unpriced-13B")
    assert unpriced["pricing_prompt"] is None and unpriced["pricing_completion"] is None
    assert unpriced["supports_vision"] is True


def test_bad_entries_are_skipped_with_reason_and_the_rest_load():
    payload = fixture_payload("near_models.json")
    good = payload["models"][0]
    bad = {
        "no-id": {"metadata": {}},
        "eur/model": {"inputCostPerToken": {"amount": 1000, "scale": 9, "currency": "EUR"}},
        "float/amount": {"inputCostPerToken": {"amount": Decimal("1.5"), "scale": 9, "currency": "USD"}},
        "string/scale": {"outputCostPerToken": {"amount": 5, "scale": "9", "currency": "USD"}},
        "negative/amount": {"inputCostPerToken": {"amount": -5, "scale": 9, "currency": "USD"}},
        "scalar/price": {"inputCostPerToken": "0.000001"},
    }
    for model_id, override in bad.items():
        entry = copy.deepcopy(good) | override
        if model_id == "no-id":
            del entry["modelId"]
        else:
            entry["modelId"] = model_id
        payload["models"].append(entry)
    result = normalize_payloads("near", payload)
    assert len(result.frame) == 5
    reasons = "\n".join(result.skipped)
    assert "missing field 'modelId'" in reasons
    assert "eur/model: inputCostPerToken: currency 'EUR' is not USD" in reasons
    assert "float/amount: inputCostPerToken: amount and scale must be integers" in reasons
    assert "string/scale: outputCostPerToken: amount and scale must be integers" in reasons
    assert "negative/amount: inputCostPerToken.amount: -5 is negative" in reasons
    assert "scalar/price: inputCostPerToken: expected {amount, scale, currency}, got str" in reasons


def test_wrong_shape_is_an_error_naming_it():
    with pytest.raises(PayloadShapeError, match="expected a JSON object with 'models'"):
        normalize_payloads("near", {"object": "list", "data": []})


def _page(models, offset, total):
    return {"models": models, "limit": 100, "offset": offset, "total": total}


def _model(index: int) -> dict:
    return {
        "modelId": f"org/model-{index:03d}",
        "inputCostPerToken": {"amount": 100 + index, "scale": 9, "currency": "USD"},
        "outputCostPerToken": {"amount": 400, "scale": 9, "currency": "USD"},
        "costPerImage": {"amount": 0, "scale": 9, "currency": "USD"},
        "metadata": {"verifiable": True, "contextLength": 32768, "modelDisplayName": f"Model {index}", "modelDescription": "", "ownedBy": "org"},
    }


def test_sync_over_real_http_follows_offset_until_total(provider_env, sqlite_url):
    models = [_model(i) for i in range(130)]
    provider_env.route(
        "/near/model/list",
        json_reply(_page(models[:100], 0, 130)),
        json_reply(_page(models[100:], 100, 130)),
        json_reply({"error": "asked for a page past total"}, status=400),
    )
    result = materialize_provider("near", sqlite_url)
    assert result.success
    rows = {r["provider_model_id"]: r for r in get_models_by_provider_slug("near", database_url=sqlite_url)}
    assert len(rows) == 130
    assert rows["org/model-129"]["pricing_prompt"] == D("0.000000229")
    assert rows["org/model-000"]["model_name"] == "Model 0"
    queries = [r.query for r in provider_env.requests if r.path == "/near/model/list"]
    assert queries == [{"limit": ["100"], "offset": ["0"]}, {"limit": ["100"], "offset": ["100"]}]
    # Public API: no Authorization is required, but a configured key is sent as Bearer.
    assert provider_env.requests[0].headers.get("Authorization") == "Bearer test-key-near-0123456789"
