"""What the UI shows about a sync, read back from the Dagster instance: the catalog's column
schema, a Markdown table of the first changes, and the provider's active and unpriced counts."""

from __future__ import annotations

import copy
import json

import dagster as dg

from catalog_pipeline.db.schema import models
from catalog_pipeline.definitions import defs

from .conftest import FIXTURES
from .http_server import json_reply
from .sync_helpers import materialize_provider

CATALOG = dg.AssetKey("model_catalog")


def latest_catalog_metadata(instance: dg.DagsterInstance, slug: str) -> dict:
    (record,) = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=CATALOG, asset_partitions=[slug]), limit=1).records
    return {key: value.value for key, value in record.asset_materialization.metadata.items()}


def test_model_catalog_declares_the_models_table_columns():
    schema = defs().resolve_assets_def(CATALOG).specs_by_key[CATALOG].metadata["dagster/column_schema"]
    assert isinstance(schema, dg.TableSchema)
    assert [column.name for column in schema.columns] == [column.name for column in models.columns]
    by_name = {column.name: column for column in schema.columns}
    assert by_name["pricing_prompt"].type == "NUMERIC" and by_name["pricing_prompt"].description == "USD per token"
    assert by_name["provider_model_id"].constraints.nullable is False


def test_each_sync_reports_its_changes_and_counts(provider_env, catalog_url):
    payload = json.loads((FIXTURES / "openrouter_models.json").read_text())
    provider_env.route("/openrouter/models", json_reply(payload))
    with dg.DagsterInstance.ephemeral() as instance:
        assert materialize_provider("openrouter", catalog_url, instance=instance).success
        first = latest_catalog_metadata(instance, "openrouter")
        # openrouter/auto's "-1" is no price: active and unpriced.
        assert (first["active_models"], first["unpriced_models"]) == (5, 1)
        assert "| added | acme/reasoner-large | input: $3; output: $15; image: $0.0048; request: $0;" in first["change_table"]

        changed = copy.deepcopy(payload)
        changed["data"][0]["pricing"]["completion"] = "0.00002"
        gone = changed["data"].pop()["id"]
        changed["data"].append({"id": "acme/brand-new", "name": "Brand new", "context_length": 8192,
                                "pricing": {"prompt": "0.000001", "completion": "0.000002"}})
        provider_env.route("/openrouter/models", json_reply(changed))
        assert materialize_provider("openrouter", catalog_url, instance=instance).success
        second = latest_catalog_metadata(instance, "openrouter")

    table = second["change_table"].splitlines()
    assert table[:2] == ["| change | model | prices (USD per 1M tokens; image, request: per unit) |", "|---|---|---|"]
    assert "| added | acme/brand-new | input: $1; output: $2 |" in table
    assert "| repriced | acme/reasoner-large | output: $15 → $20 |" in table
    assert f"| delisted | {gone} |  |" in table
    assert len(table) == 5
    assert (second["active_models"], second["unpriced_models"]) == (5, 1)
    assert second["diff"]["deactivated"] == [gone]  # the full JSON stays beside the table


def test_a_provider_without_prices_counts_every_active_model_unpriced(provider_env, sqlite_url):
    provider_env.route("/groq/models", json_reply(json.loads((FIXTURES / "groq_models.json").read_text())))
    with dg.DagsterInstance.ephemeral() as instance:
        assert materialize_provider("groq", sqlite_url, instance=instance).success
        metadata = latest_catalog_metadata(instance, "groq")
    assert (metadata["active_models"], metadata["unpriced_models"]) == (4, 4)
