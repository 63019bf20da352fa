"""The three catalog assets, one partition per provider:

raw_models (fetch + archive) -> normalized_models (one fixed-schema frame) -> model_catalog (diff + upsert).

The values between them go through `handoff.py`, never a file: a step run alone re-derives its
input from the raw archive in the catalog database.
"""


from collections.abc import Iterator
from functools import partial

import dagster as dg
import pandas as pd

from catalog_pipeline.collector import collector_paused
from catalog_pipeline.db.archive import archive_pages
from catalog_pipeline.db.load import load_provider_models
from catalog_pipeline.pipeline.http import ProviderFetchError
from catalog_pipeline.pipeline.normalize import entries_of
from catalog_pipeline.providers import adapter_for

from .checks import FRAME_CHECK_SPECS, frame_check_results
from .handoff import IO_MANAGER_KEY, RawList, normalized_frame
from .partitions import provider_partitions
from .reporting import CATALOG_COLUMN_SCHEMA, catalog_counts, changes_markdown, diff_metadata, frame_counts, sync_message
from .resources import CatalogDatabase, ProviderApis

GROUP = "model_catalog"
MAX_LISTED_REASONS = 200
SKIPPED_TAG = "catalog/skipped"
# The three steps of a provider's sync: one partition per provider, one group.
_per_provider = partial(dg.asset, partitions_def=provider_partitions, group_name=GROUP)


class SyncConfig(dg.Config):
    """Set on model_catalog, it applies to the whole run: in a dry run raw_models archives nothing."""

    dry_run: bool = False  # compute and report the diff; write nothing
    force: bool = False  # apply even if the shrink guard would refuse (one run only)


def run_is_dry(context: dg.AssetExecutionContext) -> bool:
    # The run's one dry_run switch lives on model_catalog's config (CLI, API and the UI's launchpad
    # all set it there); raw_models reads it from the run so a dry run never archives either.
    ops = (context.run.run_config or {}).get("ops") or {}
    return bool(((ops.get("model_catalog") or {}).get("config") or {}).get("dry_run", False))


@_per_provider(
    kinds={"python"},
    io_manager_key=IO_MANAGER_KEY,
    # A provider without its key produces nothing: its downstream steps skip and the run succeeds.
    output_required=False,
    description="The provider's model list as fetched, archived with fetch time and content hash.",
)
def raw_models(
    context: dg.AssetExecutionContext, catalog_db: CatalogDatabase, provider_apis: ProviderApis
) -> Iterator[dg.Output | dg.AssetObservation]:
    module = adapter_for(context.partition_key)
    spec = module.SPEC
    if reason := provider_apis.missing_key_reason(spec):
        yield from _not_configured(context, f"skipped: {reason}")
        return
    try:
        pages = provider_apis.fetch(spec.slug)
        with collector_paused():  # decoding every page makes every entry's objects
            fetched = len(entries_of(module, [(page.url, page.payload) for page in pages]))
    except ProviderFetchError as exc:
        raise dg.Failure(description=f"{spec.slug}: {exc}") from None
    source = {"fetched": fetched, "pages": len(pages), "bytes": sum(p.size for p in pages), "source_url": dg.MetadataValue.url(pages[0].url)}
    if run_is_dry(context):
        raw = RawList(spec.slug, [(page.url, page.payload) for page in pages], pages[0].fetched_at, archive_id=None)
        yield dg.Output(raw, metadata={**source, "dry_run": True, "archived": False})
        return
    with catalog_db.engine().begin() as conn:
        archived = archive_pages(conn, spec.slug, pages, context.run_id, redact=provider_apis.redactor())
    yield dg.Output(
        RawList.from_archive(archived),
        metadata={**source, "dry_run": False, "archived": True, "content_sha256": archived.content_sha256, "archive_id": archived.id},
    )


def _not_configured(context: dg.AssetExecutionContext, reason: str) -> Iterator[dg.AssetObservation]:
    """Not configured is not broken: say why on the run and the asset, materialize nothing."""
    context.log.warning(f"{context.partition_key}: {reason}; nothing to sync, downstream steps skip")
    context.instance.add_run_tags(context.run_id, {SKIPPED_TAG: reason})
    yield dg.AssetObservation(
        asset_key=context.asset_key, partition=context.partition_key, metadata={"skipped_reason": reason}
    )


@_per_provider(
    kinds={"pandas"},
    io_manager_key=IO_MANAGER_KEY,
    check_specs=FRAME_CHECK_SPECS,
    description="The newest archived list, normalized by the provider's adapter to the catalog schema (USD per token).",
)
def normalized_models(
    context: dg.AssetExecutionContext, raw_models: RawList, catalog_db: CatalogDatabase
) -> Iterator[dg.Output[pd.DataFrame] | dg.AssetCheckResult]:
    frame = normalized_frame(raw_models, catalog_db.engine())
    skipped = frame.attrs["skipped"]
    second_source = frame.attrs["second_source"]
    archive = {"archive_id": raw_models.archive_id} if raw_models.archive_id is not None else {"archived": False}
    yield dg.Output(
        frame,
        metadata={
            "fetched": frame.attrs["fetched"],
            "transformed": len(frame),
            "skipped": len(skipped),
            "skipped_reasons": dg.MetadataValue.json(skipped[:MAX_LISTED_REASONS]),
            **archive,
            "fetched_at": raw_models.fetched_at.isoformat(),
            "second_source_prices": len(second_source.filled),
            "rejected_router_offers": dg.MetadataValue.json(second_source.rejected_offers[:MAX_LISTED_REASONS]),
            "dagster/row_count": len(frame),
        },
    )
    yield from frame_check_results(frame)  # a failed one is blocking: model_catalog does not run


SHRINK_GUARD_CHECK = "shrink_guard"
PRICE_HOLD_CHECK = "price_changes_held"


@_per_provider(
    kinds={"sqlite", "postgres"},
    description="The provider's rows in `providers` / `models`, upserted in one transaction.",
    metadata={"dagster/column_schema": CATALOG_COLUMN_SCHEMA, "dagster/table_name": "models"},
    check_specs=[
        dg.AssetCheckSpec(
            SHRINK_GUARD_CHECK,
            asset="model_catalog",
            blocking=True,
            description="Fails, deactivating nothing, when the provider lists under half of its active models.",
        ),
        dg.AssetCheckSpec(
            PRICE_HOLD_CHECK,
            asset="model_catalog",
            description="Warns about price moves of more than 10x or paid-to-free, held until accepted.",
        ),
    ],
)
def model_catalog(
    context: dg.AssetExecutionContext, config: SyncConfig, normalized_models: pd.DataFrame, catalog_db: CatalogDatabase
) -> dg.MaterializeResult:
    spec = adapter_for(context.partition_key).SPEC
    report = load_provider_models(
        catalog_db.engine(), spec, normalized_models, dry_run=config.dry_run, force=config.force, run_id=context.run_id
    )
    fetched = normalized_models.attrs.get("fetched", len(normalized_models))
    skipped = normalized_models.attrs.get("skipped", [])
    message = sync_message(spec.slug, len(normalized_models), fetched, len(skipped), dry_run=config.dry_run)
    context.log.info(message)
    if report.shrink_guard:
        context.log.error(report.shrink_guard)
    held = report.diff.held
    diff = diff_metadata(report.diff)
    # A dry run wrote nothing, so its counts are those the frame would give.
    counts = frame_counts(normalized_models) if config.dry_run else catalog_counts(catalog_db.engine(), report.provider_id)
    return dg.MaterializeResult(
        metadata={
            "message": message,
            "provider_id": report.provider_id,
            "dry_run": config.dry_run,
            "fetched": fetched,
            "transformed": len(normalized_models),
            "skipped": len(skipped),
            "skipped_reasons": dg.MetadataValue.json(skipped[:MAX_LISTED_REASONS]),
            **report.diff.counts(),
            **counts,
            "change_table": dg.MetadataValue.md(changes_markdown(report.diff, normalized_models)),
            "diff": dg.MetadataValue.json(diff),
            "changes": dg.MetadataValue.json(report.changes),  # change-feed rows by kind
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=SHRINK_GUARD_CHECK,
                passed=report.shrink_guard is None,
                metadata={
                    "reason": report.shrink_guard or "the list is not suspiciously short",
                    "withheld_deactivations": len(report.diff.withheld_deactivations),
                },
            ),
            dg.AssetCheckResult(
                check_name=PRICE_HOLD_CHECK,
                passed=not held,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={
                    "reason": f"{len(held)} price changes held; accept with: sync-models --accept-pending {spec.slug}"
                    if held else "no suspicious price change",
                    "held": dg.MetadataValue.json(diff["held"]),
                },
            ),
        ],
    )
