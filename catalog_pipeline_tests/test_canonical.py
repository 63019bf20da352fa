"""Linking rows to canonical models (pure rules), the curated alias file, and re-links."""

from __future__ import annotations

import json
import re

import pytest

from catalog_pipeline.db.canonical import (
    CURATED, HF_ID, NORMALIZED_NAME, AliasFileError, CatalogRow, curated_aliases, declared_hf_id, normalized_name,
    parse_aliases, plan_links,
)

from .adapter_helpers import load_json
from .conftest import shared_sample


def rows(*specs):
    return [CatalogRow(i, 1, slug, model_id, metadata or {}, True) for i, (slug, model_id, metadata) in enumerate(specs)]


def test_declared_hf_ids():
    assert declared_hf_id("openrouter", "meta-llama/llama-3.3-70b-instruct", {"hugging_face_id": "meta-llama/Llama-3.3-70B-Instruct"}) == "meta-llama/Llama-3.3-70B-Instruct"
    assert declared_hf_id("openrouter", "x-ai/grok-3", {"hugging_face_id": ""}) is None  # "" and null both mean none
    assert declared_hf_id("openrouter", "x-ai/grok-3", {}) is None
    assert declared_hf_id("deepinfra", "openai/gpt-oss-120b", {}) == "openai/gpt-oss-120b"
    assert declared_hf_id("chutes", "Qwen/Qwen3-32B-TEE", {}) == "Qwen/Qwen3-32B"
    assert declared_hf_id("chutes", "Nemotron-3-Nano-Omni-30B-TEE", {}) is None  # no org: not a repo id
    assert declared_hf_id("groq", "openai/gpt-oss-120b", {}) is None  # Groq's ids are its own names
    assert declared_hf_id("together", "not a repo/with spaces", {}) is None


def test_normalized_name():
    assert normalized_name("meta-llama/Llama-3.3-70B-Instruct:free") == "llama-3.3-70b-instruct"
    assert normalized_name("gpt_oss 120b") == "gpt-oss-120b"


def test_methods_in_order_of_trust():
    links = plan_links(rows(
        ("openrouter", "meta-llama/llama-3.3-70b-instruct", {"hugging_face_id": "meta-llama/Llama-3.3-70B-Instruct"}),
        ("groq", "llama-3.3-70b-versatile", None),  # curated
        ("cerebras", "gpt-oss-120b", None),  # curated
        ("deepinfra", "openai/gpt-oss-120b", None),  # hf_id
        ("fireworks", "accounts/fireworks/models/gpt-oss-120b", None),  # same name as a known model
        ("xai", "grok-3", None), ("vercel-ai-gateway", "xai/grok-3", None),  # same name, two providers
        ("aihubmix", "only-here-1", None),  # one provider, no match: unlinked
    ))
    assert [(links[i].slug, links[i].method) for i in range(7)] == [
        ("meta-llama/llama-3.3-70b-instruct", HF_ID),
        ("meta-llama/llama-3.3-70b-instruct", CURATED),
        ("openai/gpt-oss-120b", CURATED),
        ("openai/gpt-oss-120b", HF_ID),
        ("openai/gpt-oss-120b", NORMALIZED_NAME),
        ("grok-3", NORMALIZED_NAME),
        ("grok-3", NORMALIZED_NAME),
    ]
    assert 7 not in links
    assert links[4].confidence == "low" and links[0].confidence == "high" and links[1].confidence == "high"
    assert links[4].hf_id == "openai/gpt-oss-120b"


def test_a_name_shared_by_two_canonical_models_links_nothing():
    links = plan_links(rows(
        ("deepinfra", "org-a/Model-7B", None), ("together", "org-b/model-7b", None), ("fireworks", "model-7b", None),
    ))
    assert 2 not in links


@pytest.mark.parametrize("document, message", [
    ({}, "'canonical_models' list"),
    ({"canonical_models": [{"hf_id": "no-slash", "aliases": []}]}, "canonical_models[0]: 'hf_id'"),
    ({"canonical_models": [{"hf_id": "a/b", "aliases": [{"provider": "groq", "model": "x"}]}]}, "needs non-empty 'provider', 'model' and 'source'"),
    ({"canonical_models": [{"hf_id": "a/b", "aliases": [{"provider": "groq", "model": "x", "source": " "}]}]}, "'source'"),
    ({"canonical_models": [
        {"hf_id": "a/b", "aliases": [{"provider": "groq", "model": "x", "source": "s"}]},
        {"hf_id": "c/d", "aliases": [{"provider": "groq", "model": "x", "source": "s"}]},
    ]}, "already an alias of a/b"),
])
def test_a_malformed_alias_file_is_refused_naming_the_entry(document, message):
    with pytest.raises(AliasFileError, match=re.escape(message)):
        parse_aliases(document)


def test_the_shipped_alias_file_is_valid_and_cites_a_source_for_every_alias():
    aliases = curated_aliases()
    assert aliases[("groq", "llama-3.3-70b-versatile")].hf_id == "meta-llama/Llama-3.3-70B-Instruct"
    assert all(alias.source.startswith("https://") for alias in aliases.values())


@pytest.mark.parametrize("slug, sample", [("groq", "groq.json"), ("cerebras", "cerebras.json")])
def test_every_curated_alias_names_an_id_the_provider_really_lists(slug, sample):
    payload = load_json(shared_sample(sample))
    listed = {entry["id"] for entry in (payload["data"] if isinstance(payload, dict) else payload)}
    curated = {model for provider, model in curated_aliases() if provider == slug}
    assert curated and curated <= listed, curated - listed


def test_the_package_ships_the_alias_file():
    from importlib import resources

    text = resources.files("catalog_pipeline.db").joinpath("data/canonical_aliases.json").read_text()
    assert json.loads(text)["canonical_models"]
