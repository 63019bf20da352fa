"""Schema migrations: earlier catalogs upgrade in place with every row, schema.py equals head,
and processes starting together migrate once."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from catalog_pipeline.db.engine import catalog_engine
from catalog_pipeline.db.load import load_provider_models
from catalog_pipeline.db.migrate import current_revision, head_revision, schema_differences
from catalog_pipeline.db.schema import model_price_history, models, pending_price_changes, providers, raw_model_lists
from catalog_pipeline.pipeline.records import ModelRecord, records_to_frame
from catalog_pipeline.providers import adapter_for

from .legacy_catalogs import LEGACY_VERSIONS, MODELS, PENDING, PRICES, PROVIDERS, RAW_LISTS, create_legacy_catalog

REPO_ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]
# Each test builds its catalog from nothing: no copy of an already migrated PostgreSQL template.
pytestmark = pytest.mark.empty_database


def _utc(value):
    if isinstance(value, datetime):
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    return value


def _same_row(stored: dict, expected: dict) -> dict:
    """The expected columns whose stored value differs (prices must be the identical Decimal)."""
    wrong = {}
    for column, value in expected.items():
        got = _utc(stored[column])
        if isinstance(value, Decimal):
            same = isinstance(got, Decimal) and got == value and format(got, "f").rstrip("0") == format(value, "f").rstrip("0")
        else:
            same = got == _utc(value)
        if not same:
            wrong[column] = (got, value)
    return wrong


def test_a_new_catalog_matches_schema_py(catalog_url):
    engine = catalog_engine(catalog_url)
    assert current_revision(engine) == head_revision()
    assert schema_differences(engine) == []


@pytest.mark.parametrize("version", LEGACY_VERSIONS)
def test_an_earlier_catalog_upgrades_in_place_with_every_row_and_price(catalog_url, version):
    create_legacy_catalog(catalog_url, version)
    assert current_revision(catalog_engine(catalog_url, upgrade=False)) is None

    engine = catalog_engine(catalog_url)
    assert current_revision(engine) == head_revision()
    assert schema_differences(engine) == []
    with engine.connect() as conn:
        stored_providers = [dict(r) for r in conn.execute(select(providers).order_by(providers.c.id)).mappings()]
        stored_models = [dict(r) for r in conn.execute(select(models).order_by(models.c.id)).mappings()]
        stored_lists = [dict(r) for r in conn.execute(select(raw_model_lists).order_by(raw_model_lists.c.id)).mappings()]
        history = [dict(r) for r in conn.execute(select(model_price_history).order_by(model_price_history.c.model_id)).mappings()]
        pending = [dict(r) for r in conn.execute(select(pending_price_changes)).mappings()]
    assert [_same_row(s, e) for s, e in zip(stored_providers, PROVIDERS)] == [{}] * len(PROVIDERS)
    assert len(stored_providers) == len(PROVIDERS)
    assert [_same_row(s, e) for s, e in zip(stored_models, MODELS)] == [{}] * len(MODELS)
    assert len(stored_models) == len(MODELS)
    assert all(row["deprecation_date"] is None and row["expiration_date"] is None for row in stored_models)
    assert [_same_row(s, e) for s, e in zip(stored_lists, RAW_LISTS)] == [{}] * len(RAW_LISTS)
    # One open price period per model, from when it was first seen, with its prices.
    assert [h["model_id"] for h in history] == [m["id"] for m in MODELS]
    for period, model in zip(history, MODELS):
        assert period["valid_to"] is None and period["run_id"] is None
        assert _same_row(period, {"valid_from": model["first_seen_at"], **{c: model[c] for c in PRICES}}) == {}
    if version == "before_migrations":
        assert [row["content_hash"] for row in stored_models] == [f"{m['id']:040d}" for m in MODELS]
        assert stored_lists[2]["body_of_id"] == 2 and stored_lists[2]["pages_gzip"] is None
        assert _same_row(pending[0], PENDING) == {}
    else:
        assert all(row["content_hash"] is None for row in stored_models) and pending == []

    # The upgraded catalog takes a load (the symptom before migrations: no such column).
    frame = records_to_frame([ModelRecord("llama-3.3-70b-versatile", pricing_prompt=Decimal("0.00000059"))])
    report = load_provider_models(engine, adapter_for("groq").SPEC, frame)
    assert report.diff.counts()["updated"] == 1


def test_an_upgraded_catalog_is_not_upgraded_again(catalog_url):
    create_legacy_catalog(catalog_url, "spine")
    engine = catalog_engine(catalog_url)
    from catalog_pipeline.db.engine import dispose_engines

    dispose_engines()
    engine = catalog_engine(catalog_url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(model_price_history)).scalar() == len(MODELS)


def test_two_processes_starting_together_migrate_once(catalog_url):
    create_legacy_catalog(catalog_url, "spine")
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "catalog_pipeline_tests.upgrade_worker", catalog_url],
            cwd=REPO_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for _ in range(2)
    ]
    for worker in workers:
        assert worker.stdout.readline().strip() == "ready", worker.stderr.read()
    for worker in workers:  # both are connected and imported: release them together
        worker.stdin.write("go\n")
        worker.stdin.flush()
    outputs = [worker.communicate(timeout=120) for worker in workers]
    assert [w.returncode for w in workers] == [0, 0], [err for _, err in outputs]
    # One ran the migrations; the other waited for its lock, then found the catalog at head.
    assert sorted(out.strip() for out, _ in outputs) == sorted(["None", head_revision()])
    engine = catalog_engine(catalog_url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(model_price_history)).scalar() == len(MODELS)
    assert schema_differences(engine) == []
