"""`sync-models` with adapter modules from extra directories registered as if they sat in
`catalog_pipeline/providers/`, so a test can add a provider without touching the package:

    python -m catalog_pipeline_tests.extra_providers DIR[:DIR...] [sync-models arguments] [--then arguments]...

Each `--then` starts another `sync-models` command in the same fresh interpreter (one Python and
Dagster import for all of them); every command's output ends with an `END` line of its exit code.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

THEN = "--then"
END = "== sync-models exit code "


def register_provider_dirs(directories: list[str]) -> None:
    """Import the provider registry with `directories` on its package path (before anything else
    imports it), so its discovery finds their modules like the package's own."""
    if "catalog_pipeline.providers" in sys.modules:
        raise RuntimeError("the provider registry is already imported; extra directories would be ignored")
    spec = importlib.util.find_spec("catalog_pipeline.providers")
    spec.submodule_search_locations.extend(directories)
    registry = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = registry
    spec.loader.exec_module(registry)
    sys.modules["catalog_pipeline"].providers = registry


def sync_models_with_providers(
    package: Path, *commands: list[str], database_url: str, extra_env: dict[str, str]
) -> list[subprocess.CompletedProcess]:
    """Each of `commands` (sync-models arguments) run with `package`'s adapters registered, one
    after the other in one new interpreter; one result per command."""
    from .cli_helpers import sync_models

    joined = [arg for command in commands for arg in (THEN, *command)][1:]
    done = sync_models(str(package), *joined, database_url=database_url, extra_env=extra_env, module=__name__)
    # re.split with a group: [output, code, output, code, ..., rest]
    out, err = (re.split(rf"^{END}(-?\d+)$\n", text, flags=re.M) for text in (done.stdout, done.stderr))
    assert len(out) == len(err) == 2 * len(commands) + 1, f"not every command finished:\n{done.stdout}{done.stderr}"
    return [
        subprocess.CompletedProcess(command, int(out[2 * i + 1]), out[2 * i], err[2 * i])
        for i, command in enumerate(commands)
    ]


if __name__ == "__main__":
    register_provider_dirs(sys.argv[1].split(":"))
    from catalog_pipeline.cli.sync_models import main

    arguments = sys.argv[2:]
    while True:
        command = arguments[: arguments.index(THEN)] if THEN in arguments else arguments
        code = main(command)
        for stream in (sys.stdout, sys.stderr):
            print(f"{END}{code}", file=stream, flush=True)
        if len(command) == len(arguments):
            sys.exit(0)
        arguments = arguments[len(command) + 1 :]
