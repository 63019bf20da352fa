"""Load on the admin API's read routes: a real `catalog-server` on loopback over a populated catalog.

Usage (from the repository root): python benchmarks/bench_admin_load.py [--clients 50] [--seconds 10]

Populates a scratch catalog and run history with one `sync-models` of all 21 providers (loopback
fixtures), starts `catalog-server` on a free port, then has N concurrent keep-alive clients
alternate GET /admin/model-sync/status and GET /admin/model-sync/providers for the given time.
Prints requests/s (in all and per route), p50 and p99 latency per route, and a one-client baseline.
"""

from __future__ import annotations

import argparse
import asyncio
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
from catalog_pipeline_tests.server_process import ServerProcess  # noqa: E402

KEY = "bench-admin-key-0123456789abcdef"
ROUTES = ["/admin/model-sync/status", "/admin/model-sync/providers"]


def populate(env: dict[str, str]) -> None:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "catalog_pipeline.cli.sync_models"], env=env, capture_output=True, text=True)
    if done.returncode not in (0, 1):
        sys.exit(f"sync-models failed:\n{done.stdout}\n{done.stderr}")
    print(f"populated the catalog: {done.stdout.strip().splitlines()[-1]} ({time.perf_counter() - started:.1f} s)")


async def load(url: str, clients: int, seconds: float) -> dict[str, list[float]]:
    """`clients` keep-alive connections, each sending its next request when the last answer is in.
    A bare HTTP/1.1 client: an HTTP library would spend as much CPU as the server on these 2 cores."""
    host, port = url.removeprefix("http://").split(":")
    latencies: dict[str, list[float]] = {route: [] for route in ROUTES}
    deadline = time.perf_counter() + seconds

    async def one_client(index: int) -> None:
        reader, writer = await asyncio.open_connection(host, int(port))
        turn = index
        try:
            while time.perf_counter() < deadline:
                route = ROUTES[turn % len(ROUTES)]
                turn += 1
                sent = time.perf_counter()
                writer.write(f"GET {route} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {KEY}\r\n\r\n".encode())
                head = await reader.readuntil(b"\r\n\r\n")
                status = head.split(b" ", 2)[1]
                length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))
                body = await reader.readexactly(length)
                if status != b"200":
                    raise SystemExit(f"{route} answered {status.decode()}: {body[:200]!r}")
                latencies[route].append(time.perf_counter() - sent)
        finally:
            writer.close()

    await asyncio.gather(*(one_client(i) for i in range(clients)))
    return latencies


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def report(label: str, latencies: dict[str, list[float]], seconds: float) -> None:
    total = sum(len(values) for values in latencies.values())
    print(f"{label}: {total / seconds:7.1f} requests/s in all")
    for route, values in latencies.items():
        print(f"  {route:<30} {len(values) / seconds:7.1f} req/s   p50 {percentile(values, 0.5) * 1000:7.1f} ms"
              f"   p99 {percentile(values, 0.99) * 1000:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    with FixtureServer() as fixtures, tempfile.TemporaryDirectory() as scratch:
        serve_all_providers(fixtures)
        env = {**os.environ, "DAGSTER_HOME": f"{scratch}/dagster_home", "CATALOG_DATABASE_URL": f"sqlite:///{scratch}/catalog.db"}
        for slug, module in ADAPTERS.items():
            env[module.SPEC.base_url_env_var] = f"{fixtures.url}/{slug}"
            env[module.SPEC.api_key_env_var] = f"bench-key-{slug}"
        populate(env)
        server = ServerProcess({**env, "ADMIN_API_KEY": KEY}, Path(scratch) / "server.log").start(KEY)
        try:
            report("1 client", asyncio.run(load(server.url, 1, min(args.seconds, 5.0))), min(args.seconds, 5.0))
            report(f"{args.clients} clients", asyncio.run(load(server.url, args.clients, args.seconds)), args.seconds)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
