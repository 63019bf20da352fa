"""Each model's list fingerprint (db/fingerprint.py): a load spells, reads and diffs only the rows
whose fingerprint moved or is unknown, and writes only the rows whose content changed."""

from __future__ import annotations

from decimal import Decimal

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, select, update

import catalog_pipeline.db.load as load_module
from catalog_pipeline.db.engine import catalog_engine
from catalog_pipeline.db.fingerprint import row_fingerprints
from catalog_pipeline.db.load import content_hash, load_provider_models
from catalog_pipeline.db.migrate import alembic_config
from catalog_pipeline.db.price_holds import accept_pending
from catalog_pipeline.db.schema import models, providers
from catalog_pipeline.pipeline.records import ModelRecord, records_to_frame
from catalog_pipeline.providers import adapter_for

SPEC = adapter_for("openrouter").SPEC
RECORDS = [
    ModelRecord(f"m/{i}", model_name=f"Model {i}", pricing_prompt=Decimal("0.000001"), metadata={"i": i}, input_modalities=["text"])
    for i in range(6)
]


def _load(engine: Engine, records):
    return load_provider_models(engine, SPEC, records_to_frame(records))


def _with(record: ModelRecord, **values) -> ModelRecord:
    return ModelRecord(**{**vars(record), **values})


def _note_writes(engine: Engine) -> None:
    """Record the id of every row an UPDATE of `models` touches, whatever it changes."""
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE model_writes (model_id INTEGER)")
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql(
                "CREATE FUNCTION note_model_write() RETURNS trigger LANGUAGE plpgsql AS"
                " $$ BEGIN INSERT INTO model_writes VALUES (NEW.id); RETURN NEW; END $$"
            )
            conn.exec_driver_sql("CREATE TRIGGER model_written AFTER UPDATE ON models FOR EACH ROW EXECUTE FUNCTION note_model_write()")
        else:
            conn.exec_driver_sql("CREATE TRIGGER model_written AFTER UPDATE ON models BEGIN INSERT INTO model_writes VALUES (NEW.id); END")


def _written(engine: Engine) -> list[str]:
    """provider_model_id of the rows written since the last call."""
    with engine.begin() as conn:
        written = conn.exec_driver_sql(
            "SELECT DISTINCT m.provider_model_id FROM model_writes w JOIN models m ON m.id = w.model_id ORDER BY 1"
        ).scalars().all()
        conn.exec_driver_sql("DELETE FROM model_writes")
    return list(written)


def _stored(engine: Engine, model_id: str):
    with engine.connect() as conn:
        return conn.execute(select(models).where(models.c.provider_model_id == model_id)).mappings().one()


def _fingerprint(records, model_id: str) -> int:
    position = [r.provider_model_id for r in records].index(model_id)
    return int(row_fingerprints(records_to_frame(records))[position])


def _content_hash_of(row) -> str:
    return content_hash({**row, "metadata": row["metadata"] or {}})


def test_only_the_rows_whose_fingerprint_moved_are_diffed_and_written(catalog_url: str, monkeypatch) -> None:
    engine = catalog_engine(catalog_url)
    _load(engine, RECORDS)
    _note_writes(engine)
    changed = [RECORDS[0], _with(RECORDS[1], description="new"), _with(RECORDS[2], pricing_prompt=Decimal("0.0000011")), *RECORDS[3:]]
    read = []
    stored_rows = load_module._stored_rows
    monkeypatch.setattr(load_module, "_stored_rows", lambda conn, pid, ids, *by_key: read.extend(ids) or stored_rows(conn, pid, ids, *by_key))
    report = _load(engine, changed)
    assert sorted(read) == ["m/1", "m/2"]  # only these were read in full
    assert sorted(report.diff.updated) == ["m/1", "m/2"] and report.diff.unchanged == 4
    assert _written(engine) == ["m/1", "m/2"]
    for model_id in ("m/1", "m/2"):
        row = _stored(engine, model_id)
        assert row["list_fingerprint"] == _fingerprint(changed, model_id) and row["content_hash"] == _content_hash_of(row)
    assert _stored(engine, "m/1")["description"] == "new" and _stored(engine, "m/2")["pricing_prompt"] == Decimal("0.0000011")
    # the same list again: nothing read in full, nothing written
    read.clear()
    assert _load(engine, changed).diff.unchanged == len(changed)
    assert read == [] and _written(engine) == []


def test_none_and_the_string_none_are_different_content(catalog_url: str) -> None:
    engine = catalog_engine(catalog_url)
    _load(engine, [_with(RECORDS[0], model_name="None", metadata={"a": None}), *RECORDS[1:]])
    report = _load(engine, [_with(RECORDS[0], model_name=None, metadata={"a": None}), *RECORDS[1:]])
    assert report.diff.updated == {"m/0": {"model_name": ["None", None]}}
    report = _load(engine, [_with(RECORDS[0], model_name=None, metadata={"a": "None"}), *RECORDS[1:]])
    assert report.diff.updated == {"m/0": {"metadata": [{"a": None}, {"a": "None"}]}}
    row = _stored(engine, "m/0")
    assert row["model_name"] is None and row["metadata"] == {"a": "None"}


def test_a_catalog_without_fingerprints_is_diffed_once_and_then_has_them(catalog_url: str) -> None:
    """As after the upgrade to revision 0006: every fingerprint unknown."""
    engine = catalog_engine(catalog_url)
    _load(engine, RECORDS)
    with engine.begin() as conn:
        conn.execute(update(models).values(list_fingerprint=None))
        conn.execute(update(providers).values(list_digest=None))
    _note_writes(engine)
    changed = [_with(RECORDS[0], model_name="Renamed"), *RECORDS[1:]]
    report = _load(engine, changed)
    assert list(report.diff.updated) == ["m/0"] and report.diff.unchanged == len(RECORDS) - 1
    assert report.changes == {"changed": 1}  # storing a fingerprint is not a change
    assert _written(engine) == sorted(r.provider_model_id for r in RECORDS)  # each row gets its fingerprint
    for record in changed:
        assert _stored(engine, record.provider_model_id)["list_fingerprint"] == _fingerprint(changed, record.provider_model_id)
    assert _load(engine, changed).diff.unchanged == len(changed) and _written(engine) == []


def test_a_held_price_and_its_acceptance_leave_the_row_to_be_diffed_again(catalog_url: str) -> None:
    engine = catalog_engine(catalog_url)
    _load(engine, RECORDS)
    jumped = [_with(RECORDS[0], pricing_prompt=Decimal("0.001"), description="also new"), *RECORDS[1:]]
    assert _load(engine, jumped).diff.counts()["held_price_changes"] == 1
    held = _stored(engine, "m/0")
    # written with the old price: not what the list says, so no fingerprint
    assert held["pricing_prompt"] == Decimal("0.000001") and held["description"] == "also new"
    assert held["list_fingerprint"] is None and held["content_hash"] == _content_hash_of(held)
    assert _load(engine, jumped).diff.counts()["held_price_changes"] == 1  # held again, not taken as unchanged
    accept_pending(engine, SPEC.slug)
    accepted = _stored(engine, "m/0")
    assert accepted["pricing_prompt"] == Decimal("0.001") and accepted["list_fingerprint"] is None
    # its content hash is that of the accepted price at once (the refresh of links and exports reads it)
    assert accepted["content_hash"] == _content_hash_of(accepted) != held["content_hash"]
    _note_writes(engine)
    report = _load(engine, jumped)
    assert report.diff.unchanged == len(jumped) and report.diff.held == []
    assert _written(engine) == ["m/0"]  # its fingerprint and content hash, now those of the list
    row = _stored(engine, "m/0")
    assert row["list_fingerprint"] == _fingerprint(jumped, "m/0") and row["content_hash"] == _content_hash_of(row)
    assert _load(engine, jumped).diff.unchanged == len(jumped) and _written(engine) == []


def test_a_model_that_comes_back_is_reactivated_though_its_fingerprint_is_the_same(catalog_url: str) -> None:
    engine = catalog_engine(catalog_url)
    _load(engine, RECORDS)
    assert _load(engine, RECORDS[1:]).diff.deactivated == ["m/0"]
    report = _load(engine, RECORDS)
    assert report.diff.reactivated == ["m/0"] and _stored(engine, "m/0")["is_active"] is True


def test_a_catalog_upgraded_to_the_fingerprints_keeps_its_rows_and_loads(catalog_url: str) -> None:
    """Rows written before the revision that adds `list_fingerprint` (taken back to it here) come
    through the upgrade without one; the next load diffs them, finds them unchanged, and stores it."""
    engine = catalog_engine(catalog_url)
    _load(engine, RECORDS)
    with engine.connect() as conn:
        before = conn.execute(select(models.c.provider_model_id, models.c.content_hash, models.c.updated_at).order_by(models.c.id)).all()
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), _revision_before_fingerprints())
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
    with engine.connect() as conn:
        after = conn.execute(select(models.c.provider_model_id, models.c.content_hash, models.c.updated_at).order_by(models.c.id)).all()
        assert after == before
        assert conn.execute(select(models.c.list_fingerprint)).scalars().all() == [None] * len(RECORDS)
        assert conn.execute(select(providers.c.list_digest)).scalar() is None
    report = _load(engine, RECORDS)
    assert report.diff.unchanged == len(RECORDS) and report.changes == {}
    for record in RECORDS:
        assert _stored(engine, record.provider_model_id)["list_fingerprint"] == _fingerprint(RECORDS, record.provider_model_id)


def _revision_before_fingerprints() -> str:
    script = ScriptDirectory.from_config(alembic_config())
    adding = next(r for r in script.walk_revisions() if r.path.endswith("_models_list_fingerprint.py"))
    return adding.down_revision


def test_a_first_load_fingerprints_its_rows_slice_by_slice_as_the_whole_list_would(catalog_url: str, monkeypatch) -> None:
    import catalog_pipeline.db.bulk_write as bulk_write

    monkeypatch.setattr(bulk_write, "_COPY_CHUNK", 4)  # PostgreSQL's first load spells 6 rows as 4 + 2
    engine = catalog_engine(catalog_url)
    mixed = [*RECORDS[:3], _with(RECORDS[3], pricing_prompt=None, metadata={"d": Decimal("1.5")}), *RECORDS[4:]]
    _load(engine, mixed)
    whole = row_fingerprints(records_to_frame(mixed))
    with engine.connect() as conn:
        stored = dict(conn.execute(select(models.c.provider_model_id, models.c.list_fingerprint)).all())
    assert [stored[r.provider_model_id] for r in mixed] == whole.tolist()
    _note_writes(engine)
    assert _load(engine, mixed).diff.unchanged == len(mixed) and _written(engine) == []


def test_a_list_in_another_order_is_matched_row_by_row(catalog_url: str) -> None:
    # Stored rows come back in the order they were added: the same order matches them by
    # position, any other through a lookup; both must pair each listed row with its own.
    engine = catalog_engine(catalog_url)
    _load(engine, RECORDS)
    _note_writes(engine)
    reordered = [*reversed(RECORDS[2:]), _with(RECORDS[1], description="moved"), RECORDS[0]]
    report = _load(engine, reordered)
    assert list(report.diff.updated) == ["m/1"] and report.diff.unchanged == len(RECORDS) - 1
    assert _written(engine) == ["m/1"]
    same_order = [*reordered[:-2], _with(RECORDS[1], description="moved again"), RECORDS[0]]
    report = _load(engine, same_order)
    assert list(report.diff.updated) == ["m/1"] and report.diff.unchanged == len(RECORDS) - 1
    assert _written(engine) == ["m/1"] and _stored(engine, "m/1")["description"] == "moved again"
    assert _load(engine, [*same_order[1:], same_order[0]]).diff.unchanged == len(RECORDS)
    replaced = [_with(RECORDS[5], provider_model_id="m/9"), *same_order[1:]]  # as long: m/5 gives way to m/9
    report = _load(engine, replaced)
    assert (report.diff.added, report.diff.deactivated, report.diff.unchanged) == (["m/9"], ["m/5"], len(RECORDS) - 1)
