"""Exports of the active catalog, one module per format; every price is written as a JSON number
that parses back (with `json.loads(..., parse_float=Decimal)`) to exactly the stored Decimal."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from sqlalchemy import Engine

from . import catalog_json, litellm
from .rows import active_catalog
from .writer import dumps_compact

FORMATS: dict[str, Callable] = {"litellm": litellm.build, "json": catalog_json.build}
FILE_NAMES = {"litellm": "model_prices_and_context_window.json", "json": "catalog.json"}


class ExportError(ValueError):
    """An export cannot be written; the message names the cause."""


def export_catalog(engine: Engine, fmt: str, output: Path) -> int:
    """Write the active catalog in `fmt` to `output` (atomically: a reader never sees half a file);
    returns the number of models written."""
    return export_catalogs(engine, {fmt: output})[fmt]


def export_catalogs(engine: Engine, outputs: dict[str, Path]) -> dict[str, int]:
    """Each format of `outputs` to its file, from one read of the catalog; models written by format."""
    for fmt, output in outputs.items():
        if fmt not in FORMATS:
            raise ExportError(f"unknown export format {fmt!r}; use one of: {', '.join(FORMATS)}")
        if Path(output).is_dir():
            raise ExportError(f"{output} is a directory; give a file name")
        if not Path(output).parent.is_dir():
            raise ExportError(f"{Path(output).parent} does not exist")
    rows = active_catalog(engine)
    for fmt, output in outputs.items():
        output = Path(output)
        partial = output.with_name(f".{output.name}.partial")
        partial.write_text(dumps_compact(FORMATS[fmt](rows)) + "\n", encoding="utf-8")
        partial.replace(output)
    return {fmt: len(rows) for fmt in outputs}
