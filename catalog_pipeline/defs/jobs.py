import dagster as dg

from .assets import model_catalog, normalized_models, raw_models

catalog_sync_job = dg.define_asset_job(
    "catalog_sync",
    selection=dg.AssetSelection.assets(raw_models, normalized_models, model_catalog),
    description="Fetch, normalize and load one provider (one partition per run).",
)

catalog_replay_job = dg.define_asset_job(
    "catalog_replay",
    selection=dg.AssetSelection.assets(normalized_models, model_catalog),
    description="Re-derive one provider's rows from its newest archived raw list, calling no provider.",
)
