"""The stated rules behind offers, discrepancies and exports, on plain values; and the router
offers a second source may use, read from a real catalog."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from catalog_pipeline.db.engine import catalog_engine
from catalog_pipeline.db.load import load_provider_models
from catalog_pipeline.db.offers import differs, offer_sort_key, power_of_ten_exponent, rank_matches
from catalog_pipeline.db.second_source import router_offers
from catalog_pipeline.exports.litellm import entry as litellm_entry
from catalog_pipeline.exports.writer import dumps
from catalog_pipeline.pipeline.records import ModelRecord, records_to_frame
from catalog_pipeline.providers import adapter_for

from .across_helpers import router_offer


def offer(provider, prompt, completion):
    return {"provider": provider, "model": f"{provider}-model", "pricing_prompt": prompt, "pricing_completion": completion}


def test_cheapest_first_by_input_times_three_plus_output_unknown_last():
    listed = [
        offer("a", Decimal("0.000001"), Decimal("0.000001")),  # 4e-6
        offer("b", None, Decimal("0.0000001")),  # unknown input: last, however cheap its output
        offer("c", Decimal("0.0000002"), Decimal("0.000003")),  # 3.6e-6: cheaper blend despite a dearer output
        offer("d", Decimal("0"), Decimal("0")),
    ]
    assert [o["provider"] for o in sorted(listed, key=offer_sort_key)] == ["d", "c", "a", "b"]


def test_query_matching_prefers_exact_ids_then_fewest_extra_words():
    candidates = [
        {"id": 1, "slug": "meta-llama/llama-3.3-70b-instruct", "hf_id": "meta-llama/Llama-3.3-70B-Instruct", "ids": {"llama-3.3-70b-versatile"}, "offers": 2},
        {"id": 2, "slug": "meta-llama/llama-3.3-70b-instruct-turbo", "hf_id": None, "ids": set(), "offers": 5},
        {"id": 3, "slug": "nvidia/llama-3.3-nemotron-super-49b-v1.5", "hf_id": None, "ids": set(), "offers": 9},
    ]
    assert [c["id"] for c in rank_matches("llama 3.3 70b", candidates)] == [1, 2]
    assert [c["id"] for c in rank_matches("LLAMA-3.3-70B-VERSATILE", candidates)] == [1]
    assert [c["id"] for c in rank_matches("meta-llama/Llama-3.3-70B-Instruct-Turbo", candidates)] == [2]
    assert rank_matches("   ", candidates) == [] and rank_matches("mistral", candidates) == []


@pytest.mark.parametrize("own, second, expected", [
    ("1.011", "1", True), ("1.01", "1", False), ("0.99", "1", False), ("0.989", "1", True),
    ("0", "0", False), ("0.1", "0", True),
])
def test_more_than_one_percent_apart(own, second, expected):
    assert differs(Decimal(own), Decimal(second)) is expected


@pytest.mark.parametrize("ratio, exponent", [
    ("1000", 3), ("0.001", 3), ("1000000", 6), ("1004", 3), ("1020", None), ("10", 1), ("2", None), ("1", None), (None, None),
])
def test_power_of_ten_ratios(ratio, exponent):
    assert power_of_ten_exponent(None if ratio is None else Decimal(ratio)) == exponent


@pytest.mark.parametrize("price", ["0.000000005", "5E-9", "0.00000125", "2.5999999999999996E-7", "0", "12345678901234567890.123456789"])
def test_written_numbers_parse_back_to_the_same_decimal(price):
    text = dumps({"p": Decimal(price), "list": [Decimal(price), None, True, 3, "x\"y"]})
    back = json.loads(text, parse_float=Decimal, parse_int=Decimal)
    assert back["p"] == Decimal(price) and back["list"] == [Decimal(price), None, True, 3, 'x"y']


def test_floats_are_refused():
    with pytest.raises(TypeError, match="Decimal end to end"):
        dumps({"p": 0.1})


def test_litellm_entry_leaves_unknowns_out_and_names_the_mode():
    row = {
        "provider": "together", "provider_model_id": "org/m", "pricing_prompt": Decimal("1E-7"), "pricing_completion": None,
        "pricing_cache_read": None, "pricing_cache_write": None, "pricing_image": None, "context_length": None,
        "max_output_tokens": 4096, "supports_function_calling": False, "supports_vision": None, "supports_reasoning": None,
        "input_modalities": ["text"], "output_modalities": ["text"],
    }
    assert litellm_entry(row) == {
        "input_cost_per_token": Decimal("1E-7"), "max_output_tokens": 4096, "max_tokens": 4096,
        "litellm_provider": "together_ai", "mode": "chat", "supports_function_calling": False,
    }
    image = {**row, "output_modalities": ["image"], "pricing_image": Decimal("0.04")}
    assert litellm_entry(image)["mode"] == "image_generation" and litellm_entry(image)["output_cost_per_image"] == Decimal("0.04")
    assert litellm_entry({**row, "input_modalities": ["audio"]})["mode"] == "audio_transcription"


def test_router_offers_take_only_live_fully_priced_readable_offers(sqlite_url):
    offers = [
        router_offer("groq", Decimal("0.59"), Decimal("0.79")),
        router_offer("cerebras", Decimal("0.85"), Decimal("1.2"), status="staging"),  # not live
        router_offer("novita", Decimal("0.13"), None),  # half a price
        router_offer("nebius", "cheap", Decimal("1")),  # unreadable
        {**router_offer("together", 1, 1), "pricing": [1, 1]},  # not an object
        router_offer("sambanova", Decimal("0.1"), Decimal("0.2")),  # not a provider this catalog syncs
    ]
    record = ModelRecord("meta-llama/Llama-3.3-70B-Instruct", metadata={"offers": offers})
    engine = catalog_engine(sqlite_url)
    load_provider_models(engine, adapter_for("huggingface").SPEC, records_to_frame([record]))
    with engine.connect() as conn:
        found = router_offers(conn)
    assert list(found.by_key) == [("groq", "meta-llama/llama-3.3-70b-instruct")]
    groq = found.by_key[("groq", "meta-llama/llama-3.3-70b-instruct")]
    assert (groq.pricing_prompt, groq.pricing_completion) == (Decimal("0.00000059"), Decimal("0.00000079"))
    assert groq.observed_at is not None and groq.observed_at.replace(tzinfo=timezone.utc) <= datetime.now(timezone.utc)
    assert len(found.rejected) == 2 and "nebius" in found.rejected[0] and "together" in found.rejected[1]


def test_the_section_spelled_from_offer_lines_is_what_one_dumps_of_the_section_writes():
    """The export spells `canonical_models` from its parts' offer lines (strings and nulls only);
    the reference is the section built from whole rows and written by dumps_compact."""
    from catalog_pipeline.exports.catalog_json import canonical_section, canonical_section_text, offer_line, offer_of
    from catalog_pipeline.exports.writer import dumps_compact

    def row(canonical, provider, model, prompt, completion):
        return {"canonical_model": canonical, "provider": provider, "provider_model_id": model,
                "pricing_prompt": prompt, "pricing_completion": completion}

    rows = [
        # Equal prices written differently, which only the names then order; an unknown price last.
        row("llama-3", "groq", "b", Decimal("1E-7"), Decimal("2E-7")),
        row("llama-3", "novita", "a", Decimal("0.00000010"), Decimal("0.0000002")),
        row("llama-3", "aimo", "z", None, Decimal("1")),
        row("llama-3", "xai", "cheap", Decimal("0"), Decimal("0")),
        # Names json.dumps escapes: quotes, backslashes, control and non-ASCII characters.
        row("qwén \"2\"\\x", "deepinfra", "Qwen/Qwén-\u2603\t\"7B\"", Decimal("3"), Decimal("1")),
        row("qwén \"2\"\\x", "chutes", "qwen\\7b\n", Decimal("2.5"), Decimal("1.5")),
        row("a-first", "groq", "\U0001F600 model", Decimal("123456789.123456789"), None),
    ]
    hf_ids = {"llama-3": "meta-llama/Llama-3", "qwén \"2\"\\x": None, "a-first": "ü/ber"}
    by_slug = {}
    for item in rows:
        by_slug.setdefault(item["canonical_model"], []).append(offer_of(item))
    reference = dumps_compact(canonical_section(by_slug, hf_ids))

    lines = json.loads(json.dumps([offer_line(item) for item in reversed(rows)]))  # as a part is read back
    assert canonical_section_text(lines, lambda slugs: {slug: hf_ids[slug] for slug in slugs}) == reference
    assert json.loads(reference)[1]["offers"][0] == {"provider": "xai", "model": "cheap"}
