"""Run the `catalog` command as a user does: a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]


def run_catalog(*args: str, database_url: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`catalog ARGS [--database-url URL]`, with CATALOG_DATABASE_URL only as `env` sets it."""
    full_env = {k: v for k, v in os.environ.items() if k != "CATALOG_DATABASE_URL"} | (env or {})
    extra = ["--database-url", database_url] if database_url else []
    return subprocess.run(
        [sys.executable, "-m", "catalog_pipeline.cli.catalog", *args, *extra],
        env=full_env, capture_output=True, text=True, timeout=120, cwd=REPO_ROOT,
    )


def catalog_json(*args: str, database_url: str) -> Any:
    done = run_catalog(*args, "--json", database_url=database_url)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)
