"""model-catalog-sync: a Dagster pipeline keeping one relational catalog of AI models.

Query helpers for users: `get_models_by_provider_slug`, `get_model`, `get_providers`.
"""

from catalog_pipeline.db.queries import get_model, get_models_by_provider_slug, get_providers

__all__ = ["get_model", "get_models_by_provider_slug", "get_providers"]
