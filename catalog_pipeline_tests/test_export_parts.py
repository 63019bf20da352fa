"""Exports put together from per-provider parts: byte for byte what one read of the whole catalog
writes, after every kind of change, with only the changed providers' rows spelled again."""

from __future__ import annotations

import copy
import json
import re

from sqlalchemy import text

from catalog_pipeline.db.canonical import rebuild_links
from catalog_pipeline.db.engine import catalog_engine
from catalog_pipeline.exports import FILE_NAMES, FORMATS, export_catalogs, parts, spell_parts_ahead
from catalog_pipeline.exports.rows import active_catalog
from catalog_pipeline.exports.writer import dumps_compact

from .across_helpers import _fixture, default_router_payload, groq_payload, novita_fixture_payload, serve
from .sync_helpers import failure_message, materialize_provider

GENERATED_AT = re.compile(r'"generated_at":"[^"]*"')


def _sync(server, database_url, **payloads) -> None:
    for slug, payload in payloads.items():
        serve(server, slug, payload)
        result = materialize_provider(slug, database_url)
        assert result.success, failure_message(result)


def _exported_as_one_read_writes(engine, directory, monkeypatch) -> set[str]:
    """Refresh links, export, and compare each file with the whole document written at once;
    returns the providers whose rows the export spelled."""
    spelled = set()
    original = parts.active_rows

    def counting(conn, slug=None):
        spelled.add(slug)
        return original(conn, slug)

    monkeypatch.setattr(parts, "active_rows", counting)
    rebuild_links(engine)
    paths = {fmt: directory / FILE_NAMES[fmt] for fmt in FORMATS}
    written = export_catalogs(engine, paths)
    rows = active_catalog(engine)
    assert written == {fmt: len(rows) for fmt in FORMATS}
    for fmt, path in paths.items():
        expected = dumps_compact(FORMATS[fmt](rows)) + "\n"
        assert GENERATED_AT.sub("", path.read_text(encoding="utf-8")) == GENERATED_AT.sub("", expected)
    return spelled


def test_exports_from_parts_are_the_whole_document_and_spell_only_what_changed(provider_env, catalog_url, tmp_path, monkeypatch):
    engine = catalog_engine(catalog_url)
    kept = engine.dialect.name == "postgresql"  # SQLite spells every provider every time
    _sync(provider_env, catalog_url, huggingface=default_router_payload(), groq=groq_payload(), novita=novita_fixture_payload(),
          together=_fixture("together_models.json"), openrouter=_fixture("openrouter_models.json"))
    everyone = {"huggingface", "groq", "novita", "together", "openrouter"}
    assert _exported_as_one_read_writes(engine, tmp_path, monkeypatch) == everyone
    assert _exported_as_one_read_writes(engine, tmp_path, monkeypatch) == (set() if kept else everyone)

    # Novita adds PlayAI TTS under its Hugging Face id: its rows change, and Groq's unchanged (and
    # active) playai-tts row gets a link by name, which Groq's part must show.
    playai = {"id": "playai/playai-tts", "title": "playai/playai-tts"}
    _sync(provider_env, catalog_url, novita=novita_fixture_payload([playai]))
    assert _exported_as_one_read_writes(engine, tmp_path, monkeypatch) == ({"novita", "groq"} if kept else everyone)

    # Repriced, delisted; then a provider's whole list replaced by other ids.
    _sync(provider_env, catalog_url, novita=novita_fixture_payload([playai], price=31000))
    assert _exported_as_one_read_writes(engine, tmp_path, monkeypatch) == ({"novita"} if kept else everyone)
    _sync(provider_env, catalog_url, novita=novita_fixture_payload(price=31000))
    _exported_as_one_read_writes(engine, tmp_path, monkeypatch)
    replaced = copy.deepcopy(_fixture("together_models.json"))
    for entry in replaced:  # Together's list is a bare array
        entry["id"] += "-v2"
    serve(provider_env, "together", replaced)
    assert materialize_provider("together", catalog_url, force=True).success
    assert "together" in _exported_as_one_read_writes(engine, tmp_path, monkeypatch)

    # A provider with no active rows left drops out of the files and its parts go.
    serve(provider_env, "groq", {"object": "list", "data": []})
    assert materialize_provider("groq", catalog_url, force=True).success
    _exported_as_one_read_writes(engine, tmp_path, monkeypatch)
    assert not any(path.name.startswith("groq") for path in (tmp_path / f".{FILE_NAMES['json']}.parts").glob("*"))


def test_parts_spelled_ahead_of_the_links_are_taken_only_while_the_links_stand(provider_env, catalog_url, tmp_path, monkeypatch):
    # A sync worker spells the parts of the provider it ran last while the main process links.
    engine = catalog_engine(catalog_url)
    kept = engine.dialect.name == "postgresql"  # SQLite keeps no part: nothing to spell ahead
    everyone = {"huggingface", "groq", "novita"}
    _sync(provider_env, catalog_url, huggingface=default_router_payload(), groq=groq_payload(), novita=novita_fixture_payload())
    _exported_as_one_read_writes(engine, tmp_path, monkeypatch)
    paths = {fmt: tmp_path / FILE_NAMES[fmt] for fmt in FORMATS}

    # Repriced: the links move none of Novita's rows, so its parts spelled before them are taken.
    _sync(provider_env, catalog_url, novita=novita_fixture_payload(price=31000))
    assert spell_parts_ahead(engine, paths, "novita") is kept
    assert spell_parts_ahead(engine, paths, "novita") is False  # kept by the first
    assert _exported_as_one_read_writes(engine, tmp_path, monkeypatch) == (set() if kept else everyone)

    # A new row the links then give a canonical model: the parts spelled ahead are not what the
    # rows now are, and the export spells them again.
    playai = {"id": "playai/playai-tts", "title": "playai/playai-tts"}
    _sync(provider_env, catalog_url, novita=novita_fixture_payload([playai], price=31000))
    assert spell_parts_ahead(engine, paths, "novita") is kept
    assert _exported_as_one_read_writes(engine, tmp_path, monkeypatch) == ({"novita", "groq"} if kept else everyone)


def test_the_canonical_section_is_spelled_again_only_when_an_offer_or_a_hugging_face_id_changes(provider_env, catalog_url, tmp_path, monkeypatch):
    engine = catalog_engine(catalog_url)
    sections = []  # the export's own spellings of the section (each reads the Hugging Face ids once)
    original = parts._hf_ids

    def counting(conn, slugs):
        sections.append(len(slugs))
        return original(conn, slugs)

    monkeypatch.setattr(parts, "_hf_ids", counting)
    _sync(provider_env, catalog_url, huggingface=default_router_payload(), groq=groq_payload(), novita=novita_fixture_payload())
    _exported_as_one_read_writes(engine, tmp_path, monkeypatch)
    _exported_as_one_read_writes(engine, tmp_path, monkeypatch)
    kept = engine.dialect.name == "postgresql"  # SQLite keeps no part: the section is spelled every time
    assert len(sections) == (1 if kept else 2)

    # Only a canonical model's Hugging Face id changes: no provider's rows do.
    with engine.begin() as conn:
        slug = conn.execute(text("SELECT slug FROM canonical_models WHERE hf_id IS NOT NULL ORDER BY slug LIMIT 1")).scalar_one()
        conn.execute(text("UPDATE canonical_models SET hf_id = 'someone/else' WHERE slug = :slug"), {"slug": slug})
    _exported_as_one_read_writes(engine, tmp_path, monkeypatch)
    assert '"hf_id":"someone/else"' in (tmp_path / FILE_NAMES["json"]).read_text(encoding="utf-8")
    assert len(sections) == (2 if kept else 3)

    # A provider's rows change without moving an offer (a model no other row names, so linked to
    # nothing): its parts are spelled again, the section is kept.
    unlinked = copy.deepcopy(groq_payload())
    unlinked["data"].append({**unlinked["data"][0], "id": "zz-house-model-without-a-match"})
    _sync(provider_env, catalog_url, groq=unlinked)
    assert _exported_as_one_read_writes(engine, tmp_path, monkeypatch) == ({"groq"} if kept else {"huggingface", "groq", "novita"})
    assert len(sections) == (2 if kept else 4)

    # One provider's price moves: the offers' order may change with it.
    _sync(provider_env, catalog_url, novita=novita_fixture_payload(price=31000))
    _exported_as_one_read_writes(engine, tmp_path, monkeypatch)
    assert len(sections) == (3 if kept else 5)

    # A kept section that is not what its first line says (a file edited or cut short) is still
    # only trusted by its key: a stale key is spelled again, whatever the text.
    section_file = tmp_path / f".{FILE_NAMES['json']}.parts" / ".canonical_models"
    if kept:
        section_file.write_text("section-v2:stale\n[]", encoding="utf-8")
        _exported_as_one_read_writes(engine, tmp_path, monkeypatch)
        assert len(sections) == 4


def test_an_offers_part_kept_in_the_format_before_is_spelled_again_not_misread(provider_env, catalog_url, tmp_path, monkeypatch):
    engine = catalog_engine(catalog_url)
    if engine.dialect.name != "postgresql":
        return  # SQLite keeps no part
    _sync(provider_env, catalog_url, huggingface=default_router_payload(), groq=groq_payload(), novita=novita_fixture_payload())
    _exported_as_one_read_writes(engine, tmp_path, monkeypatch)
    offers = tmp_path / f".{FILE_NAMES['json']}.parts" / "groq.offers"
    key, lines = offers.read_text(encoding="utf-8").split("\n", 1)
    fingerprint = key.split(" ")[0]
    # Before: the fingerprint alone, then each linked row as [canonical model, {offer}].
    before = ",".join(dumps_compact([canonical, {"provider": provider, "model": model, "pricing_prompt": None, "pricing_completion": None}])
                      for canonical, _, provider, model in json.loads(f"[{lines}]"))
    offers.write_text(f"{fingerprint}\n{before}", encoding="utf-8")
    (tmp_path / f".{FILE_NAMES['json']}.parts" / ".canonical_models").unlink()  # the section is spelled from the parts

    assert _exported_as_one_read_writes(engine, tmp_path, monkeypatch) == {"groq"}
    assert offers.read_text(encoding="utf-8") == f"{key}\n{lines}"
