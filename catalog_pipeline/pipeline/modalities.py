"""Shared readers for the modality, capability and health facts adapters find in provider payloads."""

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


# The words providers use in feature / parameter / tag lists for the two capabilities.
TOOL_WORDS = ("tools", "function_calling", "function-calling", "tool-use")
REASONING_WORDS = ("reasoning", "include_reasoning", "reasoning_effort", "thinking")


def modality_fields(
    inputs: list[str] | None,
    outputs: list[str] | None,
    *,
    stated: Any = None,
    vision_hint: bool | None = None,
) -> dict[str, Any]:
    """The `ModelRecord` modality fields from the input and output lists: `modality` as the
    provider states it (a non-empty string) or built from the lists, and `supports_vision` when
    the inputs take images or `vision_hint` (e.g. a `vision` tag) says so; unknown stays None."""
    vision = [flag for flag in (flag_in(inputs, "image"), vision_hint) if flag is not None]
    return {
        "modality": stated if isinstance(stated, str) and stated else modality_of(inputs, outputs),
        "input_modalities": inputs,
        "output_modalities": outputs,
        "supports_vision": any(vision) if vision else None,
    }


def feature_flags(features: list[str] | None) -> dict[str, Any]:
    """`supports_function_calling` and `supports_reasoning` from a provider's list of feature,
    parameter or tag words; both None when the provider gave no list."""
    return {
        "supports_function_calling": flag_in(features, *TOOL_WORDS),
        "supports_reasoning": flag_in(features, *REASONING_WORDS),
    }


HEALTH_STATUS_LENGTH = 32  # the length of the catalog's health_status column


def health_status(value: Any) -> str | None:
    """A provider's own status word for a model (`live`, `deprecated` ...) as it publishes it; None
    when absent, not a string, empty, or longer than the catalog column holds."""
    if not isinstance(value, str):
        return None
    word = value.strip()
    return word if 0 < len(word) <= HEALTH_STATUS_LENGTH else None
