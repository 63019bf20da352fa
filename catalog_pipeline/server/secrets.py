"""Keep secrets out of responses: the admin key and every provider key, whatever text carries them.
The redactor and its mask are the pipeline's own (`pipeline/redact.py`), so every place masks alike."""

from __future__ import annotations

from catalog_pipeline.defs.resources import provider_keys
from catalog_pipeline.pipeline.redact import MASK, MIN_SECRET_LENGTH, Redactor

__all__ = ["MASK", "MIN_SECRET_LENGTH", "Redactor", "provider_keys"]
