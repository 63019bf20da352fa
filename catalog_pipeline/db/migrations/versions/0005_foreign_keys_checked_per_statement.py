"""PostgreSQL: the references a load writes in bulk are checked once per statement, not per row.

An ordinary foreign key checks each inserted row on its own (a lookup and a `FOR KEY SHARE` lock
of the parent row): a first load of 100,000 models paid that 300,000 times, most of its server
time. These three references are instead checked by triggers that keep the same rule:

- on the child table, after each INSERT (and COPY), every non-NULL key of the statement's rows
  must be present in the parent, in one anti-join over the statement's new rows; an UPDATE that
  changes a key is checked for that row. The error is PostgreSQL's own (SQLSTATE 23503, naming
  the constraint). Outside READ COMMITTED the parent rows are also locked `FOR KEY SHARE`, so a
  delete committed after the transaction's snapshot fails it instead of passing unseen.
- on the parent table, a DELETE or key UPDATE that removes a key still referenced is refused,
  and so is a TRUNCATE while any child row has a key. Before looking, the trigger takes
  `LOCK TABLE child IN SHARE MODE`: it waits for every transaction writing the child to finish,
  then sees their rows (READ COMMITTED takes a snapshot per query; other isolation levels are
  refused such a change, as their snapshot would miss those rows). Nothing in the pipeline
  deletes or renumbers providers or models, so that path may be slow.

The constraints keep their names. SQLite keeps its ordinary foreign keys; db/schema.py declares
these three with `info={"postgresql": CHECKED_PER_STATEMENT}` (see migrate.schema_differences).
Downgrade drops the triggers and restores the ordinary constraints (checking every row).

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# (constraint, child table, child column, parent table, parent column, how a statement's keys
# repeat: 'shared' when its rows carry few distinct keys (one provider per load), 'own' when each
# row has its own). Frozen here: a later change to schema.py must not rewrite this revision.
REFERENCES = (
    ("models_provider_id_fkey", "models", "provider_id", "providers", "id", "shared"),
    ("model_price_history_model_id_fkey", "model_price_history", "model_id", "models", "id", "own"),
    ("catalog_changes_provider_id_fkey", "catalog_changes", "provider_id", "providers", "id", "shared"),
)

# Child side. TG_ARGV: constraint, key column, parent table, parent column, 'shared' | 'own'.
# Nested loops only: a probe of the parent's primary key per key stays linear in the statement's
# rows however large the parent, and whatever the planner's statistics say after a first load.
CHECK_REFERENCES = r"""
CREATE FUNCTION catalog_check_references() RETURNS trigger
LANGUAGE plpgsql SET enable_hashjoin = off SET enable_mergejoin = off AS $fn$
DECLARE
    keys text;
    missing text;
BEGIN
    IF TG_LEVEL = 'ROW' THEN
        keys := format('(SELECT ($1).%I AS k) AS n', TG_ARGV[1]);
    ELSIF TG_ARGV[4] = 'shared' THEN
        keys := format('(SELECT DISTINCT %I AS k FROM new_rows) AS n', TG_ARGV[1]);
    ELSE
        keys := format('(SELECT %I AS k FROM new_rows) AS n', TG_ARGV[1]);
    END IF;
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        EXECUTE format('SELECT count(*) FROM (SELECT 1 FROM %I p WHERE p.%I IN (SELECT n.k FROM %s) FOR KEY SHARE) AS locked',
                       TG_ARGV[2], TG_ARGV[3], keys) USING NEW;
    END IF;
    EXECUTE format('SELECT n.k::text FROM %s WHERE n.k IS NOT NULL AND NOT EXISTS (SELECT 1 FROM %I p WHERE p.%I = n.k) LIMIT 1',
                   keys, TG_ARGV[2], TG_ARGV[3]) INTO missing USING NEW;
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'insert or update on table "%" violates foreign key constraint "%"', TG_TABLE_NAME, TG_ARGV[0]
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = TG_ARGV[0], TABLE = TG_TABLE_NAME,
                  DETAIL = format('Key (%s)=(%s) is not present in table "%s".', TG_ARGV[1], missing, TG_ARGV[2]);
    END IF;
    RETURN NULL;
END
$fn$
"""

# Parent side. TG_ARGV: constraint, child table, child column, parent column.
REFUSE_ORPHANS = r"""
CREATE FUNCTION catalog_refuse_orphans() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    gone text;
    found boolean;
    referenced text;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        EXECUTE format('LOCK TABLE %I IN SHARE MODE', TG_ARGV[1]);
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE %I IS NOT NULL)', TG_ARGV[1], TG_ARGV[2]) INTO found;
        IF found THEN
            RAISE EXCEPTION 'cannot truncate a table referenced in a foreign key constraint'
                USING ERRCODE = 'feature_not_supported', CONSTRAINT = TG_ARGV[0], TABLE = TG_TABLE_NAME,
                      DETAIL = format('Table "%s" references "%s".', TG_ARGV[1], TG_TABLE_NAME);
        END IF;
        RETURN NULL;
    END IF;
    -- The keys this statement removed: old keys no row of the parent holds any more.
    IF TG_LEVEL = 'ROW' THEN
        gone := format('(SELECT ($1).%I AS k) AS o', TG_ARGV[3]);
    ELSE
        gone := format('(SELECT %I AS k FROM old_rows) AS o', TG_ARGV[3]);
    END IF;
    gone := format('SELECT o.k FROM %s WHERE NOT EXISTS (SELECT 1 FROM %I p WHERE p.%I = o.k)', gone, TG_TABLE_NAME, TG_ARGV[3]);
    EXECUTE format('SELECT EXISTS (%s)', gone) INTO found USING OLD;
    IF NOT found THEN
        RETURN NULL;
    END IF;
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'delete or key update on table "%" needs READ COMMITTED isolation (foreign key constraint "%")', TG_TABLE_NAME, TG_ARGV[0]
            USING ERRCODE = 'object_not_in_prerequisite_state', CONSTRAINT = TG_ARGV[0], TABLE = TG_TABLE_NAME,
                  HINT = format('Its snapshot would not see rows of "%s" committed meanwhile.', TG_ARGV[1]);
    END IF;
    -- Waits for every transaction writing the child; the query below then sees what they wrote.
    EXECUTE format('LOCK TABLE %I IN SHARE MODE', TG_ARGV[1]);
    EXECUTE format('SELECT c.%1$I::text FROM %2$I c WHERE c.%1$I IN (%3$s) LIMIT 1', TG_ARGV[2], TG_ARGV[1], gone)
        INTO referenced USING OLD;
    IF referenced IS NOT NULL THEN
        RAISE EXCEPTION 'update or delete on table "%" violates foreign key constraint "%" on table "%"', TG_TABLE_NAME, TG_ARGV[0], TG_ARGV[1]
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = TG_ARGV[0], TABLE = TG_ARGV[1],
                  DETAIL = format('Key (%s)=(%s) is still referenced from table "%s".', TG_ARGV[3], referenced, TG_ARGV[1]);
    END IF;
    RETURN NULL;
END
$fn$
"""


def trigger_names(constraint: str) -> list[str]:
    """The triggers enforcing `constraint`: the first two on the child table, the others on the parent."""
    return [f"{constraint}_{suffix}" for suffix in ("insert", "update", "parent_delete", "parent_update", "parent_truncate")]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(CHECK_REFERENCES)
    op.execute(REFUSE_ORPHANS)
    for constraint, child, column, parent, key, keys in REFERENCES:
        for existing in _foreign_keys(child, column, parent):
            op.execute(f'ALTER TABLE {child} DROP CONSTRAINT "{existing}"')
        on_insert, on_update, on_delete, on_key_update, on_truncate = trigger_names(constraint)
        checked = f"'{constraint}', '{column}', '{parent}', '{key}', '{keys}'"
        guarded = f"'{constraint}', '{child}', '{column}', '{key}'"
        op.execute(
            f"CREATE TRIGGER {on_insert} AFTER INSERT ON {child} REFERENCING NEW TABLE AS new_rows"
            f" FOR EACH STATEMENT EXECUTE FUNCTION catalog_check_references({checked})"
        )
        op.execute(
            f"CREATE TRIGGER {on_update} AFTER UPDATE OF {column} ON {child} FOR EACH ROW"
            f" WHEN (NEW.{column} IS DISTINCT FROM OLD.{column}) EXECUTE FUNCTION catalog_check_references({checked})"
        )
        op.execute(
            f"CREATE TRIGGER {on_delete} AFTER DELETE ON {parent} REFERENCING OLD TABLE AS old_rows"
            f" FOR EACH STATEMENT EXECUTE FUNCTION catalog_refuse_orphans({guarded})"
        )
        op.execute(
            f"CREATE TRIGGER {on_key_update} AFTER UPDATE OF {key} ON {parent} FOR EACH ROW"
            f" WHEN (NEW.{key} IS DISTINCT FROM OLD.{key}) EXECUTE FUNCTION catalog_refuse_orphans({guarded})"
        )
        op.execute(
            f"CREATE TRIGGER {on_truncate} BEFORE TRUNCATE ON {parent}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION catalog_refuse_orphans({guarded})"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for constraint, child, column, parent, key, _ in REFERENCES:
        for trigger, table in zip(trigger_names(constraint), (child, child, parent, parent, parent)):
            op.execute(f"DROP TRIGGER {trigger} ON {table}")
        op.execute(f'ALTER TABLE {child} ADD CONSTRAINT "{constraint}" FOREIGN KEY ({column}) REFERENCES {parent} ({key})')
    op.execute("DROP FUNCTION catalog_refuse_orphans()")
    op.execute("DROP FUNCTION catalog_check_references()")


def _foreign_keys(child: str, column: str, parent: str) -> list[str]:
    """The names of the ordinary foreign keys from child(column) to parent (whatever an earlier
    revision or a pre-migrations catalog called them)."""
    rows = op.get_bind().exec_driver_sql(
        "SELECT c.conname FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)"
        " WHERE c.contype = 'f' AND c.conrelid = %(child)s::regclass AND c.confrelid = %(parent)s::regclass"
        " AND a.attname = %(column)s AND cardinality(c.conkey) = 1",
        {"child": child, "parent": parent, "column": column},
    )
    return [name for (name,) in rows]
