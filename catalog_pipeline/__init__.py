"""model-catalog-sync: a Dagster pipeline keeping one relational catalog of AI models.

Query helpers for users: `get_models_by_provider_slug`, `get_model`, `get_providers`,
`price_at` and `price_history`.
"""

from importlib import import_module
from typing import Any

__all__ = ["get_model", "get_models_by_provider_slug", "get_providers", "price_at", "price_history"]


def __getattr__(name: str) -> Any:
    # Imported on first use: the query helpers pull in pandas and SQLAlchemy, which every command
    # that merely imports a submodule (`sync-models --help`, the code location) would pay for.
    if name in __all__:
        return getattr(import_module("catalog_pipeline.db.queries"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
