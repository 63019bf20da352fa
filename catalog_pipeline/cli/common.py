"""Argument helpers shared by the command-line entry points."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, NoReturn

from catalog_pipeline.settings import DATABASE_URL_ENV_VAR
from catalog_pipeline.pipeline.money import to_fixed_point


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
    """Left-aligned columns sized to their widest cell; None prints as '-', lists and objects as JSON."""
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c), *(len(line[i]) for line in cells)]) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip())
    for line in cells:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip())



def _cell(value: Any) -> str:
    if value is None:
        return "-"
    return value if isinstance(value, str) else json.dumps(value, default=str)


def open_catalog(prog: str, url: str | None, *, upgrade: bool = True):
    """The catalog engine, or exit 2 with the database named (password hidden) when it cannot open."""
    from sqlalchemy.engine import make_url

    from catalog_pipeline.db.engine import CatalogConfigError, catalog_engine, resolve_database_url
    from catalog_pipeline.settings import SettingsError

    try:
        engine = catalog_engine(url, upgrade=upgrade)
        with engine.connect():  # upgrading connected already; otherwise find out now
            return engine
    except (CatalogConfigError, SettingsError) as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
    except Exception as exc:  # noqa: BLE001 - any driver error: say which database, then stop
        shown = make_url(resolve_database_url(url)).render_as_string(hide_password=True)
        print(f"{prog}: cannot open the catalog database {shown}: {type(exc).__name__}: {exc}", file=sys.stderr)
    raise SystemExit(2)


_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_time(text: str, *, now: datetime | None = None) -> datetime:
    """An ISO 8601 time (UTC when it names no zone), or a span back from now such as `7d`, `24h`."""
    text = text.strip()
    if len(text) > 1 and text[-1] in _UNITS and text[:-1].isdigit():
        return (now or datetime.now(timezone.utc)) - timedelta(**{_UNITS[text[-1]]: int(text[:-1])})
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a time: {text!r} (use ISO 8601 such as 2026-11-01T00:00Z, or 7d / 24h / 30m)") from None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def fixed(value: Decimal | None) -> str | None:
    """Prices leave the program as exact fixed-point text, never as floats."""
    return None if value is None else to_fixed_point(value)


def exit_without_teardown(code: int) -> NoReturn:
    """End the process once its output is flushed and its catalog connections are closed, without
    the interpreter's teardown: freeing Dagster's, pandas' and SQLAlchemy's objects one by one took
    about 0.8 s after every sync, longer than a provider's run. Only for a command that is done."""
    engine_module = sys.modules.get("catalog_pipeline.db.engine")
    if engine_module is not None:
        engine_module.dispose_engines()  # PostgreSQL sees each connection closed, not dropped
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
