"""`catalog`: read and operate the catalog (`sync-models` is the command that writes it)."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone

from catalog_pipeline.db.changes import KINDS as CHANGE_KINDS
from catalog_pipeline.pipeline.records import PRICE_COLUMNS

from . import across_providers
from .common import (
    add_database_url_argument,
    add_json_argument,
    fixed,
    open_catalog,
    parse_time,
    print_json,
    print_table,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="catalog", description="Read and operate the model catalog.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    db = commands.add_parser("db", help="schema migrations: upgrade, current, check")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    for name, text in (
        ("upgrade", "upgrade the catalog to the newest schema revision"),
        ("current", "print the catalog's schema revision and the newest one"),
        ("check", "exit 1 when the catalog is behind the newest revision (for deployments that migrate separately)"),
    ):
        _common(db_commands.add_parser(name, help=text, description=text))

    price_at = _common(commands.add_parser("price-at", help="a model's prices at a time, and the period they held"))
    price_at.add_argument("provider", metavar="SLUG")
    price_at.add_argument("model", metavar="MODEL", help="the provider's model id")
    price_at.add_argument("--at", type=parse_time, default=None, metavar="TIME", help="ISO 8601 time (UTC if no zone) or 7d/24h back; default now")

    history = _common(commands.add_parser("history", help="every period of a model's prices"))
    history.add_argument("provider", metavar="SLUG")
    history.add_argument("model", metavar="MODEL", help="the provider's model id")

    changes = _common(commands.add_parser("changes", help="the change feed, newest first"))
    changes.add_argument("--since", type=parse_time, metavar="TIME", help="ISO 8601 time, or a span back such as 7d, 24h, 30m")
    changes.add_argument("--provider", metavar="SLUG")
    changes.add_argument("--kind", choices=CHANGE_KINDS)
    changes.add_argument("--limit", type=int, default=100, metavar="N", help="at most N changes (default 100)")
    across_providers.add_commands(commands, _common)
    return parser


def _common(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    add_database_url_argument(parser)
    add_json_argument(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = {"db": db_command, "price-at": price_at_command, "history": history_command, "changes": changes_command}
    handler.update(dict.fromkeys(across_providers.COMMANDS, across_providers.run))
    return handler[args.command](args)


def db_command(args: argparse.Namespace) -> int:
    from catalog_pipeline.db.migrate import current_revision, head_revision, upgrade_catalog

    engine = open_catalog("catalog", args.database_url, upgrade=False)
    head = head_revision()
    if args.db_command == "upgrade":
        before = upgrade_catalog(engine)
        state = {"revision": head, "previous_revision": before, "upgraded": before != head}
        _say(args, state, f"catalog at revision {head}" + (f" (was {before or 'unversioned'})" if before != head else " (already current)"))
        return 0
    current = current_revision(engine)
    state = {"revision": current, "head": head, "current": current == head}
    if args.db_command == "current":
        _say(args, state, f"revision {current or 'none (created before migrations)'}; newest {head}")
        return 0
    if current == head:
        _say(args, state, f"catalog is current (revision {head})")
        return 0
    _say(args, state, f"catalog is behind: revision {current or 'none'}, newest {head}; run `catalog db upgrade`")
    return 1


def price_at_command(args: argparse.Namespace) -> int:
    from catalog_pipeline.db.history import price_at, price_periods

    engine = open_catalog("catalog", args.database_url)
    when = args.at or datetime.now(timezone.utc)
    period = price_at(engine, args.provider, args.model, when)
    if period is None:
        known = price_periods(engine, args.provider, args.model)
        reason = f"first priced {known[0]['valid_from'].isoformat()}" if known else "not in the catalog"
        print(f"catalog: no price for {args.provider} {args.model} at {when.isoformat()} ({reason})", file=sys.stderr)
        return 1
    shown = {"provider": args.provider, "provider_model_id": args.model, "at": when.isoformat(), **_period(period)}
    if args.json:
        print_json(shown)
    else:
        print_table([{"field": key, "value": value} for key, value in shown.items()], ["field", "value"])
    return 0


def history_command(args: argparse.Namespace) -> int:
    from catalog_pipeline.db.history import price_periods

    periods = [_period(p) for p in price_periods(open_catalog("catalog", args.database_url), args.provider, args.model)]
    if not periods:
        print(f"catalog: {args.provider} {args.model} is not in the catalog", file=sys.stderr)
        return 1
    if args.json:
        print_json(periods)
    else:
        print_table(periods, ["valid_from", "valid_to", *PRICE_COLUMNS, "run_id"])
    return 0


def changes_command(args: argparse.Namespace) -> int:
    from catalog_pipeline.db.changes import read_changes

    rows = read_changes(
        open_catalog("catalog", args.database_url), since=args.since, provider=args.provider, kind=args.kind, limit=args.limit
    )
    if args.json:
        print_json(rows)
    else:
        print_table(rows, ["id", "changed_at", "provider", "provider_model_id", "kind", "field", "old_value", "new_value"])
        print(f"{len(rows)} changes, newest first" + (f" (--limit {args.limit} reached)" if len(rows) == args.limit else ""))
    return 0


def _period(period: dict) -> dict:
    return {
        "valid_from": period["valid_from"].isoformat(),
        "valid_to": period["valid_to"].isoformat() if period["valid_to"] else None,
        **{column: fixed(period[column]) for column in PRICE_COLUMNS},
        "run_id": period["run_id"],
    }


def _say(args: argparse.Namespace, state: dict, text: str) -> None:
    print_json(state) if args.json else print(text)


if __name__ == "__main__":
    sys.exit(main())
