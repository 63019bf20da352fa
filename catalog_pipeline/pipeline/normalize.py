"""Raw pages -> one validated, normalized frame. Shared by every adapter.

The adapter only maps one entry to a `ModelRecord`; this module finds the entries in each page,
isolates per-entry failures (the entry is skipped with its reason, the rest load), and enforces
what every row must satisfy: a non-empty id, unique within the provider.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from types import ModuleType
from typing import TYPE_CHECKING, Any, Callable, Iterable

if TYPE_CHECKING:
    import pandas as pd

from catalog_pipeline.collector import collector_paused

from .http import ProviderFetchError
from .money import InvalidPrice
from .records import PRICE_COLUMNS, ModelRecord, SkipModel, records_to_frame
from .storable import INTEGER_COLUMNS, make_storable, shown

Transform = Callable[[dict[str, Any]], "ModelRecord | Iterable[ModelRecord]"]
Pages = list[tuple[str, Any]]  # (url, decoded JSON) in fetch order


class PayloadShapeError(ProviderFetchError):
    """Valid JSON, but not the documented shape of the provider's model list."""


@dataclass
class NormalizedModels:
    frame: pd.DataFrame
    fetched: int
    skipped: list[str] = field(default_factory=list)


def extract_entries(payload: Any, list_path: tuple[str, ...], *, url: str = "") -> list[Any]:
    node = payload
    walked: list[str] = []
    for key in list_path:
        if not isinstance(node, dict) or key not in node:
            raise PayloadShapeError(
                f"unexpected response shape from {url or 'provider'}: expected a JSON object with"
                f" {'.'.join([*walked, key])!r}, got {_describe(node)}"
            )
        node = node[key]
        walked.append(key)
    if not isinstance(node, list):
        where = ".".join(list_path) or "the top level"
        raise PayloadShapeError(
            f"unexpected response shape from {url or 'provider'}: expected a list at {where}, got {_describe(node)}"
        )
    return node


def entries_of(adapter: ModuleType, pages: Pages) -> list[Any]:
    """The model entries of a fetched list: the adapter's own `entries(pages)` when it defines one
    (e.g. to join a second pricing call), else the list at `SPEC.list_path` of every page."""
    custom = getattr(adapter, "entries", None)
    if custom is not None:
        return custom(pages)
    entries: list[Any] = []
    for url, payload in pages:
        entries.extend(extract_entries(payload, adapter.SPEC.list_path, url=url))
    return entries


def normalize(adapter: ModuleType, pages: Pages) -> NormalizedModels:
    """Run the adapter's `transform` over every entry; bad entries are skipped with a reason."""
    with collector_paused():
        return _normalized(adapter, pages)


def _normalized(adapter: ModuleType, pages: Pages) -> NormalizedModels:
    entries = entries_of(adapter, pages)
    transform: Transform = adapter.transform
    records: list[ModelRecord] = []
    skipped: list[str] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        label = _entry_label(entry, index)
        if not isinstance(entry, dict):
            skipped.append(f"{label}: expected an object, got {_describe(entry)}")
            continue
        try:
            produced = transform(entry)
            batch = [produced] if isinstance(produced, ModelRecord) else list(produced)
            for record in batch:
                _validate(record)
        except (SkipModel, InvalidPrice, KeyError, TypeError, ValueError, AttributeError) as exc:
            skipped.append(f"{label}: {_reason(exc)}")
            continue
        for record in batch:
            if record.provider_model_id in seen:
                skipped.append(f"{record.provider_model_id}: duplicate id, the first entry was kept")
                continue
            seen.add(record.provider_model_id)
            records.append(record)
    return NormalizedModels(frame=records_to_frame(records), fetched=len(entries), skipped=skipped)


def _validate(record: ModelRecord) -> None:
    model_id = record.provider_model_id
    if not isinstance(model_id, str) or not model_id.strip():
        raise SkipModel("missing or empty model id")
    record.provider_model_id = model_id.strip()
    for column in PRICE_COLUMNS:
        value = getattr(record, column)
        if value is not None and (not isinstance(value, Decimal) or value < 0):
            raise SkipModel(f"{column} is not a non-negative Decimal: {shown(value)}")
    for column in ("supports_streaming", "supports_function_calling", "supports_vision", "supports_reasoning", "is_active"):
        value = getattr(record, column)
        if value is not None and not isinstance(value, bool):
            raise SkipModel(f"{column} is not a boolean: {value!r}")
    if record.is_active is None:
        raise SkipModel("is_active is not a boolean: None")
    for column in INTEGER_COLUMNS:
        value = getattr(record, column)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, Decimal)) or not _integral(value)):
            raise SkipModel(f"{column} is not an integer: {shown(value)}")
    make_storable(record)
    for column in INTEGER_COLUMNS:
        value = getattr(record, column)
        # Providers send 0 for "not applicable" (image models): that is unknown, not a limit.
        setattr(record, column, int(value) if value is not None and value > 0 else None)
    for column in ("deprecation_date", "expiration_date"):
        value = getattr(record, column)
        if value is not None and (not isinstance(value, date) or isinstance(value, datetime)):
            raise SkipModel(f"{column} is not a date: {value!r}")
    if not record.model_name:
        record.model_name = record.provider_model_id


def _integral(value: int | Decimal) -> bool:
    return isinstance(value, int) or (value.is_finite() and value == value.to_integral_value())


_PLAIN_LABEL_LENGTH = 200


def _entry_label(entry: Any, index: int) -> str:
    if isinstance(entry, dict):
        for key in ("id", "model_id", "modelId", "name", "endpoint_id"):
            value = entry.get(key)
            if isinstance(value, str) and value.strip():
                # The label lands in run metadata: a NUL, a lone surrogate or a 1 MB id is quoted.
                return value if len(value) <= _PLAIN_LABEL_LENGTH and value.isprintable() else shown(value)
    return f"entry #{index}"


def _reason(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r}"
    return str(exc) or type(exc).__name__


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        keys = list(value)[:8]
        return f"an object with keys {keys}"
    if isinstance(value, list):
        return f"a list of {len(value)} items"
    return f"{type(value).__name__} {str(value)[:60]!r}"
