"""Time the catalog load (diff + upsert) for large provider lists, and its peak memory.

Usage: python benchmarks/bench_load.py [DATABASE_URL] [ROWS ...]
Default: a scratch PostgreSQL database on postgresql://postgres@127.0.0.1:5432 (created and
dropped), rows 10000 50000 100000. Prints, per size: initial load, unchanged re-sync, 10 % changed
(time of load_provider_models from frame to commit, rows per second, and the process's peak RSS).
Pass a sqlite:/// URL to measure the embedded default instead.
"""

from __future__ import annotations

import resource
import sys
import time
import uuid
from decimal import Decimal

from catalog_pipeline.db.engine import catalog_engine, dispose_engines
from catalog_pipeline.db.load import load_provider_models
from catalog_pipeline.pipeline.records import ModelRecord, records_to_frame
from catalog_pipeline.providers import adapter_for

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def frame(rows: int, changed_every: int = 0):
    return records_to_frame(
        [
            ModelRecord(
                provider_model_id=f"bench/model-{i:07d}",
                model_name=f"Bench model {i}",
                description="A synthetic model used to time the load.",
                pricing_prompt=Decimal("0.000001") + Decimal(i).scaleb(-12) + (Decimal("1E-13") if changed_every and i % changed_every == 0 else 0),
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


def timed(label: str, fn) -> None:
    started = time.perf_counter()
    report = fn()
    elapsed = time.perf_counter() - started
    counts = report.diff.counts()
    rows = sum(counts[k] for k in ("added", "updated", "unchanged"))
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  {label:<18} {elapsed:7.2f} s  {rows / elapsed:9,.0f} rows/s   process peak RSS {peak_rss:6.0f} MiB   "
          f"added {counts['added']}, updated {counts['updated']}, unchanged {counts['unchanged']}")


def main() -> None:
    args = sys.argv[1:]
    url = args.pop(0) if args and "://" in args[0] else None
    sizes = [int(a) for a in args] or [10_000, 50_000, 100_000]
    scratch = None
    if url is None:
        import psycopg

        scratch = f"catalog_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{scratch}"')
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{scratch}"
    spec = adapter_for("openrouter").SPEC
    try:
        for rows in sizes:
            engine = catalog_engine(url)
            with engine.begin() as conn:
                conn.exec_driver_sql("DELETE FROM pending_price_changes")
                conn.exec_driver_sql("DELETE FROM models")
            print(f"{rows} models into {engine.dialect.name}:")
            base, changed = frame(rows), frame(rows, changed_every=10)
            timed("initial load", lambda: load_provider_models(engine, spec, base))
            timed("unchanged re-sync", lambda: load_provider_models(engine, spec, frame(rows)))
            timed("10% changed", lambda: load_provider_models(engine, spec, changed))
    finally:
        dispose_engines()
        if scratch:
            import psycopg

            with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')


if __name__ == "__main__":
    main()
