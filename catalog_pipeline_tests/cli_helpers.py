"""Run `sync-models` as a user does: a real subprocess of the console script's module."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def sync_models(
    *args: str, database_url: str, extra_env: dict[str, str] | None = None, module: str = "catalog_pipeline.cli.sync_models"
) -> subprocess.CompletedProcess:
    env = {**os.environ, "CATALOG_DATABASE_URL": database_url, **(extra_env or {})}
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        env=env, capture_output=True, text=True, timeout=300, cwd=REPO,
    )


def provider_lines(stdout: str, slugs) -> dict[str, str]:
    """`sync-models` output lines by provider slug, for the slugs given."""
    return {line.split()[0]: line for line in stdout.splitlines() if line.split() and line.split()[0] in slugs}
