"""Calling the providers' model-list APIs without Dagster: the client a provider's fetch uses (its
base URL, key headers and the HTTP policy) and the redactor that masks every configured secret.

`ProviderApis` (defs/resources.py) fetches through these; a sync worker calls them directly to
start its fetches before it imports Dagster (sync_workers.py).
"""

from __future__ import annotations

from catalog_pipeline.pipeline import credentials
from catalog_pipeline.pipeline.http import FetchedPage, HttpPolicy, ProviderHttp
from catalog_pipeline.pipeline.listing import fetch_model_list
from catalog_pipeline.pipeline.redact import Redactor
from catalog_pipeline.pipeline.spec import ProviderSpec
from catalog_pipeline.providers import ADAPTERS, adapter_for
from catalog_pipeline.settings import CatalogSettings, load_settings


def provider_keys(settings: CatalogSettings | None = None) -> list[str]:
    """Every provider key that is set (`settings` unset: read now)."""
    settings = settings or load_settings()
    return [key for module in ADAPTERS.values() if (key := credentials.provider_credentials(module.SPEC, settings).api_key)]


def configured_secrets(settings: CatalogSettings | None = None) -> list[str]:
    """Every configured key: all providers' keys and ADMIN_API_KEY."""
    settings = settings or load_settings()
    admin = settings.admin_api_key.get_secret_value() if settings.admin_api_key else None
    return provider_keys(settings) + ([admin] if admin else [])


def configured_redactor(settings: CatalogSettings | None = None) -> Redactor:
    return Redactor(configured_secrets(settings))


def provider_client(spec: ProviderSpec, policy: HttpPolicy, settings: CatalogSettings) -> ProviderHttp:
    resolved = credentials.provider_credentials(spec, settings)
    return ProviderHttp(
        base_url=resolved.base_url,
        headers=resolved.headers,
        policy=policy,
        redactor=configured_redactor(settings),
        extra_origins=spec.extra_origins,
    )


def fetch_provider(slug: str, policy: HttpPolicy, settings: CatalogSettings) -> list[FetchedPage]:
    """Every page of the provider's model list."""
    module = adapter_for(slug)
    with provider_client(module.SPEC, policy, settings) as http:
        return fetch_model_list(module, http)
