"""The readers every adapter shares for modalities, capabilities and health."""

from __future__ import annotations

from catalog_pipeline.db.schema import models
from catalog_pipeline.pipeline.modalities import (
    HEALTH_STATUS_LENGTH, feature_flags, health_status, modality_fields,
)


def test_modality_fields_build_the_modality_and_read_vision_from_the_inputs():
    assert modality_fields(["text", "image"], ["text"]) == {
        "modality": "text+image->text", "input_modalities": ["text", "image"],
        "output_modalities": ["text"], "supports_vision": True,
    }
    assert modality_fields(["text"], ["image"])["supports_vision"] is False
    unknown = modality_fields(None, ["text"])
    assert unknown["modality"] is None and unknown["supports_vision"] is None


def test_a_stated_modality_wins_and_a_vision_hint_adds_to_the_inputs():
    assert modality_fields(["text"], ["text"], stated="text+file->text")["modality"] == "text+file->text"
    assert modality_fields(["text"], ["text"], stated="")["modality"] == "text->text"
    assert modality_fields(None, None, vision_hint=True)["supports_vision"] is True
    assert modality_fields(["text"], ["text"], vision_hint=True)["supports_vision"] is True
    assert modality_fields(["text", "image"], ["text"], vision_hint=False)["supports_vision"] is True
    assert modality_fields(None, None, vision_hint=False)["supports_vision"] is False


def test_feature_flags_know_each_providers_words_and_no_list_is_unknown():
    for tools in ("tools", "function_calling", "function-calling", "tool-use"):
        assert feature_flags([tools])["supports_function_calling"] is True
    for reasoning in ("reasoning", "include_reasoning", "reasoning_effort", "thinking"):
        assert feature_flags([reasoning])["supports_reasoning"] is True
    assert feature_flags(["tool_choice", "temperature"]) == {"supports_function_calling": False, "supports_reasoning": False}
    assert feature_flags(None) == {"supports_function_calling": None, "supports_reasoning": None}


def test_health_status_is_a_short_word_or_unknown():
    assert health_status(" live ") == "live"
    assert health_status("x" * HEALTH_STATUS_LENGTH) == "x" * HEALTH_STATUS_LENGTH
    for not_a_word in (None, "", "   ", 1, True, ["live"], "x" * (HEALTH_STATUS_LENGTH + 1)):
        assert health_status(not_a_word) is None
    assert models.c.health_status.type.length == HEALTH_STATUS_LENGTH
