"""A load diffs and writes the rows that moved a slice at a time (db/load.py `_DIFF_SLICE`); on
PostgreSQL, for a long list, the server writes one slice on a thread of its own while Python
diffs the next. The catalog it leaves is the one a load in one slice leaves, and a write that
fails in any slice fails the whole load."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

import catalog_pipeline.db.load as load_module
from catalog_pipeline.db.engine import catalog_engine
from catalog_pipeline.db.load import load_provider_models
from catalog_pipeline.pipeline.records import ModelRecord, records_to_frame
from catalog_pipeline.providers import adapter_for

# Two providers of one catalog: the same lists are loaded into each, in slices of different sizes.
ONE_SLICE, SMALL_SLICES = adapter_for("openrouter").SPEC, adapter_for("groq").SPEC


def _record(i: int, **values) -> ModelRecord:
    fields = {
        "provider_model_id": f"m/{i:02d}", "model_name": f"Model {i}", "pricing_prompt": Decimal("0.000001") + Decimal(i).scaleb(-9),
        "pricing_completion": Decimal("0.000002"), "metadata": {"i": i}, "input_modalities": ["text"],
    }
    return ModelRecord(**{**fields, **values})


FIRST = [_record(i) for i in range(14)]
SECOND = [
    _record(0, pricing_prompt=Decimal("0.0000011")),  # repriced
    _record(1, description="now described"),
    _record(2, pricing_prompt=Decimal("0.001")),  # a 1000x move: held
    _record(3),
    _record(4, is_active=False),  # marked inactive by the provider
    _record(5, pricing_completion=Decimal("0.0000025"), metadata={"i": 5, "new": True}),
    _record(6, input_modalities=["text", "image"]),
    # 7 is not listed: deactivated
    *(_record(i, pricing_prompt=Decimal("0.0000013") + Decimal(i).scaleb(-9)) for i in range(8, 13)),
    _record(13, model_name="Renamed"),
    _record(20),  # new
]


def _catalog(engine: Engine, slug: str) -> dict[str, list]:
    """What a load leaves for one provider, without ids and times (which differ between providers)."""
    with engine.connect() as conn:
        def rows(query: str) -> list:
            return [tuple(row) for row in conn.exec_driver_sql(query, {"slug": slug}).all()]

        of_provider = "JOIN providers p ON p.id = m.provider_id WHERE p.slug = %(slug)s" if engine.dialect.name == "postgresql" else "JOIN providers p ON p.id = m.provider_id WHERE p.slug = :slug"
        changes_of = of_provider.replace("m.provider_id", "c.provider_id")
        return {
            "models": rows(
                "SELECT m.provider_model_id, m.model_name, m.description, m.pricing_prompt, m.pricing_completion,"
                " m.input_modalities, m.metadata, m.is_active, m.deactivated_at IS NULL, m.content_hash, m.list_fingerprint"
                f" FROM models m {of_provider} ORDER BY m.provider_model_id"
            ),
            "periods": rows(
                "SELECT m.provider_model_id, h.pricing_prompt, h.pricing_completion, h.valid_to IS NULL"
                f" FROM model_price_history h JOIN models m ON m.id = h.model_id {of_provider}"
                " ORDER BY m.provider_model_id, h.valid_from, h.id"
            ),
            "changes": rows(
                f"SELECT c.provider_model_id, c.kind, c.field, c.old_value, c.new_value FROM catalog_changes c {changes_of} ORDER BY c.id"
            ),
        }


@pytest.fixture(autouse=True)
def _side_by_side(monkeypatch) -> None:
    """Reads and writes on the load's thread however short the list (as for 10,000 rows or more)."""
    monkeypatch.setattr(load_module, "_SIDE_BY_SIDE_ROWS", 0)


def test_a_load_in_slices_leaves_the_catalog_a_load_in_one_slice_leaves(catalog_url: str, monkeypatch) -> None:
    engine = catalog_engine(catalog_url)
    reports = {}
    for spec, slice_size in ((ONE_SLICE, 10_000), (SMALL_SLICES, 2)):
        monkeypatch.setattr(load_module, "_DIFF_SLICE", slice_size)
        load_provider_models(engine, spec, records_to_frame(FIRST))
        reports[spec.slug] = load_provider_models(engine, spec, records_to_frame(SECOND))
    one, sliced = (reports[spec.slug].diff for spec in (ONE_SLICE, SMALL_SLICES))
    assert sliced.counts() == one.counts() == {
        "added": 1, "updated": 11, "reactivated": 0, "deactivated": 1, "unchanged": 2, "held_price_changes": 1
    }
    assert sliced.updated == one.updated and sliced.held == one.held
    assert _catalog(engine, SMALL_SLICES.slug) == _catalog(engine, ONE_SLICE.slug)
    assert len(_catalog(engine, ONE_SLICE.slug)["periods"]) == len(FIRST) + 1 + 7  # the new model's, and 7 repriced


def test_a_write_that_fails_in_a_slice_fails_the_load_and_keeps_the_catalog(postgres_url: str, monkeypatch) -> None:
    engine = catalog_engine(postgres_url)
    monkeypatch.setattr(load_module, "_DIFF_SLICE", 2)
    load_provider_models(engine, SMALL_SLICES, records_to_frame(FIRST))
    before = _catalog(engine, SMALL_SLICES.slug)
    with engine.begin() as conn:  # the first slice's update fails on the server
        conn.exec_driver_sql(
            "CREATE FUNCTION refuse_repricing() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            " IF NEW.provider_model_id = 'm/00' THEN RAISE EXCEPTION 'refused by a test trigger'; END IF; RETURN NEW; END $$"
        )
        conn.exec_driver_sql("CREATE TRIGGER refuse_repricing BEFORE UPDATE ON models FOR EACH ROW EXECUTE FUNCTION refuse_repricing()")
    threads_before = threading.active_count()
    with pytest.raises(DBAPIError, match="refused by a test trigger"):
        load_provider_models(engine, SMALL_SLICES, records_to_frame(SECOND))
    assert threading.active_count() == threads_before  # the writer's thread has ended
    assert _catalog(engine, SMALL_SLICES.slug) == before
