import json

import pytest

from catalog_pipeline import get_models_by_provider_slug
from catalog_pipeline.pipeline.normalize import PayloadShapeError, normalize
from catalog_pipeline.providers import adapter_for

from .adapter_helpers import D, fixture_payload, row
from .conftest import FIXTURES
from .http_server import json_reply
from .sync_helpers import materialize_provider

LIST_URL = "http://fixture/fal/models?limit=100"
PRICING_URL = "http://fixture/fal/models/pricing?endpoint_id=a"


def _normalize(models=None, pricing=None):
    pages = [(LIST_URL, models or fixture_payload("fal_models.json")), (PRICING_URL, pricing or fixture_payload("fal_pricing.json"))]
    return normalize(adapter_for("fal"), pages)


def test_unit_decides_the_column():
    result = _normalize()
    assert result.skipped == [] and len(result.frame) == 7
    flux = row(result, "fal-ai/flux/dev")
    # fal quotes USD per unit; unit "image" = pricing_image.
    assert flux["pricing_image"] == D("0.025") and flux["pricing_request"] is None
    assert flux["pricing_prompt"] is None and flux["pricing_completion"] is None
    assert flux["metadata"]["price_unit"] == "image" and flux["metadata"]["unit_price"] == "0.025"
    assert flux["model_name"] == "FLUX.1 [dev]" and flux["modality"] == "text->image"
    assert flux["metadata"]["tags"] == ["flux"]
    sdxl = row(result, "fal-ai/fast-sdxl")
    assert sdxl["pricing_request"] == D("0.003") and sdxl["pricing_image"] is None
    assert sdxl["metadata"]["price_unit"] == "request"


def test_other_units_stay_out_of_the_price_columns():
    result = _normalize()
    ultra = row(result, "fal-ai/flux-pro/ultra")
    assert ultra["pricing_image"] is None and ultra["pricing_request"] is None
    assert ultra["metadata"]["price_unit"] == "megapixels" and ultra["metadata"]["unit_price"] == "0.05"
    kling = row(result, "fal-ai/kling/video")
    assert kling["pricing_image"] is None and kling["pricing_request"] is None
    assert kling["metadata"]["price_unit"] == "video_second" and kling["metadata"]["unit_price"] == "0.07"
    assert kling["modality"] == "image->video" and kling["supports_vision"] is True


def test_free_unpriced_and_deprecated():
    result = _normalize()
    free = row(result, "fal-ai/free-upscaler")
    assert free["pricing_image"] == D("0") and free["metadata"]["unit_price"] == "0"
    tts = row(result, "fal-ai/tts")  # no price returned
    assert tts["pricing_image"] is None and tts["pricing_request"] is None
    assert tts["metadata"]["price_unit"] is None and "unit_price" not in tts["metadata"]
    assert tts["modality"] == "text->audio"
    old = row(result, "fal-ai/old-diffusion")
    assert old["is_active"] is False and old["pricing_image"] == D("0.01")
    assert row(result, "fal-ai/flux/dev")["is_active"] is True


def test_non_usd_price_is_kept_in_metadata_only():
    pricing = fixture_payload("fal_pricing.json")
    pricing["prices"][0]["currency"] = "credits"
    flux = row(_normalize(pricing=pricing), "fal-ai/flux/dev")
    assert flux["pricing_image"] is None
    assert flux["metadata"]["unit_price"] == "0.025" and flux["metadata"]["currency"] == "credits"


def test_bad_entries_are_skipped_with_reason_and_the_rest_load():
    models = fixture_payload("fal_models.json")
    models["models"] += [
        {"metadata": {"display_name": "no id"}},
        {"endpoint_id": "fal-ai/bad-price", "metadata": {"category": "text-to-image"}},
        {"endpoint_id": "fal-ai/bad-metadata", "metadata": ["text-to-image"]},
    ]
    pricing = fixture_payload("fal_pricing.json")
    pricing["prices"] += [
        {"endpoint_id": "fal-ai/bad-price", "unit_price": "a lot", "unit": "image", "currency": "USD"},
        "not a price", {"unit_price": 1},  # unusable price rows are ignored
    ]
    result = _normalize(models, pricing)
    assert len(result.frame) == 7
    reasons = "\n".join(result.skipped)
    assert "missing field 'endpoint_id'" in reasons
    assert "fal-ai/bad-price: unit_price: 'a lot' is not a number" in reasons
    assert "fal-ai/bad-metadata: metadata is list, expected an object" in reasons


def test_wrong_shape_is_an_error_naming_it():
    with pytest.raises(PayloadShapeError, match="expected a JSON object with 'models'"):
        _normalize(models={"data": []})
    with pytest.raises(PayloadShapeError, match="expected a JSON object with 'prices'"):
        _normalize(pricing={"data": []})


def _model(index: int) -> dict:
    return {"endpoint_id": f"fal-ai/model-{index:03d}", "metadata": {"display_name": f"Model {index}", "category": "text-to-image", "status": "active"}}


def _price(endpoint_id: str) -> dict:
    index = int(endpoint_id.rsplit("-", 1)[1])
    return {"endpoint_id": endpoint_id, "unit_price": float(f"0.0{index:03d}"), "unit": "image", "currency": "USD"}


def test_sync_over_real_http_pages_models_and_batches_pricing(provider_env, sqlite_url):
    models = [_model(i) for i in range(60)]
    provider_env.route(
        "/fal/models",
        json_reply({"models": models[:40], "next_cursor": "cur-2", "has_more": True}),
        json_reply({"models": models[40:], "next_cursor": None, "has_more": False}),
    )
    batch_1 = [_price(m["endpoint_id"]) for m in models[:50]]
    batch_2 = [_price(m["endpoint_id"]) for m in models[50:]]
    provider_env.route(
        "/fal/models/pricing",
        json_reply({"prices": batch_1[:30], "next_cursor": "p-2", "has_more": True}),
        json_reply({"prices": batch_1[30:], "next_cursor": None, "has_more": False}),
        json_reply({"prices": batch_2, "next_cursor": None, "has_more": False}),
    )
    result = materialize_provider("fal", sqlite_url)
    assert result.success
    rows = {r["provider_model_id"]: r for r in get_models_by_provider_slug("fal", database_url=sqlite_url)}
    assert len(rows) == 60
    assert rows["fal-ai/model-007"]["pricing_image"] == D("0.0007")
    assert rows["fal-ai/model-059"]["pricing_image"] == D("0.0059")
    assert rows["fal-ai/model-059"]["metadata"]["price_unit"] == "image"

    list_calls = [r for r in provider_env.requests if r.path == "/fal/models"]
    assert [r.query.get("cursor") for r in list_calls] == [None, ["cur-2"]]
    assert all(r.query["limit"] == ["100"] for r in list_calls)
    pricing_calls = [r for r in provider_env.requests if r.path == "/fal/models/pricing"]
    asked = [r.query["endpoint_id"][0].split(",") for r in pricing_calls]
    assert asked[0] == [m["endpoint_id"] for m in models[:50]]
    assert asked[1] == asked[0] and pricing_calls[1].query["cursor"] == ["p-2"]
    assert asked[2] == [m["endpoint_id"] for m in models[50:]]
    assert len(pricing_calls) == 3
    # fal's documented scheme is `Key`, not `Bearer`.
    assert {r.headers["Authorization"] for r in provider_env.requests} == {"Key test-key-fal-0123456789"}


def test_fixture_files_replay_over_real_http(provider_env, sqlite_url):
    provider_env.route("/fal/models", json_reply(json.loads((FIXTURES / "fal_models.json").read_text())))
    provider_env.route("/fal/models/pricing", json_reply(json.loads((FIXTURES / "fal_pricing.json").read_text())))
    assert materialize_provider("fal", sqlite_url).success
    rows = {r["provider_model_id"]: r for r in get_models_by_provider_slug("fal", database_url=sqlite_url)}
    assert rows["fal-ai/flux/dev"]["pricing_image"] == D("0.025")
    assert rows["fal-ai/old-diffusion"]["is_active"] is False
    # fal's own status word is the row's health_status.
    assert rows["fal-ai/old-diffusion"]["health_status"] == "deprecated"
    assert rows["fal-ai/flux/dev"]["health_status"] == "active"
