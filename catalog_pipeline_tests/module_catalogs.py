"""Catalogs and provider servers that live for one test module, for tests that only read what a
sync left behind: the sync runs once, not once per test. A test that writes gets its own catalog
(conftest's `catalog_url`), or a copy (`synced_catalog.py`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from catalog_pipeline.db.engine import dispose_engines
from catalog_pipeline.providers import adapter_for

from .conftest import _admin, _database_url
from .http_server import FixtureServer


@contextmanager
def serving(*slugs: str) -> Iterator[FixtureServer]:
    """A loopback server with `slugs`' base URLs (under /<slug>) and fake keys in the environment
    until the block ends, as conftest's `provider_env` sets them for one test."""
    with FixtureServer() as server, pytest.MonkeyPatch.context() as env:
        for slug in slugs:
            spec = adapter_for(slug).SPEC
            env.setenv(spec.base_url_env_var, f"{server.url}/{slug}")
            env.setenv(spec.api_key_env_var, f"test-key-{slug}-0123456789")
        yield server


@pytest.fixture(scope="module")
def module_sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield f"sqlite:///{tmp_path_factory.mktemp('module_catalog') / 'catalog.db'}"
    dispose_engines()


@pytest.fixture(scope="module")
def module_postgres_url(postgres_admin_url: str, postgres_template: str) -> Iterator[str]:
    name = f"catalog_module_{uuid.uuid4().hex[:12]}"
    _admin(postgres_admin_url, f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"')
    yield _database_url(postgres_admin_url, name)
    dispose_engines()
    _admin(postgres_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
