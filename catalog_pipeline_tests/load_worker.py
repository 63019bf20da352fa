"""A separate process that loads a large synthetic model list (used by the crash-safety tests)."""

from __future__ import annotations

import sys
from decimal import Decimal

from catalog_pipeline.db.engine import catalog_engine
from catalog_pipeline.db.load import load_provider_models
from catalog_pipeline.pipeline.records import ModelRecord, records_to_frame
from catalog_pipeline.providers import adapter_for


def synthetic_frame(count: int, price: Decimal):
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
            for i in range(count)
        ]
    )


if __name__ == "__main__":
    url, count, price = sys.argv[1], int(sys.argv[2]), Decimal(sys.argv[3])
    load_provider_models(catalog_engine(url), adapter_for("openrouter").SPEC, synthetic_frame(count, price))
    print("committed")
