"""A provider's key, base URL and extra headers, from the variables named after its slug."""

from __future__ import annotations

from dataclasses import dataclass

from catalog_pipeline.settings import CatalogSettings

from .spec import ProviderSpec


@dataclass(frozen=True)
class ProviderCredentials:
    base_url: str
    headers: dict[str, str]
    api_key: str | None


def provider_credentials(spec: ProviderSpec, settings: CatalogSettings) -> ProviderCredentials:
    key = settings.variable(spec.api_key_env_var)
    headers = {"Authorization": f"{spec.auth_scheme} {key}"} if key else {}
    headers.update({name: value for name, var in spec.header_env_vars if (value := settings.variable(var))})
    base_url = (settings.variable(spec.base_url_env_var) or spec.base_url).rstrip("/")
    return ProviderCredentials(base_url=base_url, headers=headers, api_key=key)


def missing_key_reason(spec: ProviderSpec, settings: CatalogSettings) -> str | None:
    """Why this provider cannot be synced now, or None when it can."""
    if spec.key_required and not settings.variable(spec.api_key_env_var):
        return f"{spec.api_key_env_var} is not set"
    return None
