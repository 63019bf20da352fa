"""`catalog-server`: the admin API and the Dagster UI on one port, plus the dagster-daemon that
executes queued runs and schedules, stopped together on SIGTERM / Ctrl-C."""

from __future__ import annotations

import argparse
import copy
import ipaddress
import signal
import socket
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from catalog_pipeline.settings import SettingsError, load_settings, withhold_variable

from .auth import ADMIN_KEY_ENV_VAR, AdminKeyError, validate_admin_key

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 3000


class _Stop(Exception):
    """SIGTERM / SIGINT outside uvicorn's own handling: unwind and clean up."""


def _say(message: str) -> None:
    print(f"catalog-server: {message}", file=sys.stderr, flush=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="catalog-server",
        description="Serve the model-catalog admin API (/admin/...) and the Dagster UI (/), both behind "
                    f"{ADMIN_KEY_ENV_VAR}, and run dagster-daemon for queued runs and schedules.",
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"interface to listen on (default {DEFAULT_HOST})")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    parser.add_argument("--no-daemon", action="store_true",
                        help="do not start dagster-daemon (one already runs on this DAGSTER_HOME)")
    return parser


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise SystemExit(f"catalog-server: cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.set_inheritable(False)
    return sock


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _install_stop_handlers() -> None:
    def stop(signum: int, frame: object) -> None:
        # Later signals during cleanup are ignored, so cleanup itself is never interrupted.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise _Stop(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
        admin_key = validate_admin_key(settings.admin_api_key.get_secret_value() if settings.admin_api_key else None)
    except (SettingsError, AdminKeyError) as exc:
        _say(f"refusing to start: {exc}")
        return 2
    # No child (daemon, code servers, run workers) inherits the admin key from our environment.
    withhold_variable(ADMIN_KEY_ENV_VAR)
    if not 0 < args.port < 65536:
        _say(f"refusing to start: --port {args.port} is not a TCP port")
        return 2
    _install_stop_handlers()
    try:
        sock = _bind(args.host, args.port)
        return _serve(args, admin_key, sock)
    except _Stop as stop:
        _say(f"stopped ({stop})")
        return 0


def _serve(args: argparse.Namespace, admin_key: str, sock: socket.socket) -> int:
    # Heavy imports after the checks, so a refusal is instant.
    import uvicorn

    from .access_log import ACCESS_LOGGER
    from .admin_api import with_json_forms
    from .app import create_server_app
    from .daemon import DaemonProcess
    from .dagster_internals import daemon_command, dagster_ui_app
    from catalog_pipeline.instance import open_instance, write_workspace_file
    from .runs import DagsterRuns
    from .secrets import Redactor, provider_keys
    from .syncs import SyncService

    with ExitStack() as stack:
        stack.callback(sock.close)
        instance = stack.enter_context(open_instance(say=_say))
        home = Path(instance.root_directory)
        workspace = write_workspace_file(Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="catalog-server-"))))
        if args.no_daemon:
            _say("not starting dagster-daemon (--no-daemon): queued runs wait for a daemon on this DAGSTER_HOME")
        else:
            daemon = stack.enter_context(DaemonProcess(daemon_command(workspace)))
            _say(f"started dagster-daemon (pid {daemon.process.pid}) for DAGSTER_HOME={home}")
            stack.callback(_say, "stopped dagster-daemon")
        ui_app = stack.enter_context(dagster_ui_app(instance, workspace))
        runs = DagsterRuns(instance, ui_app)
        redact = Redactor(with_json_forms([admin_key, *provider_keys()]))
        app = create_server_app(admin_key, SyncService(runs), ui_app, redact)
        # uvicorn's access log prints query strings; ours (AccessLog) prints the path only.
        log_config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
        log_config["loggers"][ACCESS_LOGGER] = {"handlers": ["default"], "level": args.log_level.upper(), "propagate": False}
        server = uvicorn.Server(uvicorn.Config(
            app, log_level=args.log_level, log_config=log_config, access_log=False, timeout_graceful_shutdown=5, lifespan="on",
        ))
        host = f"[{args.host}]" if ":" in args.host else args.host
        _say(f"admin API at http://{host}:{args.port}/admin/model-sync/..., Dagster UI at http://{host}:{args.port}/ "
             "(browser login: any user name, password = the admin key)")
        if not _is_loopback(args.host):
            _say("listening beyond loopback over plain HTTP: put a TLS proxy in front so the key is not sent in clear")
        server.run(sockets=[sock])
        # uvicorn re-raises the signal that stopped it; our handler turns it into _Stop.
    return 0


if __name__ == "__main__":
    sys.exit(main())
