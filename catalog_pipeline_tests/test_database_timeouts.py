"""A catalog database that stops answering, or a lock held elsewhere, fails the provider within the
configured limits with the cause named, and leaves the rows as they were."""

from __future__ import annotations

from decimal import Decimal
import sqlite3
import threading
from contextlib import contextmanager
from typing import Callable

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from catalog_pipeline.db.engine import catalog_engine
from catalog_pipeline.db.load import load_provider_models
from catalog_pipeline.defs.resources import CatalogDatabase
from catalog_pipeline.providers import adapter_for

from .catalog_snapshot import catalog_state, every_table
from .fixture_routes import fixture
from .freezable_proxy import FreezableProxy
from .http_server import json_reply
from .load_worker import synthetic_frame
from .sync_helpers import failure_message, materialize_provider

# Small limits, so a test that waits them out stays short; a broken limit hangs instead.
SHORT = dict(connect_timeout_seconds=2, statement_timeout_seconds=1, lock_timeout_seconds=1, no_answer_timeout_seconds=2)
HANG_DETECTOR_SECONDS = 60


@pytest.fixture
def frozen_able(postgres_url):
    """(the proxied URL of the test database, its proxy)."""
    url = make_url(postgres_url)
    with FreezableProxy(url.host, url.port or 5432) as proxy:
        yield url.set(port=proxy.port).render_as_string(hide_password=False), proxy


def _payload(prompt_price: str = "0.000003") -> dict:
    payload = fixture("openrouter_models.json")
    payload["data"][0]["pricing"]["prompt"] = prompt_price
    return payload


@contextmanager
def hang_detector(release: Callable[[], None]):
    """Runs the block as is; if it is still waiting after HANG_DETECTOR_SECONDS, `release` ends
    the wait (thaw, unlock) and the test fails instead of hanging."""
    fired = threading.Event()

    def fire() -> None:
        fired.set()
        release()

    timer = threading.Timer(HANG_DETECTOR_SECONDS, fire)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
    assert not fired.is_set(), f"still waiting on the database after {HANG_DETECTOR_SECONDS}s"


def test_the_configured_limits_reach_the_server(postgres_url):
    engine = CatalogDatabase(url=postgres_url, statement_timeout_seconds=7, lock_timeout_seconds=3, keepalive_idle_seconds=11).engine()
    with engine.connect() as conn:
        assert conn.execute(text("SHOW statement_timeout")).scalar() == "7s"
        assert conn.execute(text("SHOW lock_timeout")).scalar() == "3s"
        parameters = conn.connection.dbapi_connection.info.get_parameters()
    assert (parameters["keepalives"], parameters["keepalives_idle"], parameters["connect_timeout"]) == ("1", "11", "10")
    defaults = CatalogDatabase(url=postgres_url).engine()
    with defaults.connect() as conn:
        assert (conn.execute(text("SHOW statement_timeout")).scalar(), conn.execute(text("SHOW lock_timeout")).scalar()) == ("2min", "30s")


def test_a_frozen_database_fails_the_provider_and_keeps_its_rows(provider_env, postgres_url, frozen_able):
    proxied, proxy = frozen_able
    database = CatalogDatabase(url=proxied, **SHORT)
    provider_env.route("/openrouter/models", json_reply(_payload()))
    assert materialize_provider("openrouter", proxied, catalog_db=database).success
    before = every_table(postgres_url)

    provider_env.route("/openrouter/models", json_reply(_payload("0.0000035")))
    proxy.freeze()
    with hang_detector(proxy.thaw):
        result = materialize_provider("openrouter", proxied, catalog_db=database)
    proxy.thaw()
    assert not result.success
    message = failure_message(result)
    # The pooled connection's ping gets no answer, so the pool reconnects, which times out too.
    assert f"raw_models: sqlalchemy.exc.OperationalError: (psycopg.OperationalError) the catalog database at 127.0.0.1:{proxy.port} did not accept a connection within 2s (connect_timeout_seconds)" in message, message
    assert every_table(postgres_url) == before

    # Thawed, the same resource syncs again: the dead connections were thrown away.
    assert materialize_provider("openrouter", proxied, catalog_db=database).success


def test_a_database_frozen_in_the_middle_of_a_load_rolls_it_back(postgres_url, frozen_able):
    proxied, proxy = frozen_able
    engine = catalog_engine(proxied, CatalogDatabase(**SHORT).timeouts())
    spec = adapter_for("openrouter").SPEC
    load_provider_models(engine, spec, synthetic_frame(100, Decimal("0.000001")))
    before = every_table(postgres_url)

    # Frozen after the inserts and updates, before the deactivation statement.
    with hang_detector(proxy.thaw), pytest.raises(OperationalError) as raised:
        load_provider_models(engine, spec, synthetic_frame(100, Decimal("0.0000011"), first=40), pause_point=lambda _: proxy.freeze())
    proxy.thaw()
    assert "the catalog database sent no answer within 2s (no_answer_timeout_seconds)" in str(raised.value)
    assert every_table(postgres_url) == before
    # Thawed, the server sees the closed connection, rolls back and releases the provider's lock.
    report = load_provider_models(engine, spec, synthetic_frame(100, Decimal("0.0000011"), first=40))
    assert (len(report.diff.added), len(report.diff.deactivated)) == (40, 40)


@pytest.mark.parametrize(
    ("limits", "cause"),
    [
        ({"lock_timeout_seconds": 1, "statement_timeout_seconds": 30}, "canceling statement due to lock timeout"),
        ({"lock_timeout_seconds": 30, "statement_timeout_seconds": 1}, "canceling statement due to statement timeout"),
    ],
    ids=["lock_timeout", "statement_timeout"],
)
def test_a_provider_row_locked_elsewhere_fails_the_provider_within_the_limit(provider_env, postgres_url, limits, cause):
    provider_env.route("/openrouter/models", json_reply(_payload()))
    assert materialize_provider("openrouter", postgres_url).success
    before = catalog_state(postgres_url)
    provider_env.route("/openrouter/models", json_reply(_payload("0.0000035")))
    plain = make_url(postgres_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain) as holder:
        holder.execute("SELECT id FROM providers WHERE slug = 'openrouter' FOR UPDATE")
        database = CatalogDatabase(url=postgres_url, **limits)
        with hang_detector(holder.rollback):
            result = materialize_provider("openrouter", postgres_url, catalog_db=database)
        holder.rollback()
    assert not result.success
    assert cause in failure_message(result), failure_message(result)
    assert catalog_state(postgres_url) == before


def test_a_sqlite_catalog_locked_by_another_writer_fails_after_the_busy_timeout(provider_env, sqlite_url):
    provider_env.route("/openrouter/models", json_reply(_payload()))
    assert materialize_provider("openrouter", sqlite_url).success
    before = every_table(sqlite_url)
    provider_env.route("/openrouter/models", json_reply(_payload("0.0000035")))
    holder = sqlite3.connect(make_url(sqlite_url).database, isolation_level=None, check_same_thread=False)
    try:
        holder.execute("BEGIN IMMEDIATE")
        database = CatalogDatabase(url=sqlite_url, sqlite_busy_timeout_seconds=0.5)
        with hang_detector(holder.rollback):
            result = materialize_provider("openrouter", sqlite_url, catalog_db=database)
    finally:
        holder.rollback()
        holder.close()
    assert not result.success
    assert "database is locked" in failure_message(result), failure_message(result)
    assert every_table(sqlite_url) == before
