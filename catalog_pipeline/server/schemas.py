"""The admin API's answers as pydantic models: the routes declare them, FastAPI validates every
answer against them, and the OpenAPI document is generated from them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")  # documented fields first; more may follow


class ErrorAnswer(_Open):
    success: Literal[False] = False
    message: str = Field(description="What went wrong, naming the cause")
    details: dict[str, Any] | None = None


class SyncDetails(_Open):
    provider: str
    provider_id: int | None = None
    models_fetched: int | None = None
    models_transformed: int | None = None
    models_synced: int | None = Field(None, description="0 in a dry run")
    run_id: str | None = None
    run_status: str | None = Field(None, description="Dagster run status: QUEUED, STARTED, SUCCESS, FAILURE, ...")
    dry_run: bool | None = None
    models_skipped: int | None = None
    added: int | None = None
    updated: int | None = None
    reactivated: int | None = None
    deactivated: int | None = None
    unchanged: int | None = None
    diff: dict[str, Any] | None = Field(
        None, description="Dry runs only: added [ids], updated {id: {field: [old, new]}}, reactivated [ids], deactivated [ids]"
    )


class SyncAnswer(_Open):
    success: bool
    message: str
    details: SyncDetails


class ProviderOutcome(_Open):
    provider: str
    status: Literal["succeeded", "queued", "running", "failed", "skipped", "already_running"]
    message: str | None = None
    run_id: str | None = None
    dry_run: bool | None = None


class SyncAllDetails(_Open):
    dry_run: bool
    counts: dict[str, int] = Field(description="Providers per status")
    providers: list[ProviderOutcome]


class SyncAllAnswer(_Open):
    success: bool = Field(description="False when any provider failed")
    message: str
    details: SyncAllDetails


class ProviderInfo(_Open):
    slug: str
    name: str
    kind: str
    api_key_env_var: str
    key_required: bool
    api_key_set: bool = Field(description="Whether the key is set; its value is never reported")
    model_count: int
    active_model_count: int
    last_synced_at: str | None


class ProvidersAnswer(BaseModel):
    providers: list[ProviderInfo]


class RunView(_Open):
    run_id: str
    status: str
    dry_run: bool
    trigger: str | None
    started_at: str | None
    ended_at: str | None
    duration_seconds: float | None
    counts: dict[str, Any] | None
    error: str | None


class HeldPriceChange(_Open):
    model: str
    field: str
    kept: str | None
    pending: str | None
    first_detected_at: str | None
    run_id: str | None


class ProviderStatus(_Open):
    provider: str
    last_success_at: str | None = Field(description="The last write to the catalog")
    stale: bool
    last_run: RunView | None
    pending_price_changes: list[HeldPriceChange]


class ModelCounts(BaseModel):
    models: int
    active_models: int


class CatalogTotals(ModelCounts):
    providers: dict[str, ModelCounts]


class ExpiringModel(_Open):
    provider: str
    provider_model_id: str
    expiration_date: str
    deprecation_date: str | None


class PriceDiscrepancy(_Open):
    provider: str
    model: str
    canonical_model: str
    field: str = Field(description="pricing_prompt or pricing_completion")
    provider_value: str = Field(description="The provider's own price, USD per token")
    provider_source: str
    second_value: str = Field(description="The second source's price for the same provider and model")
    second_source: str
    ratio: str | None = Field(description="provider_value / second_value; null when the second source says 0")


class Offer(_Open):
    provider: str
    model: str = Field(description="The API name to call at this provider")
    pricing_prompt: str | None = Field(description="USD per token; null when unknown")
    pricing_completion: str | None
    price_source: str | None = Field(description="provider or huggingface-router")
    price_observed_at: str | None
    context_length: int | None
    blended_price: str | None = Field(description="pricing_prompt x 3 + pricing_completion, the sort key")


class OffersAnswer(_Open):
    success: Literal[True] = True
    canonical_model: dict[str, str | None] = Field(description="slug and hf_id")
    sort_rule: str
    offers: list[Offer]
    other_matches: list[str] = Field(description="Further canonical models the query matched, best first")


class StatusAnswer(_Open):
    generated_at: str = Field(description="When the catalog and runs were read (cached for up to a few seconds)")
    stale_after_hours: float
    stale_providers: list[str]
    providers_with_pending_price_changes: list[str]
    expiring_within_30_days: list[ExpiringModel] = Field(
        description="Active models whose provider-published expiration_date is today or in the next 30 days, soonest first")
    catalog: CatalogTotals
    price_discrepancies: list[PriceDiscrepancy] = Field(
        description="Provider prices more than 1% away from a second source's price for that provider (see price_discrepancies)")
    providers: list[ProviderStatus]


class Change(_Open):
    id: int = Field(description="Grows with every change; the same change keeps its id")
    provider: str
    provider_model_id: str
    kind: Literal["added", "delisted", "relisted", "changed", "price_held", "price_accepted"]
    field: str | None
    old_value: Any
    new_value: Any
    run_id: str | None
    changed_at: str = Field(description="ISO 8601, UTC")


class ChangesAnswer(BaseModel):
    changes: list[Change]
    next_cursor: str | None = Field(description="Pass as cursor for the next (older) page; null on the last")
