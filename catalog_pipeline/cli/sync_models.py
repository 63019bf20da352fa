"""`sync-models`: sync providers' model lists into the catalog from the command line."""

from __future__ import annotations

import argparse
import sys

from catalog_pipeline.settings import DATABASE_URL_ENV_VAR, SYNC_WORKERS_ENV_VAR, CatalogSettings, SettingsError, load_settings
from catalog_pipeline.sync_workers import MIN_PROVIDERS_PER_WORKER, SyncWorkers, longest_fetch, split_providers, worker_count

# The providers, pandas and Dagster are imported inside main(), after the worker process has been
# started: its own imports then overlap this process's.


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sync-models",
        description="Fetch providers' model lists and upsert them into the catalog (one Dagster run per provider).",
    )
    parser.add_argument("--providers", nargs="+", metavar="SLUG", help="providers to sync (default: all)")
    parser.add_argument("--dry-run", action="store_true", help="fetch and diff, write nothing to the catalog")
    parser.add_argument("--verbose", "-v", action="store_true", help="show Dagster's run logs and the full diff")
    parser.add_argument("--list-providers", action="store_true", help="list the providers and exit")
    parser.add_argument("--database-url", help=f"catalog database URL (default: ${DATABASE_URL_ENV_VAR} or a SQLite file)")
    parser.add_argument("--from-archive", action="store_true", help="re-derive from the newest archived raw lists; call no provider")
    parser.add_argument("--force", action="store_true", help="apply even when the shrink guard would refuse (this run only)")
    parser.add_argument("--accept-pending", metavar="SLUG", help="apply the price changes held for SLUG (see README, Guarantees) and exit")
    parser.add_argument("--parallel-fetches", type=int, default=8, metavar="N", help="provider fetches in flight at once, over all processes (default 8)")
    parser.add_argument("--workers", type=int, metavar="N",
                        help=f"processes sharing the providers' runs (default ${SYNC_WORKERS_ENV_VAR}, else one per core, at most 2; 1: this process only)")
    return parser


def list_providers(settings: CatalogSettings) -> None:
    from catalog_pipeline.pipeline.credentials import provider_credentials
    from catalog_pipeline.providers import ADAPTERS

    print(f"{'slug':<20} {'name':<20} {'kind':<6} {'key':<28} {'key set':<8} base URL")
    for slug, module in ADAPTERS.items():
        spec = module.SPEC
        key = spec.api_key_env_var + ("" if spec.key_required else " (optional)")
        credentials = provider_credentials(spec, settings)
        print(f"{slug:<20} {spec.name:<20} {spec.kind:<6} {key:<28} {'yes' if credentials.api_key else 'no':<8} {credentials.base_url}")
    print(f"{len(ADAPTERS)} providers")


def accept_pending_changes(catalog_db, slug: str) -> int:
    from catalog_pipeline.db.price_holds import accept_pending
    from catalog_pipeline.pipeline.money import to_fixed_point

    applied = accept_pending(catalog_db.engine(), slug)
    for change in applied:
        print(f"{slug}  {change.provider_model_id}  {change.column}: {to_fixed_point(change.old)} -> {to_fixed_point(change.new)}")
    print(f"{len(applied)} held price changes of {slug} accepted")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()  # the environment, then .env in the working directory
    except SettingsError as exc:
        print(f"sync-models: {exc}", file=sys.stderr)
        return 2
    if args.list_providers:
        list_providers(settings)
        return 0
    # A worker for a few providers would cost more to start than it saves.
    few = args.providers is not None and len(args.providers) <= MIN_PROVIDERS_PER_WORKER
    processes = 1 if args.accept_pending or few else worker_count(args.workers or settings.sync_workers, args.parallel_fetches)
    with SyncWorkers(processes - 1) as workers:
        return _sync(args, settings, workers)


def _sync(args: argparse.Namespace, settings: CatalogSettings, workers: SyncWorkers) -> int:
    from catalog_pipeline.db.engine import catalog_engine
    from catalog_pipeline.instance import open_instance, prepare_dagster_home
    from catalog_pipeline.pipeline.credentials import missing_key_reason
    from catalog_pipeline.providers import ADAPTERS, PROVIDER_SLUGS, ROUTER_SLUG

    unknown = [slug for slug in args.providers or [] if slug not in ADAPTERS]
    if args.accept_pending and args.accept_pending not in ADAPTERS:
        unknown.append(args.accept_pending)
    if unknown:
        print(f"sync-models: unknown provider(s): {', '.join(unknown)}. Known: {', '.join(PROVIDER_SLUGS)}", file=sys.stderr)
        return 2
    slugs = args.providers or PROVIDER_SLUGS
    # The catalog is opened before Dagster is imported (the worker imports it meanwhile): a bad URL
    # stops the command here, and the archive says how many requests each provider's last fetch made.
    database_url = args.database_url or settings.database_url
    try:
        with catalog_engine(database_url, upgrade=False).connect() as conn:
            fetch_pages = _archived_fetch_pages(conn) if len(workers) and not args.from_archive else {}
    except Exception as exc:  # noqa: BLE001 - a bad URL or any driver error: say which database, then stop
        return _cannot_open(database_url, exc)
    # The workers get their shares before this process imports Dagster: they start fetching sooner.
    # Shares are balanced over the providers that will run; one skipped for a missing key stays here.
    runnable = [slug for slug in slugs if args.from_archive or not missing_key_reason(ADAPTERS[slug].SPEC, settings)]
    main_share, *worker_shares = split_providers(runnable, ROUTER_SLUG, 1 + len(workers), fetch_pages)
    in_workers = {slug for share in worker_shares for slug in share}
    long_fetch = longest_fetch(runnable, ROUTER_SLUG, fetch_pages)
    fetches_here = max(1, round(args.parallel_fetches * len(main_share) / max(1, len(runnable))))
    workers.assign(worker_shares, {
        "dry_run": args.dry_run, "force": args.force, "from_archive": args.from_archive,
        "parallel_fetches": max(1, args.parallel_fetches - fetches_here),
        "log_level": "DEBUG" if args.verbose else "CRITICAL", "database_url": args.database_url,
    })
    # Upgraded once the workers are fetching: a new catalog's schema (0.13 s here) need not hold
    # their first requests back.
    try:
        catalog_engine(database_url)  # the engine CatalogDatabase(url=database_url) opens
    except Exception as exc:  # noqa: BLE001
        return _cannot_open(database_url, exc)
    # Runs must land in a persistent instance to show up in the UI's run history.
    prepare_dagster_home(say=lambda text: print(text, file=sys.stderr) if args.verbose else None)

    # Dagster is imported only now: --help and --list-providers stay instant.
    from catalog_pipeline.collector import set_aside_lasting_objects
    from catalog_pipeline.definitions import defs
    from catalog_pipeline.defs.resources import CatalogDatabase
    from catalog_pipeline.sync import sync_providers

    catalog_db = CatalogDatabase(url=database_url)
    if args.accept_pending:
        return accept_pending_changes(catalog_db, args.accept_pending)

    with open_instance(say=lambda text: None) as instance:
        set_aside_lasting_objects()
        outcomes = sync_providers(
            [slug for slug in slugs if slug not in in_workers],
            instance=instance,
            definitions=defs(),
            catalog_db=catalog_db,
            settings=settings,
            dry_run=args.dry_run,
            force=args.force,
            from_archive=args.from_archive,
            parallel_fetches=fetches_here if worker_shares else args.parallel_fetches,
            # Failures are summarised per provider below; full logs stay in the run history.
            log_level="DEBUG" if args.verbose else "CRITICAL",
            after_router=workers.go,
            other_outcomes=workers.outcomes if worker_shares else None,
            others_outlast=long_fetch is not None and any(long_fetch in share for share in worker_shares),
        )
    order = {slug: index for index, slug in enumerate(slugs)}
    outcomes.sort(key=lambda outcome: order[outcome.slug])
    width = max(len(slug) for slug in slugs)
    for outcome in outcomes:
        line = f"{outcome.slug:<{width}}  {outcome.status.upper():<7} {outcome.message}"
        if outcome.status == "ok":
            c = outcome.counts
            line += f" | added {c.get('added', 0)}, updated {c.get('updated', 0)}, reactivated {c.get('reactivated', 0)}, deactivated {c.get('deactivated', 0)}, unchanged {c.get('unchanged', 0)}"
            if c.get("held_price_changes"):
                line += f" | HELD {c['held_price_changes']} price changes: review, then sync-models --accept-pending {outcome.slug}"
        if outcome.run_id:
            line += f" | run {outcome.run_id[:8]}"
        print(line)
        if args.verbose and outcome.diff and any(outcome.diff.get(k) for k in ("added", "updated", "reactivated", "deactivated")):
            import json

            print("    diff: " + json.dumps(outcome.diff, indent=None)[:4000])
    failed = [o.slug for o in outcomes if o.status == "failed"]
    print(
        f"{sum(o.status == 'ok' for o in outcomes)} synced, {len(failed)} failed, "
        f"{sum(o.status == 'skipped' for o in outcomes)} skipped{' (dry run: nothing written)' if args.dry_run else ''}"
    )
    return 1 if failed else 0


def _archived_fetch_pages(conn) -> dict[str, int]:
    """The archive's page counts; none in a catalog not yet upgraded to have them (a new one)."""
    from sqlalchemy.exc import DBAPIError

    from catalog_pipeline.db.archive import last_fetch_pages

    try:
        return last_fetch_pages(conn)
    except DBAPIError:  # the shares are then dealt without them; the upgrade says what is wrong, if anything
        return {}


def _cannot_open(database_url: str | None, exc: Exception) -> int:
    from catalog_pipeline.db.engine import CatalogConfigError, describe_database_url

    if isinstance(exc, CatalogConfigError):
        print(f"sync-models: {exc}", file=sys.stderr)
    else:
        print(f"sync-models: cannot open the catalog database {describe_database_url(database_url)}: {type(exc).__name__}: {exc}", file=sys.stderr)
    return 2


def run() -> None:
    """The `sync-models` command."""
    from catalog_pipeline.cli.common import exit_without_teardown

    exit_without_teardown(main())


if __name__ == "__main__":
    run()
