"""Run `sync-models` as a user does: a real subprocess of the console script's module, or its
`main` in this process where a test checks what the command does, not that it starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .in_process import run_main

REPO = Path(__file__).resolve().parents[1]


def sync_models(
    *args: str, database_url: str, extra_env: dict[str, str] | None = None, module: str = "catalog_pipeline.cli.sync_models"
) -> subprocess.CompletedProcess:
    env = {**os.environ, "CATALOG_DATABASE_URL": database_url, **(extra_env or {})}
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        env=env, capture_output=True, text=True, timeout=300, cwd=REPO,
    )


def sync_models_in_process(*args: str, database_url: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`sync_models(...)` without the new interpreter: same arguments, environment and output."""
    from catalog_pipeline.cli.sync_models import main

    return run_main(main, list(args), {**os.environ, "CATALOG_DATABASE_URL": database_url, **(extra_env or {})}, REPO)


def provider_lines(stdout: str, slugs) -> dict[str, str]:
    """`sync-models` output lines by provider slug, for the slugs given."""
    return {line.split()[0]: line for line in stdout.splitlines() if line.split() and line.split()[0] in slugs}
