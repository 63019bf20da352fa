"""The spine end to end: real HTTP on loopback -> Dagster assets -> SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import json
from decimal import Decimal

import dagster as dg
import pytest

from .catalog_snapshot import catalog_state, models_by_id
from .conftest import FIXTURES
from .http_server import Reply, json_reply
from .module_catalogs import openrouter_template, synced_openrouter  # noqa: F401 - fixtures
from .sync_helpers import catalog_metadata, failure_message, materialize_provider, skipped_reason


def openrouter_payload() -> dict:
    return json.loads((FIXTURES / "openrouter_models.json").read_text())


def serve(server, slug: str, payload, path: str = "/models") -> None:
    server.route(f"/{slug}{path}", json_reply(payload))


def test_first_sync_adds_and_second_changes_nothing(provider_env, catalog_url):
    serve(provider_env, "openrouter", openrouter_payload())
    first = materialize_provider("openrouter", catalog_url)
    assert first.success
    meta = catalog_metadata(first)
    assert meta["message"] == "Synced 5 models from openrouter. Fetched: 5, Transformed: 5, Skipped: 0"
    assert (meta["added"], meta["updated"], meta["deactivated"], meta["unchanged"]) == (5, 0, 0, 0)
    # The frame checks run in normalized_models' step, each recorded for the provider's partition.
    frame_checks = {
        e.event_specific_data.asset_check_key: e.event_specific_data
        for e in first.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION" and e.step_key == "normalized_models"
    }
    assert {(key.asset_key.path[-1], key.name) for key in frame_checks} == {
        ("normalized_models", "prices_are_plausible"), ("normalized_models", "model_ids_and_limits_are_valid"),
    }
    assert all(check.passed and check.partition == "openrouter" for check in frame_checks.values())
    before = catalog_state(catalog_url)

    second = materialize_provider("openrouter", catalog_url)
    meta = catalog_metadata(second)
    assert (meta["added"], meta["updated"], meta["deactivated"], meta["unchanged"]) == (0, 0, 0, 5)
    after = catalog_state(catalog_url)
    assert after["models"] == before["models"]  # no row written: updated_at and all values identical
    assert after["providers"][0]["last_synced_at"] > before["providers"][0]["last_synced_at"]


def test_prices_round_trip_exactly(provider_env, catalog_url):
    serve(provider_env, "openrouter", openrouter_payload())
    assert materialize_provider("openrouter", catalog_url).success
    rows = models_by_id(catalog_url, "openrouter")
    tiny = rows["tiny/edge-1b"]
    assert isinstance(tiny["pricing_prompt"], Decimal)
    assert tiny["pricing_prompt"] == Decimal("0.000000005")
    assert format(tiny["pricing_prompt"], "f").rstrip("0") == "0.000000005"
    assert rows["openrouter/auto"]["pricing_prompt"] is None  # "-1": unknown, not -1 and not 0
    assert rows["tiny/edge-1b:free"]["pricing_completion"] == Decimal(0)
    assert rows["acme/reasoner-large"]["input_modalities"] == ["text", "image"]
    assert rows["acme/reasoner-large"]["metadata"]["canonical_slug"] == "acme/reasoner-large-20260301"


def test_dropped_model_is_deactivated_and_comes_back(provider_env, synced_openrouter):
    catalog_url, payload = synced_openrouter, openrouter_payload()

    smaller = copy.deepcopy(payload)
    smaller["data"] = [m for m in smaller["data"] if m["id"] != "pixel/painter-2"]
    serve(provider_env, "openrouter", smaller)
    result = materialize_provider("openrouter", catalog_url)
    meta = catalog_metadata(result)
    assert meta["deactivated"] == 1 and meta["diff"]["deactivated"] == ["pixel/painter-2"]
    painter = models_by_id(catalog_url, "openrouter")["pixel/painter-2"]
    assert painter["is_active"] is False and painter["deactivated_at"] is not None

    serve(provider_env, "openrouter", payload)
    meta = catalog_metadata(materialize_provider("openrouter", catalog_url))
    assert meta["reactivated"] == 1 and meta["updated"] == 0
    painter = models_by_id(catalog_url, "openrouter")["pixel/painter-2"]
    assert painter["is_active"] is True and painter["deactivated_at"] is None


def test_changed_price_updates_one_row_and_dry_run_writes_nothing(provider_env, synced_openrouter):
    catalog_url, payload = synced_openrouter, openrouter_payload()
    before = catalog_state(catalog_url)

    changed = copy.deepcopy(payload)
    changed["data"][0]["pricing"]["prompt"] = "0.0000025"
    changed["data"].append({**changed["data"][1], "id": "tiny/edge-2b", "name": "Tiny: Edge 2B"})
    serve(provider_env, "openrouter", changed)
    dry = materialize_provider("openrouter", catalog_url, dry_run=True)
    meta = catalog_metadata(dry)
    assert meta["message"].startswith("Dry run: would sync 6 models from openrouter")
    assert meta["diff"]["added"] == ["tiny/edge-2b"]
    assert meta["diff"]["updated"] == {"acme/reasoner-large": {"pricing_prompt": ["0.000003", "0.0000025"]}}
    assert catalog_state(catalog_url) == before

    meta = catalog_metadata(materialize_provider("openrouter", catalog_url))
    assert (meta["added"], meta["updated"], meta["unchanged"]) == (1, 1, 4)
    rows = models_by_id(catalog_url, "openrouter")
    assert rows["acme/reasoner-large"]["pricing_prompt"] == Decimal("0.0000025")
    untouched = {r["provider_model_id"]: r for r in before["models"]}["tiny/edge-1b"]
    assert rows["tiny/edge-1b"]["updated_at"] == untouched["updated_at"]


BAD_ANSWERS = {
    "http_500": ([Reply(status=500, body="upstream exploded")], "HTTP 500"),
    "html_200": ([Reply(status=200, body="<html><title>Cloudflare</title>blocked</html>", headers={"Content-Type": "text/html"})], "HTML page"),
    "truncated_json": ([Reply(status=200, body='{"data": [{"id": "a", "pri', headers={"Content-Type": "application/json"})], "invalid JSON"),
    "wrong_shape": ([json_reply({"models": [{"id": "x"}]})], "expected a JSON object with 'data'"),
    "data_not_a_list": ([json_reply({"data": {"id": "x"}})], "expected a list at data"),
    "timeout": ([Reply(status=200, body="{}", delay=3.0)], "timed out"),
    "reset_mid_body": ([Reply(status=200, body=json.dumps({"data": []}) + " " * 5000, drop_after=10, headers={"Content-Type": "application/json"})], "connection failed"),
    "unauthorized": ([json_reply({"error": "invalid key"}, status=401)], "HTTP 401"),
}


@pytest.mark.parametrize("case", sorted(BAD_ANSWERS))
def test_bad_answer_fails_with_cause_and_keeps_rows(provider_env, synced_openrouter, case):
    catalog_url = synced_openrouter
    before = catalog_state(catalog_url)

    replies, cause = BAD_ANSWERS[case]
    provider_env.route("/openrouter/models", *replies)
    result = materialize_provider("openrouter", catalog_url)
    assert not result.success
    message = failure_message(result)
    assert cause in message, message
    assert "openrouter" in message
    assert catalog_state(catalog_url) == before


def test_429_then_200_retries_honouring_retry_after(provider_env, sqlite_url):
    provider_env.route(
        "/openrouter/models",
        json_reply({"error": "slow down"}, status=429, **{"Retry-After": "0"}),
        json_reply(openrouter_payload()),
    )
    result = materialize_provider("openrouter", sqlite_url)
    assert result.success
    assert provider_env.hits("/openrouter/models") == 2


def test_500_is_retried_then_reported_with_attempt_count(provider_env, sqlite_url):
    provider_env.route("/openrouter/models", Reply(status=503, body="busy"))
    result = materialize_provider("openrouter", sqlite_url)
    assert not result.success
    assert "after 3 attempts" in failure_message(result)
    assert provider_env.hits("/openrouter/models") == 3


def test_bad_entries_are_skipped_with_reasons_and_the_rest_load(provider_env, catalog_url):
    payload = openrouter_payload()
    payload["data"].append({"name": "no id here", "pricing": {"prompt": "0", "completion": "0"}})
    payload["data"].append({"id": "bad/price", "pricing": {"prompt": "1e-6 USD", "completion": "0"}})
    serve(provider_env, "openrouter", payload)
    result = materialize_provider("openrouter", catalog_url)
    meta = catalog_metadata(result)
    assert meta["message"] == "Synced 5 models from openrouter. Fetched: 7, Transformed: 5, Skipped: 2"
    reasons = meta["skipped_reasons"]
    assert any("missing field 'id'" in r for r in reasons)
    assert any(r.startswith("bad/price:") for r in reasons)
    assert set(models_by_id(catalog_url, "openrouter")) == {m["id"] for m in payload["data"][:5]}


def test_missing_required_key_is_reported_skipped(provider_env, catalog_url, monkeypatch):
    """Not configured is not broken: the run succeeds, its steps skip, the reason is on the run."""
    monkeypatch.delenv("GROQ_API_KEY")
    instance = dg.DagsterInstance.ephemeral()
    result = materialize_provider("groq", catalog_url, instance=instance)
    assert result.success
    assert skipped_reason(result) == "skipped: GROQ_API_KEY is not set"
    assert {e.step_key for e in result.all_events if e.event_type_value == "STEP_SKIPPED"} >= {"normalized_models", "model_catalog"}
    assert result.asset_materializations_for_node("model_catalog") == []
    assert instance.get_run_by_id(result.run_id).tags["catalog/skipped"] == "skipped: GROQ_API_KEY is not set"
    assert provider_env.hits("/groq/models") == 0
    assert catalog_state(catalog_url)["models"] == []


def test_groq_has_no_prices_and_keeps_inactive_models(provider_env, catalog_url):
    serve(provider_env, "groq", json.loads((FIXTURES / "groq_models.json").read_text()))
    assert materialize_provider("groq", catalog_url).success
    rows = models_by_id(catalog_url, "groq")
    assert len(rows) == 5
    assert all(r["pricing_prompt"] is None and r["pricing_completion"] is None for r in rows.values())
    assert rows["mixtral-8x7b-32768"]["is_active"] is False
    assert rows["mixtral-8x7b-32768"]["deactivated_at"] is not None
    assert rows["llama-3.3-70b-versatile"]["context_length"] == 131072
    assert provider_env.requests[-1].headers["Authorization"] == "Bearer test-key-groq-0123456789"


def test_deepinfra_per_million_prices_land_per_token(provider_env, catalog_url):
    serve(provider_env, "deepinfra", json.loads((FIXTURES / "deepinfra_models.json").read_text()))
    assert materialize_provider("deepinfra", catalog_url).success
    rows = models_by_id(catalog_url, "deepinfra")
    assert rows["acme/Chat-70B-Instruct"]["pricing_prompt"] == Decimal("0.00000125")
    assert rows["acme/Chat-70B-Instruct"]["pricing_completion"] == Decimal("0.00001")
    assert rows["acme/Vision-27B"]["pricing_completion"] == Decimal("0.0000026")  # float noise trimmed
    assert rows["acme/Vision-27B"]["pricing_cache_read"] == Decimal("0.000000052")
    assert rows["stability/Image-XL"]["pricing_prompt"] is None
    assert rows["acme/Free-Demo-3B"]["pricing_prompt"] == Decimal(0)


def test_shrink_guard_refuses_to_deactivate_most_of_a_provider(provider_env, catalog_url):
    payload = openrouter_payload()
    serve(provider_env, "openrouter", payload)
    assert materialize_provider("openrouter", catalog_url).success
    before = catalog_state(catalog_url)

    serve(provider_env, "openrouter", {"data": payload["data"][:2]})
    result = materialize_provider("openrouter", catalog_url)
    assert not result.success
    assert "listed 2 active models but 5 are active" in failure_message(result)
    assert catalog_state(catalog_url)["models"] == before["models"]

    serve(provider_env, "openrouter", {"data": []})
    assert not materialize_provider("openrouter", catalog_url).success

    forced = materialize_provider("openrouter", catalog_url, force=True)
    assert forced.success and catalog_metadata(forced)["deactivated"] == 5


def test_raw_list_is_archived_with_hash(provider_env, catalog_url):
    serve(provider_env, "openrouter", openrouter_payload())
    result = materialize_provider("openrouter", catalog_url)
    (raw,) = result.asset_materializations_for_node("raw_models")
    assert len(raw.metadata["content_sha256"].value) == 64
    from catalog_pipeline.db.archive import latest_archive
    from catalog_pipeline.db.engine import catalog_engine

    with catalog_engine(catalog_url).connect() as conn:
        archived = latest_archive(conn, "openrouter")
    assert archived.pages[0][1]["data"][1]["pricing"]["prompt"] == "0.000000005"
    assert archived.content_sha256 == raw.metadata["content_sha256"].value
    assert "output_modalities=all" in archived.pages[0][0]


def test_an_unchanged_list_is_archived_once_and_still_replayable(provider_env, catalog_url):
    from sqlalchemy import select

    from catalog_pipeline.db.archive import latest_archive
    from catalog_pipeline.db.engine import catalog_engine
    from catalog_pipeline.db.schema import raw_model_lists

    serve(provider_env, "openrouter", openrouter_payload())
    for _ in range(3):
        assert materialize_provider("openrouter", catalog_url).success
    with catalog_engine(catalog_url).connect() as conn:
        rows = conn.execute(select(raw_model_lists).order_by(raw_model_lists.c.id)).mappings().all()
        assert len(rows) == 3 and len({r["content_sha256"] for r in rows}) == 1
        assert rows[0]["pages_gzip"] is not None
        assert [r["pages_gzip"] for r in rows[1:]] == [None, None]
        assert [r["body_of_id"] for r in rows[1:]] == [rows[0]["id"], rows[0]["id"]]
        archived = latest_archive(conn, "openrouter")
    assert archived.id == rows[2]["id"] and len(archived.pages[0][1]["data"]) == 5


def test_frames_derived_from_the_normalized_frame_share_its_report_instead_of_copying_it(sqlite_url):
    from datetime import datetime, timezone

    from catalog_pipeline.db.engine import catalog_engine
    from catalog_pipeline.defs.handoff import RawList, normalized_frame

    raw = RawList("openrouter", [("https://openrouter.ai/api/v1/models", openrouter_payload())], datetime.now(timezone.utc), None)
    frame = normalized_frame(raw, catalog_engine(sqlite_url))
    assert frame.attrs["fetched"] == 5 and frame.attrs["price_observed_at"]  # each priced model
    derived = frame[frame["is_active"]]["provider_model_id"]  # pandas hands attrs on to each
    for key in ("skipped", "price_observed_at"):
        assert derived.attrs[key] is frame.attrs[key]
    assert derived.attrs["second_source"].filled is frame.attrs["second_source"].filled
