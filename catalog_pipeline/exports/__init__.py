"""Exports of the active catalog, one module per format; every price is written as a JSON number
that parses back (with `json.loads(..., parse_float=Decimal)`) to exactly the stored Decimal."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from sqlalchemy import Connection, Engine

from catalog_pipeline.collector import collector_paused

from . import catalog_json, litellm
from .parts import spell_ahead, write_exports

FORMATS: dict[str, Callable] = {"litellm": litellm.build, "json": catalog_json.build}
FILE_NAMES = {"litellm": "model_prices_and_context_window.json", "json": "catalog.json"}


class ExportError(ValueError):
    """An export cannot be written; the message names the cause."""


def export_catalog(engine: Engine, fmt: str, output: Path) -> int:
    """Write the active catalog in `fmt` to `output` (atomically: a reader never sees half a file);
    returns the number of models written."""
    return export_catalogs(engine, {fmt: output})[fmt]


def export_catalogs(engine: Engine, outputs: dict[str, Path]) -> dict[str, int]:
    """Each format of `outputs` to its file, from one snapshot of the catalog; models written by
    format. Each file is put together from per-provider parts kept beside it (see parts.py)."""
    for fmt, output in outputs.items():
        if fmt not in FORMATS:
            raise ExportError(f"unknown export format {fmt!r}; use one of: {', '.join(FORMATS)}")
        if Path(output).is_dir():
            raise ExportError(f"{output} is a directory; give a file name")
        if not Path(output).parent.is_dir():
            raise ExportError(f"{Path(output).parent} does not exist")
    with _one_snapshot(engine) as conn:
        written = write_exports(conn, {fmt: Path(output) for fmt, output in outputs.items()})
    return {fmt: written for fmt in outputs}


def spell_parts_ahead(engine: Engine, outputs: dict[str, Path], slug: str) -> bool:
    """The provider's parts of the export files (parts.py) spelled now from its rows as they stand,
    unless kept already, so that the next export of those rows copies them. True when spelled."""
    with _one_snapshot(engine) as conn:
        return spell_ahead(conn, {fmt: Path(output) for fmt, output in outputs.items()}, slug)


@contextmanager
def _one_snapshot(engine: Engine) -> Iterator[Connection]:
    """A transaction whose reads see one snapshot on PostgreSQL (the fingerprints and the rows they
    describe), with the collector paused."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with collector_paused(), conn.begin():
            yield conn
