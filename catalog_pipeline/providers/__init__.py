"""The provider registry: one adapter module per provider, each with `SPEC`, `fetch`, `transform`
(and optionally `entries(pages)` when entries must be assembled from several calls).

`PROVIDER_ORDER` is the partition order of the raw asset and stays stable; a provider's module
is `catalog_pipeline.providers.<slug with - as _>`.
"""

from __future__ import annotations

import importlib
from types import ModuleType

PROVIDER_ORDER: tuple[str, ...] = (
    "openrouter", "deepinfra", "featherless", "groq", "fireworks", "together", "huggingface",
    "xai", "cerebras", "google-vertex", "nebius", "novita", "helicone", "aihubmix", "anannas",
    "aimo", "near", "chutes", "alibaba", "fal", "vercel-ai-gateway",
)


def _load(slug: str) -> ModuleType | None:
    name = f"{__name__}.{slug.replace('-', '_')}"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            return None
        raise
    assert module.SPEC.slug == slug, f"{name} declares slug {module.SPEC.slug!r}"
    return module


ADAPTERS: dict[str, ModuleType] = {slug: module for slug in PROVIDER_ORDER if (module := _load(slug))}
PROVIDER_SLUGS: list[str] = list(ADAPTERS)


def adapter_for(slug: str) -> ModuleType:
    try:
        return ADAPTERS[slug]
    except KeyError:
        raise KeyError(f"unknown provider {slug!r}; known: {', '.join(PROVIDER_SLUGS)}") from None
