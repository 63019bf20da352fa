"""`catalog` as a user runs it, against real SQLite and PostgreSQL catalogs: a real subprocess for
the first call of each test (the console script's module, exit codes through `sys.exit`), the
command's `main` in this process for the rest (same arguments, environment and output)."""

from __future__ import annotations

import json

import pytest

from catalog_pipeline.db.migrate import head_revision

from .catalog_cli import run_catalog
from .legacy_catalogs import create_legacy_catalog


@pytest.mark.empty_database
def test_db_check_fails_until_upgrade_then_passes(catalog_url):
    create_legacy_catalog(catalog_url, "spine")
    behind = run_catalog("db", "check", database_url=catalog_url)
    assert behind.returncode == 1, behind.stderr
    assert "behind" in behind.stdout and "catalog db upgrade" in behind.stdout
    current = run_catalog("db", "current", "--json", database_url=catalog_url, in_process=True)
    assert json.loads(current.stdout) == {"revision": None, "head": head_revision(), "current": False}

    # The environment variable works as well as --database-url.
    upgraded = run_catalog("db", "upgrade", "--json", env={"CATALOG_DATABASE_URL": catalog_url}, in_process=True)
    assert upgraded.returncode == 0, upgraded.stderr
    assert json.loads(upgraded.stdout) == {"revision": head_revision(), "previous_revision": None, "upgraded": True}
    passed = run_catalog("db", "check", database_url=catalog_url, in_process=True)
    assert passed.returncode == 0 and f"current (revision {head_revision()})" in passed.stdout
    again = run_catalog("db", "upgrade", database_url=catalog_url, in_process=True)
    assert again.returncode == 0 and "already current" in again.stdout


def test_db_commands_name_a_bad_database_and_hide_its_password():
    refused = run_catalog("db", "check", database_url="postgresql://reader:s3cret-pw@127.0.0.1:1/catalog")
    assert refused.returncode == 2
    assert "cannot open the catalog database postgresql://reader:***@127.0.0.1:1/catalog" in refused.stderr
    assert "s3cret-pw" not in refused.stderr + refused.stdout
    unsupported = run_catalog("db", "current", database_url="mysql://x/y", in_process=True)
    assert unsupported.returncode == 2 and "unsupported database 'mysql'" in unsupported.stderr
