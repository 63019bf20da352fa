"""A sync worker's fetches in a forked child process (fetch_process.py), over real loopback HTTP."""

from __future__ import annotations

import os
import random
import signal
import string
import sys
import threading
from dataclasses import replace

import dagster as dg
import pytest

from catalog_pipeline.fetch_process import FetchProcess, _portable
from catalog_pipeline.pipeline.errors import ProviderFetchError
from catalog_pipeline.pipeline.http import HttpPolicy
from catalog_pipeline.pipeline.packed import SPOOL_PIECE
from catalog_pipeline.provider_calls import fetch_provider
from catalog_pipeline.providers import adapter_for
from catalog_pipeline.run_liveness import PID_TAG
from catalog_pipeline.settings import load_settings
from catalog_pipeline.sync_workers import SyncWorkers

from .fixture_routes import fixture, serve_all_providers
from .http_server import Reply, json_reply, peer_pid

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks, and reads /proc for who asked")


def _path(slug: str) -> str:
    return f"/{slug}{adapter_for(slug).SPEC.endpoint_path}"


def _same_pages(left, right) -> None:
    assert [(p.url, p.status, p.body) for p in left] == [(p.url, p.status, p.body) for p in right]


def test_the_lists_come_back_as_an_in_process_fetch_gets_them_a_large_page_byte_for_byte(provider_env):
    serve_all_providers(provider_env)
    # A list whose deflated body is larger than the pieces a page is kept in memory by: it crosses
    # the pipe whole and is put on disk on arrival.
    noise = random.Random(7)
    models = [{"id": "".join(noise.choices(string.ascii_letters, k=64)), "object": "model", "owned_by": "x",
               "context_window": 8192} for _ in range(30_000)]
    provider_env.route(_path("groq"), json_reply({"object": "list", "data": models}))
    settings = load_settings()

    with FetchProcess(["groq", "featherless", "fal"], HttpPolicy(), settings, max_workers=2) as fetching:
        fetched = {slug: future.result(timeout=60) for slug, future in fetching.futures.items()}

    large = [page for page in fetched["groq"] if len(page.packed.portable()[0]) > SPOOL_PIECE]
    assert large and all(page.packed.on_disk for page in large)
    for slug in ("groq", "featherless", "fal"):  # one page, paged by number, a list and its prices
        _same_pages(fetched[slug], fetch_provider(slug, HttpPolicy(), settings))
    assert len(fetched["fal"]) >= 2
    assert fetched["groq"][0].payload["data"][17]["id"] == models[17]["id"]


def test_a_list_that_fails_raises_the_error_an_in_process_fetch_raises(provider_env):
    serve_all_providers(provider_env)
    provider_env.route(_path("xai"), Reply(status=404, body="no such thing"))
    settings = load_settings()
    with pytest.raises(ProviderFetchError) as in_process:
        fetch_provider("xai", HttpPolicy(max_attempts=1), settings)

    with FetchProcess(["xai", "groq"], HttpPolicy(max_attempts=1), settings, max_workers=2) as fetching:
        error = fetching.futures["xai"].exception(timeout=60)
        assert fetching.futures["groq"].result(timeout=60)

    assert type(error) is ProviderFetchError and str(error) == str(in_process.value)
    assert "test-key" not in str(error)


def test_a_child_that_dies_mid_fetch_fails_the_lists_it_had_not_sent(provider_env):
    serve_all_providers(provider_env)
    asked, held = threading.Event(), threading.Event()
    provider_env.route(_path("groq"), Reply(status=200, body=b"{}", before_answer=asked.set, hold=held))
    try:
        with FetchProcess(["xai", "groq"], HttpPolicy(), load_settings(), max_workers=2) as fetching:
            assert fetching.futures["xai"].result(timeout=60)
            assert asked.wait(timeout=60)
            os.kill(fetching.pid, signal.SIGKILL)
            error = fetching.futures["groq"].exception(timeout=60)
    finally:
        held.set()
    assert isinstance(error, ProviderFetchError)
    assert str(error) == f"the fetch process (pid {fetching.pid}) ended with exit code -9 before it sent groq's list"


def test_leaving_stops_a_child_still_fetching(provider_env):
    serve_all_providers(provider_env)
    asked, held = threading.Event(), threading.Event()
    provider_env.route(_path("groq"), Reply(status=200, body=b"{}", before_answer=asked.set, hold=held))
    try:
        with FetchProcess(["groq"], HttpPolicy(), load_settings(), max_workers=1) as fetching:
            assert asked.wait(timeout=60)
        with pytest.raises(ChildProcessError):
            os.waitpid(fetching.pid, os.WNOHANG)  # stopped and reaped
        assert "exit code -15" in str(fetching.futures["groq"].exception(timeout=0))
    finally:
        held.set()


class _TwoArgumentError(Exception):
    def __init__(self, what: str, why: str) -> None:
        super().__init__(f"{what}: {why}")


def test_an_error_that_cannot_cross_the_pipe_keeps_its_type_name_and_message():
    assert _portable(ProviderFetchError("as is")).args == ("as is",)
    crossed = _portable(_TwoArgumentError("groq", "broke"))
    assert type(crossed) is ProviderFetchError and str(crossed) == "_TwoArgumentError: groq: broke"


def test_a_sync_worker_fetches_in_a_process_apart_from_its_runs(provider_env, tmp_path):
    """The worker's runs hold its interpreter lock for long stretches; its fetches wait for nothing
    but the network in a child of their own (who asked is looked up while each request is open)."""
    serve_all_providers(provider_env)
    asked_by: dict[str, int | None] = {}
    for slug in ("groq", "xai"):
        def who_asked(slug: str = slug) -> None:
            port = [r for r in provider_env.requests if r.path == _path(slug)][-1].client_port
            asked_by[slug] = peer_pid(port)
        provider_env.route(_path(slug), replace(json_reply(fixture(f"{slug}_models.json")), before_answer=who_asked))
    options = {"dry_run": False, "force": False, "from_archive": False, "parallel_fetches": 2,
               "log_level": "CRITICAL", "database_url": f"sqlite:///{tmp_path / 'catalog.db'}"}

    with SyncWorkers(1) as workers:
        worker_pid = workers._processes[0].pid
        workers.assign([["groq", "xai"]], options)
        workers.go()
        outcomes = workers.outcomes()

    assert [(o.slug, o.status) for o in outcomes] == [("groq", "ok"), ("xai", "ok")], outcomes
    with dg.DagsterInstance.get() as instance:
        run_pids = {int(r.dagster_run.tags[PID_TAG]) for r in instance.get_run_records(limit=10)}
    assert run_pids == {worker_pid}
    assert asked_by["groq"] is not None and asked_by["groq"] == asked_by["xai"], asked_by
    assert asked_by["groq"] not in {worker_pid, os.getpid()}
    assert [provider_env.hits(_path(slug)) for slug in ("groq", "xai")] == [1, 1]


def test_a_small_page_is_decoded_while_another_thread_decodes_a_large_one(provider_env):
    """Large pages take turns to decode (one whole page in memory at a time); a small one (fal's
    prices, 50 models a call) does not wait for them."""
    from concurrent.futures import ThreadPoolExecutor

    from catalog_pipeline.pipeline import http

    serve_all_providers(provider_env)
    with ThreadPoolExecutor(max_workers=1) as pool:
        with http._ONE_PAGE_DECODED_AT_A_TIME:  # a large page decoding
            pages = pool.submit(fetch_provider, "groq", HttpPolicy(), load_settings()).result(timeout=30)
    assert pages[0].payload["data"]

