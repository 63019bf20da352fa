import json
from decimal import Decimal

import pytest

import catalog_pipeline
from catalog_pipeline.pipeline.normalize import PayloadShapeError

from .adapter_helpers import D, fixture_payload, normalize_payloads, row
from .conftest import FIXTURES
from .http_server import json_reply
from .sync_helpers import materialize_provider


def test_prices_are_usd_per_million_converted_to_per_token():
    result = normalize_payloads("featherless", fixture_payload("featherless_models.json"))
    assert result.skipped == []
    quill = row(result, "acme-labs/Quill-70B-Instruct")
    assert quill["pricing_prompt"] == D("0.00000065")
    assert quill["pricing_completion"] == D("0.00000125")
    assert quill["context_length"] == 32768 and quill["max_output_tokens"] == 4096
    assert quill["supports_function_calling"] is True and quill["supports_vision"] is False
    assert quill["metadata"]["available_on_current_plan"] is True
    seer = row(result, "vision-co/Seer-12B-VL")
    assert seer["pricing_prompt"] == D("0.0000001")
    assert seer["pricing_completion"] == D("0.0000026")  # float noise 2.5999999999999996 trimmed
    assert seer["modality"] == "text+image->text" and seer["supports_vision"] is True


def test_zero_is_free_and_missing_pricing_is_unknown():
    result = normalize_payloads("featherless", fixture_payload("featherless_models.json"))
    free = row(result, "free-org/Tiny-1B")
    assert free["pricing_prompt"] == Decimal(0) and free["pricing_completion"] == Decimal(0)
    legacy = row(result, "oldstyle/Legacy-8B")  # older response shape: no pricing, no features
    assert legacy["pricing_prompt"] is None and legacy["pricing_completion"] is None
    assert legacy["supports_function_calling"] is None and legacy["supports_vision"] is None
    assert legacy["modality"] is None


def test_gated_flag_kept_and_plan_availability_absent_means_unknown():
    result = normalize_payloads("featherless", fixture_payload("featherless_models.json"))
    gated = row(result, "gated-org/Secret-13B")
    assert gated["metadata"]["is_gated"] is True
    assert "available_on_current_plan" not in gated["metadata"]


def test_bad_entries_are_skipped_with_reason_and_the_rest_load():
    payload = fixture_payload("featherless_models.json")
    payload["data"].append({"name": "no id", "pricing": {"input": 1, "output": 1}})
    payload["data"].append({"id": "bad/price", "pricing": {"input": "cheap", "output": 1}})
    result = normalize_payloads("featherless", payload)
    assert len(result.frame) == 5
    assert any("missing field 'id'" in reason for reason in result.skipped)
    assert any(r.startswith("bad/price:") and "'cheap' is not a number" in r for r in result.skipped)


def test_wrong_shape_is_an_error_naming_it():
    with pytest.raises(PayloadShapeError, match="expected a JSON object with 'data'"):
        normalize_payloads("featherless", {"models": []})


def _served(name: str):
    """The fixture as plain JSON values, so the test server can re-serialize it."""
    return json.loads((FIXTURES / name).read_text())


def test_sync_over_http_fetches_every_page(provider_env, sqlite_url):
    models = _served("featherless_models.json")["data"]
    pages = [models[:3], models[3:]]
    provider_env.route(
        "/featherless/models",
        *[
            json_reply({"data": data, "total": 5,
                        "pagination": {"current_page": n, "total_pages": 2, "total_items": 5}})
            for n, data in enumerate(pages, start=1)
        ],
    )
    result = materialize_provider("featherless", sqlite_url)
    assert result.success
    requests = [r for r in provider_env.requests if r.path == "/featherless/models"]
    assert [r.query["page"] for r in requests] == [["1"], ["2"]]
    assert all(r.query["per_page"] == ["500"] for r in requests)
    assert requests[0].headers["Authorization"] == "Bearer test-key-featherless-0123456789"
    stored = catalog_pipeline.get_models_by_provider_slug("featherless", database_url=sqlite_url)
    rows = {r["provider_model_id"]: r for r in stored}
    assert len(rows) == 5
    assert rows["acme-labs/Quill-70B-Instruct"]["pricing_prompt"] == D("0.00000065")
    assert rows["oldstyle/Legacy-8B"]["pricing_prompt"] is None


def test_keyless_sync_sends_no_auth_header(provider_env, sqlite_url, monkeypatch):
    monkeypatch.delenv("FEATHERLESS_API_KEY")
    provider_env.route("/featherless/models", json_reply(_served("featherless_models.json")))
    result = materialize_provider("featherless", sqlite_url)
    assert result.success
    assert provider_env.hits("/featherless/models") == 1  # total_pages 1: one call
    assert "Authorization" not in provider_env.requests[0].headers
