"""A separate process that loads a synthetic model list (used by the crash-safety tests).

`python -m catalog_pipeline_tests.load_worker URL COUNT PRICE [--first N] [--pause-before-deactivation]`
loads models FIRST .. FIRST+COUNT-1. With `--pause-before-deactivation` it stops inside the load's
transaction, after the inserts and updates and before the deactivation, prints how many of the
provider's rows it sees there, and waits to be killed.
"""

from __future__ import annotations

import argparse
import sys
import threading
from decimal import Decimal

from sqlalchemy import Connection, func, select

from catalog_pipeline.db.engine import catalog_engine
from catalog_pipeline.db.load import load_provider_models
from catalog_pipeline.db.schema import models
from catalog_pipeline.pipeline.records import ModelRecord, records_to_frame
from catalog_pipeline.providers import adapter_for

PAUSED = "paused before the deactivation; rows in the transaction:"


def synthetic_frame(count: int, price: Decimal, first: int = 0):
    return records_to_frame(
        [
            ModelRecord(
                provider_model_id=f"bulk/model-{i:06d}",
                model_name=f"Bulk model {i}",
                pricing_prompt=price + Decimal(i).scaleb(-12),
                pricing_completion=price * 2,
                context_length=8192 + i,
                metadata={"index": i},
            )
            for i in range(first, first + count)
        ]
    )


def _pause_until_killed(conn: Connection) -> None:
    active = conn.execute(select(func.count()).select_from(models).where(models.c.is_active)).scalar_one()
    print(PAUSED, active, flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("count", type=int)
    parser.add_argument("price", type=Decimal)
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--pause-before-deactivation", action="store_true")
    args = parser.parse_args()
    load_provider_models(
        catalog_engine(args.url),
        adapter_for("openrouter").SPEC,
        synthetic_frame(args.count, args.price, args.first),
        pause_point=_pause_until_killed if args.pause_before_deactivation else None,
    )
    print("committed")
    sys.exit(0)
