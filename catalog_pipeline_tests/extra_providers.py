"""`sync-models` with adapter modules from extra directories registered as if they sat in
`catalog_pipeline/providers/`, so a test can add a provider without touching the package:

    python -m catalog_pipeline_tests.extra_providers DIR[:DIR...] [sync-models arguments]
"""

from __future__ import annotations

import importlib.util
import sys


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


if __name__ == "__main__":
    register_provider_dirs(sys.argv[1].split(":"))
    from catalog_pipeline.cli.sync_models import main

    sys.exit(main(sys.argv[2:]))
