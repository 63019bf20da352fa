"""A slow provider never holds back the others: each run starts as soon as its own fetch is done."""

from __future__ import annotations

import dataclasses
import json
import threading
import time

import dagster as dg

from catalog_pipeline.definitions import defs as load_definitions
from catalog_pipeline.defs.resources import CatalogDatabase
from catalog_pipeline.sync import sync_providers

from .catalog_snapshot import models_by_id
from .conftest import FIXTURES
from .http_server import json_reply

PATIENCE_SECONDS = 20


def _serve(server, slug: str, **reply_fields) -> None:
    reply = json_reply(json.loads((FIXTURES / f"{slug}_models.json").read_text()))
    server.route(f"/{slug}/models", dataclasses.replace(reply, **reply_fields))


def _wait_until(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while time.monotonic() < deadline:
        if condition():
            return True
        pause.wait(0.05)
    return condition()


def test_a_provider_whose_list_comes_first_is_loaded_before_a_slow_one_answers(provider_env, sqlite_url):
    # deepinfra sorts before groq; its server answers only once groq's rows are in the catalog,
    # which happens only if groq's run does not wait behind deepinfra's.
    seen = {}

    def answer_after_groq_is_loaded() -> None:
        seen["groq loaded first"] = _wait_until(lambda: bool(models_by_id(sqlite_url, "groq")), PATIENCE_SECONDS)

    _serve(provider_env, "deepinfra", before_answer=answer_after_groq_is_loaded)
    _serve(provider_env, "groq")
    with dg.DagsterInstance.ephemeral() as instance:
        outcomes = sync_providers(
            ["deepinfra", "groq"], instance=instance, definitions=load_definitions(),
            catalog_db=CatalogDatabase(url=sqlite_url),
        )
    assert seen == {"groq loaded first": True}, "groq's run waited for deepinfra's slow fetch"
    assert [(o.slug, o.status) for o in outcomes] == [("deepinfra", "ok"), ("groq", "ok")]  # reported in the order asked
    assert len(models_by_id(sqlite_url, "deepinfra")) == outcomes[0].counts["added"] > 0
