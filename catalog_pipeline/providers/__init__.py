"""The provider registry: one adapter module per provider, each with `SPEC`, `fetch`, `transform`.

Adding a provider = writing its module and listing it here; the slug becomes a partition of the
raw asset. The order is the partition order and stays stable.
"""

from __future__ import annotations

from types import ModuleType

from . import deepinfra, groq, openrouter

_ADAPTERS: tuple[ModuleType, ...] = (openrouter, deepinfra, groq)

ADAPTERS: dict[str, ModuleType] = {module.SPEC.slug: module for module in _ADAPTERS}
PROVIDER_SLUGS: list[str] = list(ADAPTERS)


def adapter_for(slug: str) -> ModuleType:
    try:
        return ADAPTERS[slug]
    except KeyError:
        raise KeyError(f"unknown provider {slug!r}; known: {', '.join(PROVIDER_SLUGS)}") from None
