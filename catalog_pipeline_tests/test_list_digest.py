"""The unchanged-list shortcut (db/list_digest.py): taken only when both the list and the provider's
rows are as the last clean load left them; anything else diffs in full, as before."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select, update

import catalog_pipeline.db.load as load_module
from catalog_pipeline.db.engine import catalog_engine
from catalog_pipeline.db.fingerprint import row_fingerprints
from catalog_pipeline.db.list_digest import fingerprints_digest
from catalog_pipeline.db.load import load_provider_models
from catalog_pipeline.db.schema import models, providers
from catalog_pipeline.pipeline.records import MODEL_COLUMNS, MODEL_FRAME_DTYPES, ModelRecord, records_to_frame
from catalog_pipeline.providers import adapter_for

from .catalog_snapshot import every_table

SPEC = adapter_for("openrouter").SPEC
RECORDS = [
    ModelRecord(
        provider_model_id="a/full",
        model_name="Full",
        description="tab\there",
        pricing_prompt=Decimal("0.000001"),
        pricing_completion=Decimal("0.000002"),
        context_length=8192,
        input_modalities=["text"],
        supports_vision=True,
        deprecation_date=date(2027, 1, 1),
        metadata={"b": [1, Decimal("0.5"), None], "a": "x"},
    ),
    *(ModelRecord(f"b/plain-{i}", pricing_prompt=Decimal("0.000003")) for i in range(5)),
]


def _load(url: str, records=RECORDS, **kwargs):
    return load_provider_models(catalog_engine(url), SPEC, records_to_frame(records), **kwargs)


def _unchanged(count: int) -> dict[str, int]:
    return {"added": 0, "updated": 0, "reactivated": 0, "deactivated": 0, "unchanged": count, "held_price_changes": 0}


def _no_row_by_row_diff(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("the shortcut should have been taken")

    monkeypatch.setattr(load_module, "_diff", refuse)


def _values(column: str) -> list:
    """Values of the column that the catalog stores apart."""
    if column.startswith("pricing_"):
        return [None, Decimal("0"), Decimal("0.5")]
    if column.endswith("_date"):
        return [None, date(2000, 1, 1), date(2000, 1, 2)]
    if column.endswith("_modalities"):
        return [None, [], ["text"]]
    if column == "metadata":
        # NaN is stored as "nan", not null; a Decimal as its digits
        return [{}, {"a": None}, {"a": "null"}, {"a": "None"}, {"a": float("nan")}, {"a": 1}, {"a": "1"}, {"a": True}, {"a": Decimal("1")}]
    return {"string": [None, "\\N", "None", ""], "Int64": [None, 0, 1], "boolean": [None, False, True]}[MODEL_FRAME_DTYPES[column]]


def _digest(records) -> str:
    return fingerprints_digest(row_fingerprints(records_to_frame(records)))


def test_every_single_value_moves_the_row_fingerprint_and_the_list_digest() -> None:
    assert _digest(RECORDS) == _digest(RECORDS)
    for column in MODEL_COLUMNS:
        fingerprints, digests, values = set(), set(), _values(column)
        for value in values:
            record = ModelRecord(**{**vars(RECORDS[1]), column: value})
            fingerprints.add(int(row_fingerprints(records_to_frame([record]))[0]))
            digests.add(_digest([record, *RECORDS[2:]]))
        assert len(fingerprints) == len(digests) == len(values), column
    # a price counts by its value, as the load compares it; JSON by its spelling (the diff then finds it unchanged)
    respelled = ModelRecord(**{**vars(RECORDS[0]), "pricing_prompt": Decimal("1.0E-6")})
    assert _digest([respelled, *RECORDS[1:]]) == _digest(RECORDS)
    reordered = ModelRecord(**{**vars(RECORDS[0]), "metadata": {"a": "x", "b": [1, Decimal("0.5"), None]}})
    assert _digest([reordered, *RECORDS[1:]]) != _digest(RECORDS)
    # the rows' order counts, as the fingerprint of the rows is taken in the frame's order
    assert _digest([*RECORDS[1:], RECORDS[0]]) != _digest(RECORDS)


@pytest.fixture(params=["one after the other", "side by side"])
def reads(request, monkeypatch) -> str:
    """How the load reads the rows' state: on its own thread (a short list), or from the same pass
    as the stored fingerprints, beside fingerprinting the list (as for 10,000 rows or more)."""
    if request.param == "side by side":
        monkeypatch.setattr(load_module, "_SIDE_BY_SIDE_ROWS", 0)
    return request.param


def test_the_same_list_again_takes_the_shortcut_and_writes_nothing(postgres_url: str, monkeypatch, reads) -> None:
    _load(postgres_url)
    before = every_table(postgres_url)
    _no_row_by_row_diff(monkeypatch)
    report = _load(postgres_url)
    assert report.diff.counts() == _unchanged(len(RECORDS)) and report.changes == {}
    after = every_table(postgres_url)
    synced = [table for table in before if before[table] != after[table]]
    assert synced == ["providers"]  # last_synced_at only
    dry = _load(postgres_url, dry_run=True)
    assert dry.diff.counts() == _unchanged(len(RECORDS)) and every_table(postgres_url) == after


def test_a_row_written_by_another_writer_is_diffed_in_full(postgres_url: str, reads) -> None:
    """Another writer clears the row's list fingerprint (db/fingerprint.py); here it also leaves a
    wrong content hash, which only the diff of that row can put right."""
    _load(postgres_url)
    engine = catalog_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(update(models).where(models.c.provider_model_id == "b/plain-0").values(content_hash="0" * 40, list_fingerprint=None))
        right = conn.execute(select(models.c.content_hash).where(models.c.provider_model_id == "b/plain-1")).scalar()
    report = _load(postgres_url)
    assert report.diff.counts() == _unchanged(len(RECORDS))
    with engine.connect() as conn:  # the diff found the content equal and rewrote the hash and fingerprint
        hash_, fingerprint = conn.execute(
            select(models.c.content_hash, models.c.list_fingerprint).where(models.c.provider_model_id == "b/plain-0")
        ).one()
    assert hash_ == right and fingerprint == int(row_fingerprints(records_to_frame(RECORDS))[1])


def test_a_change_in_the_list_is_written(postgres_url: str) -> None:
    _load(postgres_url)
    changed = [ModelRecord(**{**vars(RECORDS[0]), "metadata": {"b": [1, Decimal("0.5"), None], "a": "y"}}), *RECORDS[1:]]
    report = _load(postgres_url, changed)
    assert report.diff.updated == {"a/full": {"metadata": [{"a": "x", "b": [1, "0.5", None]}, {"a": "y", "b": [1, "0.5", None]}]}}


def test_a_load_that_held_a_price_is_not_skipped_next_time(postgres_url: str) -> None:
    _load(postgres_url)
    jumped = [ModelRecord(**{**vars(RECORDS[0]), "pricing_prompt": Decimal("0.001")}), *RECORDS[1:]]
    assert _load(postgres_url, jumped).diff.counts()["held_price_changes"] == 1
    again = _load(postgres_url, jumped)
    assert again.diff.counts()["held_price_changes"] == 1
    with catalog_engine(postgres_url).connect() as conn:
        assert conn.execute(select(providers.c.list_digest)).scalar() is None


def test_a_list_the_shrink_guard_refused_is_refused_again(postgres_url: str) -> None:
    _load(postgres_url)
    assert _load(postgres_url, RECORDS[:2]).shrink_guard
    assert _load(postgres_url, RECORDS[:2]).shrink_guard


def test_a_first_load_sent_in_slices_keeps_each_row_whole(postgres_url: str) -> None:
    """Slices of 10,000 rows: every row's text, hash and deactivation travel together."""
    records = [
        ModelRecord(f"m/{i:05d}", model_name=f"n{i}", pricing_prompt=Decimal(i).scaleb(-9) if i % 3 else None, is_active=i % 7 != 0)
        for i in range(20_005)
    ]
    frame = records_to_frame(records)
    load_provider_models(catalog_engine(postgres_url), SPEC, frame)
    expected = dict(zip(frame["provider_model_id"], load_module._Listed.of(frame).spell(0, len(frame))["content_hash"]))
    with catalog_engine(postgres_url).connect() as conn:
        stored = conn.execute(
            select(models.c.provider_model_id, models.c.model_name, models.c.content_hash, models.c.is_active,
                   models.c.deactivated_at, models.c.price_observed_at, models.c.pricing_prompt)
        ).all()
    assert len(stored) == len(records)
    for row in stored:
        i = int(row.provider_model_id[2:])
        assert row.model_name == f"n{i}" and row.content_hash == expected[row.provider_model_id]
        assert row.is_active == (i % 7 != 0) and (row.deactivated_at is None) == row.is_active
        assert (row.price_observed_at is None) == (row.pricing_prompt is None) == (i % 3 == 0)
