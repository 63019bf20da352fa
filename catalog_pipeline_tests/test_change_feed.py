"""The change feed: one row per change of each kind, written with the load, read back in order."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from catalog_pipeline.db.changes import read_changes
from catalog_pipeline.db.engine import catalog_engine

from .catalog_cli import catalog_json, run_catalog
from .change_scenarios import produce_one_change_of_each_kind

def test_one_row_per_change_of_each_kind(catalog_url):
    produce_one_change_of_each_kind(catalog_url)
    rows = read_changes(catalog_engine(catalog_url), provider="openrouter", limit=1000)
    assert [r["id"] for r in rows] == sorted((r["id"] for r in rows), reverse=True)  # newest first
    seen = [(r["kind"], r["provider_model_id"], r["field"], r["old_value"], r["new_value"], r["run_id"]) for r in reversed(rows)]
    assert seen == [
        ("added", "m/a", None, None, None, "run-1"),
        ("added", "m/b", None, None, None, "run-1"),
        ("added", "m/c", None, None, None, "run-1"),
        ("added", "m/d", None, None, None, "run-2"),
        ("changed", "m/a", "context_length", 8192, 16384, "run-2"),
        ("changed", "m/a", "expiration_date", None, "2030-12-01", "run-2"),
        ("delisted", "m/c", None, None, None, "run-2"),
        ("relisted", "m/c", None, None, None, "run-3"),
        ("delisted", "m/d", None, None, None, "run-3"),
        ("relisted", "m/d", None, None, None, "run-4"),
        ("price_held", "m/b", "pricing_prompt", "0.000001", "0.01", "run-4"),
        ("price_accepted", "m/b", "pricing_prompt", "0.000001", "0.01", None),
    ]
    assert all(r["provider"] == "openrouter" and r["changed_at"].endswith("+00:00") for r in rows)


def test_changes_filter_and_page(catalog_url):
    produce_one_change_of_each_kind(catalog_url)
    engine = catalog_engine(catalog_url)
    assert [r["provider_model_id"] for r in read_changes(engine, provider="groq")] == ["g/x"]
    assert [r["provider_model_id"] for r in read_changes(engine, kind="delisted")] == ["m/d", "m/c"]
    everything = read_changes(engine, limit=1000)
    assert len(everything) == 13
    first, second = read_changes(engine, limit=5), read_changes(engine, limit=5, before_id=everything[4]["id"])
    assert [r["id"] for r in first + second] == [r["id"] for r in everything[:10]]
    forward = read_changes(engine, after_id=everything[3]["id"], limit=10)
    assert [r["id"] for r in forward] == [r["id"] for r in reversed(everything[:3])]
    assert read_changes(engine, since=datetime.now(timezone.utc) + timedelta(minutes=1)) == []
    assert len(read_changes(engine, since=datetime.now(timezone.utc) - timedelta(hours=1), limit=1000)) == 13
    with pytest.raises(ValueError, match="unknown change kind 'renamed'"):
        read_changes(engine, kind="renamed")


def test_changes_over_the_command_line(catalog_url):
    produce_one_change_of_each_kind(catalog_url)
    shown = catalog_json("changes", "--since", "7d", "--kind", "changed", database_url=catalog_url, in_process=True)
    assert [(r["field"], r["old_value"], r["new_value"]) for r in shown] == [
        ("expiration_date", None, "2030-12-01"),
        ("context_length", 8192, 16384),
    ]
    by_kind = {}
    for row in catalog_json("changes", "--provider", "openrouter", database_url=catalog_url, in_process=True):
        by_kind[row["kind"]] = by_kind.get(row["kind"], 0) + 1
    assert by_kind == {"added": 4, "changed": 2, "delisted": 2, "relisted": 2, "price_held": 1, "price_accepted": 1}
    assert catalog_json("changes", "--since", "2099-01-01T00:00Z", database_url=catalog_url, in_process=True) == []
    table = run_catalog("changes", "--kind", "price_held", database_url=catalog_url, in_process=True)
    assert table.returncode == 0
    header, line, total = table.stdout.splitlines()
    assert header.split() == ["id", "changed_at", "provider", "provider_model_id", "kind", "field", "old_value", "new_value"]
    assert line.split()[2:] == ["openrouter", "m/b", "price_held", "pricing_prompt", "0.000001", "0.01"]
    assert total == "1 changes, newest first"
    bad = run_catalog("changes", "--kind", "renamed", database_url=catalog_url, in_process=True)
    assert bad.returncode == 2 and "invalid choice: 'renamed'" in bad.stderr
    bad = run_catalog("changes", "--since", "last tuesday", database_url=catalog_url, in_process=True)
    assert bad.returncode == 2 and "not a time: 'last tuesday'" in bad.stderr
