"""Resources: the catalog database and the provider APIs (HTTP policy)."""

from __future__ import annotations

import dagster as dg
from pydantic import Field
from sqlalchemy import Engine

from catalog_pipeline.db.engine import catalog_engine
from catalog_pipeline.pipeline import prefetch
from catalog_pipeline.pipeline.http import FetchedPage, HttpPolicy, ProviderHttp
from catalog_pipeline.pipeline.listing import fetch_model_list
from catalog_pipeline.pipeline.spec import ProviderSpec
from catalog_pipeline.providers import adapter_for


class CatalogDatabase(dg.ConfigurableResource):
    """The catalog. `url` unset: `CATALOG_DATABASE_URL`, else a SQLite file in ~/.model-catalog-sync."""

    url: str | None = Field(default=None, description="SQLAlchemy URL of the catalog database")

    def engine(self) -> Engine:
        return catalog_engine(self.url)


class ProviderApis(dg.ConfigurableResource):
    """HTTP policy for provider model-list calls. Keys and base URLs come from each provider's
    `<SLUG>_API_KEY` / `<SLUG>_BASE_URL`, read when a run starts (never at import)."""

    connect_timeout_seconds: float = 10.0
    read_timeout_seconds: float = 60.0
    max_attempts: int = Field(default=4, ge=1, le=10)
    backoff_initial_seconds: float = 1.0
    backoff_max_seconds: float = 30.0
    retry_budget_seconds: float = 180.0

    def policy(self) -> HttpPolicy:
        return HttpPolicy(
            connect_timeout=self.connect_timeout_seconds,
            read_timeout=self.read_timeout_seconds,
            max_attempts=self.max_attempts,
            backoff_initial=self.backoff_initial_seconds,
            backoff_max=self.backoff_max_seconds,
            total_budget=self.retry_budget_seconds,
        )

    def fetch(self, slug: str) -> list[FetchedPage]:
        """Every page of the provider's model list: prefetched by the caller, or fetched now."""
        future = prefetch.take(slug)
        return future.result() if future is not None else self.fetch_now(slug)

    def fetch_now(self, slug: str) -> list[FetchedPage]:
        module = adapter_for(slug)
        with self.client_for(module.SPEC) as http:
            return fetch_model_list(module, http)

    def client_for(self, spec: ProviderSpec) -> ProviderHttp:
        key = spec.api_key()
        return ProviderHttp(
            base_url=spec.resolved_base_url(),
            headers=spec.auth_headers(),
            policy=self.policy(),
            secrets=(key,) if key else (),
        )
