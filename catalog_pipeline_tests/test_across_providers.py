"""One model across providers, end to end over loopback HTTP on SQLite and PostgreSQL: links,
second-source prices with their guards, offers cheapest first, discrepancies and exports."""

from __future__ import annotations

import json
from decimal import Decimal

import dagster as dg
import pytest
from sqlalchemy import select

from catalog_pipeline.db.changes import read_changes
from catalog_pipeline.db.engine import catalog_engine
from catalog_pipeline.db.offers import offers, price_discrepancies
from catalog_pipeline.db.price_holds import pending_changes
from catalog_pipeline.db.schema import providers

from .across_helpers import (
    LLAMA_HF_ID, check_result, default_router_payload, groq_payload, materialize_cross_provider, novita_payload,
    openrouter_payload, per_million, serve,
)
from .catalog_snapshot import models_by_id
from .conftest import FIXTURES
from .module_catalogs import catalog_template, serving
from .sync_helpers import failure_message, materialize_provider


def sync(server, database_url, **payloads) -> None:
    for slug, payload in payloads.items():
        serve(server, slug, payload)
        result = materialize_provider(slug, database_url)
        assert result.success, failure_message(result)


def _sync_router_then_groq(url: str) -> None:
    with serving("huggingface", "groq") as server:
        sync(server, url, huggingface=default_router_payload(), groq=groq_payload())


router_then_groq = catalog_template(_sync_router_then_groq, "router_then_groq")


@pytest.fixture
def synced_router_then_groq(router_then_groq, catalog_url) -> str:
    """`catalog_url` as syncing the default router answer, then Groq's fixture, left it."""
    router_then_groq.restore_into(catalog_url)
    assert models_by_id(catalog_url, "groq") and models_by_id(catalog_url, "huggingface")
    return catalog_url


def test_groq_without_a_list_price_gets_the_routers_groq_offer_marked_as_such(synced_router_then_groq):
    catalog_url = synced_router_then_groq
    groq = models_by_id(catalog_url, "groq")
    llama = groq["llama-3.3-70b-versatile"]
    assert llama["pricing_prompt"] == per_million("0.59") and llama["pricing_completion"] == per_million("0.79")
    assert llama["price_source"] == "huggingface-router"
    with catalog_engine(catalog_url).connect() as conn:
        router_synced = conn.execute(select(providers.c.last_synced_at).where(providers.c.slug == "huggingface")).scalar()
    assert llama["price_observed_at"] == router_synced
    # No router offer for these: nothing is invented.
    for unpriced in ("whisper-large-v3", "playai-tts", "openai/gpt-oss-120b"):
        assert groq[unpriced]["pricing_prompt"] is None and groq[unpriced]["pricing_completion"] is None
        assert groq[unpriced]["price_source"] is None and groq[unpriced]["price_observed_at"] is None


def test_a_providers_own_price_is_never_overwritten(provider_env, catalog_url):
    # The router quotes Novita at 0.13/0.39 per 1M; Novita itself says 0.15/0.45.
    sync(provider_env, catalog_url, huggingface=default_router_payload(), novita=novita_payload(1500, 4500))
    llama = models_by_id(catalog_url, "novita")["meta-llama/llama-3.3-70b-instruct"]
    assert llama["pricing_prompt"] == per_million("0.15") and llama["pricing_completion"] == per_million("0.45")
    assert llama["price_source"] == "provider"


def test_resync_keeps_the_row_and_its_observation_time(provider_env, synced_router_then_groq):
    catalog_url = synced_router_then_groq
    before = models_by_id(catalog_url, "groq")["llama-3.3-70b-versatile"]
    sync(provider_env, catalog_url, huggingface=default_router_payload(), groq=groq_payload())
    after = models_by_id(catalog_url, "groq")["llama-3.3-70b-versatile"]
    assert after == before  # same price, same source: not even updated_at moves


def test_a_router_price_moving_tenfold_is_held_like_any_other(provider_env, synced_router_then_groq):
    catalog_url = synced_router_then_groq
    sync(provider_env, catalog_url, huggingface=default_router_payload(groq_input=59, groq_output=79))
    sync(provider_env, catalog_url, groq=groq_payload())
    llama = models_by_id(catalog_url, "groq")["llama-3.3-70b-versatile"]
    assert llama["pricing_prompt"] == per_million("0.59")  # kept until accepted
    held = {(c["provider_model_id"], c["column_name"]): c["new_value"] for c in pending_changes(catalog_engine(catalog_url), "groq")}
    assert held == {
        ("llama-3.3-70b-versatile", "pricing_prompt"): per_million("59"),
        ("llama-3.3-70b-versatile", "pricing_completion"): per_million("79"),
    }


def test_an_implausible_router_price_fails_the_blocking_check_and_changes_nothing(provider_env, catalog_url):
    sync(provider_env, catalog_url, huggingface=router_with_groq_price(5000))  # 0.005 USD per token
    serve(provider_env, "groq", groq_payload())
    result = materialize_provider("groq", catalog_url)
    assert not result.success
    assert "prices_are_plausible" in failure_message(result) and "llama-3.3-70b-versatile" in failure_message(result)
    assert models_by_id(catalog_url, "groq") == {}


def router_with_groq_price(input_per_m):
    return default_router_payload(groq_input=input_per_m, groq_output=input_per_m)


def test_offers_list_every_provider_cheapest_first_with_api_names(provider_env, catalog_url, tmp_path):
    sync(provider_env, catalog_url, huggingface=default_router_payload(), groq=groq_payload(),
         novita=novita_payload(), openrouter=openrouter_payload())
    result = materialize_cross_provider(catalog_url, tmp_path)
    assert result.success
    assert check_result(result, "active_models_linked").passed is False  # playai-tts and mixtral: no alias

    found = offers("llama 3.3 70b", database_url=catalog_url)
    assert found["canonical_model"] == {"slug": LLAMA_HF_ID.lower(), "hf_id": LLAMA_HF_ID}
    listed = [(o["provider"], o["model"], o["price_source"], o["match_method"]) for o in found["offers"]]
    # Blended (input x 3 + output, per 1M): OpenRouter 0.62, Novita 0.78, router (cheapest offer) 0.78, Groq 2.56.
    assert listed == [
        ("openrouter", "meta-llama/llama-3.3-70b-instruct", "provider", "hf_id"),
        ("huggingface", LLAMA_HF_ID, "provider", "hf_id"),
        ("novita", "meta-llama/llama-3.3-70b-instruct", "provider", "hf_id"),
        ("groq", "llama-3.3-70b-versatile", "huggingface-router", "curated"),
    ]
    assert [o["blended_price"] for o in found["offers"]] == [per_million(v) for v in ("0.62", "0.78", "0.78", "2.56")]
    assert offers("gpt-oss-120b", database_url=catalog_url)["offers"][0]["pricing_prompt"] is None
    assert offers("no such model at all", database_url=catalog_url) is None


def test_discrepancies_give_both_values_sources_and_ratio(provider_env, catalog_url, tmp_path):
    # Novita lists 1000x the router's quote: a per-1M value read as per-token looks like this.
    sync(provider_env, catalog_url, huggingface=default_router_payload(), novita=novita_payload(1_300_000, 3900))
    result = materialize_cross_provider(catalog_url, tmp_path)
    assert result.success
    (entry,) = price_discrepancies(catalog_engine(catalog_url))
    assert entry["provider"] == "novita" and entry["field"] == "pricing_prompt"
    assert (entry["provider_value"], entry["second_value"]) == (per_million("130"), per_million("0.13"))
    assert (entry["provider_source"], entry["second_source"], entry["ratio"]) == ("provider", "huggingface-router", Decimal(1000))
    check = check_result(result, "no_unit_error_ratios")
    assert check.passed is False and check.metadata["suspected_unit_errors"].value == 1


def test_prices_within_one_percent_are_no_discrepancy(provider_env, catalog_url, tmp_path):
    sync(provider_env, catalog_url, huggingface=default_router_payload(), novita=novita_payload(1301, 3900))
    assert materialize_cross_provider(catalog_url, tmp_path).success
    assert price_discrepancies(catalog_engine(catalog_url)) == []


def test_discrepancies_are_compared_anew_only_when_what_they_read_has_moved(provider_env, catalog_url, tmp_path):
    def refresh() -> tuple[dict, dg.AssetCheckEvaluation]:
        result = materialize_cross_provider(catalog_url, tmp_path, instance)
        assert result.success
        (materialization,) = [m for m in result.asset_materializations_for_node("price_discrepancies")]
        return {key: value.value for key, value in materialization.metadata.items()}, check_result(result, "no_unit_error_ratios")

    postgresql = catalog_url.startswith("postgresql")
    instance = dg.DagsterInstance.ephemeral()
    sync(provider_env, catalog_url, huggingface=default_router_payload(), novita=novita_payload(1_300_000, 3900))
    first, check = refresh()
    assert first["compared_anew"] is True and first["discrepancies"] == 1 and check.metadata["suspected_unit_errors"].value == 1

    # xAI is no provider the router quotes: its sync moves nothing the discrepancies read.
    serve(provider_env, "xai", json.loads((FIXTURES / "xai_models.json").read_text()), "/language-models")
    assert materialize_provider("xai", catalog_url).success
    second, check = refresh()
    assert second["compared_anew"] is not postgresql  # SQLite keeps no fingerprint: always compared
    assert (second["discrepancies"], second["entries"]) == (first["discrepancies"], first["entries"])
    assert check.passed is False and check.metadata["suspected_unit_errors"].value == 1
    assert check.metadata["entries"].value == first["entries"]

    # Novita's price moves by 1% (not held): compared anew, with the new price.
    sync(provider_env, catalog_url, novita=novita_payload(1_313_000, 3900))
    third, check = refresh()
    assert third["compared_anew"] is True and third["discrepancies"] == 1
    assert Decimal(str(third["entries"][0]["provider_value"])) == per_million("131.3")


def test_exports_round_trip_every_price_exactly(provider_env, catalog_url, tmp_path):
    sync(provider_env, catalog_url, huggingface=default_router_payload(), groq=groq_payload(),
         novita=novita_payload(), openrouter=openrouter_payload())
    assert materialize_cross_provider(catalog_url, tmp_path).success
    litellm = json.loads((tmp_path / "model_prices_and_context_window.json").read_text(), parse_float=Decimal)
    stored = {
        f"{prefix}/{model_id}": row
        for slug, prefix in (("groq", "groq"), ("novita", "novita"), ("openrouter", "openrouter"), ("huggingface", "huggingface"))
        for model_id, row in models_by_id(catalog_url, slug).items() if row["is_active"]
    }
    assert set(litellm) == set(stored)
    compared = 0
    for key, row in stored.items():
        for column, field in (("pricing_prompt", "input_cost_per_token"), ("pricing_completion", "output_cost_per_token"),
                              ("pricing_cache_read", "cache_read_input_token_cost")):
            if row[column] is None:
                assert field not in litellm[key]  # unknown stays unknown, never 0
            else:
                assert litellm[key][field] == row[column] and isinstance(litellm[key][field], Decimal)
                compared += 1
    assert compared >= 8
    groq = litellm["groq/llama-3.3-70b-versatile"]
    assert groq["litellm_provider"] == "groq" and groq["mode"] == "chat" and groq["max_input_tokens"] == 131072

    catalog = json.loads((tmp_path / "catalog.json").read_text(), parse_float=Decimal)
    assert catalog["format"] == "model-catalog-sync/catalog" and catalog["version"] == 1
    (llama,) = [c for c in catalog["canonical_models"] if c["hf_id"] == LLAMA_HF_ID]
    assert llama["offers"][-1] == {"provider": "groq", "model": "llama-3.3-70b-versatile"}
    groq_row = next(m for m in catalog["models"] if m["model"] == "llama-3.3-70b-versatile")
    assert groq_row["pricing"] == {"prompt": per_million("0.59"), "completion": per_million("0.79")}
    assert groq_row["price_source"] == "huggingface-router"


def test_price_observed_at_moves_with_the_price_and_only_with_it(provider_env, catalog_url):
    sync(provider_env, catalog_url, novita=novita_payload())
    first = models_by_id(catalog_url, "novita")["meta-llama/llama-3.3-70b-instruct"]
    other_content = novita_payload()
    other_content["data"][0]["context_size"] = 65536
    sync(provider_env, catalog_url, novita=other_content)
    second = models_by_id(catalog_url, "novita")["meta-llama/llama-3.3-70b-instruct"]
    assert second["context_length"] == 65536 and second["updated_at"] > first["updated_at"]
    assert second["price_observed_at"] == first["price_observed_at"]  # the price did not move

    sync(provider_env, catalog_url, novita=novita_payload(1400))
    third = models_by_id(catalog_url, "novita")["meta-llama/llama-3.3-70b-instruct"]
    assert third["pricing_prompt"] == per_million("0.14") and third["price_observed_at"] > first["price_observed_at"]


def test_a_relink_is_reported_never_silent(provider_env, catalog_url, tmp_path):
    from catalog_pipeline.db.canonical import rebuild_links

    sync(provider_env, catalog_url, openrouter=openrouter_payload())
    first = rebuild_links(catalog_engine(catalog_url))
    assert first.linked == {"hf_id": 1} and first.relinked == []
    assert rebuild_links(catalog_engine(catalog_url)).relinked == []  # nothing changed: nothing reported

    moved = openrouter_payload()
    moved["data"][0]["hugging_face_id"] = "meta-llama/Llama-3.1-8B-Instruct"
    sync(provider_env, catalog_url, openrouter=moved)
    result = materialize_cross_provider(catalog_url, tmp_path)
    (event,) = result.asset_materializations_for_node("canonical_models")
    assert event.metadata["relinked"].value == [{
        "provider": "openrouter", "model": "meta-llama/llama-3.3-70b-instruct",
        "old": "meta-llama/llama-3.3-70b-instruct", "new": "meta-llama/llama-3.1-8b-instruct", "method": "hf_id",
    }]
    row = models_by_id(catalog_url, "openrouter")["meta-llama/llama-3.3-70b-instruct"]
    assert (row["match_method"], row["match_confidence"]) == ("hf_id", "high")
    relinks = [c for c in read_changes(catalog_engine(catalog_url), provider="openrouter") if c["field"] == "canonical_model"]
    assert [(c["kind"], c["old_value"], c["new_value"]) for c in relinks] == [
        ("changed", "meta-llama/llama-3.3-70b-instruct", "meta-llama/llama-3.1-8b-instruct"),
    ]
    assert relinks[0]["run_id"] == result.run_id


def test_router_prices_go_into_price_history_and_the_change_feed(provider_env, catalog_url):
    from catalog_pipeline.db.history import price_periods

    sync(provider_env, catalog_url, groq=groq_payload())  # no router yet: unknown
    sync(provider_env, catalog_url, huggingface=default_router_payload(), groq=groq_payload())
    sync(provider_env, catalog_url, huggingface=default_router_payload(groq_input=0.69), groq=groq_payload())
    engine = catalog_engine(catalog_url)
    periods = price_periods(engine, "groq", "llama-3.3-70b-versatile")
    assert [p["pricing_prompt"] for p in periods] == [None, per_million("0.59"), per_million("0.69")]
    changed = {
        (c["field"], c["old_value"], c["new_value"])
        for c in read_changes(engine, provider="groq", kind="changed") if c["provider_model_id"] == "llama-3.3-70b-versatile"
    }
    assert ("price_source", None, "huggingface-router") in changed
    assert ("pricing_prompt", None, "0.00000059") in changed and ("pricing_prompt", "0.00000059", "0.00000069") in changed
