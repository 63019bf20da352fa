"""The Dagster instance every entry point shares (DAGSTER_HOME), and the workspace its processes load."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from catalog_pipeline.db.engine import DEFAULT_DATA_DIR
from catalog_pipeline.settings import DAGSTER_HOME_ENV_VAR, export_variable, load_settings

if TYPE_CHECKING:
    import dagster as dg

DEFAULT_DAGSTER_HOME = DEFAULT_DATA_DIR / "dagster_home"
CODE_LOCATION_NAME = "catalog_pipeline"
DEFINITIONS_MODULE = "catalog_pipeline.definitions"
INIT_LOCK_FILE = ".catalog-instance.lock"
DEFAULT_RUN_DEADLINE_SECONDS = 3600

# Written only when DAGSTER_HOME has no dagster.yaml. Dequeue every second (default 5 s) and never
# run two runs of one provider (partition) at once, whoever queued them (API, UI, schedule).
# Run monitoring fails runs the daemon launched that never start or outlive the run deadline.
DEFAULT_INSTANCE_YAML = f"""\
# Written by model-catalog-sync because DAGSTER_HOME had no dagster.yaml; it never changes it afterwards.
run_queue:
  max_concurrent_runs: 4
  dequeue_interval_seconds: 1
  tag_concurrency_limits:
    - key: dagster/partition
      value:
        applyLimitPerUniqueValue: true
      limit: 1
run_monitoring:
  enabled: true
  start_timeout_seconds: 180
  max_runtime_seconds: {DEFAULT_RUN_DEADLINE_SECONDS}
  poll_interval_seconds: 30
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
# Dagster's compute logs in the same files, mirrored to the terminal without a tail and a watcher
# process per stream and run (see catalog_pipeline/dagster_storage.py).
compute_logs:
  module: catalog_pipeline.dagster_storage
  class: MirroredComputeLogManager
  config:
    instance_home:
      env: DAGSTER_HOME
"""

WORKSPACE_YAML = f"""\
load_from:
  - python_module:
      module_name: {DEFINITIONS_MODULE}
      location_name: {CODE_LOCATION_NAME}
"""


@contextmanager
def initialisation_lock(home: Path) -> Iterator[None]:
    """Exclusive across processes: two processes creating one instance at once would both stamp
    the SQLite run storage's alembic version (two heads, every later run fails)."""
    with open(home / INIT_LOCK_FILE, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


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
    with initialisation_lock(home):
        if not config.exists():
            config.write_text(DEFAULT_INSTANCE_YAML)
            say(f"wrote {config} (run queue: dequeue every 1 s, one run per provider at a time; run monitoring on)")
    return home


def open_instance(say=print) -> "dg.DagsterInstance":
    """The instance under DAGSTER_HOME, created or migrated while holding the initialisation lock."""
    import dagster as dg

    home = prepare_dagster_home(say)
    with initialisation_lock(home):
        instance = dg.DagsterInstance.get()
        try:
            instance.get_run_records(limit=1)  # every storage is created and readable before the lock is released
        except BaseException:
            instance.dispose()
            raise
    return instance


def write_workspace_file(directory: Path) -> Path:
    """The workspace both the webserver and dagster-daemon load: same module, same location name."""
    path = directory / "workspace.yaml"
    path.write_text(WORKSPACE_YAML)
    return path
