"""`catalog offers`, `catalog discrepancies` and `catalog export`: the catalog across providers."""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from catalog_pipeline.exports.writer import dumps

from .common import fixed, open_catalog, print_table

COMMANDS = ("offers", "discrepancies", "export")
PER_MILLION = Decimal(1_000_000)


def add_commands(commands: argparse._SubParsersAction, add_common) -> None:
    """Register the three subcommands on `catalog`; `add_common(parser)` adds --database-url and --json."""
    offers = commands.add_parser("offers", help="who sells a model, cheapest first",
                                 description="Every active offer of the model that best matches QUERY, cheapest first"
                                 " (prompt price x 3 + completion price; unknown prices last).")
    offers.add_argument("query", metavar="QUERY", help='a Hugging Face id, a provider model id, or words ("llama 3.3 70b")')
    add_common(offers)
    discrepancies = commands.add_parser("discrepancies", help="provider prices that differ from a second source by more than 1%%")
    add_common(discrepancies)
    export = commands.add_parser("export", help="write the active catalog as LiteLLM JSON or the catalog's own JSON")
    export.add_argument("--format", required=True, choices=("litellm", "json"), help="litellm: model_prices_and_context_window.json shape")
    export.add_argument("--output", required=True, metavar="FILE", help="file to write (replaced atomically)")
    add_common(export)


def run(args: argparse.Namespace) -> int:
    engine = open_catalog("catalog", args.database_url)
    if args.command == "offers":
        return offers_command(args, engine)
    if args.command == "discrepancies":
        return discrepancies_command(args, engine)
    return export_command(args, engine)


def offers_command(args: argparse.Namespace, engine) -> int:
    from catalog_pipeline.db.offers import offers_in

    with engine.connect() as conn:
        found = offers_in(conn, args.query)
    if found is None:
        print(f"catalog offers: no canonical model matches {args.query!r}", file=sys.stderr)
        return 1
    if args.json:
        _print_json(found)
        return 0
    model = found["canonical_model"]
    print(f"{model['hf_id'] or model['slug']}: {len(found['offers'])} offers, cheapest first ({found['sort_rule']})")
    _print_rows(
        [
            {
                "provider": o["provider"], "api name": o["model"],
                "input $/1M": _per_million(o["pricing_prompt"]), "output $/1M": _per_million(o["pricing_completion"]),
                "price source": o["price_source"], "context": o["context_length"],
                "tools": _flag(o["supports_function_calling"]), "vision": _flag(o["supports_vision"]),
                "reasoning": _flag(o["supports_reasoning"]), "link": o["match_method"],
            }
            for o in found["offers"]
        ]
    )
    if found["other_matches"]:
        print("also matched: " + ", ".join(found["other_matches"]))
    return 0


def discrepancies_command(args: argparse.Namespace, engine) -> int:
    from catalog_pipeline.db.offers import price_discrepancies

    found = price_discrepancies(engine)
    if args.json:
        _print_json(found)
        return 0
    _print_rows(
        [
            {
                "provider": d["provider"], "model": d["model"], "field": d["field"],
                "provider $/1M": _per_million(d["provider_value"]), "second source": d["second_source"],
                "second $/1M": _per_million(d["second_value"]), "ratio": _ratio(d["ratio"]),
            }
            for d in found
        ]
    )
    print(f"{len(found)} discrepancies (more than 1% apart)")
    return 0


def export_command(args: argparse.Namespace, engine) -> int:
    from catalog_pipeline.exports import ExportError, export_catalog

    try:
        written = export_catalog(engine, args.format, Path(args.output))
    except (ExportError, OSError) as exc:
        print(f"catalog export: {exc}", file=sys.stderr)
        return 2
    if args.json:
        _print_json({"format": args.format, "output": args.output, "models": written})
    else:
        print(f"wrote {written} models to {args.output} ({args.format})")
    return 0


def _per_million(value: Decimal | None) -> str | None:
    return None if value is None else fixed(value * PER_MILLION)


def _ratio(value: Decimal | None) -> str:
    return "inf" if value is None else f"{value:.4g}"


def _flag(value: bool | None) -> str | None:
    return None if value is None else ("yes" if value else "no")


def _print_rows(rows: list[dict[str, Any]]) -> None:
    if rows:
        print_table(rows, list(rows[0]))


def _print_json(value: Any) -> None:
    print(dumps(value))  # prices as exact JSON numbers
