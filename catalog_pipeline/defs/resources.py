"""Resources: the catalog database and the provider APIs (HTTP policy, keys, base URLs)."""

from __future__ import annotations

import dagster as dg
from pydantic import Field, PrivateAttr
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from catalog_pipeline.db.engine import catalog_engine, resolve_database_url
from catalog_pipeline.pipeline import credentials
from catalog_pipeline.pipeline.http import FetchedPage, HttpPolicy, ProviderHttp
from catalog_pipeline.pipeline.listing import fetch_model_list
from catalog_pipeline.pipeline.spec import ProviderSpec
from catalog_pipeline.providers import ADAPTERS, adapter_for
from catalog_pipeline.settings import DATABASE_URL_ENV_VAR, CatalogSettings, load_settings


class CatalogDatabase(dg.ConfigurableResource):
    """The catalog. `url` unset: `CATALOG_DATABASE_URL` (environment, then `.env`), else a SQLite file in ~/.model-catalog-sync."""

    url: str | None = Field(default=None, description=f"SQLAlchemy URL of the catalog database (unset: ${DATABASE_URL_ENV_VAR})")

    def engine(self) -> Engine:
        return catalog_engine(self.url)

    def resolved_url(self) -> str:
        return resolve_database_url(self.url)

    def describe(self) -> str:
        """The resolved URL with its password hidden, for messages."""
        return make_url(self.resolved_url()).render_as_string(hide_password=True)


class ProviderApis(dg.ConfigurableResource):
    """HTTP policy for provider model-list calls. Keys and base URLs come from each provider's
    `<SLUG>_API_KEY` / `<SLUG>_BASE_URL` (environment, then `.env`), read when a run starts."""

    connect_timeout_seconds: float = 10.0
    read_timeout_seconds: float = 60.0
    max_attempts: int = Field(default=4, ge=1, le=10)
    backoff_initial_seconds: float = 1.0
    backoff_max_seconds: float = 30.0
    retry_budget_seconds: float = 180.0

    # Not config: Dagster would show the keys. Outside a run (server, CLI checks) each call reads them anew.
    _settings: CatalogSettings | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._settings = load_settings()

    def using(self, settings: CatalogSettings) -> "ProviderApis":
        """A copy whose keys and base URLs come from `settings`, for work outside a run (CLI, server)."""
        bound = self.model_copy()
        bound._settings = settings
        return bound

    def _current_settings(self) -> CatalogSettings:
        return self._settings if self._settings is not None else load_settings()

    def policy(self) -> HttpPolicy:
        return HttpPolicy(
            connect_timeout=self.connect_timeout_seconds,
            read_timeout=self.read_timeout_seconds,
            max_attempts=self.max_attempts,
            backoff_initial=self.backoff_initial_seconds,
            backoff_max=self.backoff_max_seconds,
            total_budget=self.retry_budget_seconds,
        )

    def credentials_for(self, spec: ProviderSpec) -> credentials.ProviderCredentials:
        return credentials.provider_credentials(spec, self._current_settings())

    def api_key(self, spec: ProviderSpec) -> str | None:
        return self.credentials_for(spec).api_key

    def missing_key_reason(self, spec: ProviderSpec) -> str | None:
        """Why this provider cannot be synced now, or None when it can."""
        return credentials.missing_key_reason(spec, self._current_settings())

    def provider_keys(self) -> list[str]:
        """Every provider key that is set, for redaction."""
        settings = self._current_settings()
        return [key for module in ADAPTERS.values() if (key := credentials.provider_credentials(module.SPEC, settings).api_key)]

    def fetch(self, slug: str) -> list[FetchedPage]:
        """Every page of the provider's model list."""
        module = adapter_for(slug)
        with self.client_for(module.SPEC) as http:
            return fetch_model_list(module, http)

    def client_for(self, spec: ProviderSpec) -> ProviderHttp:
        resolved = self.credentials_for(spec)
        return ProviderHttp(base_url=resolved.base_url, headers=resolved.headers, policy=self.policy(), secrets=resolved.secrets)
