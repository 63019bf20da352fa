"""The provider registry: every module in this package is one provider's adapter, registered by
being here. A module `<slug with - as _>.py` exports `SPEC` (a `ProviderSpec`: what to call and
how) and `transform(entry)`; optionally `fetch(http)`, when the list takes more calls than the
one `SPEC` declares, and `entries(pages)`, when entries must be assembled from several calls.

Providers are ordered by slug: the stable partition order of the assets.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from catalog_pipeline.pipeline.spec import ProviderSpec


def _adapter(name: str) -> ModuleType:
    module = importlib.import_module(f"{__name__}.{name}")
    spec = getattr(module, "SPEC", None)
    if not isinstance(spec, ProviderSpec) or not callable(getattr(module, "transform", None)):
        raise ImportError(f"{module.__name__} is in the provider package but has no ProviderSpec SPEC and transform")
    if spec.slug.replace("-", "_") != name:
        raise ImportError(f"{module.__name__} declares slug {spec.slug!r}; its module must be named after it")
    return module


def discover_adapters() -> dict[str, ModuleType]:
    """Every adapter module on this package's path, by slug in slug order."""
    found = {
        (module := _adapter(info.name)).SPEC.slug: module
        for info in pkgutil.iter_modules(__path__)
        if not info.name.startswith("_")
    }
    return dict(sorted(found.items()))


# The router: its offers quote other providers' prices, their second source (db/second_source.py),
# so its run comes first. Here rather than there: sync-models deals out the providers knowing it,
# before it imports the catalog's loading code (and pandas).
ROUTER_SLUG = "huggingface"
ADAPTERS: dict[str, ModuleType] = discover_adapters()
PROVIDER_SLUGS: list[str] = list(ADAPTERS)


def adapter_for(slug: str) -> ModuleType:
    try:
        return ADAPTERS[slug]
    except KeyError:
        raise KeyError(f"unknown provider {slug!r}; known: {', '.join(PROVIDER_SLUGS)}") from None
