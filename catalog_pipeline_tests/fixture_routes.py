"""Serve every provider's own test fixture at the path its adapter fetches, on one loopback server."""

from __future__ import annotations

import json
from typing import Any

from catalog_pipeline.providers import PROVIDER_SLUGS
from catalog_pipeline.providers.google_vertex import PUBLISHERS

from .conftest import FIXTURES
from .http_server import FixtureServer, json_reply

# Where an adapter's list is not at /<slug>/models.
LIST_PATHS = {
    "xai": "/language-models",
    "helicone": "/public/model-registry/models",
    "near": "/model/list",
}


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def serve_all_providers(server: FixtureServer) -> None:
    for slug in PROVIDER_SLUGS:
        if slug == "google-vertex":
            pages_by_publisher = fixture("google-vertex_models.json")
            for publisher in PUBLISHERS:
                pages = pages_by_publisher.get(publisher) or [{}]
                server.route(f"/google-vertex/publishers/{publisher}/models", *[json_reply(p) for p in pages])
            continue
        server.route(f"/{slug}{LIST_PATHS.get(slug, '/models')}", json_reply(fixture(f"{slug}_models.json")))
    server.route("/fal/models/pricing", json_reply(fixture("fal_pricing.json")))
