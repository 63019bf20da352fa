"""The real provider samples (../shared/provider-samples, read at test time, skipped when absent)
plus a router fixture quoting Groq and Cerebras: `catalog offers` finds Llama 3.3 70B at several
providers, each with the name to call it by, cheapest first."""

from __future__ import annotations

import json
from decimal import Decimal

from catalog_pipeline.cli.catalog import main as catalog_main

from .across_helpers import LLAMA_HF_ID, materialize_cross_provider, router_offer, router_payload
from .adapter_helpers import load_json
from .catalog_snapshot import models_by_id
from .conftest import shared_sample
from .http_server import Reply, json_reply
from .sync_helpers import failure_message, materialize_provider

JSON = {"Content-Type": "application/json"}


def serve_samples(server) -> None:
    for slug in ("groq", "openrouter", "deepinfra"):
        server.route(f"/{slug}/models", Reply(body=shared_sample(f"{slug}.json").read_bytes(), headers=JSON))
    # The Cerebras sample is the `data` array without its envelope (see its .source.txt).
    cerebras = shared_sample("cerebras.json").read_bytes()
    server.route("/cerebras/models", Reply(body=b'{"object": "list", "data": ' + cerebras + b"}", headers=JSON))
    # The real router sample (4 models, Together and Fireworks offers) plus this fixture's model.
    real = load_json(shared_sample("huggingface.json"))
    fixture = router_payload({LLAMA_HF_ID: [router_offer("groq", 0.59, 0.79), router_offer("cerebras", 0.85, 1.2)]})
    server.route("/huggingface/models", json_reply({"object": "list", "data": real["data"] + fixture["data"]}))


def test_offers_on_the_real_samples(provider_env, catalog_url, tmp_path, capsys):
    serve_samples(provider_env)
    for slug in ("huggingface", "groq", "cerebras", "openrouter", "deepinfra"):
        result = materialize_provider(slug, catalog_url)
        assert result.success, f"{slug}: {failure_message(result)}"
    assert materialize_cross_provider(catalog_url, tmp_path).success

    assert catalog_main(["offers", "llama 3.3 70b", "--json", "--database-url", catalog_url]) == 0
    found = json.loads(capsys.readouterr().out, parse_float=Decimal)
    assert found["canonical_model"]["hf_id"] == LLAMA_HF_ID
    offers = [(o["provider"], o["model"]) for o in found["offers"]]
    assert offers == [
        ("openrouter", "meta-llama/llama-3.3-70b-instruct:free"),  # 0 + 0
        ("openrouter", "meta-llama/llama-3.3-70b-instruct"),  # 0.30 + 0.32 per 1M
        ("groq", "llama-3.3-70b-versatile"),  # 1.77 + 0.79, from the router
        ("huggingface", LLAMA_HF_ID),  # the router's cheapest offer, Groq's: a tie, broken by slug
        ("cerebras", "llama-3.3-70b"),  # 2.55 + 1.20
    ]
    assert len({provider for provider, _ in offers}) >= 3
    groq = next(o for o in found["offers"] if o["provider"] == "groq")
    assert groq["price_source"] == "huggingface-router" and groq["pricing_prompt"] == Decimal("0.00000059")

    # The people's table says the same, in USD per 1M tokens.
    assert catalog_main(["offers", "llama 3.3 70b", "--database-url", catalog_url]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].startswith(f"{LLAMA_HF_ID}: 5 offers, cheapest first")
    assert table[4].split()[:5] == ["groq", "llama-3.3-70b-versatile", "0.59", "0.79", "huggingface-router"]

    # Groq models the router does not price stay unknown.
    groq_rows = models_by_id(catalog_url, "groq")
    assert groq_rows["llama-3.1-8b-instant"]["pricing_prompt"] is None
    assert sum(row["price_source"] == "huggingface-router" for row in groq_rows.values()) == 1
