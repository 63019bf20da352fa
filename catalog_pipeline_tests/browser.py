"""Driving the UI in a real headless Chromium: the system's (Debian package `chromium`), never a
browser Playwright downloads. Skipped only where no Chromium is installed; CI sets
CATALOG_REQUIRE_BROWSER=1 to fail instead. The browser test is in test_server_runs.py, on that
module's catalog-server."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
RUN_TIMEOUT_SECONDS = 180.0


def chromium_path() -> str:
    found = shutil.which("chromium") or next((p for p in ("/usr/bin/chromium",) if Path(p).exists()), None)
    if found:
        return found
    reason = "no Chromium installed (Debian: apt-get install chromium)"
    if os.environ.get("CATALOG_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason}; CATALOG_REQUIRE_BROWSER=1 forbids skipping", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def browser():
    executable = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def skip_welcome_dialog(page) -> None:
    """Dagster's first-visit "Join the community" dialog covers the page until dismissed."""
    skip = page.get_by_role("button", name="Skip")
    try:
        skip.wait_for(timeout=10_000)
    except Exception:  # noqa: BLE001 - not shown (dismissed before): nothing to do
        return
    skip.click()


RUNS_QUERY = """query Runs($filter: RunsFilter) { runsOrError(filter: $filter) {
    ... on Runs { results { runId status } } } }"""


def partition_runs(context, base_url: str, partition: str) -> list[dict]:
    """The partition's runs, read through the UI's own GraphQL with the browser's credentials."""
    variables = {"filter": {"tags": [{"key": "dagster/partition", "value": partition}]}}
    answer = context.request.post(f"{base_url}/graphql", data={"query": RUNS_QUERY, "variables": variables})
    assert answer.status == 200, answer.text()
    return answer.json()["data"]["runsOrError"]["results"]


def wait_for_run(context, base_url: str, partition: str, before: set[str]) -> str:
    """The one run of the partition that is not in `before`, once it has ended successfully."""
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    runs: list[dict] = []
    while time.monotonic() < deadline:
        runs = [run for run in partition_runs(context, base_url, partition) if run["runId"] not in before]
        if len(runs) == 1 and runs[0]["status"] in ("SUCCESS", "FAILURE", "CANCELED"):
            assert runs[0]["status"] == "SUCCESS", runs
            return runs[0]["runId"]
        time.sleep(0.5)
    pytest.fail(f"the run of {partition} did not finish within {RUN_TIMEOUT_SECONDS} s: {runs}")
