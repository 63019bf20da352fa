"""Resources: the catalog database and the provider APIs (HTTP policy)."""

from __future__ import annotations

import os

import dagster as dg
from pydantic import Field
from sqlalchemy import Engine

from catalog_pipeline.db.engine import catalog_engine
from catalog_pipeline.pipeline import prefetch
from catalog_pipeline.pipeline.body import MiB
from catalog_pipeline.pipeline.http import FetchedPage, HttpPolicy, ProviderHttp
from catalog_pipeline.pipeline.listing import fetch_model_list
from catalog_pipeline.pipeline.redact import Redactor
from catalog_pipeline.pipeline.spec import ProviderSpec
from catalog_pipeline.providers import ADAPTERS, adapter_for

ADMIN_KEY_ENV_VAR = "ADMIN_API_KEY"


def provider_keys() -> list[str]:
    return [key for module in ADAPTERS.values() if (key := module.SPEC.api_key())]


def configured_secrets() -> list[str]:
    """Every configured key: all providers' keys and ADMIN_API_KEY. The one place that gathers
    them, until a settings module owns the environment."""
    admin = os.environ.get(ADMIN_KEY_ENV_VAR)
    return provider_keys() + ([admin] if admin else [])


def configured_redactor() -> Redactor:
    return Redactor(configured_secrets())


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
    deadline_seconds: float = Field(
        default=180.0, gt=0, description="wall-clock limit per provider: connect, retries, slow bodies, all pages"
    )
    max_page_bytes: int = Field(
        default=64 * MiB, ge=1, description="cap per page, on bytes received and (separately) after decompression"
    )
    max_provider_bytes: int = Field(
        default=256 * MiB, ge=1, description="cap on all pages of one provider, received and after decompression"
    )

    def policy(self) -> HttpPolicy:
        return HttpPolicy(
            connect_timeout=self.connect_timeout_seconds,
            read_timeout=self.read_timeout_seconds,
            max_attempts=self.max_attempts,
            backoff_initial=self.backoff_initial_seconds,
            backoff_max=self.backoff_max_seconds,
            deadline=self.deadline_seconds,
            max_page_bytes=self.max_page_bytes,
            max_provider_bytes=self.max_provider_bytes,
        )

    def fetch(self, slug: str) -> list[FetchedPage]:
        """Every page of the provider's model list: prefetched by the caller, or fetched now."""
        future = prefetch.take(slug)
        return future.result() if future is not None else self.fetch_now(slug)

    def fetch_now(self, slug: str) -> list[FetchedPage]:
        module = adapter_for(slug)
        with self.client_for(module.SPEC) as http:
            return fetch_model_list(module, http)

    def redactor(self) -> Redactor:
        """Masks every configured key (all providers' and the admin key) in whatever it is given."""
        return configured_redactor()

    def client_for(self, spec: ProviderSpec) -> ProviderHttp:
        return ProviderHttp(
            base_url=spec.resolved_base_url(),
            headers=spec.auth_headers(),
            policy=self.policy(),
            redactor=self.redactor(),
            extra_origins=spec.extra_origins,
        )
