"""Resources: the catalog database and the provider APIs (HTTP policy)."""

from __future__ import annotations

import dagster as dg
from pydantic import Field, PrivateAttr
from sqlalchemy import Engine

from catalog_pipeline.db.engine import DatabaseTimeouts, catalog_engine, describe_database_url, resolve_database_url
from catalog_pipeline.pipeline import credentials
from catalog_pipeline.pipeline.http import FetchedPage, HttpPolicy, ProviderHttp
from catalog_pipeline.pipeline.redact import Redactor
from catalog_pipeline.pipeline.spec import ProviderSpec
from catalog_pipeline.provider_calls import configured_redactor, fetch_provider, provider_client, provider_keys
from catalog_pipeline.settings import DATABASE_URL_ENV_VAR, CatalogSettings, load_settings

# Re-exported: the handoff and the admin server take the redactor and the keys from here.
__all__ = ["CatalogDatabase", "ProviderApis", "configured_redactor", "provider_keys"]
_DEFAULT_POLICY = HttpPolicy()  # the fields' defaults: a worker's early fetches use the same policy


class CatalogDatabase(dg.ConfigurableResource):
    """The catalog. `url` unset: `CATALOG_DATABASE_URL` (environment, then `.env`), else a SQLite file in ~/.model-catalog-sync."""

    url: str | None = Field(default=None, description=f"SQLAlchemy URL of the catalog database (unset: ${DATABASE_URL_ENV_VAR})")
    connect_timeout_seconds: float = Field(default=10.0, gt=0, description="PostgreSQL: connecting")
    statement_timeout_seconds: float = Field(default=120.0, gt=0, description="PostgreSQL statement_timeout")
    lock_timeout_seconds: float = Field(default=30.0, gt=0, description="PostgreSQL lock_timeout")
    no_answer_timeout_seconds: float = Field(
        default=150.0, gt=0, description="PostgreSQL: give up on a server that answers nothing (frozen)"
    )
    keepalive_idle_seconds: int = Field(default=30, ge=1, description="PostgreSQL: TCP keepalive after idle")
    keepalive_interval_seconds: int = Field(default=10, ge=1, description="PostgreSQL: between keepalive probes")
    keepalive_count: int = Field(default=3, ge=1, description="PostgreSQL: unanswered probes before the link is dead")
    sqlite_busy_timeout_seconds: float = Field(default=60.0, ge=0, description="SQLite: waiting for another writer")

    def engine(self) -> Engine:
        return catalog_engine(self.url, self.timeouts())

    def timeouts(self) -> DatabaseTimeouts:
        return DatabaseTimeouts(
            connect_seconds=self.connect_timeout_seconds,
            statement_seconds=self.statement_timeout_seconds,
            lock_seconds=self.lock_timeout_seconds,
            no_answer_seconds=self.no_answer_timeout_seconds,
            keepalive_idle_seconds=self.keepalive_idle_seconds,
            keepalive_interval_seconds=self.keepalive_interval_seconds,
            keepalive_count=self.keepalive_count,
            sqlite_busy_seconds=self.sqlite_busy_timeout_seconds,
        )

    def resolved_url(self) -> str:
        return resolve_database_url(self.url)

    def describe(self) -> str:
        """The resolved URL with its password hidden, for messages."""
        return describe_database_url(self.url)


class ProviderApis(dg.ConfigurableResource):
    """HTTP policy for provider model-list calls. Keys and base URLs come from each provider's
    `<SLUG>_API_KEY` / `<SLUG>_BASE_URL` (environment, then `.env`), read when a run starts."""

    connect_timeout_seconds: float = _DEFAULT_POLICY.connect_timeout
    read_timeout_seconds: float = _DEFAULT_POLICY.read_timeout
    max_attempts: int = Field(default=_DEFAULT_POLICY.max_attempts, ge=1, le=10)
    backoff_initial_seconds: float = _DEFAULT_POLICY.backoff_initial
    backoff_max_seconds: float = _DEFAULT_POLICY.backoff_max
    deadline_seconds: float = Field(
        default=_DEFAULT_POLICY.deadline, gt=0, description="wall-clock limit per provider: connect, retries, slow bodies, all pages"
    )
    max_page_bytes: int = Field(
        default=_DEFAULT_POLICY.max_page_bytes, ge=1, description="cap per page, on bytes received and (separately) after decompression"
    )
    max_provider_bytes: int = Field(
        default=_DEFAULT_POLICY.max_provider_bytes, ge=1, description="cap on all pages of one provider, received and after decompression"
    )
    max_provider_values: int = Field(
        default=_DEFAULT_POLICY.max_provider_values, ge=1,
        description="cap on the JSON values in all pages of one provider, counted as they arrive: decoded,"
        " many tiny values take far more memory than their bytes",
    )

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
            deadline=self.deadline_seconds,
            max_page_bytes=self.max_page_bytes,
            max_provider_bytes=self.max_provider_bytes,
            max_provider_values=self.max_provider_values,
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
        return provider_keys(self._current_settings())

    def fetch(self, slug: str) -> list[FetchedPage]:
        """Every page of the provider's model list."""
        return fetch_provider(slug, self.policy(), self._current_settings())

    def redactor(self) -> Redactor:
        """Masks every configured key (all providers' and the admin key) in whatever it is given."""
        return configured_redactor(self._current_settings())

    def client_for(self, spec: ProviderSpec) -> ProviderHttp:
        return provider_client(spec, self.policy(), self._current_settings())
