"""Helpers for adapter unit tests: run an adapter's transform over a payload like the pipeline does."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from catalog_pipeline.pipeline.http import decode_json
from catalog_pipeline.pipeline.normalize import NormalizedModels, normalize
from catalog_pipeline.providers import adapter_for

from .conftest import FIXTURES


def load_json(path: Path) -> Any:
    """Decode like the pipeline does: numbers with a fraction become Decimal."""
    return decode_json(path.read_bytes(), url=str(path))


def fixture_payload(name: str) -> Any:
    return load_json(FIXTURES / name)


def normalize_payloads(slug: str, *payloads: Any) -> NormalizedModels:
    pages = [(f"http://fixture/{slug}/{i}", p) for i, p in enumerate(payloads)]
    return normalize(adapter_for(slug), pages)


def row(result: NormalizedModels, model_id: str) -> dict[str, Any]:
    matches = result.frame[result.frame["provider_model_id"] == model_id]
    assert len(matches) == 1, f"{model_id} not in frame: {list(result.frame['provider_model_id'])}"
    record = matches.iloc[0].to_dict()
    return {k: (None if v is pd.NA else v) for k, v in record.items()}


def D(text: str) -> Decimal:  # noqa: N802
    return Decimal(text)
