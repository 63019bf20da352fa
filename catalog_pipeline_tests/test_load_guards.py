"""The load's own rules, each pinned by a test that a one-token change to it would fail: the
shrink and overlap guards at their boundary, every content column written when it alone changes,
a dry run on an empty catalog, and a load killed between two of its statements."""

from __future__ import annotations

import selectors
from datetime import date
import signal
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from catalog_pipeline.db.engine import catalog_engine
from catalog_pipeline.db.load import CONTENT_COLUMNS, load_provider_models
from catalog_pipeline.pipeline.records import ModelRecord, records_to_frame
from catalog_pipeline.providers import adapter_for

from .catalog_snapshot import catalog_state, every_table, models_by_id
from .http_server import json_reply
from .load_worker import PAUSED, synthetic_frame
from .sync_helpers import catalog_metadata, failure_message, materialize_provider

OPENROUTER = adapter_for("openrouter").SPEC
REPO = Path(__file__).resolve().parents[1]


def _load(url: str, ids: list[str], **kwargs: Any):
    frame = records_to_frame([ModelRecord(model_id, pricing_prompt=Decimal("0.000001")) for model_id in ids])
    return load_provider_models(catalog_engine(url), OPENROUTER, frame, **kwargs)


def _active(url: str) -> set[str]:
    return {model_id for model_id, row in models_by_id(url, "openrouter").items() if row["is_active"]}


# --- shrink and overlap guards ------------------------------------------------------------

KNOWN = [f"known/{i}" for i in range(4)]
NEW = [f"new/{i}" for i in range(10)]


@pytest.mark.parametrize(
    ("listed", "guard"),
    [
        (KNOWN[:2], None),  # exactly half of the active models: applied
        (KNOWN[:1], "shrink guard: openrouter listed 1 active models but 4 are active"),
        (KNOWN[:2] + NEW, None),  # long list, exactly half of the known ones still in it: applied
        (KNOWN[:1] + NEW, "overlap guard: openrouter listed 11 models, but only 1 of the 4 active"),
    ],
    ids=["shrink_at_half", "shrink_below_half", "overlap_at_half", "overlap_below_half"],
)
def test_the_guards_apply_a_list_naming_half_of_the_active_models_and_refuse_less(catalog_url, listed, guard):
    _load(catalog_url, KNOWN)
    report = _load(catalog_url, listed)
    if guard is None:
        assert report.shrink_guard is None
        assert sorted(report.diff.deactivated) == sorted(set(KNOWN) - set(listed))
        assert _active(catalog_url) == set(listed)
    else:
        assert report.shrink_guard is not None and report.shrink_guard.startswith(guard), report.shrink_guard
        assert report.diff.deactivated == [] and sorted(report.diff.withheld_deactivations) == sorted(set(KNOWN) - set(listed))
        assert _active(catalog_url) == set(KNOWN) | set(listed)  # new models still load


def _entries(prefix: str, count: int) -> list[dict[str, Any]]:
    return [
        {"id": f"{prefix}/{i}", "name": f"{prefix} {i}", "pricing": {"prompt": "0.000001", "completion": "0.000002"}}
        for i in range(count)
    ]


def test_a_long_list_of_unknown_ids_deactivates_nothing_until_forced(provider_env, catalog_url):
    known = _entries("known", 50)
    provider_env.route("/openrouter/models", json_reply({"data": known}))
    assert materialize_provider("openrouter", catalog_url).success
    synced_before = catalog_state(catalog_url)["providers"][0]["last_synced_at"]

    provider_env.route("/openrouter/models", json_reply({"data": _entries("unknown", 2000)}))
    result = materialize_provider("openrouter", catalog_url)
    assert not result.success
    assert failure_message(result).startswith(
        "check shrink_guard failed: overlap guard: openrouter listed 2000 models, but only 0 of the 50 active"
    ), failure_message(result)
    assert {m["id"] for m in known} <= _active(catalog_url)
    assert catalog_state(catalog_url)["providers"][0]["last_synced_at"] == synced_before  # not a success

    forced = materialize_provider("openrouter", catalog_url, force=True)
    assert forced.success and catalog_metadata(forced)["deactivated"] == 50
    assert _active(catalog_url) == {f"unknown/{i}" for i in range(2000)}


# --- every content column is written when it alone changes --------------------------------

BASE = ModelRecord(
    "column/changed", model_name="Before", description="before", pricing_prompt=Decimal("0.000001"),
    pricing_completion=Decimal("0.000002"), pricing_image=Decimal("0.01"), pricing_request=Decimal("0.001"),
    pricing_cache_read=Decimal("0.0000001"), pricing_cache_write=Decimal("0.0000002"), context_length=4096,
    max_output_tokens=1024, modality="text->text", input_modalities=["text"], output_modalities=["text"],
    supports_streaming=False, supports_function_calling=False, supports_vision=False, supports_reasoning=False,
    is_active=True, health_status="ok", deprecation_date=date(2027, 1, 1), expiration_date=date(2027, 6, 1),
    price_source="provider", metadata={"tier": "a", "limits": {"rpm": 10}},
)
CHANGED = {
    "model_name": "After",
    "description": "after",
    "pricing_prompt": Decimal("0.0000011"),
    "pricing_completion": Decimal("0.0000021"),
    "pricing_image": Decimal("0.011"),
    "pricing_request": Decimal("0.0011"),
    "pricing_cache_read": Decimal("0.00000011"),
    "pricing_cache_write": Decimal("0.00000021"),
    "context_length": 8192,
    "max_output_tokens": 2048,
    "modality": "text+image->text",
    "input_modalities": ["text", "image"],
    "output_modalities": ["text", "audio"],
    "supports_streaming": True,
    "supports_function_calling": True,
    "supports_vision": True,
    "supports_reasoning": True,
    "is_active": False,
    "health_status": "degraded",
    "deprecation_date": date(2027, 2, 1),
    "expiration_date": date(2027, 7, 1),
    "price_source": "huggingface-router",
    "metadata": {"tier": "a", "limits": {"rpm": 20}},
}


def test_every_content_column_has_a_change_below():
    assert set(CHANGED) == set(CONTENT_COLUMNS)


@pytest.mark.parametrize("column", sorted(CHANGED))
def test_a_sync_changing_only_one_column_writes_it(catalog_url, column):
    engine = catalog_engine(catalog_url)
    other = ModelRecord("column/unchanged", model_name="Other", pricing_prompt=Decimal("0.000001"))
    load_provider_models(engine, OPENROUTER, records_to_frame([BASE, other]))
    before = models_by_id(catalog_url, "openrouter")

    changed = ModelRecord(**{**BASE.__dict__, column: CHANGED[column]})
    report = load_provider_models(engine, OPENROUTER, records_to_frame([changed, other]))
    assert list(report.diff.updated.get("column/changed", {})) == [column]
    assert report.diff.unchanged == 1
    after = models_by_id(catalog_url, "openrouter")
    assert after["column/changed"][column] == CHANGED[column]
    assert after["column/changed"]["updated_at"] > before["column/changed"]["updated_at"]
    assert after["column/unchanged"] == before["column/unchanged"]
    # And the new value is what the next sync compares against: nothing left to write.
    again = load_provider_models(engine, OPENROUTER, records_to_frame([changed, other]))
    assert (again.diff.updated, again.diff.unchanged) == ({}, 2)


# --- dry runs ------------------------------------------------------------------------------


def test_a_dry_run_load_on_an_empty_catalog_leaves_every_table_empty(catalog_url):
    catalog_engine(catalog_url)  # the schema exists, no row does
    before = every_table(catalog_url)
    assert all(rows == [] for rows in before.values())
    report = _load(catalog_url, KNOWN, dry_run=True)
    assert sorted(report.diff.added) == KNOWN
    assert every_table(catalog_url) == before


def test_a_dry_run_sync_on_an_empty_catalog_writes_no_catalog_row(provider_env, catalog_url):
    provider_env.route("/openrouter/models", json_reply({"data": _entries("known", 5)}))
    catalog_engine(catalog_url)
    before = every_table(catalog_url)
    result = materialize_provider("openrouter", catalog_url, dry_run=True)
    assert result.success and catalog_metadata(result)["added"] == 5
    assert every_table(catalog_url) == before
    assert all(rows == [] for rows in before.values())


# --- a load killed between two of its statements -------------------------------------------


def test_a_load_killed_between_its_statements_leaves_the_provider_unchanged(catalog_url):
    engine = catalog_engine(catalog_url)
    load_provider_models(engine, OPENROUTER, synthetic_frame(100, Decimal("0.000001")))
    before = every_table(catalog_url)

    # Models 40..179: 60 updated (new price), 80 inserted, then 40 to deactivate.
    worker = subprocess.Popen(
        [sys.executable, "-m", "catalog_pipeline_tests.load_worker", catalog_url, "140", "0.0000011",
         "--first", "40", "--pause-before-deactivation"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        line = _first_line(worker, timeout=120)
        assert line.startswith(PAUSED), line + worker.stderr.read() if worker.poll() is not None else line
        # Inside its transaction the worker sees its inserts and the 40 rows not yet deactivated.
        assert int(line.removeprefix(PAUSED)) == 180
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    assert worker.returncode == -signal.SIGKILL

    assert every_table(catalog_url) == before
    # And nothing is left locked: the same load now goes through completely.
    report = load_provider_models(engine, OPENROUTER, synthetic_frame(140, Decimal("0.0000011"), first=40))
    assert (len(report.diff.added), len(report.diff.updated), len(report.diff.deactivated)) == (80, 60, 40)


def _first_line(process: subprocess.Popen, timeout: float) -> str:
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            return f"no output within {timeout}s"
    return process.stdout.readline().strip()
