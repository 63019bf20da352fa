"""Every import of Dagster's internal (underscore) modules lives here, so a Dagster upgrade
touches one file. Pinned to dagster 1.13.27; `test_server_process.py` exercises it through a real server."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import WorkspaceFileTarget
from dagster_webserver.app import create_app_from_workspace_process_context
from dagster_webserver.version import __version__ as webserver_version
from starlette.applications import Starlette

# What `dagster-webserver` passes by default (milliseconds, seconds, connections).
DB_STATEMENT_TIMEOUT_MS = 15000
DB_POOL_RECYCLE_SECONDS = 3600
DB_POOL_MAX_OVERFLOW = 20


@contextmanager
def dagster_ui_app(instance: dg.DagsterInstance, workspace_file: Path) -> Iterator[Starlette]:
    """The dagster-webserver ASGI app for `workspace_file`, as `dagster-webserver -w` builds it.
    Leaving the context shuts down the code server it started."""
    instance.optimize_for_webserver(DB_STATEMENT_TIMEOUT_MS, DB_POOL_RECYCLE_SECONDS, DB_POOL_MAX_OVERFLOW)
    with WorkspaceProcessContext(
        instance,
        version=webserver_version,
        read_only=False,
        workspace_load_target=WorkspaceFileTarget(paths=[str(workspace_file)]),
        code_server_log_level="WARNING",
    ) as context:
        yield create_app_from_workspace_process_context(context)


def daemon_command(workspace_file: Path) -> list[str]:
    """`dagster-daemon run` for the same workspace, with this interpreter."""
    return [
        sys.executable, "-m", "dagster._daemon", "run",
        "-w", str(workspace_file), "--log-level", "warning", "--code-server-log-level", "warning",
    ]
