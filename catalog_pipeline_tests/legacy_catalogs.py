"""Catalogs as earlier versions created them, with rows, for the upgrade tests.

The DDL is frozen in fixtures/legacy_schemas/ (never generated from today's code); rows are
written through reflected tables, so they use exactly the column types those versions had.
"""

from __future__ import annotations

import gzip
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from sqlalchemy import MetaData, create_engine, insert, inspect
from sqlalchemy.engine import make_url

from catalog_pipeline.db.engine import normalize_database_url

from .conftest import FIXTURES

SCHEMAS = FIXTURES / "legacy_schemas"
LEGACY_VERSIONS = ("spine", "before_migrations")  # f438485; e1046dd (revision 1's schema)

T0 = datetime(2026, 1, 5, 10, 0, tzinfo=timezone.utc)
T1 = datetime(2026, 2, 9, 18, 30, 15, 250000, tzinfo=timezone.utc)

PROVIDERS = [
    {"id": 1, "slug": "openrouter", "name": "OpenRouter", "base_url": "https://openrouter.ai/api/v1",
     "api_key_env_var": "OPENROUTER_API_KEY", "kind": "llm", "is_active": True,
     "created_at": T0, "updated_at": T1, "last_synced_at": T1},
    {"id": 2, "slug": "groq", "name": "Groq", "base_url": "https://api.groq.com/openai/v1",
     "api_key_env_var": "GROQ_API_KEY", "kind": "llm", "is_active": True,
     "created_at": T0, "updated_at": T0, "last_synced_at": None},
]

PRICES = ("pricing_prompt", "pricing_completion", "pricing_image", "pricing_request", "pricing_cache_read", "pricing_cache_write")


def _model(row_id: int, provider_id: int, model_id: str, prices: tuple, *, active: bool = True, first_seen: datetime = T0) -> dict[str, Any]:
    return {
        "id": row_id, "provider_id": provider_id, "provider_model_id": model_id, "model_name": model_id.title(),
        "description": f"{model_id}: a model with ünïcode and 'quotes'",
        **dict(zip(PRICES, prices)),
        "context_length": 131072, "max_output_tokens": None, "modality": "text+image->text",
        "input_modalities": ["text", "image"], "output_modalities": ["text"],
        "supports_streaming": True, "supports_function_calling": None, "supports_vision": True, "supports_reasoning": False,
        "is_active": active, "health_status": None, "first_seen_at": first_seen, "last_seen_at": T1,
        "deactivated_at": None if active else T1, "created_at": first_seen, "updated_at": T1,
        "metadata": {"canonical_slug": model_id, "top_provider": {"is_moderated": True}},
    }


D = Decimal
MODELS = [
    _model(1, 1, "openai/gpt-4o", (D("0.0000025"), D("0.00001"), D("0.003613"), None, D("0.00000125"), None)),
    _model(2, 1, "meta/llama-3.1-8b:free", (D("0"), D("0"), None, None, None, None), first_seen=T1),
    _model(3, 1, "acme/retired", (D("1.5E-7"), D("6E-7"), None, D("0.005"), None, None), active=False),
    _model(4, 2, "llama-3.3-70b-versatile", (D("0.00000059"), D("0.00000079"), None, None, None, D("0.000000123456789012")),),
]

RAW_LISTS = [
    {"id": 1, "provider_slug": "openrouter", "fetched_at": T0, "content_sha256": "a" * 64, "page_count": 1,
     "byte_size": 31, "run_id": "run-a", "pages_gzip": gzip.compress(b'[["https://x/models", {"data": []}]]')},
    {"id": 2, "provider_slug": "groq", "fetched_at": T1, "content_sha256": "b" * 64, "page_count": 2,
     "byte_size": 62, "run_id": None, "pages_gzip": gzip.compress(b'[]')},
]


def create_legacy_catalog(url: str, version: str) -> None:
    """Create the `version` schema at `url` (an empty database) and fill it with the rows above."""
    dialect = make_url(url).get_backend_name()
    engine = create_engine(normalize_database_url(url))
    try:
        existing = inspect(engine).get_table_names()
        assert not existing, f"{url} already has tables {existing}; mark the test @pytest.mark.empty_database"
        with engine.begin() as conn:
            for statement in (SCHEMAS / f"{version}_{dialect}.sql").read_text().split(";"):
                sql = "\n".join(line for line in statement.splitlines() if not line.startswith("--")).strip()
                if sql:
                    conn.exec_driver_sql(sql)
        tables = MetaData()
        tables.reflect(engine)
        with engine.begin() as conn:
            conn.execute(insert(tables.tables["providers"]), PROVIDERS)
            conn.execute(insert(tables.tables["models"]), [_stored(row, dialect, version) for row in MODELS])
            conn.execute(insert(tables.tables["raw_model_lists"]), RAW_LISTS)
            if version == "before_migrations":
                conn.execute(insert(tables.tables["raw_model_lists"]), [{**RAW_LISTS[1], "id": 3, "pages_gzip": None, "body_of_id": 2}])
                conn.execute(insert(tables.tables["pending_price_changes"]), [_stored_pending(dialect)])
            if dialect == "postgresql":  # explicit ids above: move the sequences past them
                for table in ("providers", "models", "raw_model_lists", "pending_price_changes"):
                    if table in tables.tables:
                        conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
    finally:
        engine.dispose()


PENDING = {"id": 1, "provider_id": 1, "provider_model_id": "openai/gpt-4o", "column_name": "pricing_prompt",
           "old_value": D("0.0000025"), "new_value": D("0.0025"), "first_detected_at": T1, "last_detected_at": T1, "run_id": "run-b"}


def _stored(row: dict[str, Any], dialect: str, version: str) -> dict[str, Any]:
    stored = dict(row)
    if dialect == "sqlite":  # SQLite kept prices as fixed-point text
        stored.update({c: (None if row[c] is None else format(row[c], "f")) for c in PRICES})
    if version == "before_migrations":
        stored["content_hash"] = f"{row['id']:040d}"
    return stored


def _stored_pending(dialect: str) -> dict[str, Any]:
    if dialect != "sqlite":
        return dict(PENDING)
    return {**PENDING, "old_value": format(PENDING["old_value"], "f"), "new_value": format(PENDING["new_value"], "f")}
