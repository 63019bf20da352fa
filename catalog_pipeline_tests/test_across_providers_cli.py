"""`catalog offers | discrepancies | export` on a synced catalog, and their answers to bad input."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from catalog_pipeline.cli.catalog import main as catalog_main

from .across_helpers import default_router_payload, groq_payload, serve
from .cli_helpers import sync_models_in_process
from .catalog_snapshot import catalog_state, models_by_id
from .synced_catalog import synced, synced_catalog_file  # noqa: F401 - fixtures


def test_discrepancies_table_and_json(synced, capsys):
    assert catalog_main(["discrepancies", "--database-url", synced]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split() == ["novita", "meta-llama/llama-3.3-70b-instruct", "pricing_prompt", "0.26", "huggingface-router", "0.13", "2"]
    assert lines[-1] == "1 discrepancies (more than 1% apart)"
    assert catalog_main(["discrepancies", "--json", "--database-url", synced]) == 0
    (entry,) = json.loads(capsys.readouterr().out, parse_float=Decimal)
    assert entry["ratio"] == 2 and entry["provider_value"] == Decimal("0.00000026")


def test_export_writes_the_requested_format(synced, tmp_path, capsys):
    output = tmp_path / "prices.json"
    assert catalog_main(["export", "--format", "litellm", "--output", str(output), "--database-url", synced]) == 0
    assert capsys.readouterr().out.startswith("wrote ")
    exported = json.loads(output.read_text(), parse_float=Decimal)
    assert exported["groq/llama-3.3-70b-versatile"]["input_cost_per_token"] == Decimal("0.00000059")
    assert not list(tmp_path.glob(".*.partial"))


def test_export_to_a_missing_directory_fails_naming_it_and_changes_nothing(synced, tmp_path, capsys):
    before = catalog_state(synced)
    missing = tmp_path / "no-such-dir" / "out.json"
    assert catalog_main(["export", "--format", "json", "--output", str(missing), "--database-url", synced]) == 2
    assert f"{missing.parent} does not exist" in capsys.readouterr().err
    assert catalog_state(synced) == before


def test_export_onto_a_directory_is_refused(synced, tmp_path, capsys):
    assert catalog_main(["export", "--format", "json", "--output", str(tmp_path), "--database-url", synced]) == 2
    assert "is a directory" in capsys.readouterr().err


def test_unknown_format_is_refused_by_the_parser(synced, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        catalog_main(["export", "--format", "csv", "--output", str(tmp_path / "x"), "--database-url", synced])
    assert exit_info.value.code == 2 and "invalid choice: 'csv'" in capsys.readouterr().err


def test_offers_for_an_unknown_model_exits_1_with_the_query_named(synced, capsys):
    assert catalog_main(["offers", "nothing like this", "--database-url", synced]) == 1
    assert "no canonical model matches 'nothing like this'" in capsys.readouterr().err


def test_admin_offers_answer(synced, monkeypatch):
    from catalog_pipeline.server.offers import BadOffersQuery, discrepancies_view, offers_answer

    monkeypatch.setenv("CATALOG_DATABASE_URL", synced)
    status, body = offers_answer(" llama 3.3 70b ")
    assert status == 200 and body["canonical_model"]["hf_id"] == "meta-llama/Llama-3.3-70B-Instruct"
    groq = next(o for o in body["offers"] if o["provider"] == "groq")
    assert groq["pricing_prompt"] == "0.00000059" and groq["price_source"] == "huggingface-router"
    assert offers_answer("unknown model")[0] == 404
    for bad in (None, "  ", "x" * 201):
        with pytest.raises(BadOffersQuery):
            offers_answer(bad)
    (entry,) = discrepancies_view()
    assert entry["provider"] == "novita" and entry["ratio"] == "2"


def test_sync_models_syncs_the_router_first_then_links_and_exports(provider_env, catalog_url, tmp_path):
    serve(provider_env, "huggingface", default_router_payload())
    serve(provider_env, "groq", groq_payload())
    done = sync_models_in_process("--providers", "groq", "huggingface", database_url=catalog_url)
    assert done.returncode == 0, done.stdout + done.stderr
    # Groq is listed first, yet its price comes from the router synced in the same call.
    groq = models_by_id(catalog_url, "groq")["llama-3.3-70b-versatile"]
    assert groq["price_source"] == "huggingface-router" and groq["match_method"] == "curated"
    exported = json.loads((tmp_path / "exports" / "model_prices_and_context_window.json").read_text(), parse_float=Decimal)
    assert exported["groq/llama-3.3-70b-versatile"]["output_cost_per_token"] == Decimal("0.00000079")
    assert (tmp_path / "exports" / "catalog.json").exists()
