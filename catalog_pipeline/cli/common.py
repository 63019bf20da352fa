"""Argument helpers shared by the command-line entry points."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from catalog_pipeline.db.engine import DATABASE_URL_ENV_VAR


def add_database_url_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        help=f"catalog database URL (default: ${DATABASE_URL_ENV_VAR} or a SQLite file)",
    )


def add_json_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON for programs instead of a table")


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


def print_table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    """Left-aligned columns sized to their widest cell; None prints as '-'."""
    cells = [[("-" if row.get(c) is None else str(row.get(c))) for c in columns] for row in rows]
    widths = [max([len(c), *(len(line[i]) for line in cells)]) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip())
    for line in cells:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip())


def open_catalog(prog: str, url: str | None, *, upgrade: bool = True):
    """The catalog engine, or exit 2 with the database named (password hidden) when it cannot open."""
    from sqlalchemy.engine import make_url

    from catalog_pipeline.db.engine import CatalogConfigError, catalog_engine, resolve_database_url

    try:
        engine = catalog_engine(url, upgrade=upgrade)
        with engine.connect():  # upgrading connected already; otherwise find out now
            return engine
    except CatalogConfigError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
    except Exception as exc:  # noqa: BLE001 - any driver error: say which database, then stop
        shown = make_url(resolve_database_url(url)).render_as_string(hide_password=True)
        print(f"{prog}: cannot open the catalog database {shown}: {type(exc).__name__}: {exc}", file=sys.stderr)
    raise SystemExit(2)
