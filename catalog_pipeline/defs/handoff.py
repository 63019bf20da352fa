"""How the raw list and the normalized frame get from one asset to the next.

Within a run, each step's output is held in memory by this run's IO manager (Dagster creates one
per run, so nothing outlives the run). A step materialized on its own, in another run or another
process, re-derives its input from the raw archive in the catalog database, which every process
that shares the catalog can read: no file sits between the assets. A dry run never archives, so
its raw list exists only inside the run that fetched it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, is_dataclass, replace
from datetime import datetime
from typing import Any

import dagster as dg
import pandas as pd

from sqlalchemy import Engine

from catalog_pipeline.db.archive import ArchivedList, latest_archive
from catalog_pipeline.db.second_source import apply_price_sources
from catalog_pipeline.pipeline.http import ProviderFetchError
from catalog_pipeline.pipeline.normalize import normalize
from catalog_pipeline.providers import adapter_for

from .resources import configured_redactor

IO_MANAGER_KEY = "catalog_handoff"
RAW_MODELS = dg.AssetKey("raw_models")
NORMALIZED_MODELS = dg.AssetKey("normalized_models")


@dataclass
class RawList:
    """A provider's fetched pages; `archive_id` is None when a dry run left them unarchived."""

    slug: str
    pages: list[tuple[str, Any]]
    fetched_at: datetime
    archive_id: int | None

    @classmethod
    def from_archive(cls, archived: ArchivedList) -> "RawList":
        return cls(archived.provider_slug, archived.pages, archived.fetched_at, archived.id)


def normalized_frame(raw: RawList, engine: Engine) -> pd.DataFrame:
    """The adapter's frame of `raw`, each price marked with its source and missing ones filled from a
    second source (db/second_source.py); `attrs` carry fetched, skipped, archive_id and the fill."""
    try:
        result = normalize(adapter_for(raw.slug), raw.pages)
    except ProviderFetchError as exc:
        raise dg.Failure(description=f"{raw.slug}: {exc}") from None
    frame = result.frame
    with engine.connect() as conn:
        second_source = apply_price_sources(conn, raw.slug, frame, raw.fetched_at)
    frame.attrs.update(fetched=result.fetched, skipped=result.skipped, archive_id=raw.archive_id, second_source=second_source)
    frame.attrs = {key: _shared(value) for key, value in frame.attrs.items()}
    return frame


class _SharedDict(dict):
    def __deepcopy__(self, memo) -> "_SharedDict":
        return self


class _SharedList(list):
    def __deepcopy__(self, memo) -> "_SharedList":
        return self


def _shared(value: Any) -> Any:
    """`value` as every frame derived from this one shares it. pandas deep-copies `attrs` into each
    frame and series it derives (a column, a comparison, a filter): for 2,000 models, copying the
    rows' price dates and fill report took 5 ms each time, more than the checks and the table
    reading them. Nothing changes these values once the frame is made."""
    if isinstance(value, dict):
        return _SharedDict(value)
    if isinstance(value, list):
        return _SharedList(value)
    if is_dataclass(value) and not isinstance(value, type):
        return replace(value, **{f.name: _shared(getattr(value, f.name)) for f in fields(value) if f.init})
    return value


class CatalogHandoff(dg.IOManager):
    def __init__(self, catalog_db) -> None:
        self._catalog_db = catalog_db
        self._held: dict[tuple[dg.AssetKey, str], Any] = {}

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        self._held[(context.asset_key, context.asset_partition_key)] = obj

    def load_input(self, context: dg.InputContext) -> Any:
        asset_key = context.upstream_output.asset_key
        slug = context.asset_partition_key
        held = self._held.get((asset_key, slug))
        if held is not None:
            return held
        raw = self._archived(slug)
        return raw if asset_key == RAW_MODELS else normalized_frame(raw, self._catalog_db.engine())

    def _archived(self, slug: str) -> RawList:
        with self._catalog_db.engine().connect() as conn:
            archived = latest_archive(conn, slug, redact=configured_redactor())
        if archived is None:
            raise dg.Failure(
                description=f"{slug}: no archived model list yet; materialize raw_models for partition {slug} first"
                f" (or run: sync-models --providers {slug})",
                metadata={"materialize_first": "raw_models"},
            )
        return RawList.from_archive(archived)


@dg.io_manager(
    required_resource_keys={"catalog_db"},
    description="Hands the raw list and the normalized frame to the next step of the run; "
    "a step run alone re-derives them from the raw archive in the catalog database.",
)
def catalog_handoff(init_context: dg.InitResourceContext) -> CatalogHandoff:
    return CatalogHandoff(init_context.resources.catalog_db)
