"""Blocking checks on the normalized frame: a failure here keeps the provider's rows as they are.

They are evaluated inside normalized_models' own step (its `check_specs`), not as steps of their
own: two more steps cost each provider's run ten stored events, two input loads and two lookups of
the materialization they check, more than the checks themselves. Their keys, results and blocking
effect are the same; what is lost is running one of them alone, without normalizing again.
"""

import warnings
from decimal import Decimal

import dagster as dg
import pandas as pd

from catalog_pipeline.pipeline.records import PRICE_COLUMNS

from .partitions import provider_partitions

# A price above its column's bound is a unit slip (per 1M quoted as per token, cents as dollars).
# 1,000 USD per 1M tokens: no listed model costs that.
MAX_PLAUSIBLE_PER_TOKEN = Decimal("0.001")
PER_TOKEN_COLUMNS = ("pricing_prompt", "pricing_completion", "pricing_cache_read", "pricing_cache_write")
MAX_PLAUSIBLE_PRICE: dict[str, tuple[Decimal, str]] = {
    **{column: (MAX_PLAUSIBLE_PER_TOKEN, "USD per token") for column in PER_TOKEN_COLUMNS},
    # Listed image prices are at most about 0.25 USD.
    "pricing_image": (Decimal("10"), "USD per image"),
    # Per request or per generated video: search calls cost cents, a long video a few dollars.
    "pricing_request": (Decimal("100"), "USD per request"),
}
assert set(MAX_PLAUSIBLE_PRICE) == set(PRICE_COLUMNS)
MAX_SHOWN = 20

# Partitioned asset checks are "preview" in Dagster 1.13 (pinned); one partition per provider needs them.
warnings.filterwarnings("ignore", category=dg.PreviewWarning, message=".*partitions_def on an AssetCheckSpec.*")


def prices_are_plausible(normalized_models: pd.DataFrame) -> dg.AssetCheckResult:
    """No negative price; none above its unit's bound (probable unit error): 0.001 USD per token,
    10 USD per image, 100 USD per request."""
    frame = normalized_models.reset_index(drop=True)
    problems = []
    for column, (bound, unit) in MAX_PLAUSIBLE_PRICE.items():
        # Compared column-wise over the known prices: a row-by-row loop grew with the list.
        prices = frame[column][frame[column].notna()]
        negative, above = prices < 0, prices > bound
        for row in prices.index[negative | above]:
            model_id, price = frame.at[row, "provider_model_id"], prices[row]
            if negative[row]:
                problems.append(f"{model_id}: {column} is negative ({price})")
            else:
                problems.append(f"{model_id}: {column} = {price} {unit}, above {bound} (unit error?)")
    return dg.AssetCheckResult(
        check_name="prices_are_plausible",
        passed=not problems,
        metadata={"problems": len(problems), "examples": dg.MetadataValue.json(problems[:MAX_SHOWN])},
        description=_summary("implausible prices", problems),
    )


def model_ids_and_limits_are_valid(normalized_models: pd.DataFrame) -> dg.AssetCheckResult:
    """Ids non-empty and unique within the provider; context length positive where known."""
    ids = normalized_models["provider_model_id"].reset_index(drop=True)
    empty = ids.isna() | (ids.fillna("").astype(str).str.strip() == "")
    problems = [f"empty id at row {i}" for i in ids.index[empty]]
    problems += [f"{v}: duplicate id" for v in ids[ids.duplicated()].unique()]
    contexts = normalized_models["context_length"].reset_index(drop=True)
    not_positive = (contexts.notna() & (contexts <= 0)).fillna(False).astype(bool)
    problems += [f"{ids[i]}: context_length {contexts[i]} is not positive" for i in contexts.index[not_positive]]
    return dg.AssetCheckResult(
        check_name="model_ids_and_limits_are_valid",
        passed=not problems,
        metadata={"problems": len(problems), "examples": dg.MetadataValue.json(problems[:MAX_SHOWN])},
        description=_summary("invalid ids or limits", problems),
    )


FRAME_CHECKS = (prices_are_plausible, model_ids_and_limits_are_valid)
FRAME_CHECK_SPECS = [
    dg.AssetCheckSpec(
        check.__name__, asset="normalized_models", blocking=True, partitions_def=provider_partitions,
        description=" ".join(check.__doc__.split()),
    )
    for check in FRAME_CHECKS
]


def frame_check_results(frame: pd.DataFrame) -> list[dg.AssetCheckResult]:
    return [check(frame) for check in FRAME_CHECKS]


def _summary(what: str, problems: list[str]) -> str:
    if not problems:
        return f"no {what}"
    return f"{len(problems)} {what}: " + "; ".join(problems[:3]) + ("; ..." if len(problems) > 3 else "")
