"""The rows every export reads: active models with their provider and canonical model."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select

from catalog_pipeline.db.schema import canonical_models, models, providers


def active_catalog(engine: Engine) -> list[dict[str, Any]]:
    query = (
        select(
            providers.c.slug.label("provider"), providers.c.name.label("provider_name"),
            providers.c.base_url, providers.c.kind, providers.c.last_synced_at,
            canonical_models.c.slug.label("canonical_model"), canonical_models.c.hf_id,
            models,
        )
        .join(providers, providers.c.id == models.c.provider_id)
        .outerjoin(canonical_models, canonical_models.c.id == models.c.canonical_model_id)
        .where(models.c.is_active.is_(True))
        .order_by(providers.c.slug, models.c.provider_model_id)
    )
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]
