"""Fetching a provider's model list as its `SPEC` declares it, unless the adapter says otherwise."""

from __future__ import annotations

from types import ModuleType

from .http import FetchedPage, ProviderHttp
from .paging import fetch_pages
from .spec import ProviderSpec


def fetch_declared_list(spec: ProviderSpec, http: ProviderHttp, path: str | None = None) -> list[FetchedPage]:
    """Every page of `GET <path or SPEC.endpoint_path>?<SPEC.endpoint_query>`, paged by `SPEC.paging`."""
    return fetch_pages(http, path or spec.endpoint_path, dict(spec.endpoint_query), spec.paging)


def fetch_model_list(adapter: ModuleType, http: ProviderHttp) -> list[FetchedPage]:
    """The adapter's own `fetch(http)` when it defines one (several calls, e.g. a second pricing
    endpoint or one list per publisher), else the list its `SPEC` declares."""
    custom = getattr(adapter, "fetch", None)
    if custom is not None:
        return custom(http)
    return fetch_declared_list(adapter.SPEC, http)
