"""Run a console script's `main(argv)` inside the test process, as its subprocess would run it:
the same arguments, the same environment, stdout and stderr captured, the exit code returned.

A new interpreter costs a Python and Dagster import (seconds on 2 cores) per call. Tests that
check what a command does, not that it starts as a process, use this; the tests named for the
process boundary (console scripts, exit through `sys.exit`, a fresh import) keep the subprocess.
"""

from __future__ import annotations

import io
import os
import subprocess
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path


@contextmanager
def exact_environment(env: Mapping[str, str]) -> Iterator[None]:
    """os.environ is exactly `env` inside the block (what a child started with env=... sees), then
    back to what it was: commands set variables (DAGSTER_HOME, the database URL) for themselves."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextmanager
def working_directory(path: Path) -> Iterator[None]:  # contextlib.chdir needs Python 3.11
    before = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def run_main(main: Callable[[list[str]], int], args: list[str], env: Mapping[str, str], cwd: Path) -> subprocess.CompletedProcess:
    """`cwd` as the subprocess had it: commands read `.env` from the working directory."""
    out, err = io.StringIO(), io.StringIO()
    with exact_environment(env), working_directory(cwd), redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exit_:  # argparse errors and open_catalog's refusals exit like the script
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
            if isinstance(exit_.code, str):
                err.write(exit_.code + "\n")
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())
