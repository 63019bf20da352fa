"""Catalogs and provider servers that live for one test module, for tests that only read what a
sync left behind: the sync runs once, not once per test. A test that writes gets its own catalog
(conftest's `catalog_url`), or a copy (`synced_catalog.py`)."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from catalog_pipeline.db.engine import dispose_engines
from catalog_pipeline.providers import adapter_for

from .conftest import _admin, _database_url
from .catalog_snapshot import models_by_id
from .fixture_routes import fixture
from .http_server import FixtureServer, json_reply
from .sync_helpers import materialize_provider


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


class CatalogTemplate:
    """A catalog state `build(url)` makes once per database for a module; `restore_into` gives a
    test's own new catalog (conftest's `catalog_url`, nothing written yet) exactly that state, so
    tests that start from the same sync do not each run it."""

    def __init__(self, build: Callable[[str], None], request: pytest.FixtureRequest, directory: Path) -> None:
        self._build, self._request, self._directory = build, request, directory
        self._made: dict[str, str] = {}  # dialect -> SQLite file or PostgreSQL database name

    def restore_into(self, url: str) -> None:
        target = make_url(url)
        dialect = target.get_backend_name()
        if dialect not in self._made:
            self._made[dialect] = self._make(dialect)
        if dialect == "sqlite":
            copy_catalog(Path(self._made[dialect]), Path(target.database))
            return
        admin_url = self._request.getfixturevalue("postgres_admin_url")
        _admin(admin_url, f'DROP DATABASE "{target.database}" WITH (FORCE)')
        _admin(admin_url, f'CREATE DATABASE "{target.database}" TEMPLATE "{self._made[dialect]}"')

    def _make(self, dialect: str) -> str:
        if dialect == "sqlite":
            path = self._directory / "template.db"
            self._build(f"sqlite:///{path}")
            return str(path)
        admin_url = self._request.getfixturevalue("postgres_admin_url")
        name = f"catalog_module_{uuid.uuid4().hex[:12]}"
        _admin(admin_url, f'CREATE DATABASE "{name}" TEMPLATE "{self._request.getfixturevalue("postgres_template")}"')
        self._build(_database_url(admin_url, name))
        dispose_engines()  # no connection may stay open on a template
        return name

    def drop(self) -> None:
        if "postgresql" in self._made:
            _admin(self._request.getfixturevalue("postgres_admin_url"), f'DROP DATABASE IF EXISTS "{self._made["postgresql"]}" WITH (FORCE)')


def copy_catalog(source: Path, target: Path) -> None:
    """A consistent copy whatever the source's WAL still holds (SQLite's online backup)."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def _sync_openrouter_fixture(url: str) -> None:
    with serving("openrouter") as server:
        server.route("/openrouter/models", json_reply(fixture("openrouter_models.json")))
        assert materialize_provider("openrouter", url).success


def catalog_template(build: Callable[[str], None], name: str):
    """A module-scoped fixture `name`: the CatalogTemplate of `build`."""

    @pytest.fixture(scope="module", name=name)
    def template(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CatalogTemplate]:
        made = CatalogTemplate(build, request, tmp_path_factory.mktemp(name))
        yield made
        made.drop()

    return template


# Fixtures: test modules import them by name.
openrouter_template = catalog_template(_sync_openrouter_fixture, "openrouter_template")


@pytest.fixture
def synced_openrouter(openrouter_template: CatalogTemplate, provider_env: FixtureServer, catalog_url: str) -> str:
    """`catalog_url` as a successful sync of the OpenRouter fixture left it; provider_env serves
    that fixture at the same path, as after the test's own first sync."""
    openrouter_template.restore_into(catalog_url)
    assert len(models_by_id(catalog_url, "openrouter")) == len(fixture("openrouter_models.json")["data"])
    provider_env.route("/openrouter/models", json_reply(fixture("openrouter_models.json")))
    return catalog_url
