"""`catalog`: read and operate the catalog (`sync-models` is the command that writes it)."""

from __future__ import annotations

import argparse
import sys

from .common import add_database_url_argument, add_json_argument, open_catalog, print_json


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
        action = db_commands.add_parser(name, help=text, description=text)
        add_database_url_argument(action)
        add_json_argument(action)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "db":
        return db_command(args)
    raise AssertionError(args.command)


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


def _say(args: argparse.Namespace, state: dict, text: str) -> None:
    print_json(state) if args.json else print(text)


if __name__ == "__main__":
    sys.exit(main())
