"""The catalog the offer and discrepancy readers are tested on: the Hugging Face router, Groq and
Novita (at twice the router's quote) synced over loopback HTTP, then refreshed across providers.
Built once per test module; each test gets its own copy, so none can see another's writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from .across_helpers import default_router_payload, groq_payload, materialize_cross_provider, novita_payload, serve
from .module_catalogs import copy_catalog, serving
from .sync_helpers import materialize_provider

PAYLOADS = {
    "huggingface": default_router_payload(),
    "groq": groq_payload(),
    "novita": novita_payload(2600, 3900),  # twice the router's quote for Novita
}


def build_synced_catalog(path: Path) -> None:
    url = f"sqlite:///{path}"
    with serving(*PAYLOADS) as server:
        for slug, payload in PAYLOADS.items():
            serve(server, slug, payload)
        for slug in PAYLOADS:
            assert materialize_provider(slug, url).success
    assert materialize_cross_provider(url, path.parent / "asset-exports").success


# Fixtures: test modules import them by name.
@pytest.fixture(scope="module")
def synced_catalog_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("synced_catalog") / "catalog.db"
    build_synced_catalog(path)
    return path


@pytest.fixture
def synced(synced_catalog_file: Path, sqlite_url: str) -> str:
    copy_catalog(synced_catalog_file, Path(sqlite_url.removeprefix("sqlite:///")))
    return sqlite_url
