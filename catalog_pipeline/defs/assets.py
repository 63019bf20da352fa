"""The three catalog assets, one partition per provider:

raw_models (fetch + archive) -> normalized_models (one fixed-schema frame) -> model_catalog (diff + upsert).
"""


import dagster as dg
import pandas as pd

from catalog_pipeline.db.archive import archive_pages, latest_archive
from catalog_pipeline.db.load import load_provider_models
from catalog_pipeline.db.second_source import apply_price_sources
from catalog_pipeline.pipeline.http import ProviderFetchError
from catalog_pipeline.pipeline.normalize import entries_of, normalize
from catalog_pipeline.providers import adapter_for

from .partitions import provider_partitions
from .reporting import diff_metadata, sync_message
from .resources import CatalogDatabase, ProviderApis

GROUP = "model_catalog"
MAX_LISTED_REASONS = 200


class SyncConfig(dg.Config):
    dry_run: bool = False  # compute and report the diff; write nothing
    force: bool = False  # apply even if the shrink guard would refuse (one run only)


@dg.asset(
    partitions_def=provider_partitions,
    group_name=GROUP,
    kinds={"python"},
    description="The provider's model list as fetched, archived with fetch time and content hash.",
)
def raw_models(context: dg.AssetExecutionContext, catalog_db: CatalogDatabase, provider_apis: ProviderApis) -> dg.MaterializeResult:
    module = adapter_for(context.partition_key)
    spec = module.SPEC
    if reason := spec.missing_key_reason():
        raise dg.Failure(description=f"skipped: {reason}", metadata={"skipped_reason": reason})
    try:
        pages = provider_apis.fetch(spec.slug)
        fetched = len(entries_of(module, [(page.url, page.payload) for page in pages]))
    except ProviderFetchError as exc:
        raise dg.Failure(description=f"{spec.slug}: {exc}") from None
    with catalog_db.engine().begin() as conn:
        archived = archive_pages(conn, spec.slug, pages, context.run_id)
    return dg.MaterializeResult(
        metadata={
            "fetched": fetched,
            "pages": archived.page_count,
            "bytes": archived.byte_size,
            "content_sha256": archived.content_sha256,
            "archive_id": archived.id,
            "source_url": dg.MetadataValue.url(pages[0].url),
        }
    )


@dg.asset(
    partitions_def=provider_partitions,
    group_name=GROUP,
    kinds={"pandas"},
    deps=[raw_models],
    description="The newest archived list, normalized by the provider's adapter to the catalog schema (USD per token).",
)
def normalized_models(context: dg.AssetExecutionContext, catalog_db: CatalogDatabase) -> dg.Output[pd.DataFrame]:
    module = adapter_for(context.partition_key)
    with catalog_db.engine().connect() as conn:
        archived = latest_archive(conn, module.SPEC.slug)
    if archived is None:
        raise dg.Failure(description=f"{module.SPEC.slug}: no archived model list yet; materialize raw_models first")
    try:
        result = normalize(module, archived.pages)
    except ProviderFetchError as exc:
        raise dg.Failure(description=f"{module.SPEC.slug}: {exc}") from None
    frame = result.frame
    with catalog_db.engine().connect() as conn:
        second_source = apply_price_sources(conn, module.SPEC.slug, frame, archived.fetched_at)
    frame.attrs.update(fetched=result.fetched, skipped=result.skipped, archive_id=archived.id)
    return dg.Output(
        frame,
        metadata={
            "fetched": result.fetched,
            "transformed": len(frame),
            "skipped": len(result.skipped),
            "skipped_reasons": dg.MetadataValue.json(result.skipped[:MAX_LISTED_REASONS]),
            "archive_id": archived.id,
            "fetched_at": archived.fetched_at.isoformat(),
            "second_source_prices": len(second_source.filled),
            "rejected_router_offers": dg.MetadataValue.json(second_source.rejected_offers[:MAX_LISTED_REASONS]),
            "dagster/row_count": len(frame),
        },
    )


SHRINK_GUARD_CHECK = "shrink_guard"
PRICE_HOLD_CHECK = "price_changes_held"


@dg.asset(
    partitions_def=provider_partitions,
    group_name=GROUP,
    kinds={"sqlite", "postgres"},
    description="The provider's rows in `providers` / `models`, upserted in one transaction.",
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
