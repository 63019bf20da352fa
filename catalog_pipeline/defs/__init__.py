"""Dagster definitions of the catalog: partitions, resources, assets, checks, schedules."""
