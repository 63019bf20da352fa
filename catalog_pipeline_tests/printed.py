"""Everything a command run in this process printed, wherever it went, for the tests that prove a
secret is never written: a subprocess's stdout and stderr hold all of it, but in this process
text can also reach file descriptors 1 and 2 directly, log records reach pytest's handler on
the root logger instead of stderr, and warnings are recorded by pytest instead of printed."""

from __future__ import annotations

import subprocess

import pytest


def everything_printed(
    done: subprocess.CompletedProcess, capfd: pytest.CaptureFixture, caplog: pytest.LogCaptureFixture,
    recwarn: pytest.WarningsRecorder,
) -> str:
    descriptors = capfd.readouterr()
    return "\n".join([done.stdout, done.stderr, descriptors.out, descriptors.err, caplog.text, *(str(w.message) for w in recwarn)])
