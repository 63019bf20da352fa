"""Read the whole catalog state, to prove that a failed or dry sync changed nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from catalog_pipeline.db.engine import catalog_engine
from catalog_pipeline.db.schema import models, providers


def catalog_state(database_url: str) -> dict[str, Any]:
    with catalog_engine(database_url).connect() as conn:
        return {
            "providers": [dict(r) for r in conn.execute(select(providers).order_by(providers.c.id)).mappings()],
            "models": [dict(r) for r in conn.execute(select(models).order_by(models.c.id)).mappings()],
        }


def models_by_id(database_url: str, slug: str) -> dict[str, dict[str, Any]]:
    from catalog_pipeline import get_models_by_provider_slug

    return {row["provider_model_id"]: row for row in get_models_by_provider_slug(slug, database_url=database_url)}


def every_table(database_url: str, *, leave_out: tuple[str, ...] = ()) -> dict[str, list[dict[str, Any]]]:
    """Every row of every catalog table, in primary-key order."""
    from catalog_pipeline.db.schema import metadata_obj

    with catalog_engine(database_url).connect() as conn:
        return {
            table.name: [dict(r) for r in conn.execute(select(table).order_by(*table.primary_key.columns)).mappings()]
            for table in metadata_obj.sorted_tables
            if table.name not in leave_out
        }
