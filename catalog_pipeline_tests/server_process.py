"""A real `catalog-server` process for tests: start on a free loopback port, wait until it
answers, stop it with SIGTERM and make sure nothing it started is left running."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

CATALOG_SERVER = Path(sys.executable).with_name("catalog-server")
START_TIMEOUT_SECONDS = 90.0
STOP_TIMEOUT_SECONDS = 40.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def command() -> list[str]:
    if CATALOG_SERVER.exists():
        return [str(CATALOG_SERVER)]
    return [sys.executable, "-m", "catalog_pipeline.server.cli"]


def processes_with_env(marker: str) -> list[int]:
    """Our processes whose environment holds `marker` (e.g. the test's unique DAGSTER_HOME=...)."""
    needle = marker.encode() + b"\0"
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if needle in environ + b"\0" and state != "Z":
            found.append(int(entry.name))
    return found


class ServerProcess:
    def __init__(self, env: dict[str, str], log_path: Path, port: int | None = None, log_level: str = "warning") -> None:
        self.env = env
        self.port = port or free_port()
        self.log_path = log_path
        self.log_level = log_level
        self.marker = f"DAGSTER_HOME={env['DAGSTER_HOME']}"
        self.process: subprocess.Popen | None = None
        self._log = None
        # One client for every request to this server: httpx.get() builds a TLS context each call
        # (~20 ms of CPU), hundreds of times over a module's tests and the start-up polling.
        self.http = httpx.Client()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, key: str) -> "ServerProcess":
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [*command(), "--port", str(self.port), "--log-level", self.log_level],
            env=self.env, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"catalog-server exited with {self.process.returncode}:\n{self.log()}")
            try:
                response = self.http.get(f"{self.url}/admin/openapi.json", headers={"Authorization": f"Bearer {key}"}, timeout=2)
                if response.status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"catalog-server did not answer within {START_TIMEOUT_SECONDS} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> list[int]:
        """SIGTERM, wait; returns the processes still alive after a clean stop (then kills them)."""
        if self.process is None:
            return []
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                pass
        leftovers = wait_for_exit(self.marker, timeout=5)  # exiting processes take a moment
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        if self._log:
            self._log.close()
        self.http.close()
        return leftovers


def wait_for_exit(marker: str, timeout: float = 30.0) -> list[int]:
    """Processes still carrying `marker` once they had `timeout` to exit; those are then killed."""
    deadline = time.monotonic() + timeout
    leftovers = processes_with_env(marker)
    while leftovers and time.monotonic() < deadline:
        time.sleep(0.2)
        leftovers = processes_with_env(marker)
    for pid in leftovers:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return leftovers
