"""Shared fixtures: catalog databases (SQLite and a real PostgreSQL), a loopback HTTP server,
and provider environments pointed at it."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from catalog_pipeline.db.engine import catalog_engine, dispose_engines
from catalog_pipeline.providers import ADAPTERS

from . import slow_files_first
from .http_server import FixtureServer

FIXTURES = Path(__file__).parent / "fixtures"
SHARED_SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "provider-samples"

POSTGRES_ADMIN_URL = os.environ.get("CATALOG_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
# CI sets this so an unreachable PostgreSQL fails the run instead of skipping its tests.
REQUIRE_POSTGRES = os.environ.get("CATALOG_REQUIRE_POSTGRES") == "1"
# One process per sync-models call: a worker process each would double the suite's processes.
# test_sync_workers.py asks for two explicitly.
os.environ.setdefault("CATALOG_SYNC_WORKERS", "1")


def _postgres_unavailable() -> str | None:
    import psycopg

    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL} ({str(exc).strip().splitlines()[0]})"


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    reason = _postgres_unavailable()
    if reason:
        if REQUIRE_POSTGRES:
            pytest.fail(f"{reason}; CATALOG_REQUIRE_POSTGRES=1 forbids skipping", pytrace=False)
        pytest.skip(f"{reason}; set CATALOG_TEST_POSTGRES_URL to run the PostgreSQL tests")
    return POSTGRES_ADMIN_URL


EMPTY_DATABASE = "empty_database"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{EMPTY_DATABASE}: the PostgreSQL catalog starts with no schema at all (migration tests)")
    slow_files_first.register(config)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # xdist hands out files in collection order (pyproject: --no-loadscope-reorder).
    slow_files_first.order_by_recorded_seconds(config, items)


def _database_url(admin_url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(admin_url).set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)


def _admin(admin_url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(statement)


@pytest.fixture(scope="session")
def postgres_template(postgres_admin_url: str):
    """A catalog migrated to the newest schema once per worker; each test gets a copy (CREATE
    DATABASE ... TEMPLATE), not a migration of its own."""
    name = f"catalog_template_{uuid.uuid4().hex[:12]}"
    _admin(postgres_admin_url, f'CREATE DATABASE "{name}"')
    catalog_engine(_database_url(postgres_admin_url, name)).dispose()  # migrated; no connection may stay open on a template
    yield name
    _admin(postgres_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_url(postgres_admin_url: str, request: pytest.FixtureRequest):
    """A fresh PostgreSQL catalog for one test, dropped afterwards: at the newest schema with no
    rows (as the first use leaves it), or with no schema at all under @pytest.mark.empty_database."""
    name = f"catalog_test_{uuid.uuid4().hex[:12]}"
    if request.node.get_closest_marker(EMPTY_DATABASE):
        _admin(postgres_admin_url, f'CREATE DATABASE "{name}"')
    else:
        _admin(postgres_admin_url, f'CREATE DATABASE "{name}" TEMPLATE "{request.getfixturevalue("postgres_template")}"')
    yield _database_url(postgres_admin_url, name)
    dispose_engines()
    _admin(postgres_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    yield f"sqlite:///{tmp_path / 'catalog.db'}"
    dispose_engines()


@pytest.fixture(params=["sqlite", "postgresql"])
def catalog_url(request: pytest.FixtureRequest) -> str:
    """Each test using this runs against both databases."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")


@pytest.fixture
def fixture_server():
    with FixtureServer() as server:
        yield server


@pytest.fixture
def provider_env(monkeypatch: pytest.MonkeyPatch, fixture_server: FixtureServer, tmp_path: Path):
    """Every provider's base URL points at the loopback server under /<slug>; keys are fake."""
    for slug, module in ADAPTERS.items():
        monkeypatch.setenv(module.SPEC.base_url_env_var, f"{fixture_server.url}/{slug}")
        monkeypatch.setenv(module.SPEC.api_key_env_var, f"test-key-{slug}-0123456789")
    monkeypatch.delenv("CATALOG_DATABASE_URL", raising=False)
    monkeypatch.setenv("CATALOG_EXPORT_DIR", str(tmp_path / "exports"))
    (tmp_path / "dagster_home").mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    return fixture_server


def shared_sample(name: str) -> Path:
    path = SHARED_SAMPLES / name
    if not path.exists():
        pytest.skip(f"{path} is absent (the shared provider samples are only beside the repository)")
    return path
