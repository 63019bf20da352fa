"""PostgreSQL: the references a load writes in bulk (revision 0005) are checked per statement by
triggers, and keep a foreign key's every promise: no orphan by INSERT, COPY or UPDATE of a child,
none by DELETE, key UPDATE or TRUNCATE of a parent, none under concurrency; an existing catalog
upgrades with every row, and a downgrade brings the ordinary constraints back."""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from decimal import Decimal

import psycopg
import pytest
from alembic import command
from sqlalchemy import func, inspect, select

from catalog_pipeline.db.engine import catalog_engine, dispose_engines
from catalog_pipeline.db.load import load_provider_models
from catalog_pipeline.db.migrate import alembic_config, current_revision, head_revision, schema_differences
from catalog_pipeline.db.schema import catalog_changes, model_price_history, models
from catalog_pipeline.pipeline.records import ModelRecord, records_to_frame
from catalog_pipeline.providers import adapter_for

BEFORE = "0004"  # the revision before the references were checked per statement
FOREIGN_KEY_VIOLATION = "23503"


def _driver_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _loaded(url: str, engine=None) -> tuple[int, int]:
    """Load groq with two models; returns (provider id, one model id)."""
    engine = engine or catalog_engine(url)
    frame = records_to_frame(
        [ModelRecord("llama-a", pricing_prompt=Decimal("0.00000059")), ModelRecord("llama-b", pricing_prompt=Decimal("0.000001"))]
    )
    report = load_provider_models(engine, adapter_for("groq").SPEC, frame)
    with engine.connect() as conn:
        model_id = conn.execute(select(func.min(models.c.id)).where(models.c.provider_id == report.provider_id)).scalar()
    return report.provider_id, model_id


def _refused(conn: psycopg.Connection, statement: str, params=()) -> psycopg.Error:
    with pytest.raises(psycopg.Error) as refused:
        with conn.transaction():
            conn.execute(statement, params)
    return refused.value


def _new_provider(conn: psycopg.Connection, slug: str) -> int:
    return conn.execute(
        "INSERT INTO providers (slug, name, base_url, api_key_env_var, kind, is_active, created_at, updated_at)"
        " VALUES (%s, %s, 'http://x', 'X_KEY', 'openai', true, now(), now()) RETURNING id",
        (slug, slug),
    ).fetchone()[0]


def _orphans(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute(
        "SELECT 'models', provider_id FROM models WHERE provider_id NOT IN (SELECT id FROM providers)"
        " UNION ALL SELECT 'catalog_changes', provider_id FROM catalog_changes WHERE provider_id NOT IN (SELECT id FROM providers)"
        " UNION ALL SELECT 'model_price_history', model_id FROM model_price_history WHERE model_id NOT IN (SELECT id FROM models)"
    ).fetchall()


@pytest.fixture
def catalog(postgres_url):
    provider_id, model_id = _loaded(postgres_url)
    with psycopg.connect(_driver_url(postgres_url), autocommit=True) as conn:
        yield conn, provider_id, model_id


def test_a_child_row_naming_a_missing_parent_is_refused_on_insert_copy_and_update(catalog):
    conn, provider_id, model_id = catalog
    error = _refused(conn, "INSERT INTO model_price_history (model_id, valid_from) VALUES (%s, now()), (987654, now())", (model_id,))
    assert error.sqlstate == FOREIGN_KEY_VIOLATION
    assert error.diag.constraint_name == "model_price_history_model_id_fkey"
    assert 'violates foreign key constraint "model_price_history_model_id_fkey"' in str(error)
    assert 'Key (model_id)=(987654) is not present in table "models"' in error.diag.message_detail

    error = _refused(
        conn, "INSERT INTO catalog_changes (provider_id, provider_model_id, kind, changed_at) VALUES (987654, 'x', 'added', now())"
    )
    assert (error.sqlstate, error.diag.constraint_name) == (FOREIGN_KEY_VIOLATION, "catalog_changes_provider_id_fkey")

    with pytest.raises(psycopg.Error) as copied:  # how a load inserts models
        with conn.transaction(), conn.cursor() as cursor:
            with cursor.copy("COPY models (provider_id, provider_model_id, is_active, first_seen_at, last_seen_at, created_at, updated_at, metadata) FROM STDIN") as copy:
                stamp = datetime.now(timezone.utc)
                copy.write_row((provider_id, "fine", True, stamp, stamp, stamp, stamp, "{}"))
                copy.write_row((987654, "orphan", True, stamp, stamp, stamp, stamp, "{}"))
    assert (copied.value.sqlstate, copied.value.diag.constraint_name) == (FOREIGN_KEY_VIOLATION, "models_provider_id_fkey")

    error = _refused(conn, "UPDATE models SET provider_id = 987654 WHERE id = %s", (model_id,))
    assert (error.sqlstate, error.diag.constraint_name) == (FOREIGN_KEY_VIOLATION, "models_provider_id_fkey")
    error = _refused(conn, "UPDATE model_price_history SET model_id = 987654 WHERE model_id = %s", (model_id,))
    assert (error.sqlstate, error.diag.constraint_name) == (FOREIGN_KEY_VIOLATION, "model_price_history_model_id_fkey")

    # Rows naming parents that exist still go in, and nothing was left behind by the refusals.
    with conn.transaction():
        conn.execute("INSERT INTO model_price_history (model_id, valid_from) VALUES (%s, now())", (model_id,))
        conn.execute("UPDATE models SET provider_id = %s WHERE id = %s", (provider_id, model_id))
    assert _orphans(conn) == []
    assert conn.execute("SELECT count(*) FROM models WHERE provider_model_id IN ('fine', 'orphan')").fetchone() == (0,)


def test_a_referenced_parent_cannot_be_deleted_renumbered_or_truncated(catalog):
    conn, provider_id, model_id = catalog
    error = _refused(conn, "DELETE FROM models WHERE id = %s", (model_id,))
    assert (error.sqlstate, error.diag.constraint_name) == (FOREIGN_KEY_VIOLATION, "model_price_history_model_id_fkey")
    assert f'Key (id)=({model_id}) is still referenced from table "model_price_history"' in error.diag.message_detail

    # Its models' history first, then its models: the provider is still named by its change feed.
    with pytest.raises(psycopg.Error) as refused:
        with conn.transaction():
            conn.execute("DELETE FROM model_price_history WHERE model_id IN (SELECT id FROM models WHERE provider_id = %s)", (provider_id,))
            conn.execute("DELETE FROM models WHERE provider_id = %s", (provider_id,))
            conn.execute("DELETE FROM providers WHERE id = %s", (provider_id,))
    assert (refused.value.sqlstate, refused.value.diag.constraint_name) == (FOREIGN_KEY_VIOLATION, "catalog_changes_provider_id_fkey")

    error = _refused(conn, "UPDATE providers SET id = 987654 WHERE id = %s", (provider_id,))
    assert (error.sqlstate, error.diag.constraint_name[-5:]) == (FOREIGN_KEY_VIOLATION, "_fkey")
    error = _refused(conn, "TRUNCATE providers CASCADE")
    assert error.sqlstate == "0A000"  # what PostgreSQL says for a referenced table
    # Even with its children in the same statement: stricter than PostgreSQL; nothing here truncates.
    error = _refused(conn, "TRUNCATE models, model_price_history")
    assert error.sqlstate == "0A000"
    assert _orphans(conn) == []

    # A parent nothing references goes, and so does one whose children went first.
    unreferenced = _new_provider(conn, "nobody-sells-here")
    conn.execute("DELETE FROM providers WHERE id = %s", (unreferenced,))
    with conn.transaction():
        conn.execute("DELETE FROM model_price_history WHERE model_id = %s", (model_id,))
        conn.execute("DELETE FROM models WHERE id = %s", (model_id,))
    assert _orphans(conn) == []


def _wait_until_waiting_on_a_lock(watcher: psycopg.Connection, pid: int, finished: threading.Event) -> bool:
    """True once backend `pid` waits for a lock; False if its statement finished first."""
    while not finished.is_set():
        row = watcher.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()
        if row and row[0] == "Lock":
            return True
        finished.wait(0.01)
    return False


def _blocked_then_released(
    watcher: psycopg.Connection, blocked: psycopg.Connection, statement: str, params: tuple, *, holder: psycopg.Connection
) -> tuple[bool, dict]:
    """Run `statement` on `blocked` (and commit) in a thread; once it waits for a lock, commit
    `holder`. Returns whether it waited, and its outcome: "committed", or the "error" it raised."""
    outcome: dict = {}
    finished = threading.Event()

    def run() -> None:
        try:
            blocked.execute(statement, params)
            blocked.commit()
            outcome["committed"] = True
        except psycopg.Error as error:
            blocked.rollback()
            outcome["error"] = error
        finally:
            finished.set()

    thread = threading.Thread(target=run)
    thread.start()
    waited = _wait_until_waiting_on_a_lock(watcher, blocked.info.backend_pid, finished)
    holder.commit()
    thread.join()
    return waited, outcome


def test_a_parent_deleted_while_another_transaction_inserts_children_is_never_left_orphaned(catalog, postgres_url):
    watcher, _, _ = catalog
    url = _driver_url(postgres_url)
    parent = _new_provider(watcher, "deleted-while-loaded")
    with psycopg.connect(url) as loader, psycopg.connect(url) as deleter:
        # The loader has written, uncommitted, a change-feed row naming the provider.
        loader.execute(
            "INSERT INTO catalog_changes (provider_id, provider_model_id, kind, changed_at) VALUES (%s, 'm', 'added', now())", (parent,)
        )
        waited, outcome = _blocked_then_released(
            watcher, deleter, "DELETE FROM providers WHERE id = %s", (parent,), holder=loader
        )
    assert waited, f"the delete did not wait for the inserting transaction: {outcome}"
    assert "committed" not in outcome
    assert outcome["error"].sqlstate == FOREIGN_KEY_VIOLATION
    assert _orphans(watcher) == []


def test_children_inserted_while_another_transaction_deletes_their_parent_are_refused(catalog, postgres_url):
    watcher, _, _ = catalog
    url = _driver_url(postgres_url)
    parent = _new_provider(watcher, "deleted-first")
    with psycopg.connect(url) as loader, psycopg.connect(url) as deleter:
        deleter.execute("DELETE FROM providers WHERE id = %s", (parent,))  # uncommitted
        waited, outcome = _blocked_then_released(
            watcher, loader,
            "INSERT INTO models (provider_id, provider_model_id, is_active, first_seen_at, last_seen_at, created_at, updated_at, metadata)"
            " VALUES (%s, 'm', true, now(), now(), now(), now(), '{}')", (parent,), holder=deleter,
        )
    assert waited, f"the insert did not wait for the deleting transaction: {outcome}"
    assert "committed" not in outcome
    assert (outcome["error"].sqlstate, outcome["error"].diag.constraint_name) == (FOREIGN_KEY_VIOLATION, "models_provider_id_fkey")
    assert _orphans(watcher) == []


def test_outside_read_committed_a_parent_delete_is_refused_and_a_child_locks_its_parent(catalog, postgres_url):
    conn, provider_id, _ = catalog
    parent = _new_provider(conn, "repeatable")
    with psycopg.connect(_driver_url(postgres_url)) as other:
        other.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        other.execute("SELECT 1")  # its snapshot is taken: the delete below commits after it
        conn.execute("DELETE FROM providers WHERE id = %s", (parent,))
        with pytest.raises(psycopg.Error) as refused:  # the snapshot still shows the provider
            other.execute(
                "INSERT INTO catalog_changes (provider_id, provider_model_id, kind, changed_at) VALUES (%s, 'm', 'added', now())", (parent,)
            )
        other.rollback()
        assert refused.value.sqlstate == "40001"  # could not serialize: the parent was deleted meanwhile
        other.execute("SELECT 1")
        with pytest.raises(psycopg.Error) as refused:
            other.execute("DELETE FROM providers WHERE id = %s", (provider_id,))
        other.rollback()
        assert refused.value.sqlstate == "55000" and "READ COMMITTED" in str(refused.value)
    assert _orphans(conn) == []


@pytest.mark.empty_database
def test_a_catalog_at_the_revision_before_upgrades_with_every_row_and_downgrades_to_the_ordinary_constraints(postgres_url):
    # Today's load writes today's columns: the rows are loaded at head and the catalog taken back.
    engine = catalog_engine(postgres_url)
    _loaded(postgres_url, engine)
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), BEFORE)
    tables = (models, model_price_history, catalog_changes)
    with engine.connect() as conn:
        columns = {t.name: [c["name"] for c in inspect(conn).get_columns(t.name)] for t in tables}
        before = {t.name: _rows(conn, t, columns[t.name]) for t in tables}
        assert _ordinary_foreign_keys(conn) == {"models_provider_id_fkey", "model_price_history_model_id_fkey", "catalog_changes_provider_id_fkey"}
    dispose_engines()

    engine = catalog_engine(postgres_url)  # upgrades to head
    assert current_revision(engine) == head_revision()
    assert schema_differences(engine) == []
    with engine.connect() as conn:
        assert {t.name: _rows(conn, t, columns[t.name]) for t in tables} == before
        assert _ordinary_foreign_keys(conn) == set()
    with psycopg.connect(_driver_url(postgres_url), autocommit=True) as raw:
        error = _refused(raw, "INSERT INTO model_price_history (model_id, valid_from) VALUES (987654, now())")
        assert (error.sqlstate, error.diag.constraint_name) == (FOREIGN_KEY_VIOLATION, "model_price_history_model_id_fkey")
        # A trigger gone is a schema difference, not a silent loss of the rule.
        raw.execute("ALTER TABLE models DISABLE TRIGGER models_provider_id_fkey_insert")
        assert [d[0] for d in schema_differences(engine)] == ["add_fk"]
        raw.execute("ALTER TABLE models ENABLE TRIGGER models_provider_id_fkey_insert")
    _loaded(postgres_url, engine)  # an upgraded catalog takes a load

    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), BEFORE)
    with engine.connect() as conn:
        assert _ordinary_foreign_keys(conn) == {"models_provider_id_fkey", "model_price_history_model_id_fkey", "catalog_changes_provider_id_fkey"}
        assert conn.exec_driver_sql("SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal").scalar() == 0
        assert conn.exec_driver_sql("SELECT count(*) FROM pg_proc WHERE proname LIKE 'catalog\\_%%'").scalar() == 0
    # the references as ordinary constraints match head; what differs is only the columns (and
    # their indexes), the storage parameters and the indexes changed since (revision 0009)
    assert {d[0] for d in schema_differences(engine)} <= {"add_column", "add_index", "remove_index", "index_kind", "storage_parameters"}
    with psycopg.connect(_driver_url(postgres_url), autocommit=True) as raw:
        error = _refused(raw, "INSERT INTO model_price_history (model_id, valid_from) VALUES (987654, now())")
        assert (error.sqlstate, error.diag.constraint_name) == (FOREIGN_KEY_VIOLATION, "model_price_history_model_id_fkey")


def _rows(conn, table, columns: list[str]) -> list:
    """The table's rows, in the columns it had at the revision before (later revisions add some)."""
    return conn.execute(select(*(table.c[name] for name in columns)).order_by(table.c.id)).all()


def _ordinary_foreign_keys(conn) -> set[str]:
    inspector = inspect(conn)
    named = {"models": "provider_id", "model_price_history": "model_id", "catalog_changes": "provider_id"}
    return {
        fk["name"] for table, column in named.items() for fk in inspector.get_foreign_keys(table) if fk["constrained_columns"] == [column]
    }
