"""Serve each provider's own test fixture at the path its `SPEC` declares, on one loopback server:
`<fixtures>/<slug>_models.json` at `/<slug><SPEC.endpoint_path>`."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

from catalog_pipeline.providers import ADAPTERS
from catalog_pipeline.providers.google_vertex import PUBLISHERS

from .conftest import FIXTURES
from .http_server import FixtureServer, json_reply


def fixture(name: str, fixtures: Path = FIXTURES) -> Any:
    return json.loads((fixtures / name).read_text())


def serve_provider(server: FixtureServer, adapter: ModuleType, fixtures: Path = FIXTURES) -> None:
    spec = adapter.SPEC
    own_routes = _OWN_ROUTES.get(spec.slug)
    if own_routes is not None:
        own_routes(server)
        return
    server.route(f"/{spec.slug}{spec.endpoint_path}", json_reply(fixture(f"{spec.slug}_models.json", fixtures)))


def serve_all_providers(server: FixtureServer) -> None:
    for adapter in ADAPTERS.values():
        serve_provider(server, adapter)


# Adapters with their own `fetch` make calls their SPEC does not declare: their fixtures say how.
def _serve_google_vertex(server: FixtureServer) -> None:
    pages_by_publisher = fixture("google-vertex_models.json")
    for publisher in PUBLISHERS:
        pages = pages_by_publisher.get(publisher) or [{}]
        server.route(f"/google-vertex/publishers/{publisher}/models", *[json_reply(p) for p in pages])


def _serve_fal(server: FixtureServer) -> None:
    server.route("/fal/models", json_reply(fixture("fal_models.json")))
    server.route("/fal/models/pricing", json_reply(fixture("fal_pricing.json")))


_OWN_ROUTES: dict[str, Callable[[FixtureServer], None]] = {"google-vertex": _serve_google_vertex, "fal": _serve_fal}
