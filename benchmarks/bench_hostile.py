"""Peak memory of `sync-models` with every read cap hit at once, at the default limits.

Usage (from the repository root): python benchmarks/bench_hostile.py [--deadline SECONDS] [--incompressible]
One invocation syncs all 21 providers from a loopback server, five of them hostile:
  openrouter   an endless fast chunked body        -> max_page_bytes (64 MiB received)
  groq         a 4 MiB gzip body expanding to 4 GiB -> max_page_bytes (after decompression)
  featherless  five pages of 60 MiB each           -> max_provider_bytes (256 MiB)
  deepinfra    an endless slow chunked body        -> the provider deadline (180 s)
  together     64 MiB of `{"a":0.5},` repeated      -> max_provider_values (1,000,000 JSON values)
Prints each hostile provider's outcome, how many providers synced, the wall time, and the command's
peak RSS (the issue's target: under 600 MB). Takes about the deadline, 3 minutes; `--deadline`
shortens it for a quick loop (the figure that counts is the one at the default). Bodies are held
deflated: `--incompressible` pads featherless's pages with random base64 instead of `x`, the case
compression does least for.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from catalog_pipeline.providers import ADAPTERS  # noqa: E402
from catalog_pipeline_tests.fixture_routes import serve_all_providers  # noqa: E402
from catalog_pipeline_tests.hostile_answers import MiB, endless_reply, gzip_bomb_reply  # noqa: E402
from catalog_pipeline_tests.http_server import FixtureServer, Reply  # noqa: E402

HOSTILE = ("openrouter", "groq", "featherless", "deepinfra", "together")
PAGES, PAGE_MIB = 5, 60


def padded_page(number: int, incompressible: bool) -> Reply:
    """A valid JSON page of PAGE_MIB MiB, streamed without ever being whole in this process."""
    head = json.dumps({"data": [], "pagination": {"current_page": number, "total_pages": PAGES}})[:-1].encode()
    # Random base64 repeated every MiB: deflate only sees 32 KiB back, so it cannot shrink below ~3/4.
    block = base64.b64encode(os.urandom(MiB * 3 // 4)) if incompressible else b"x" * MiB

    def chunks():
        yield head + b', "padding": "'
        for _ in range(PAGE_MIB):
            yield block
        yield b'"}'

    return Reply(headers={"Content-Type": "application/json"}, chunks=chunks)


# Only for a quicker loop: the CLI has no deadline option, so the child's HTTP policy is patched.
SHORTER_DEADLINE = """
import dataclasses, sys
from catalog_pipeline.defs.resources import ProviderApis
from catalog_pipeline.cli.sync_models import main
policy = ProviderApis.policy
ProviderApis.policy = lambda self: dataclasses.replace(policy(self), deadline={deadline})
sys.exit(main())
"""


def tiny_values_page() -> Reply:
    """64 MiB of small objects: under every byte cap, some 2 GiB of Python objects once decoded."""
    item = b'{"a":0.5},'

    def chunks():
        yield b"["
        for _ in range(64):
            yield item * (MiB // len(item))
        yield b'{"a":0.5}]'

    return Reply(headers={"Content-Type": "application/json"}, chunks=chunks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deadline", type=float, help="per-provider deadline in seconds (default: the resource's, 180)")
    parser.add_argument("--incompressible", action="store_true", help="pad featherless's pages with random base64")
    args = parser.parse_args()
    command = ["-m", "catalog_pipeline.cli.sync_models"]
    if args.deadline is not None:
        command = ["-c", SHORTER_DEADLINE.format(deadline=args.deadline)]
    with FixtureServer() as server, tempfile.TemporaryDirectory() as scratch:
        serve_all_providers(server)
        server.route("/openrouter/models", endless_reply(b" " * 65536, every=0))
        server.route("/groq/models", gzip_bomb_reply(expanded_mib=4096))
        server.route("/featherless/models", *[padded_page(n, args.incompressible) for n in range(1, PAGES + 1)])
        server.route("/deepinfra/models", endless_reply(b" ", every=0.5))
        server.route("/together/models", tiny_values_page())
        env = {**os.environ, "DAGSTER_HOME": f"{scratch}/dagster_home", "CATALOG_DATABASE_URL": f"sqlite:///{scratch}/catalog.db"}
        for slug, module in ADAPTERS.items():
            env[module.SPEC.base_url_env_var] = f"{server.url}/{slug}"
            env[module.SPEC.api_key_env_var] = "bench-key"
        started = time.perf_counter()
        done = subprocess.run([sys.executable, *command], env=env, capture_output=True, text=True, cwd=REPO)
        elapsed = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # Linux reports KiB
    lines = done.stdout.splitlines()
    for slug in HOSTILE:
        print(next((line for line in lines if line.startswith(slug)), f"{slug}: no line in the output")[:200])
    print(next((line for line in lines if " synced, " in line), "no summary line"))
    print(f"exit code {done.returncode}, wall {elapsed:.1f} s, peak RSS of sync-models {peak_mib:.0f} MiB (target < 600 MB)")


if __name__ == "__main__":
    main()
