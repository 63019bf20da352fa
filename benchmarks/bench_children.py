"""The steps of bench_scale.py, one per child process so that each peak RSS is the step's own.

    python benchmarks/bench_children.py floor URL N
    python benchmarks/bench_children.py load URL N initial|unchanged|changed
    python benchmarks/bench_children.py sync CATALOG_URL SERVER_URL PARALLEL_FETCHES
    python benchmarks/bench_children.py whole-sync CATALOG_URL SERVER_URL PARALLEL_FETCHES WORKERS(0: default)
    python benchmarks/bench_children.py fetch-alone SERVER_URL

Each prints one JSON line last. Not meant to be run by hand.
"""

from __future__ import annotations

import io
import json
import resource
import sys
import time
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd  # noqa: E402

from catalog_pipeline.pipeline.records import ModelRecord, records_to_frame  # noqa: E402

PROVIDER = "openrouter"
# Tables a load writes model data to (the provider row's last_synced_at is not counted).
MODEL_DATA_TABLES = ("models", "model_price_history", "catalog_changes", "pending_price_changes")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_frame(rows: int, changed_every: int = 0) -> pd.DataFrame:
    """N synthetic models; with `changed_every`, every n-th prompt price moves by 1E-13 (not held)."""
    return records_to_frame(
        [
            ModelRecord(
                provider_model_id=f"bench/model-{i:07d}",
                model_name=f"Bench model {i}",
                description="A synthetic model used to time the load.",
                pricing_prompt=Decimal("0.000001") + Decimal(i).scaleb(-12)
                + (Decimal("1E-13") if changed_every and i % changed_every == 0 else 0),
                pricing_completion=Decimal("0.000002"),
                context_length=8192 + i % 1000,
                max_output_tokens=4096,
                modality="text->text",
                input_modalities=["text"],
                output_modalities=["text"],
                supports_function_calling=i % 2 == 0,
                metadata={"index": i, "family": f"f{i % 17}"},
            )
            for i in range(rows)
        ]
    )


def load_step(url: str, rows: int, step: str) -> dict:
    from catalog_pipeline.db.engine import catalog_engine
    from catalog_pipeline.db.load import load_provider_models
    from catalog_pipeline.providers import adapter_for

    frame = bench_frame(rows, changed_every=10 if step == "changed" else 0)
    engine = catalog_engine(url)
    before = _write_marker(engine)
    started = time.perf_counter()
    report = load_provider_models(engine, adapter_for(PROVIDER).SPEC, frame)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "counts": report.diff.counts(),
        "rows_written": _rows_written_since(engine, before),
        "peak_rss_mib": peak_rss_mib(),
    }


def _write_marker(engine) -> tuple[int, int]:
    with engine.connect() as conn:
        providers = conn.exec_driver_sql("SELECT count(*) FROM providers").scalar()
        if engine.dialect.name == "postgresql":
            return conn.exec_driver_sql("SELECT txid_current()").scalar(), providers
        return conn.connection.dbapi_connection.total_changes, providers


def _rows_written_since(engine, before: tuple[int, int]) -> int:
    marker, providers_before = before
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            present = {name for (name,) in conn.exec_driver_sql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
            return sum(
                conn.exec_driver_sql(f"SELECT count(*) FROM {table} WHERE xmin::text::bigint > {marker}").scalar()
                for table in MODEL_DATA_TABLES if table in present
            )
        # sqlite3 counts every changed row on the connection (the pool hands the load's back):
        # less the provider row (its last_synced_at, and its creation on a first load).
        created = conn.exec_driver_sql("SELECT count(*) FROM providers").scalar() - providers_before
        return conn.connection.dbapi_connection.total_changes - marker - 1 - created


def floor(url: str, rows: int) -> dict:
    """COPY the rows an initial load writes into an empty copy of `models` (same columns, indexes)."""
    import psycopg
    from psycopg.types.json import Jsonb

    from catalog_pipeline.db.engine import catalog_engine, normalize_database_url
    from catalog_pipeline.db.load import _Listed

    frame = bench_frame(rows)
    catalog_engine(url)  # the schema
    now = datetime.now(timezone.utc)
    spelled = _Listed.of(frame).spell(0, len(frame))
    # Every column the load writes (the frame's, then what it adds to each row).
    columns = [
        *frame.columns, "provider_id", "content_hash", "list_fingerprint", "deactivated_at", "price_observed_at",
        "first_seen_at", "last_seen_at", "created_at", "updated_at",
    ]
    tuples = []
    rows = zip(frame.astype(object).itertuples(index=False, name=None), spelled["content_hash"], spelled["list_fingerprint"])
    for values, digest, fingerprint in rows:
        values = [None if v is pd.NA else (Jsonb(v) if isinstance(v, (dict, list)) else v) for v in values]
        tuples.append((*values, 1, digest, int(fingerprint), None, now, now, now, now, now))
    plain_url = normalize_database_url(url).replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain_url) as conn:
        conn.execute("CREATE TABLE models_floor (LIKE models INCLUDING ALL)")
        conn.commit()
        copy_sql = f"COPY models_floor ({', '.join(columns)}) FROM STDIN"
        started = time.perf_counter()
        with conn.cursor() as cursor, cursor.copy(copy_sql) as copy:
            for row in tuples:
                copy.write_row(row)
        conn.commit()
        write_row_seconds = time.perf_counter() - started
        buffer = io.BytesIO()
        with conn.cursor() as cursor, cursor.copy(f"COPY models_floor ({', '.join(columns)}) TO STDOUT") as copy:
            for block in copy:
                buffer.write(block)
        conn.execute("TRUNCATE models_floor")
        conn.commit()
        started = time.perf_counter()
        with conn.cursor() as cursor, cursor.copy(copy_sql) as copy:
            copy.write(buffer.getvalue())
        conn.commit()
        buffer_seconds = time.perf_counter() - started
        conn.execute("DROP TABLE models_floor")
        conn.commit()
    return {"write_row_seconds": write_row_seconds, "buffer_seconds": buffer_seconds, "peak_rss_mib": peak_rss_mib()}


def main() -> None:
    mode, *args = sys.argv[1:]
    if mode == "floor":
        result = floor(args[0], int(args[1]))
    elif mode == "load":
        result = load_step(args[0], int(args[1]), args[2])
    elif mode == "sync":
        from sync_timing import timed_sync

        result = timed_sync(args[0], args[1], int(args[2]))
    elif mode == "whole-sync":
        from sync_timing import whole_command

        result = whole_command(args[0], args[1], int(args[2]), int(args[3]) or None)
    elif mode == "fetch-alone":
        from sync_timing import fetch_alone

        result = fetch_alone(args[0])
    else:
        sys.exit(f"unknown step {mode!r}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
