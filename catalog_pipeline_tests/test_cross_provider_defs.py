"""The cross-provider assets in the code location: their job, and the sensor that runs them after syncs."""

import dagster as dg

from catalog_pipeline.definitions import defs as load_definitions


def test_cross_provider_job_runs_in_process_and_the_sensor_is_on_by_default():
    defs = load_definitions()
    job = defs.resolve_job_def("catalog_cross_provider")
    assert job.executor_def is dg.in_process_executor
    assert {key.to_user_string() for key in job.asset_layer.executable_asset_keys} == {
        "canonical_models", "price_discrepancies", "catalog_export",
    }
    sensor = defs.resolve_sensor_def("cross_provider_automation")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING


def test_a_provider_sync_requests_the_cross_provider_assets_and_nothing_else():
    defs = load_definitions()
    with dg.DagsterInstance.ephemeral() as instance:
        first = dg.evaluate_automation_conditions(defs=defs, instance=instance)
        assert first.total_requested == 0  # nothing synced yet: nothing to link
        instance.report_runless_asset_event(dg.AssetMaterialization("model_catalog", partition="groq"))
        after = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor)
        for name in ("canonical_models", "price_discrepancies", "catalog_export"):
            assert after.get_num_requested(dg.AssetKey(name)) == 1, name
        assert after.total_requested == 3  # no provider partition is re-requested
