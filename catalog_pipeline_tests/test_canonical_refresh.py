"""The link refresh at scale: links written in chunks by one statement each, OpenRouter's stated
Hugging Face id read in the database, and the result always what the pure plan says, on SQLite
and PostgreSQL, after a first sync, after a change and from scratch."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import delete, func, select, update

from catalog_pipeline.db import canonical
from catalog_pipeline.db.canonical import CatalogRow, plan_links, rebuild_links
from catalog_pipeline.db.engine import catalog_engine
from catalog_pipeline.db.schema import canonical_models, models, providers

from .across_helpers import _fixture, default_router_payload, groq_payload, novita_fixture_payload, novita_payload, serve
from .sync_helpers import failure_message, materialize_provider


def _sync(server, database_url, **payloads) -> None:
    for slug, payload in payloads.items():
        serve(server, slug, payload)
        result = materialize_provider(slug, database_url)
        assert result.success, failure_message(result)


def _stored_links(engine) -> dict[tuple[str, str], tuple]:
    query = (
        select(providers.c.slug, models.c.provider_model_id, canonical_models.c.slug, canonical_models.c.hf_id,
               models.c.match_method, models.c.match_confidence)
        .join(providers, providers.c.id == models.c.provider_id)
        .outerjoin(canonical_models, canonical_models.c.id == models.c.canonical_model_id)
    )
    with engine.connect() as conn:
        return {(p, m): tuple(rest) for p, m, *rest in conn.execute(query).all()}


def _planned_links(engine) -> dict[tuple[str, str], tuple]:
    """What the pure plan links, from every row's whole metadata."""
    query = select(models.c.id, models.c.provider_id, providers.c.slug, models.c.provider_model_id, models.c.metadata,
                   models.c.is_active).join(providers, providers.c.id == models.c.provider_id)
    with engine.connect() as conn:
        rows = [CatalogRow(*row) for row in conn.execute(query).all()]
    links = plan_links(rows)
    planned = {}
    for row in rows:
        link = links.get(row.id)
        planned[(row.provider_slug, row.provider_model_id)] = (
            (link.slug, link.method, link.confidence) if link else (None, None, None)
        )
    return planned


def _without_hf_ids(stored: dict) -> dict:
    return {key: (slug, method, confidence) for key, (slug, _hf_id, method, confidence) in stored.items()}


def _openrouter(hf_ids: dict[int, object]) -> dict:
    payload = copy.deepcopy(_fixture("openrouter_models.json"))
    for index, stated in hf_ids.items():
        payload["data"][index]["hugging_face_id"] = stated
    return payload


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(canonical, "_UPDATE_CHUNK", 2)  # many statements even for a handful of rows


def test_links_in_the_database_are_the_pure_plan_after_every_change_and_from_scratch(
    provider_env, catalog_url, small_chunks
):
    engine = catalog_engine(catalog_url)
    openrouter = _fixture("openrouter_models.json")
    assert len(openrouter["data"]) >= 3
    _sync(
        provider_env, catalog_url, huggingface=default_router_payload(), groq=groq_payload(), novita=novita_payload(),
        together=_fixture("together_models.json"), openrouter=openrouter,
    )
    rebuild_links(engine)
    first = _stored_links(engine)
    assert sum(1 for slug, *_ in first.values() if slug) >= 5
    assert _without_hf_ids(first) == _planned_links(engine)

    # OpenRouter restates two ids and gives a number and an object where an id belongs.
    changed = _openrouter({1: "meta-llama/Llama-3.1-8B-Instruct", 0: 123, 2: {"id": "org/name"}})
    _sync(provider_env, catalog_url, openrouter=changed)
    report = rebuild_links(engine)
    after = _stored_links(engine)
    assert _without_hf_ids(after) == _planned_links(engine)
    moved = changed["data"][1]["id"]
    assert first[("openrouter", moved)][0] == "tiny/edge-1b"
    assert tuple(after[("openrouter", moved)][:2]) == ("meta-llama/llama-3.1-8b-instruct", "meta-llama/Llama-3.1-8B-Instruct")
    # The change feed names the canonical model the row left, though no row links to it now.
    assert {r["model"]: (r["old"], r["new"]) for r in report.relinked}[moved] == ("tiny/edge-1b", "meta-llama/llama-3.1-8b-instruct")
    unchanged = {key: value for key, value in after.items() if key[0] != "openrouter"}
    assert unchanged == {key: value for key, value in first.items() if key[0] != "openrouter"}

    # From scratch: no links, no link keys and no canonical models, then one refresh. Same links, same spellings.
    with engine.begin() as conn:
        conn.execute(update(models).values(canonical_model_id=None, match_method=None, match_confidence=None, link_key=None, link_hash=None))
        conn.execute(delete(canonical_models))
    rebuild_links(engine)
    assert _stored_links(engine) == after
    assert rebuild_links(engine).relinked == []


def _refreshed_as_from_scratch(engine) -> tuple:
    """Refresh incrementally, then check it is what a plan of every row gives; returns the report
    and how many rows the refresh planned."""
    planned = []
    original = canonical.plan_links

    def counting(rows, *args):
        rows = list(rows)
        planned.append(len(rows))
        return original(rows, *args)

    canonical.plan_links = counting
    try:
        report = rebuild_links(engine)
    finally:
        canonical.plan_links = original
    incremental = _stored_links(engine)
    assert _without_hf_ids(incremental) == _planned_links(engine)
    full = rebuild_links(engine, full=True)
    assert _stored_links(engine) == incremental and full.relinked == []
    summary = ("linked", "unlinked_active", "unlinked_examples", "canonical_models")
    assert [getattr(report, key) for key in summary] == [getattr(full, key) for key in summary]
    with engine.connect() as conn:  # the counts, each asked on its own
        linked = conn.execute(
            select(models.c.match_method, func.count()).where(models.c.canonical_model_id.is_not(None)).group_by(models.c.match_method)
        ).all()
        unlinked = conn.execute(
            select(func.count()).select_from(models).where(models.c.canonical_model_id.is_(None), models.c.is_active.is_(True))
        ).scalar_one()
    assert (report.linked, report.unlinked_active) == (dict(linked), unlinked)
    return report, planned[0]


def test_an_incremental_refresh_plans_only_the_changed_groups_and_links_as_a_full_one(provider_env, catalog_url, monkeypatch):
    engine = catalog_engine(catalog_url)
    _sync(
        provider_env, catalog_url, huggingface=default_router_payload(), groq=groq_payload(), novita=novita_fixture_payload(),
        together=_fixture("together_models.json"), openrouter=_fixture("openrouter_models.json"),
        chutes=_fixture("chutes_models.json"),
    )
    with engine.connect() as conn:
        catalog_rows = conn.execute(select(func.count()).select_from(models)).scalar_one()
    _, planned = _refreshed_as_from_scratch(engine)
    assert planned == catalog_rows
    assert _refreshed_as_from_scratch(engine)[1] == 0  # nothing changed: nothing planned

    # Added: Novita now sells a Mixtral too, so Groq's unchanged Mixtral row joins a two-provider group.
    mixtral = {"id": "mistral/mixtral-8x7b-32768", "title": "mistral/mixtral-8x7b-32768"}
    _sync(provider_env, catalog_url, novita=novita_fixture_payload([mixtral]))
    _, planned = _refreshed_as_from_scratch(engine)
    assert 0 < planned < catalog_rows
    assert _stored_links(engine)[("groq", "mixtral-8x7b-32768")][2] == "normalized_name"

    # Repriced, then delisted.
    _sync(provider_env, catalog_url, novita=novita_fixture_payload([mixtral], price=31000))
    assert 0 < _refreshed_as_from_scratch(engine)[1] < catalog_rows
    _sync(provider_env, catalog_url, novita=novita_fixture_payload(price=31000))
    _refreshed_as_from_scratch(engine)

    # Renamed: OpenRouter states other Hugging Face ids, moving rows from one group to another.
    _sync(provider_env, catalog_url, openrouter=_openrouter({1: "meta-llama/Llama-3.1-8B-Instruct", 0: "tiny/Edge-8B-Instruct"}))
    report, _ = _refreshed_as_from_scratch(engine)
    assert {r["model"] for r in report.relinked} >= {"tiny/edge-1b"}

    # A provider's whole list replaced by other ids.
    replaced = copy.deepcopy(_fixture("chutes_models.json"))
    for entry in replaced["data"]:
        entry["id"] = entry["id"].replace("-TEE", "-v2-TEE")
    serve(provider_env, "chutes", replaced)
    result = materialize_provider("chutes", catalog_url, force=True)
    assert result.success, failure_message(result)
    _refreshed_as_from_scratch(engine)

    # New link rules (here a curated alias more) make every stored key stale.
    aliases = {**canonical.curated_aliases(), ("groq", "playai-tts"): canonical.Alias("playai/PlayAI-TTS", "test")}
    monkeypatch.setattr(canonical, "curated_aliases", lambda: aliases)
    _, planned = _refreshed_as_from_scratch(engine)
    assert _stored_links(engine)[("groq", "playai-tts")][2] == "curated"
