"""Assets across providers, downstream of every `model_catalog` partition (not partitioned):

canonical_models (links) -> price_discrepancies (own vs second-source price) and catalog_export (files).

They run after syncs: `sync-models` runs the `catalog_cross_provider` job after its provider runs
(and while their fetches are under way: see sync.py), and with a daemon the
`cross_provider_automation` sensor requests them once the provider runs that updated
`model_catalog` have finished.
"""

from functools import partial
from pathlib import Path

import dagster as dg
from pydantic import Field

from catalog_pipeline.db.canonical import rebuild_links
from catalog_pipeline.db.engine import DEFAULT_DATA_DIR
from catalog_pipeline.db.offers import power_of_ten_exponent, price_discrepancies_unless
from catalog_pipeline.db.jsonable import jsonable
from catalog_pipeline.exports import FILE_NAMES, FORMATS, export_catalogs
from catalog_pipeline.settings import EXPORT_DIR_ENV_VAR, load_settings

from .assets import model_catalog
from .resources import CatalogDatabase

GROUP = "across_providers"
MAX_SHOWN = 50
UNLINKED_CHECK = "active_models_linked"
UNIT_ERROR_CHECK = "no_unit_error_ratios"
MIN_UNIT_ERROR_EXPONENT = 3  # 10^3 and beyond: per-1K/per-1M read as per token, or the reverse

# Runs once the provider runs that updated model_catalog are over; providers never synced don't block it.
_AFTER_SYNCS = dg.AutomationCondition.eager().without(~dg.AutomationCondition.any_deps_missing())


class CatalogExport(dg.ConfigurableResource):
    """Where `catalog_export` writes; unset: `CATALOG_EXPORT_DIR` (read when the run starts), else
    ~/.model-catalog-sync/exports."""

    directory: str | None = Field(default=None, description=f"directory for the export files (unset: ${EXPORT_DIR_ENV_VAR})")

    def path_for(self, fmt: str) -> Path:
        chosen = self.directory or load_settings().export_dir
        directory = Path(chosen) if chosen else DEFAULT_DATA_DIR / "exports"
        return directory.expanduser() / FILE_NAMES[fmt]

    def prepared_paths(self) -> dict[str, Path]:
        """Every format's file, its directory made if missing."""
        paths = {fmt: self.path_for(fmt) for fmt in FORMATS}
        for path in paths.values():
            path.parent.mkdir(parents=True, exist_ok=True)
        return paths


def _warning(
    check_name: str, found: list, *, count_key: str, examples_key: str, failing: str, passing: str, count: int | None = None
) -> dg.AssetCheckResult:
    """A WARN check that fails when `found` is not empty, showing how many (`count`, else
    len(found)) and the first MAX_SHOWN."""
    count = len(found) if count is None else count
    return dg.AssetCheckResult(
        check_name=check_name,
        passed=not count,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={count_key: count, examples_key: dg.MetadataValue.json(jsonable(found[:MAX_SHOWN]))},
        description=failing if count else passing,
    )

@dg.asset(
    group_name=GROUP,
    kinds={"sqlite", "postgres"},
    deps=[model_catalog],
    automation_condition=_AFTER_SYNCS,
    description="Links every catalog row to the model it sells (hf_id > curated alias > normalized name).",
    check_specs=[
        dg.AssetCheckSpec(UNLINKED_CHECK, asset="canonical_models", description="Counts active models no method links."),
    ],
)
def canonical_models(context: dg.AssetExecutionContext, catalog_db: CatalogDatabase) -> dg.MaterializeResult:
    # Re-plans only the name groups with rows changed since their last plan: the same links as a
    # plan of every row (db/canonical.py).
    report = rebuild_links(catalog_db.engine(), run_id=context.run_id, examples=MAX_SHOWN)
    for relink in report.relinked:
        context.log.warning(f"re-linked {relink['provider']} {relink['model']}: {relink['old']} -> {relink['new']}")
    unlinked = report.unlinked_active
    return dg.MaterializeResult(
        metadata={
            "canonical_models": report.canonical_models,
            "linked_by_method": dg.MetadataValue.json(report.linked),
            "unlinked_active_models": unlinked,
            "relinked": dg.MetadataValue.json(report.relinked[:MAX_SHOWN]),
        },
        check_results=[
            _warning(
                UNLINKED_CHECK, report.unlinked_examples, count=unlinked, count_key="unlinked_active_models", examples_key="examples",
                failing=f"{unlinked} active models are linked to no canonical model",
                passing="every active model is linked",
            )
        ],
    )


# Discrepancies and exports read the catalog once canonical_models has linked it.
_read_after_links = partial(dg.asset, group_name=GROUP, deps=[canonical_models], automation_condition=_AFTER_SYNCS)


# What a price_discrepancies materialization keeps for the next one to reuse.
_INPUTS_KEY = "inputs_fingerprint"
_SUSPECTS_KEY = "suspected_unit_errors"
_SUSPECT_ENTRIES_KEY = "suspected_unit_error_entries"
_REUSED_KEYS = ("discrepancies", "entries", _INPUTS_KEY, _SUSPECTS_KEY, _SUSPECT_ENTRIES_KEY)


@_read_after_links(
    kinds={"python"},
    description="Every (provider, model, price) where the provider's own price and a second source's"
    " price for that same provider differ by more than 1%, with both values, both sources and the ratio.",
    check_specs=[
        dg.AssetCheckSpec(
            UNIT_ERROR_CHECK, asset="price_discrepancies",
            description="Warns when a ratio is a power of ten of 10^3 or more, the signature of a unit error.",
        ),
    ],
)
def price_discrepancies(context: dg.AssetExecutionContext, catalog_db: CatalogDatabase) -> dg.MaterializeResult:
    # Compared anew only when what they read has moved since the last materialization (after most
    # syncs the router's providers are not among those that changed); else that one's figures stand.
    last = _last_metadata(context)
    report = price_discrepancies_unless(catalog_db.engine(), last.get(_INPUTS_KEY))
    if report.found is None:
        count, entries, suspect_count, suspects = (
            last["discrepancies"], last["entries"], last[_SUSPECTS_KEY], last[_SUSPECT_ENTRIES_KEY]
        )
    else:
        found = report.found
        suspected = [d for d in found if (power_of_ten_exponent(d["ratio"]) or 0) >= MIN_UNIT_ERROR_EXPONENT]
        count, entries = len(found), jsonable(found[:MAX_SHOWN])
        suspect_count, suspects = len(suspected), jsonable(suspected[:MAX_SHOWN])
    metadata = {
        "discrepancies": count,
        "entries": dg.MetadataValue.json(entries),
        "dagster/row_count": count,
        "compared_anew": report.found is not None,
    }
    if report.inputs is not None:  # what the next refresh compares its inputs with
        metadata |= {
            _INPUTS_KEY: report.inputs, _SUSPECTS_KEY: suspect_count, _SUSPECT_ENTRIES_KEY: dg.MetadataValue.json(suspects),
        }
    return dg.MaterializeResult(
        metadata=metadata,
        check_results=[
            _warning(
                UNIT_ERROR_CHECK, suspects, count=suspect_count, count_key="suspected_unit_errors", examples_key="entries",
                failing=f"{suspect_count} prices differ from their second source by a power of ten (unit error?)",
                passing="no ratio is a power of ten",
            )
        ],
    )


def _last_metadata(context: dg.AssetExecutionContext) -> dict:
    """The values of the asset's last materialization's metadata, when it holds every one a reuse
    needs; else nothing (never materialized, or by a version that did not record them)."""
    event = context.instance.get_latest_materialization_event(context.asset_key)
    materialization = event.asset_materialization if event else None
    stored = materialization.metadata if materialization else {}
    if not all(key in stored for key in _REUSED_KEYS):
        return {}
    return {key: stored[key].value for key in _REUSED_KEYS}


@_read_after_links(
    kinds={"json"},
    description="The active catalog as LiteLLM's model_prices_and_context_window.json and as the catalog's own JSON.",
)
def catalog_export(catalog_db: CatalogDatabase, catalog_export_files: CatalogExport) -> dg.MaterializeResult:
    paths = catalog_export_files.prepared_paths()
    written = export_catalogs(catalog_db.engine(), paths)
    metadata = {}
    for fmt, path in paths.items():
        metadata[f"{fmt}_models"] = written[fmt]
        metadata[f"{fmt}_path"] = dg.MetadataValue.path(str(path))
    return dg.MaterializeResult(metadata=metadata)


CROSS_PROVIDER_ASSETS = [canonical_models, price_discrepancies, catalog_export]

catalog_cross_provider_job = dg.define_asset_job(
    "catalog_cross_provider",
    selection=dg.AssetSelection.assets(*CROSS_PROVIDER_ASSETS),
    description="Re-link canonical models, list price discrepancies and write the exports.",
)

# What a sync runs last when no run since its refresh changed a row: the links and discrepancies
# stand, and the export takes in the providers' new sync times.
catalog_export_job = dg.define_asset_job(
    "catalog_export_refresh",
    selection=dg.AssetSelection.assets(catalog_export),
    description="Write the exports alone, from the catalog's rows and links as they stand.",
)

cross_provider_automation = dg.AutomationConditionSensorDefinition(
    "cross_provider_automation",
    target=dg.AssetSelection.assets(*CROSS_PROVIDER_ASSETS),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Requests the cross-provider assets once provider syncs have updated model_catalog.",
)


def cross_provider_definitions(export_directory: str | None = None) -> dg.Definitions:
    """`export_directory` unset: resolved when a run starts (see CatalogExport)."""
    return dg.Definitions(
        assets=CROSS_PROVIDER_ASSETS,
        jobs=[catalog_cross_provider_job, catalog_export_job],
        sensors=[cross_provider_automation],
        resources={"catalog_export_files": CatalogExport(directory=export_directory)},
    )
