"""The column-by-column load: what it writes equals what the rows say, on SQLite and PostgreSQL.

The PostgreSQL insert sends hand-built COPY text and the resync compares hashes computed over
whole columns, so these tests aim at what that text and those hashes could get wrong: escaping,
NULL against the text "\\N", Decimal spelling, JSON keys, inactive rows, and the one-row hash
agreeing with the frame's.
"""

from __future__ import annotations

from datetime import date, timezone
from decimal import Decimal

from sqlalchemy import func, select

from catalog_pipeline.db.engine import catalog_engine
from catalog_pipeline.db.load import _Listed, load_provider_models
from catalog_pipeline.db.row_text import HASHED_COLUMNS, content_hash
from catalog_pipeline.db.schema import catalog_changes, model_price_history, models, providers
from catalog_pipeline.pipeline.records import MODEL_FRAME_DTYPES, ModelRecord, records_to_frame
from catalog_pipeline.providers import adapter_for

from .catalog_snapshot import models_by_id

SPEC = adapter_for("openrouter").SPEC

AWKWARD = [
    ModelRecord(
        provider_model_id="esc/back\\slash\ttab\nnewline\rcr",
        model_name="\\N",  # the text, not NULL
        description="line one\nline two\t\\tail",
        pricing_prompt=Decimal("1.25E-6"),
        pricing_completion=Decimal("0.0000020"),
        pricing_image=Decimal("0"),
        context_length=2**40,
        input_modalities=["text", "image"],
        output_modalities=[],
        supports_vision=False,
        metadata={"b": [1, Decimal("0.5"), None], "a": "ü\\\t", "nested": {"z": True, "k": "\\N"}},
        deprecation_date=date(2026, 12, 31),
    ),
    ModelRecord(provider_model_id="plain/none", metadata={}),  # every optional column unknown
    ModelRecord(provider_model_id="plain/inactive", model_name="Listed, not served", is_active=False),
]


def _load(url: str, records: list[ModelRecord]):
    return load_provider_models(catalog_engine(url), SPEC, records_to_frame(records))


def test_stored_rows_equal_the_records_exactly(catalog_url: str) -> None:
    report = _load(catalog_url, AWKWARD)
    assert report.diff.counts()["added"] == 3
    stored = models_by_id(catalog_url, "openrouter")
    awkward = stored["esc/back\\slash\ttab\nnewline\rcr"]
    assert awkward["model_name"] == "\\N"
    assert awkward["description"] == "line one\nline two\t\\tail"
    assert awkward["pricing_prompt"] == Decimal("0.00000125") and awkward["pricing_completion"] == Decimal("0.000002")
    assert awkward["pricing_image"] == Decimal(0) and awkward["pricing_request"] is None
    assert awkward["context_length"] == 2**40 and awkward["max_output_tokens"] is None
    assert awkward["input_modalities"] == ["text", "image"] and awkward["output_modalities"] == []
    assert awkward["supports_vision"] is False and awkward["supports_streaming"] is None
    assert awkward["metadata"] == {"b": [1, "0.5", None], "a": "ü\\\t", "nested": {"z": True, "k": "\\N"}}
    assert awkward["deprecation_date"] == date(2026, 12, 31)
    assert awkward["deactivated_at"] is None and awkward["is_active"] is True
    plain = stored["plain/none"]
    assert plain["model_name"] is None and plain["metadata"] == {} and plain["input_modalities"] is None
    inactive = stored["plain/inactive"]
    assert inactive["is_active"] is False and inactive["deactivated_at"] is not None


def test_a_resync_of_the_same_rows_writes_nothing(catalog_url: str) -> None:
    _load(catalog_url, AWKWARD)
    engine = catalog_engine(catalog_url)
    with engine.connect() as conn:
        before = conn.execute(select(models).order_by(models.c.id)).all()
    respelled = [ModelRecord(**{**vars(AWKWARD[0]), "pricing_prompt": Decimal("0.00000125000")}), *AWKWARD[1:]]
    report = _load(catalog_url, respelled)
    assert report.diff.counts() == {
        "added": 0, "updated": 0, "reactivated": 0, "deactivated": 0, "unchanged": 3, "held_price_changes": 0,
    }
    assert report.changes == {}
    with engine.connect() as conn:
        assert conn.execute(select(models).order_by(models.c.id)).all() == before
        assert conn.execute(select(func.count()).select_from(catalog_changes)).scalar() == 3  # the 3 added


def test_one_changed_field_among_awkward_rows_is_found_and_written(catalog_url: str) -> None:
    _load(catalog_url, AWKWARD)
    changed = [ModelRecord(**{**vars(AWKWARD[0]), "description": "line one\nline 2"}), *AWKWARD[1:]]
    report = _load(catalog_url, changed)
    assert report.diff.updated == {"esc/back\\slash\ttab\nnewline\rcr": {"description": ["line one\nline two\t\\tail", "line one\nline 2"]}}
    assert report.diff.unchanged == 2
    assert models_by_id(catalog_url, "openrouter")["esc/back\\slash\ttab\nnewline\rcr"]["description"] == "line one\nline 2"


def test_a_first_load_opens_one_price_period_per_model(catalog_url: str) -> None:
    _load(catalog_url, AWKWARD)
    with catalog_engine(catalog_url).connect() as conn:
        periods = conn.execute(
            select(models.c.provider_model_id, model_price_history.c.pricing_prompt, model_price_history.c.valid_to)
            .join(models, models.c.id == model_price_history.c.model_id)
        ).all()
        added = conn.execute(select(func.count()).select_from(catalog_changes).where(catalog_changes.c.kind == "added")).scalar()
    assert sorted(p.provider_model_id for p in periods) == sorted(r.provider_model_id for r in AWKWARD)
    assert all(p.valid_to is None for p in periods)
    assert {p.provider_model_id: p.pricing_prompt for p in periods}["esc/back\\slash\ttab\nnewline\rcr"] == Decimal("0.00000125")
    assert added == 3


def _utc(value):
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _times(conn, table, *columns) -> set:
    return {tuple(_utc(v) for v in row) for row in conn.execute(select(*(table.c[c] for c in columns))).all()}


def test_every_time_a_load_writes_is_the_load_s_own(catalog_url: str) -> None:
    """One time per load in every row it writes: the rows it adds (on PostgreSQL their four times
    are the server's default, the transaction's time), their price periods, changes and the
    provider's last sync."""
    first = _load(catalog_url, AWKWARD)
    engine = catalog_engine(catalog_url)
    with engine.connect() as conn:
        added = conn.execute(select(models.c.first_seen_at, models.c.last_seen_at, models.c.created_at, models.c.updated_at)).all()
        assert {_utc(v) for row in added for v in row} == {first.synced_at}
        assert _times(conn, models, "deactivated_at") == {(None,), (first.synced_at,)}  # plain/inactive, listed inactive
        assert _times(conn, model_price_history, "valid_from") == {(first.synced_at,)}
        assert _times(conn, catalog_changes, "changed_at") == {(first.synced_at,)}
        assert _times(conn, providers, "last_synced_at") == {(first.synced_at,)}

    later = _load(catalog_url, [*AWKWARD[:1], ModelRecord(provider_model_id="plain/none", model_name="Now named"), *AWKWARD[2:],
                                 ModelRecord(provider_model_id="plain/new")])
    assert later.synced_at > first.synced_at
    with engine.connect() as conn:
        rows = {row.provider_model_id: row for row in conn.execute(select(models)).all()}
        assert {_utc(rows["plain/new"].__getattribute__(c)) for c in ("first_seen_at", "last_seen_at", "created_at", "updated_at")} == {later.synced_at}
        renamed = rows["plain/none"]
        assert (_utc(renamed.first_seen_at), _utc(renamed.created_at)) == (first.synced_at, first.synced_at)
        assert (_utc(renamed.last_seen_at), _utc(renamed.updated_at)) == (later.synced_at, later.synced_at)
        assert _times(conn, catalog_changes, "changed_at") == {(first.synced_at,), (later.synced_at,)}
        assert _times(conn, providers, "last_synced_at") == {(later.synced_at,)}


def test_the_hash_of_one_row_is_the_hash_of_that_row_in_a_frame() -> None:
    frame = records_to_frame(AWKWARD)
    listed = _Listed.of(frame)
    positions = list(range(len(AWKWARD)))
    listed.spell_rows(positions)
    rows = listed.rows(positions)
    assert [content_hash(row) for row in rows] == [listed.texts["content_hash"][p] for p in positions]
    # and every hashed column counts: change any one and the hash moves
    base = listed.texts["content_hash"][0]
    samples = {"string": "x", "Int64": 7, "boolean": True}
    for column in HASHED_COLUMNS:
        altered = dict(rows[0])
        if column == "metadata":
            altered[column] = {"other": 1}
        elif altered[column] is not None:
            altered[column] = None
        elif column.startswith("pricing_"):
            altered[column] = Decimal("0.1")
        elif column.endswith("_date"):
            altered[column] = date(2000, 1, 1)
        else:
            altered[column] = samples.get(MODEL_FRAME_DTYPES[column], ["x"])
        assert content_hash(altered) != base, column
