"""The rows every export reads: active models with their provider and canonical model."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Engine, Text, cast, select

from catalog_pipeline.db.schema import canonical_models, models, providers

# Only what some export writes: `metadata`, the widest column, is left in the database.
_MODEL_COLUMNS = (
    "provider_model_id", "model_name", "match_method", "match_confidence",
    "pricing_prompt", "pricing_completion", "pricing_cache_read", "pricing_cache_write", "pricing_image", "pricing_request",
    "price_source", "price_observed_at", "context_length", "max_output_tokens",
    "supports_streaming", "supports_function_calling", "supports_vision", "supports_reasoning",
)
# A few distinct lists across the whole catalog: read as text, each spelling decoded once (the
# rows share the decoded lists, which the exports only read).
_MODALITIES = ("input_modalities", "output_modalities")


@lru_cache(maxsize=4096)
def _decoded(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def active_catalog(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return active_rows(conn)


def active_rows(conn: Connection, provider_slug: str | None = None) -> list[dict[str, Any]]:
    """The active rows (of one provider, or all), by provider slug then model id."""
    query = (
        select(
            providers.c.slug.label("provider"), providers.c.name.label("provider_name"),
            providers.c.base_url, providers.c.kind, providers.c.last_synced_at,
            canonical_models.c.slug.label("canonical_model"), canonical_models.c.hf_id,
            *(models.c[column] for column in _MODEL_COLUMNS),
            *(cast(models.c[column], Text).label(column) for column in _MODALITIES),
        )
        .join(providers, providers.c.id == models.c.provider_id)
        .outerjoin(canonical_models, canonical_models.c.id == models.c.canonical_model_id)
        .where(models.c.is_active.is_(True))
        .order_by(providers.c.slug, models.c.provider_model_id)
    )
    if provider_slug is not None:
        query = query.where(providers.c.slug == provider_slug)
    result = conn.execute(query)
    keys = tuple(result.keys())
    rows = [dict(zip(keys, row)) for row in result.all()]
    for row in rows:
        for column in _MODALITIES:
            row[column] = _decoded(row[column])
    return rows
