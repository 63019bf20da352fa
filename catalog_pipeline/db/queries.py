"""Read helpers for users of the catalog."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import case, func, select

from . import history
from .engine import catalog_engine
from .schema import models, providers


def get_models_by_provider_slug(
    slug: str, *, active_only: bool = False, database_url: str | None = None
) -> list[dict[str, Any]]:
    """Every catalog row of one provider as a dict (prices as Decimal, USD per token)."""
    query = (
        select(models, providers.c.slug.label("provider_slug"))
        .join(providers, providers.c.id == models.c.provider_id)
        .where(providers.c.slug == slug)
        .order_by(models.c.provider_model_id)
    )
    if active_only:
        query = query.where(models.c.is_active.is_(True))
    with catalog_engine(database_url).connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def get_model(slug: str, provider_model_id: str, *, database_url: str | None = None) -> dict[str, Any] | None:
    query = (
        select(models)
        .join(providers, providers.c.id == models.c.provider_id)
        .where(providers.c.slug == slug, models.c.provider_model_id == provider_model_id)
    )
    with catalog_engine(database_url).connect() as conn:
        row = conn.execute(query).mappings().first()
        return dict(row) if row else None


def get_providers(*, database_url: str | None = None) -> list[dict[str, Any]]:
    """Providers with their model counts (total and active) and last sync time."""
    active = func.sum(case((models.c.is_active.is_(True), 1), else_=0))
    query = (
        select(providers, func.count(models.c.id).label("model_count"), func.coalesce(active, 0).label("active_model_count"))
        .outerjoin(models, models.c.provider_id == providers.c.id)
        .group_by(providers.c.id)
        .order_by(providers.c.slug)
    )
    with catalog_engine(database_url).connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def price_at(
    provider_slug: str, provider_model_id: str, when: datetime, *, database_url: str | None = None
) -> dict[str, Any] | None:
    """The model's prices at `when` (timezone-aware) and the period they held:
    `{valid_from, valid_to, pricing_*, run_id}`; None if the catalog had no price for it then."""
    return history.price_at(catalog_engine(database_url), provider_slug, provider_model_id, when)


def price_history(provider_slug: str, provider_model_id: str, *, database_url: str | None = None) -> list[dict[str, Any]]:
    """Every period of the model's prices, oldest first."""
    return history.price_periods(catalog_engine(database_url), provider_slug, provider_model_id)


def get_expiring_models(
    within_days: int = 30, *, today: date | None = None, database_url: str | None = None
) -> list[dict[str, Any]]:
    """Active models whose provider-published expiration date falls within the next `within_days`
    days (today included), soonest first."""
    today = today or datetime.now(timezone.utc).date()
    query = (
        select(providers.c.slug.label("provider"), models.c.provider_model_id, models.c.expiration_date, models.c.deprecation_date)
        .join(providers, providers.c.id == models.c.provider_id)
        .where(
            models.c.is_active.is_(True),
            models.c.expiration_date >= today,
            models.c.expiration_date <= today + timedelta(days=within_days),
        )
        .order_by(models.c.expiration_date, providers.c.slug, models.c.provider_model_id)
    )
    with catalog_engine(database_url).connect() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]
