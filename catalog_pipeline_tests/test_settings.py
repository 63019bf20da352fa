"""Configuration: one module reads the environment and `.env` (the environment wins), nothing reads
it at import, secrets from `.env` are never printed, and `--database-url` is configuration."""

from __future__ import annotations

import ast
import dataclasses
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import dagster as dg
import pytest

import catalog_pipeline
from catalog_pipeline.cli import sync_models
from catalog_pipeline.defs.resources import CatalogDatabase
from catalog_pipeline.definitions import defs as load_definitions
from catalog_pipeline.providers import ADAPTERS
from catalog_pipeline.server import cli as server_cli
from catalog_pipeline.sync import sync_providers

from .catalog_snapshot import models_by_id
from .conftest import FIXTURES
from .http_server import Reply, json_reply
from .in_process import run_main
from .printed import everything_printed

PACKAGE = Path(catalog_pipeline.__file__).parent
SETTINGS_MODULE = PACKAGE / "settings.py"
ENVIRONMENT_NAMES = {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}


def environment_reads(path: Path) -> list[str]:
    """`os.environ`, `os.getenv`, ... and `from os import environ`, `dotenv` wherever they occur."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Attribute) and node.attr in ENVIRONMENT_NAMES:
            found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} .{node.attr}")
        elif isinstance(node, ast.ImportFrom) and node.module == "os" and {a.name for a in node.names} & ENVIRONMENT_NAMES:
            found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} from os import ...")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            if any(m == "dotenv" or m.startswith("dotenv.") for m in modules):
                found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} import dotenv")
    return found


def test_only_the_settings_module_reads_the_environment():
    reads = [hit for path in sorted(PACKAGE.rglob("*.py")) if path != SETTINGS_MODULE for hit in environment_reads(path)]
    assert reads == []
    assert environment_reads(SETTINGS_MODULE), "the scan must see the reads settings.py does make"


def test_no_module_reads_settings_at_import(tmp_path):
    """An unusable setting breaks whatever loads the settings, so importing every module must not."""
    code = (
        "import importlib, pkgutil, catalog_pipeline\n"
        "for m in pkgutil.walk_packages(catalog_pipeline.__path__, 'catalog_pipeline.'):\n"
        "    if not m.name.startswith('catalog_pipeline.db.migrations.'):  # Alembic's scripts, run by Alembic\n"
        "        importlib.import_module(m.name)\n"
        "from catalog_pipeline.definitions import defs\n"
        "try:\n"
        "    defs()\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__, exc)\n"
    )
    env = {**os.environ, "CATALOG_STALE_AFTER_HOURS": "soon"}
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    # ...and the code location does read them when Dagster loads it.
    assert "SettingsError invalid setting (CATALOG_STALE_AFTER_HOURS: Input should be a valid number" in done.stdout


def test_the_cron_is_read_when_the_code_location_loads(monkeypatch):
    monkeypatch.setenv("CATALOG_SYNC_CRON", "7 5 * * *")
    assert load_definitions().resolve_schedule_def("daily_catalog_sync").cron_schedule == "7 5 * * *"
    monkeypatch.setenv("CATALOG_SYNC_CRON", "9 4 * * 1")
    assert load_definitions().resolve_schedule_def("daily_catalog_sync").cron_schedule == "9 4 * * 1"


def test_unusable_settings_are_refused_with_the_variable_named(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CATALOG_STALE_AFTER_HOURS", "-3")
    assert sync_models.main(["--list-providers"]) == 2
    assert "CATALOG_STALE_AFTER_HOURS: Input should be greater than 0" in capsys.readouterr().err
    monkeypatch.setenv("CATALOG_STALE_AFTER_HOURS", "tomorrow-s3cret")
    assert server_cli.main([]) == 2
    err = capsys.readouterr().err
    assert "refusing to start: invalid setting (CATALOG_STALE_AFTER_HOURS" in err
    assert "tomorrow-s3cret" not in err  # the value is never echoed: it could be a secret


def test_catalog_server_takes_the_admin_key_from_dotenv_under_the_environment(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ADMIN_API_KEY", raising=False)
    assert server_cli.main([]) == 2
    assert "ADMIN_API_KEY is not set" in capsys.readouterr().err
    (tmp_path / ".env").write_text("ADMIN_API_KEY=short\n")
    assert server_cli.main([]) == 2
    assert "ADMIN_API_KEY is 5 characters long" in capsys.readouterr().err
    monkeypatch.setenv("ADMIN_API_KEY", "tiny")
    assert server_cli.main([]) == 2
    assert "ADMIN_API_KEY is 4 characters long" in capsys.readouterr().err


def _serve(server, slug: str, **reply_fields) -> None:
    reply = json_reply(json.loads((FIXTURES / f"{slug}_models.json").read_text()))
    server.route(f"/{slug}/models", dataclasses.replace(reply, **reply_fields))


def test_sync_models_reads_dotenv_under_the_environment_and_never_prints_its_secrets(
    provider_env, tmp_path, monkeypatch, capfd, caplog, recwarn
):
    server = provider_env
    _serve(server, "openrouter")
    _serve(server, "groq")
    dotenv_key = "sk-or-from-dotenv-0123456789"
    leaked_key = "di-from-dotenv-0123456789"
    server.route("/deepinfra/models", Reply(status=401, body=f'{{"error": "invalid key {leaked_key}"}}'))
    for name in ("OPENROUTER_BASE_URL", "OPENROUTER_API_KEY", "DEEPINFRA_API_KEY"):
        monkeypatch.delenv(name)
    from_env, from_dotenv = tmp_path / "env.db", tmp_path / "dotenv.db"
    monkeypatch.setenv("CATALOG_DATABASE_URL", f"sqlite:///{from_env}")
    workdir = tmp_path / "work"
    workdir.mkdir()
    (workdir / ".env").write_text(
        f"OPENROUTER_BASE_URL={server.url}/openrouter\n"
        f"OPENROUTER_API_KEY={dotenv_key}\n"
        f"DEEPINFRA_API_KEY={leaked_key}\n"
        "GROQ_BASE_URL=http://127.0.0.1:9/nothing-listens-here\n"  # the environment's value wins
        f"CATALOG_DATABASE_URL=sqlite:///{from_dotenv}\n"  # so does this one
    )
    done = run_main(sync_models.main, ["--providers", "openrouter", "groq", "deepinfra", "--verbose"], dict(os.environ), workdir)
    output = everything_printed(done, capfd, caplog, recwarn)
    assert "1 failed" in done.stdout and "HTTP 401" in done.stdout, output[-3000:]
    assert "2 synced" in done.stdout, output[-3000:]
    openrouter_calls = [r for r in server.requests if r.path == "/openrouter/models"]
    assert openrouter_calls and all(r.headers["Authorization"] == f"Bearer {dotenv_key}" for r in openrouter_calls)
    assert len(models_by_id(f"sqlite:///{from_env}", "groq")) == 5
    assert not from_dotenv.exists()
    assert dotenv_key not in output and leaked_key not in output


def test_the_code_location_reads_dotenv_under_the_environment(fixture_server, tmp_path):
    _serve(fixture_server, "openrouter")
    database = tmp_path / "catalog.db"
    (tmp_path / ".env").write_text(
        'CATALOG_SYNC_CRON="15 */6 * * *"\n'
        "GROQ_API_KEY=gsk-from-dotenv-0123456789\n"
        f"OPENROUTER_BASE_URL={fixture_server.url}/openrouter\n"
        f"CATALOG_DATABASE_URL=sqlite:///{database}\n"
    )
    code = """
import json
from datetime import datetime, timezone
import dagster as dg
from catalog_pipeline.definitions import defs

definitions = defs()
schedule = definitions.resolve_schedule_def("daily_catalog_sync")
with dg.DagsterInstance.ephemeral() as instance:
    context = dg.build_schedule_context(
        instance=instance, scheduled_execution_time=datetime(2026, 11, 29, 3, tzinfo=timezone.utc),
        repository_def=definitions.get_repository_def(), resources=definitions.resources,
    )
    requested = sorted(r.partition_key for r in schedule.evaluate_tick(context).run_requests or [])
    run = definitions.resolve_job_def("catalog_sync").execute_in_process(
        instance=instance, partition_key="openrouter", raise_on_error=False)
print(json.dumps({"cron": schedule.cron_schedule, "requested": requested, "run_ok": run.success}))
"""
    keys = {module.SPEC.api_key_env_var for module in ADAPTERS.values()}
    env = {name: value for name, value in os.environ.items() if name not in keys and not name.startswith("CATALOG_")}
    env["CATALOG_SYNC_CRON"] = "45 1 * * *"
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["cron"] == "45 1 * * *"  # the environment wins over .env
    assert "groq" in seen["requested"] and "deepinfra" not in seen["requested"]  # GROQ_API_KEY came from .env
    assert seen["run_ok"] and len(models_by_id(f"sqlite:///{database}", "openrouter")) == 5


def test_database_url_flag_reaches_the_resource_without_touching_the_environment(provider_env, tmp_path, monkeypatch, capsys):
    _serve(provider_env, "openrouter")
    flagged, from_env = tmp_path / "flagged.db", tmp_path / "env.db"
    monkeypatch.setenv("CATALOG_DATABASE_URL", f"sqlite:///{from_env}")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DAGSTER_HOME", str(Path(os.environ["DAGSTER_HOME"]).resolve()))
    before = dict(os.environ)
    assert sync_models.main(["--providers", "openrouter", "--database-url", f"sqlite:///{flagged}"]) == 0, capsys.readouterr()
    after = dict(os.environ)
    assert after == before
    assert len(models_by_id(f"sqlite:///{flagged}", "openrouter")) == 5
    assert not from_env.exists()


def test_fetches_of_one_call_overlap(provider_env, sqlite_url, tmp_path):
    """Each provider's server answers only once both requests have arrived: a sync that fetched
    one provider after the other would break the barrier."""
    both_arrived = threading.Barrier(2, timeout=10)

    def wait_for_the_other() -> None:
        try:
            both_arrived.wait()
        except threading.BrokenBarrierError:
            pass  # the assertion below reports it

    for slug in ("openrouter", "deepinfra"):
        _serve(provider_env, slug, before_answer=wait_for_the_other)
    with dg.DagsterInstance.ephemeral() as instance:
        outcomes = sync_providers(
            ["openrouter", "deepinfra"], instance=instance, definitions=load_definitions(),
            catalog_db=CatalogDatabase(url=sqlite_url),
        )
    assert not both_arrived.broken, "the second fetch started only after the first one was answered"
    assert [(o.slug, o.status) for o in outcomes] == [("openrouter", "ok"), ("deepinfra", "ok")]
    assert provider_env.hits("/openrouter/models") == provider_env.hits("/deepinfra/models") == 1  # the runs took the prefetched pages
    assert outcomes[0].counts["added"] == 5 and outcomes[0].counts["models_fetched"] == 5
