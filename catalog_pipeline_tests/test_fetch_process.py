"""A sync worker's fetches in a forked child process (fetch_process.py), over real loopback HTTP."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import string
import subprocess
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


# FetchProcess forks, so it runs in a process of a single thread, as in a sync worker: this
# program prints the children's pids, then what came back (each list's pages, or its error), at once or
# after a line on its stdin, within or after the `with` block.
_PROGRAM = """
import hashlib, json, os, sys
from catalog_pipeline.fetch_process import FetchProcess
from catalog_pipeline.pipeline.http import HttpPolicy
from catalog_pipeline.settings import load_settings

def collect(fetching):
    lists = {}
    for slug, future in fetching.futures.items():
        error = future.exception(timeout=60)
        lists[slug] = {"error": [type(error).__name__, str(error)]} if error else {"pages": [
            [page.url, page.status, hashlib.sha256(page.body).hexdigest(), page.packed.on_disk, len(page.packed.portable()[0])]
            for page in future.result()]}
    print(json.dumps(lists), flush=True)

slugs, attempts, mode, workers = sys.argv[1].split(","), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
with FetchProcess(slugs, HttpPolicy(max_attempts=attempts), load_settings(), max_workers=workers) as fetching:
    print(json.dumps({"pids": fetching.pids}), flush=True)
    if mode == "wait":
        fetching.futures[slugs[0]].exception(timeout=60)
        print(json.dumps({"in": slugs[0]}), flush=True)
    if mode != "collect":
        sys.stdin.readline()  # the test has done what it does meanwhile
    if mode != "leave":
        collect(fetching)
if mode == "leave":
    collect(fetching)
"""


def _fetch_process(*slugs: str, attempts: int = 4, mode: str = "collect", workers: int = 2) -> subprocess.Popen:
    """`mode`: collect the lists at once; "wait" for the first list, say so, then for a line, then
    collect; "leave" after a line, then collect."""
    return subprocess.Popen([sys.executable, "-c", _PROGRAM, ",".join(slugs), str(attempts), mode, str(workers)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def _lines(process: subprocess.Popen) -> list:
    out, _ = process.communicate(timeout=120)
    assert process.returncode == 0, out
    return [json.loads(line) for line in out.splitlines()]


def test_the_lists_come_back_as_an_in_process_fetch_gets_them_a_large_page_byte_for_byte(provider_env):
    serve_all_providers(provider_env)
    # A list whose deflated body is larger than the pieces a page is kept in memory by: it crosses
    # the pipe whole and is put on disk on arrival.
    noise = random.Random(7)
    models = [{"id": "".join(noise.choices(string.ascii_letters, k=64)), "object": "model", "owned_by": "x",
               "context_window": 8192} for _ in range(30_000)]
    provider_env.route(_path("groq"), json_reply({"object": "list", "data": models}))

    _, lists = _lines(_fetch_process("groq", "featherless", "fal"))

    for slug in ("groq", "featherless", "fal"):  # one page, paged by number, a list and its prices
        in_process = fetch_provider(slug, HttpPolicy(), load_settings())
        assert [page[:3] for page in lists[slug]["pages"]] == [
            [page.url, page.status, hashlib.sha256(page.body).hexdigest()] for page in in_process
        ]
    assert len(lists["fal"]["pages"]) >= 2
    large = [page for page in lists["groq"]["pages"] if page[4] > SPOOL_PIECE]
    assert large and all(on_disk for _, _, _, on_disk, _ in large)


def test_a_list_that_fails_raises_the_error_an_in_process_fetch_raises(provider_env):
    serve_all_providers(provider_env)
    provider_env.route(_path("xai"), Reply(status=404, body="no such thing"))
    with pytest.raises(ProviderFetchError) as in_process:
        fetch_provider("xai", HttpPolicy(max_attempts=1), load_settings())

    _, lists = _lines(_fetch_process("xai", "groq", attempts=1))

    assert lists["xai"] == {"error": ["ProviderFetchError", str(in_process.value)]}
    assert "test-key" not in str(lists["xai"])
    assert lists["groq"]["pages"]


def _with_groq_held(provider_env, *slugs: str, mode: str, meanwhile) -> tuple[int, dict]:
    """Runs the program while groq's answer is held: once groq has been asked, `meanwhile(pid of
    groq's child)`, then a line to the program; returns that pid and the lists."""
    serve_all_providers(provider_env)
    asked, held = threading.Event(), threading.Event()
    provider_env.route(_path("groq"), Reply(status=200, body=b"{}", before_answer=asked.set, hold=held))
    process = _fetch_process(*slugs, mode=mode)
    try:
        child = json.loads(process.stdout.readline())["pids"]["groq"]
        if mode == "wait":
            assert json.loads(process.stdout.readline()) == {"in": slugs[0]}
        assert asked.wait(timeout=60)
        meanwhile(child)
        process.stdin.write("go on\n")
        process.stdin.flush()
        (lists,) = _lines(process)
    finally:
        held.set()
        process.kill()
    return child, lists


def test_a_child_that_dies_mid_fetch_fails_its_list_and_no_other(provider_env):
    child, lists = _with_groq_held(provider_env, "xai", "groq", mode="wait", meanwhile=lambda pid: os.kill(pid, signal.SIGKILL))
    assert lists["xai"]["pages"]
    assert lists["groq"] == {"error": ["ProviderFetchError", f"the fetch process (pid {child}) ended with exit code -9 before it sent groq's list"]}


def test_leaving_stops_a_child_still_fetching(provider_env):
    child, lists = _with_groq_held(provider_env, "groq", mode="leave", meanwhile=lambda pid: None)
    assert lists["groq"]["error"][1].endswith(f"(pid {child}) ended with exit code -15 before it sent groq's list")


def test_no_more_children_fetch_at_once_than_max_workers(provider_env):
    serve_all_providers(provider_env)
    asked = {slug: threading.Event() for slug in ("groq", "xai")}
    held = {slug: threading.Event() for slug in ("groq", "xai")}
    either_asked = threading.Event()
    for slug in ("groq", "xai"):
        reply = json_reply(fixture(f"{slug}_models.json"))
        mark = (lambda slug=slug: (asked[slug].set(), either_asked.set()))
        provider_env.route(_path(slug), replace(reply, before_answer=mark, hold=held[slug]))
    process = _fetch_process("groq", "xai", workers=1)
    try:
        assert either_asked.wait(timeout=60)
        first = "groq" if asked["groq"].is_set() else "xai"
        second = "xai" if first == "groq" else "groq"
        # The other child waits for the one token: no request of its own while the first is held.
        assert not asked[second].wait(timeout=1.0)
        held[first].set()
        assert asked[second].wait(timeout=60)
        held[second].set()
        pids, lists = _lines(process)
    finally:
        for event in held.values():
            event.set()
        process.kill()
    assert lists["groq"]["pages"] and lists["xai"]["pages"] and len(set(pids["pids"].values())) == 2


def test_a_fetch_process_refuses_to_fork_beside_other_threads(provider_env):
    # This test's process runs the loopback server's thread.
    with pytest.raises(RuntimeError, match="must start before any thread"):
        FetchProcess(["groq"], HttpPolicy(), load_settings(), max_workers=1)


class _TwoArgumentError(Exception):
    def __init__(self, what: str, why: str) -> None:
        super().__init__(f"{what}: {why}")


def test_an_error_that_cannot_cross_the_pipe_keeps_its_type_name_and_message():
    assert _portable(ProviderFetchError("as is")).args == ("as is",)
    crossed = _portable(_TwoArgumentError("groq", "broke"))
    assert type(crossed) is ProviderFetchError and str(crossed) == "_TwoArgumentError: groq: broke"


def test_a_sync_worker_fetches_in_a_process_apart_from_its_runs(provider_env, tmp_path):
    """The worker's runs hold its interpreter lock for long stretches, and a fetch thread holds it
    while it decodes a large body; each fetch waits for nothing but the network in a child of its
    own (who asked is looked up while each request is open)."""
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
    assert None not in asked_by.values() and asked_by["groq"] != asked_by["xai"], asked_by
    assert not set(asked_by.values()) & {worker_pid, os.getpid()}
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

