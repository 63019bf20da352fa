"""The Dagster instance every entry point shares (DAGSTER_HOME), and the workspace its processes load."""

from __future__ import annotations

import os
from pathlib import Path

from catalog_pipeline.db.engine import DEFAULT_DATA_DIR

DAGSTER_HOME_ENV_VAR = "DAGSTER_HOME"
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
# Run logs keep INFO and above: the I/O manager's DEBUG lines were 7 of a run's ~50 stored events.
python_logs:
  python_log_level: INFO
# Dagster's SQLite storage, with connections kept open between event writes and new run databases
# copied from an empty one (see catalog_pipeline/dagster_storage.py).
storage:
  custom:
    module: catalog_pipeline.dagster_storage
    class: OpenSqliteStorage
    config:
      base_dir:
        env: DAGSTER_HOME
"""

WORKSPACE_YAML = f"""\
load_from:
  - python_module:
      module_name: {DEFINITIONS_MODULE}
      location_name: {CODE_LOCATION_NAME}
"""


def prepare_dagster_home(say=print) -> Path:
    """Resolve DAGSTER_HOME (set it to the default when unset) and create dagster.yaml if absent."""
    configured = os.environ.get(DAGSTER_HOME_ENV_VAR)
    home = Path(configured).expanduser() if configured else DEFAULT_DAGSTER_HOME
    if not configured:
        say(f"{DAGSTER_HOME_ENV_VAR} is not set; using {home}")
    home = home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    os.environ[DAGSTER_HOME_ENV_VAR] = str(home)
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
