import json
from decimal import Decimal

import pytest

from catalog_pipeline import get_models_by_provider_slug
from catalog_pipeline.pipeline.normalize import PayloadShapeError

from .adapter_helpers import D, fixture_payload, normalize_payloads, row
from .conftest import FIXTURES
from .http_server import json_reply
from .sync_helpers import materialize_provider


def test_one_row_per_offer_keyed_by_routable_id():
    result = normalize_payloads("aimo", fixture_payload("aimo_models.json"))
    ids = sorted(result.frame["provider_model_id"])
    assert ids == [
        "7xKpAAAAaaaa1111:DeepSeek-V3-1",
        "7xKpAAAAaaaa1111:google/gemini-2.5-pro",
        "9zQmBBBBbbbb2222:DeepSeek-V3-1",
        "9zQmBBBBbbbb2222:Qwen3-32B",
        "AnotherHost4444:DeepSeek-V3-1",  # the same model listed again for another provider
        "FreeNode3333:Llama-3.2-3B",
    ]
    coop = row(result, "7xKpAAAAaaaa1111:DeepSeek-V3-1")
    farm = row(result, "9zQmBBBBbbbb2222:DeepSeek-V3-1")
    # Read as USD per token (unit unverified): strings and numbers alike.
    assert coop["pricing_prompt"] == D("0.00000027") and coop["pricing_completion"] == D("0.0000011")
    assert farm["pricing_prompt"] == D("0.00000025") and farm["pricing_completion"] == D("0.000001")
    assert coop["model_name"] == farm["model_name"] == "DeepSeek V3.1"
    assert coop["metadata"] == {
        "model": "DeepSeek-V3-1", "provider_id": "7xKpAAAAaaaa1111", "provider_name": "GPU Coop",
        "offers": 2, "created": 1760000000,
    }
    gemini = row(result, "7xKpAAAAaaaa1111:google/gemini-2.5-pro")
    assert gemini["pricing_prompt"] == D("0.00000125") and gemini["context_length"] == 1048576
    assert gemini["modality"] == "text+image->text" and gemini["supports_vision"] is True


def test_free_unpriced_and_offerless_models():
    result = normalize_payloads("aimo", fixture_payload("aimo_models.json"))
    free = row(result, "FreeNode3333:Llama-3.2-3B")
    assert free["pricing_prompt"] == Decimal(0) and free["pricing_completion"] == Decimal(0)
    assert free["model_name"] == "Llama-3.2-3B"  # no display_name
    unpriced = row(result, "9zQmBBBBbbbb2222:Qwen3-32B")
    assert unpriced["pricing_prompt"] is None and unpriced["modality"] is None
    assert result.skipped == ["Orphan-Model-7B: no provider offers, so no routable id"]


def test_implausible_per_token_price_is_skipped_not_stored():
    payload = fixture_payload("aimo_models.json")
    payload["data"].append({"name": "Per-Million-Model", "providers": [{"id": "P1", "name": "x", "pricing": {"prompt": "0.5", "completion": "1.5"}}]})
    result = normalize_payloads("aimo", payload)
    assert any(
        r.startswith("Per-Million-Model: pricing.prompt 0.5 is implausible as USD per token") for r in result.skipped
    )


def test_bad_entries_are_skipped_with_reason_and_the_rest_load():
    payload = fixture_payload("aimo_models.json")
    payload["data"] += [
        {"display_name": "no name", "providers": [{"id": "P1", "pricing": {"prompt": "0", "completion": "0"}}]},
        {"name": "bad-price", "providers": [{"id": "P1", "pricing": {"prompt": "cheap", "completion": "0"}}]},
        {"name": "bad-offers", "providers": {"id": "P1"}},
        {"name": "offer-without-id", "providers": [{"name": "anon", "pricing": {}}]},
        # The exact same offer twice: the first is kept.
        {"name": "Llama-3.2-3B", "providers": [{"id": "FreeNode3333", "pricing": {"prompt": "0.0000001", "completion": "0.0000001"}}]},
    ]
    result = normalize_payloads("aimo", payload)
    assert len(result.frame) == 6
    reasons = "\n".join(result.skipped)
    assert "missing field 'name'" in reasons
    assert "bad-price: pricing.prompt: 'cheap' is not a number" in reasons
    assert "bad-offers: providers is dict, expected a list" in reasons
    assert "offer-without-id: missing field 'id'" in reasons
    assert "FreeNode3333:Llama-3.2-3B: duplicate id, the first entry was kept" in reasons
    assert row(result, "FreeNode3333:Llama-3.2-3B")["pricing_prompt"] == 0


def test_wrong_shape_is_an_error_naming_it():
    with pytest.raises(PayloadShapeError, match="expected a JSON object with 'data'"):
        normalize_payloads("aimo", [{"name": "x"}])


def test_sync_over_real_http(provider_env, sqlite_url):
    provider_env.route("/aimo/models", json_reply(json.loads((FIXTURES / "aimo_models.json").read_text())))
    result = materialize_provider("aimo", sqlite_url)
    assert result.success
    rows = {r["provider_model_id"]: r for r in get_models_by_provider_slug("aimo", database_url=sqlite_url)}
    assert len(rows) == 6
    assert rows["9zQmBBBBbbbb2222:DeepSeek-V3-1"]["pricing_prompt"] == D("0.00000025")
    assert rows["9zQmBBBBbbbb2222:Qwen3-32B"]["pricing_prompt"] is None
    (request,) = provider_env.requests
    assert request.path == "/aimo/models"
    assert request.headers["Authorization"] == "Bearer test-key-aimo-0123456789"
