"""Every row of every table in a catalog database, to prove that something wrote nothing at all."""

from __future__ import annotations

from typing import Any

from sqlalchemy import MetaData, create_engine, select
from sqlalchemy.engine import make_url


def dump_all_tables(database_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """{table: rows ordered by every column}, for whatever tables the database holds now."""
    url = make_url(database_url)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    engine = create_engine(url)
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        with engine.connect() as conn:
            return {
                name: [tuple(row) for row in conn.execute(select(table).order_by(*(table.primary_key.columns or table.columns)))]
                for name, table in sorted(metadata.tables.items())
            }
    finally:
        engine.dispose()
