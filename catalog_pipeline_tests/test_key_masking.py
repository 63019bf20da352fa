"""A provider that echoes configured keys back: the keys are masked before anything is stored, in
rows, the raw archive, run metadata and logs, on SQLite and PostgreSQL."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import dagster as dg
from dagster._serdes import serialize_value
from sqlalchemy import select

from catalog_pipeline.db.engine import catalog_engine
from catalog_pipeline.db.schema import raw_model_lists
from catalog_pipeline.pipeline.redact import MASK
from catalog_pipeline.providers import adapter_for

from .catalog_snapshot import catalog_state, models_by_id
from .cli_helpers import sync_models_in_process
from .conftest import FIXTURES
from .http_server import Reply, json_reply
from .printed import everything_printed
from .sync_helpers import failure_message, materialize_provider

OPENROUTER_KEY = "sk-or-ECHOED-4f1c9a7e2b8d"
GROQ_KEY = "gsk-ECHOED-9b2e7c4a1f6d"
ADMIN_KEY = "admin-ECHOED-3a8f1c6e9d2b7f40"
SECRETS = (OPENROUTER_KEY, GROQ_KEY, ADMIN_KEY)


def echoing_pages() -> list[dict]:
    """Page 1 echoes every configured key into a model's name, description and extra fields, and
    its next link carries the provider's key; page 2 echoes it again."""
    models = json.loads((FIXTURES / "openrouter_models.json").read_text())["data"]
    echo = dict(models[0], id="echo/model", name=f"Echo {OPENROUTER_KEY}",
                description=f"you sent {OPENROUTER_KEY}; also known: {GROQ_KEY} {ADMIN_KEY}",
                echoed={"authorization": f"Bearer {OPENROUTER_KEY}"})
    first = {"data": [echo, *models[:3]], "links": {"next": f"/openrouter/models?page=2&echo={OPENROUTER_KEY}"},
             "debug": {"received_key": OPENROUTER_KEY}}
    second = {"data": models[3:], "note": f"key {OPENROUTER_KEY} accepted"}
    return [first, second]


def test_echoed_keys_never_reach_rows_archive_metadata_or_logs(provider_env, catalog_url, monkeypatch, capfd, caplog, recwarn):
    monkeypatch.setenv(adapter_for("openrouter").SPEC.api_key_env_var, OPENROUTER_KEY)
    monkeypatch.setenv(adapter_for("groq").SPEC.api_key_env_var, GROQ_KEY)
    monkeypatch.setenv("ADMIN_API_KEY", ADMIN_KEY)
    provider_env.route("/openrouter/models", *[json_reply(page) for page in echoing_pages()])
    provider_env.route("/groq/models", json_reply({"error": f"invalid api key: Bearer {GROQ_KEY}"}, status=401))

    done = sync_models_in_process("--providers", "openrouter", "groq", "--verbose", database_url=catalog_url)
    assert "HTTP 401" in done.stdout and f"Bearer {MASK}" in done.stdout, done.stdout + done.stderr
    # The keys really went out, to the provider's own origin only.
    sent = [r for r in provider_env.requests if r.path == "/openrouter/models"]
    assert [r.headers["Authorization"] for r in sent] == [f"Bearer {OPENROUTER_KEY}"] * 2
    assert sent[1].query["echo"] == [MASK]  # the answer was masked before its next link was read

    rows = models_by_id(catalog_url, "openrouter")
    assert rows["echo/model"]["model_name"] == f"Echo {MASK}"
    assert rows["echo/model"]["metadata"]["echoed"] == {"authorization": f"Bearer {MASK}"}
    stored = {"rows": json.dumps(catalog_state(catalog_url), default=str)}
    with catalog_engine(catalog_url).connect() as conn:
        archives = [gzip.decompress(b).decode() for b in conn.execute(select(raw_model_lists.c.pages_gzip)).scalars() if b]
    assert archives and all(MASK in archive for archive in archives)
    stored |= {f"archive {i}": archive for i, archive in enumerate(archives)}

    instance = dg.DagsterInstance.get()  # the DAGSTER_HOME the command used
    runs = instance.get_runs()
    # The two providers, then the cross-provider refresh (links, exports); a second one runs before
    # the last provider's if its fetch was still under way once the other's run was over.
    assert len([run for run in runs if run.job_name != "catalog_cross_provider"]) == 2 and 2 < len(runs) <= 4
    for run in runs:
        events = instance.all_logs(run.run_id)
        assert events
        stored[f"run {run.run_id} events"] = "\n".join(serialize_value(event) for event in events)
    stored["printed"] = everything_printed(done, capfd, caplog, recwarn)
    exports = list(Path(os.environ["CATALOG_EXPORT_DIR"]).rglob("*.json"))
    assert len(exports) == 2
    for path in [*Path(os.environ["DAGSTER_HOME"]).rglob("*"), *exports]:
        if path.is_file():
            stored[str(path)] = path.read_bytes().decode("utf-8", errors="replace")

    leaks = [(where, secret) for where, text in stored.items() for secret in SECRETS if secret in text]
    assert leaks == []
    assert any(MASK in text for where, text in stored.items() if where.startswith("run "))


def test_a_key_hidden_by_json_escapes_fails_the_provider_and_nothing_is_stored(provider_env, sqlite_url, monkeypatch):
    monkeypatch.setenv(adapter_for("openrouter").SPEC.api_key_env_var, OPENROUTER_KEY)
    escaped = "".join(f"\\u{ord(c):04x}" for c in OPENROUTER_KEY)
    body = '{"data": [{"id": "echo/model", "name": "%s", "pricing": {"prompt": "0", "completion": "0"}}]}' % escaped
    provider_env.route("/openrouter/models", Reply(body=body, headers={"Content-Type": "application/json"}))
    result = materialize_provider("openrouter", sqlite_url)
    assert not result.success
    assert "carries a configured key in JSON-escaped form" in failure_message(result)
    assert catalog_state(sqlite_url) == {"providers": [], "models": []}
    with catalog_engine(sqlite_url).connect() as conn:
        assert conn.execute(select(raw_model_lists)).first() is None
