"""Shared readers for the modality and capability facts adapters find in provider payloads."""

from __future__ import annotations

from typing import Any


def string_list(value: Any) -> list[str] | None:
    """A list of non-empty strings, from a list or a comma-separated string; else None."""
    if value is None:
        return None
    if isinstance(value, str):
        items = [part.strip() for part in value.split(",")]
    elif isinstance(value, (list, tuple)):
        items = [item.strip() for item in value if isinstance(item, str)]
    else:
        return None
    return [item for item in items if item]


def modality_of(inputs: list[str] | None, outputs: list[str] | None) -> str | None:
    """`["text", "image"], ["text"]` -> `"text+image->text"`; None when either side is unknown."""
    if not inputs or not outputs:
        return None
    return "+".join(inputs) + "->" + "+".join(outputs)


def flag_in(values: list[str] | None, *names: str) -> bool | None:
    """Whether any of `names` is in `values`; None when the provider gave no list at all."""
    if values is None:
        return None
    return any(name in values for name in names)


def bool_flag(mapping: Any, key: str) -> bool | None:
    """`mapping[key]` when it is a real boolean; None when absent, mistyped or no mapping at all."""
    value = mapping.get(key) if isinstance(mapping, dict) else None
    return value if isinstance(value, bool) else None


def text_inputs(vision: bool | None) -> list[str] | None:
    """Input modalities of a chat model that does or does not take images; None when unknown."""
    if vision is None:
        return None
    return ["text", "image"] if vision else ["text"]
