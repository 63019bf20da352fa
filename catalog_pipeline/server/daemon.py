"""The `dagster-daemon` child process: it dequeues queued runs and ticks schedules."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence

STOP_GRACE_SECONDS = 20.0


class DaemonProcess:
    """Start `command` in its own process group; on exit, SIGTERM it (dagster-daemon treats it
    like Ctrl-C and shuts down its code server), then kill whatever is left of the group."""

    def __init__(self, command: Sequence[str], env: Mapping[str, str] | None = None, stdout: int | None = None) -> None:
        self._command = list(command)
        self._env = dict(env) if env is not None else None
        self._stdout = stdout
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "DaemonProcess":
        self.process = subprocess.Popen(
            self._command, env=self._env, start_new_session=True, stdin=subprocess.DEVNULL, stdout=self._stdout,
            preexec_fn=_terminate_with_parent if sys.platform == "linux" else None,
        )
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        process = self.process
        if process is None:
            return
        group = process.pid  # start_new_session: the daemon leads its own process group
        if process.poll() is None:
            _signal_group(group, signal.SIGTERM)
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        # Run workers or a code server that outlived the daemon: no orphans.
        _wait_for_group_exit(group, 2.0)
        _signal_group(group, signal.SIGKILL)
        if process.poll() is None:
            process.wait(timeout=5)
        _wait_for_group_exit(group, 2.0)  # until the killed are reaped: stop() returns with none left


def _terminate_with_parent() -> None:
    """Linux: SIGTERM the daemon if catalog-server dies without cleaning up (kill -9, OOM)."""
    pr_set_pdeathsig = 1
    try:
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def _signal_group(group: int, sig: signal.Signals) -> None:
    try:
        os.killpg(group, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _wait_for_group_exit(group: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while _group_alive(group) and time.monotonic() < deadline:
        time.sleep(0.05)


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
        return True
    except (ProcessLookupError, PermissionError):
        return False
