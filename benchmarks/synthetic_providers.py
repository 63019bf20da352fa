"""A loopback server answering every provider's model-list calls, for bench_scale.py.

Each provider serves its test fixture's entries, or that many copies of them that the list holds
`models` entries (copies get `-x<n>` appended to their id fields). Every request is answered after
`latency` seconds. The providers that page (Featherless, fal, Google Vertex per publisher) spread
their list over `pages` pages in their own paging style; the others answer in one body, as their
APIs do. fal's pricing endpoint answers the prices of exactly the ids asked for.
"""

from __future__ import annotations

import copy
import json
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

from catalog_pipeline.providers import ADAPTERS

FIXTURES = Path(__file__).resolve().parents[1] / "catalog_pipeline_tests" / "fixtures"
ID_KEYS = ("id", "model_id", "modelId", "endpoint_id", "name")
Answer = Callable[[str, dict[str, list[str]]], Any]  # (path below the provider, query) -> JSON body


def _fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def _grown(entries: list[Any], models: int | None) -> list[Any]:
    if models is None:
        return entries
    grown = []
    for n in range(models):
        entry = copy.deepcopy(entries[n % len(entries)])
        if n >= len(entries):
            for key in ID_KEYS:
                if isinstance(entry.get(key), str):
                    entry[key] = f"{entry[key]}-x{n}"
        grown.append(entry)
    return grown


def _page_slices(entries: list[Any], pages: int) -> list[list[Any]]:
    size = max(1, math.ceil(len(entries) / pages))
    return [entries[start:start + size] for start in range(0, len(entries), size)] or [[]]


def _at(body: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        body = body[key]
    return body


def _with(body: Any, path: tuple[str, ...], entries: list[Any]) -> Any:
    if not path:
        return entries
    shallow = dict(body)
    shallow[path[0]] = _with(body[path[0]], path[1:], entries)
    return shallow


def _single_body(slug: str, models: int | None) -> Answer:
    body = _fixture(f"{slug}_models.json")
    path = ADAPTERS[slug].SPEC.list_path
    if isinstance(body, dict) and path and path[0] not in body:
        path = ("data",)  # a legacy shape the adapter also reads (xAI)
    encoded = json.dumps(_with(body, path, _grown(_at(body, path), models))).encode()
    return lambda _path, _query: encoded


def _featherless(models: int | None, pages: int) -> Answer:
    body = _fixture("featherless_models.json")
    slices = _page_slices(_grown(body["data"], models), pages)

    def answer(_path: str, query: dict[str, list[str]]) -> Any:
        page = int(query.get("page", ["1"])[0])
        return {"data": slices[page - 1], "pagination": {"current_page": page, "total_pages": len(slices)}}

    return answer


def _fal(models: int | None, pages: int) -> Answer:
    listed = _grown(_fixture("fal_models.json")["models"], models)
    prices = {p["endpoint_id"]: p for p in _fixture("fal_pricing.json")["prices"]}
    price_of = {m["endpoint_id"]: prices.get(m["endpoint_id"].split("-x")[0]) for m in listed}
    slices = _page_slices(listed, pages)

    def answer(path: str, query: dict[str, list[str]]) -> Any:
        if path.rstrip("/").endswith("/pricing"):
            wanted = query.get("endpoint_id", [""])[0].split(",")
            found = [{**price_of[i], "endpoint_id": i} for i in wanted if price_of.get(i)]
            return {"prices": found, "next_cursor": None, "has_more": False}
        index = int(query.get("cursor", ["0"])[0])
        more = index + 1 < len(slices)
        return {"models": slices[index], "next_cursor": str(index + 1) if more else None, "has_more": more}

    return answer


def _google_vertex(models: int | None, pages: int) -> Answer:
    by_publisher = _fixture("google-vertex_models.json")
    fixture_pages = {p: [e for page in by_publisher.get(p, []) for e in page.get("publisherModels", [])] for p in by_publisher}
    per_publisher = None if models is None else math.ceil(models / max(1, len(fixture_pages)))
    slices = {p: _page_slices(_grown(entries, per_publisher), pages) for p, entries in fixture_pages.items() if entries}

    def answer(path: str, query: dict[str, list[str]]) -> Any:
        publisher = path.strip("/").split("/")[1]
        if publisher not in slices:
            return {}
        index = int(query.get("pageToken", ["0"])[0])
        more = index + 1 < len(slices[publisher])
        return {"publisherModels": slices[publisher][index], **({"nextPageToken": str(index + 1)} if more else {})}

    return answer


def provider_answers(models: int | None, pages: int) -> dict[str, Answer]:
    paged = {"featherless": _featherless, "fal": _fal, "google-vertex": _google_vertex}
    return {
        slug: paged[slug](models, pages) if slug in paged else _single_body(slug, models)
        for slug in ADAPTERS
    }


class SyntheticProviders:
    """`with SyntheticProviders(models, pages, latency) as server:` serves `/<slug>/...` on loopback."""

    def __init__(self, models: int | None, pages: int, latency: float) -> None:
        answers = provider_answers(models, pages)
        encoded: dict[str, bytes] = {}  # by request line: a repeated fetch costs the server nothing
        self.latency = latency
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # The headers and the body are two writes: with Nagle's algorithm the body waits for the
            # client's delayed ACK of the headers, 40 ms per request on a kept-alive connection.
            disable_nagle_algorithm = True

            def do_GET(self) -> None:  # noqa: N802
                parts = urlsplit(self.path)
                slug, _, below = parts.path.lstrip("/").partition("/")
                time.sleep(server.latency)
                answer = answers.get(slug)
                body = encoded.get(self.path)
                if body is None:
                    payload = answer("/" + below, parse_qs(parts.query)) if answer else {"error": "no such provider"}
                    body = encoded[self.path] = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(200 if answer else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @contextmanager
    def answering_at_once(self) -> Iterator[None]:
        """No latency inside the block (for a warm-up pass that has every body encoded)."""
        latency, self.latency = self.latency, 0.0
        try:
            yield
        finally:
            self.latency = latency

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> "SyntheticProviders":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
