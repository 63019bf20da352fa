"""The set-based helpers the load and the link refresh share (`db/bulk_write.py`): the array text
`one_of` sends instead of psycopg's per-value dump, and the temporary tables `stage_rows` copies
into. Each value must come back exactly, whatever characters it holds."""

from __future__ import annotations

from sqlalchemy import select

from catalog_pipeline.db.bulk_write import one_of, stage_rows
from catalog_pipeline.db.engine import catalog_engine
from catalog_pipeline.db.schema import canonical_models

# Characters with a meaning in PostgreSQL's array text or in COPY text, and ones without.
AWKWARD = [
    'quote"d', "back\\slash", "comma,brace}{", " spaced ", "NULL", "", "tab\there", "new\nline",
    "cr\rhere", "\\N", "ünïcödé/Model-1", "ends with backslash\\", '"', "{}", "a\\\"b",
]


def test_one_of_matches_exactly_the_values_given(postgres_url):
    engine = catalog_engine(postgres_url)
    with engine.begin() as conn:
        rows = [{"slug": value, "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}
                for value in [*AWKWARD, "decoy", "quote", "back"]]
        conn.execute(canonical_models.insert(), rows)
        ids = dict(conn.execute(select(canonical_models.c.slug, canonical_models.c.id)).all())
        found = conn.execute(select(canonical_models.c.slug).where(one_of(conn, canonical_models.c.slug, AWKWARD))).scalars()
        assert sorted(found) == sorted(AWKWARD)
        wanted = [ids[value] for value in AWKWARD[:5]]
        by_id = conn.execute(select(canonical_models.c.id).where(one_of(conn, canonical_models.c.id, wanted))).scalars()
        assert sorted(by_id) == sorted(wanted)
        assert conn.execute(select(canonical_models.c.id).where(one_of(conn, canonical_models.c.slug, []))).all() == []


def test_stage_rows_holds_each_value_as_given(postgres_url):
    engine = catalog_engine(postgres_url)
    rows = [(n, value, None if n % 3 else n * 10, value if n % 2 else None) for n, value in enumerate(AWKWARD)]
    with engine.begin() as conn:
        stage_rows(conn, "staged_test", (("i", "bigint"), ("t", "text"), ("n", "integer"), ("o", "text")), rows)
        assert conn.exec_driver_sql("SELECT i, t, n, o FROM staged_test ORDER BY i").all() == rows
        stage_rows(conn, "staged_empty", (("i", "bigint"), ("t", "text")), [])
        assert conn.exec_driver_sql("SELECT count(*) FROM staged_empty").scalar_one() == 0
