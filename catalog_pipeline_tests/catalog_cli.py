"""Run the `catalog` command as a user does: a real subprocess, or its `main` in this process
where a test checks what the command answers, not that it starts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from .in_process import run_main

REPO_ROOT = Path(__file__).resolve().parents[1]


def run_catalog(
    *args: str, database_url: str | None = None, env: dict[str, str] | None = None, in_process: bool = False
) -> subprocess.CompletedProcess:
    """`catalog ARGS [--database-url URL]`, with CATALOG_DATABASE_URL only as `env` sets it."""
    full_env = {k: v for k, v in os.environ.items() if k != "CATALOG_DATABASE_URL"} | (env or {})
    extra = ["--database-url", database_url] if database_url else []
    if in_process:
        from catalog_pipeline.cli.catalog import main

        return run_main(main, [*args, *extra], full_env, REPO_ROOT)
    return subprocess.run(
        [sys.executable, "-m", "catalog_pipeline.cli.catalog", *args, *extra],
        env=full_env, capture_output=True, text=True, timeout=120, cwd=REPO_ROOT,
    )


def catalog_json(*args: str, database_url: str, in_process: bool = False) -> Any:
    done = run_catalog(*args, "--json", database_url=database_url, in_process=in_process)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)
