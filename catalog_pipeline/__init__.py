"""model-catalog-sync: a Dagster pipeline keeping one relational catalog of AI models.

Query helpers for users: `get_models_by_provider_slug`, `get_model`, `get_providers`,
`price_at` and `price_history`.
"""

from catalog_pipeline.db.queries import get_model, get_models_by_provider_slug, get_providers, price_at, price_history

__all__ = ["get_model", "get_models_by_provider_slug", "get_providers", "price_at", "price_history"]
