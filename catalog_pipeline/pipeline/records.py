"""The one normalized shape every adapter produces, and the pandas frame built from it."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd
# pandas (0.25 s to import) is imported where a frame is made: the catalog's schema and the provider
# specs import this module, and `sync-models` reads both before it hands a worker its providers.


class SkipModel(Exception):
    """Raised by an adapter's `transform` for an entry that cannot become a catalog row."""


@dataclass
class ModelRecord:
    """One model as the catalog stores it. Prices: USD per token (image / request: per unit)."""

    provider_model_id: str
    model_name: str | None = None
    description: str | None = None
    pricing_prompt: Decimal | None = None
    pricing_completion: Decimal | None = None
    pricing_image: Decimal | None = None
    pricing_request: Decimal | None = None
    pricing_cache_read: Decimal | None = None
    pricing_cache_write: Decimal | None = None
    price_source: str | None = None  # set by db/second_source.py, never by an adapter
    context_length: int | None = None
    max_output_tokens: int | None = None
    modality: str | None = None
    input_modalities: list[str] | None = None
    output_modalities: list[str] | None = None
    supports_streaming: bool | None = None
    supports_function_calling: bool | None = None
    supports_vision: bool | None = None
    supports_reasoning: bool | None = None
    is_active: bool = True
    health_status: str | None = None
    deprecation_date: date | None = None  # as published (pipeline/lifecycle.py)
    expiration_date: date | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


PRICE_COLUMNS = (
    "pricing_prompt",
    "pricing_completion",
    "pricing_image",
    "pricing_request",
    "pricing_cache_read",
    "pricing_cache_write",
)

# Column -> pandas dtype of the normalized frame, identical for every provider.
MODEL_FRAME_DTYPES: dict[str, str] = {
    "provider_model_id": "string",
    "model_name": "string",
    "description": "string",
    **{column: "object" for column in PRICE_COLUMNS},  # Decimal or None
    "price_source": "string",
    "context_length": "Int64",
    "max_output_tokens": "Int64",
    "modality": "string",
    "input_modalities": "object",
    "output_modalities": "object",
    "supports_streaming": "boolean",
    "supports_function_calling": "boolean",
    "supports_vision": "boolean",
    "supports_reasoning": "boolean",
    "is_active": "boolean",
    "health_status": "string",
    "deprecation_date": "object",  # datetime.date or None
    "expiration_date": "object",
    "metadata": "object",
}
MODEL_COLUMNS = tuple(MODEL_FRAME_DTYPES)
assert MODEL_COLUMNS == tuple(f.name for f in fields(ModelRecord))


def records_to_frame(records: list[ModelRecord]) -> pd.DataFrame:
    import pandas as pd

    data = {column: [getattr(r, column) for r in records] for column in MODEL_COLUMNS}
    frame = pd.DataFrame(data, columns=list(MODEL_COLUMNS))
    return frame.astype(MODEL_FRAME_DTYPES)


def frame_columns(frame: pd.DataFrame) -> dict[str, list[Any]]:
    """Plain Python values (None for NA) of each catalog column."""
    import pandas as pd

    columns = {}
    for column in MODEL_COLUMNS:
        values = frame[column].tolist()
        if MODEL_FRAME_DTYPES[column] != "object":  # nullable extension dtypes mark missing as pd.NA
            values = [None if v is pd.NA else v for v in values]
        columns[column] = values
    return columns
