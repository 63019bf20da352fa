"""Time a full `sync-models` of all 21 providers against a loopback server, as a user runs it.

Usage (from the repository root): python benchmarks/bench_sync.py [DELAY_SECONDS]
Every provider answers its test fixture after DELAY_SECONDS (default 0.5, a typical API latency).
Prints the wall time of the whole command with fetches overlapped (default) and one at a time
(--parallel-fetches 1), then of an unchanged re-sync.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from catalog_pipeline.providers import ADAPTERS  # noqa: E402
from catalog_pipeline_tests.fixture_routes import serve_all_providers  # noqa: E402
from catalog_pipeline_tests.http_server import FixtureServer  # noqa: E402


def run(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "catalog_pipeline.cli.sync_models", *args], env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"sync-models failed:\n{done.stdout}\n{done.stderr}")
    return elapsed


def main() -> None:
    delay = float(sys.argv[1]) if len(sys.argv) > 1 else 0.5
    with FixtureServer() as server, tempfile.TemporaryDirectory() as scratch:
        serve_all_providers(server)
        for replies in server._routes.values():
            for reply in replies:
                reply.delay = delay
        env = {**os.environ, "DAGSTER_HOME": f"{scratch}/dagster_home"}
        for slug, module in ADAPTERS.items():
            env[module.SPEC.base_url_env_var] = f"{server.url}/{slug}"
            env[module.SPEC.api_key_env_var] = "bench-key"
        print(f"{len(ADAPTERS)} providers, each answering after {delay:g} s")
        for label, extra, db in (
            ("first sync, fetches overlapped", [], "a"),
            ("first sync, one fetch at a time", ["--parallel-fetches", "1"], "b"),
            ("unchanged re-sync, overlapped", [], "a"),
        ):
            env["CATALOG_DATABASE_URL"] = f"sqlite:///{scratch}/catalog-{db}.db"
            print(f"  {label:<34} {run(extra, env):6.2f} s wall (whole command, Python start-up included)")


if __name__ == "__main__":
    main()
