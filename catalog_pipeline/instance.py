"""The Dagster instance every entry point shares (DAGSTER_HOME), and the workspace its processes load."""

from __future__ import annotations

from pathlib import Path

from catalog_pipeline.db.engine import DEFAULT_DATA_DIR
from catalog_pipeline.settings import DAGSTER_HOME_ENV_VAR, export_variable, load_settings

DEFAULT_DAGSTER_HOME = DEFAULT_DATA_DIR / "dagster_home"
CODE_LOCATION_NAME = "catalog_pipeline"
DEFINITIONS_MODULE = "catalog_pipeline.definitions"

# Written only when DAGSTER_HOME has no dagster.yaml. Dequeue every second (default 5 s) and never
# run two runs of one provider (partition) at once, whoever queued them (API, UI, schedule).
DEFAULT_INSTANCE_YAML = """\
# Written by model-catalog-sync because DAGSTER_HOME had no dagster.yaml; it never changes it afterwards.
run_queue:
  max_concurrent_runs: 4
  dequeue_interval_seconds: 1
  tag_concurrency_limits:
    - key: dagster/partition
      value:
        applyLimitPerUniqueValue: true
      limit: 1
telemetry:
  enabled: false
"""

WORKSPACE_YAML = f"""\
load_from:
  - python_module:
      module_name: {DEFINITIONS_MODULE}
      location_name: {CODE_LOCATION_NAME}
"""


def prepare_dagster_home(say=print) -> Path:
    """Resolve DAGSTER_HOME (set it to the default when unset) and create dagster.yaml if absent."""
    configured = load_settings().dagster_home
    home = Path(configured or DEFAULT_DAGSTER_HOME).expanduser()
    if not configured:
        say(f"{DAGSTER_HOME_ENV_VAR} is not set; using {home}")
    home = home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    export_variable(DAGSTER_HOME_ENV_VAR, str(home))  # Dagster and every child process read it there
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DEFAULT_INSTANCE_YAML)
        say(f"wrote {config} (run queue: dequeue every 1 s, one run per provider at a time)")
    return home


def write_workspace_file(directory: Path) -> Path:
    """The workspace both the webserver and dagster-daemon load: same module, same location name."""
    path = directory / "workspace.yaml"
    path.write_text(WORKSPACE_YAML)
    return path
