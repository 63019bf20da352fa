"""A separate process that upgrades a catalog when told to (the concurrent-upgrade test).

It prints `ready` once imported and connected, waits for a line on stdin, then upgrades and
prints the revision it found (`None`: it ran the migrations itself)."""

from __future__ import annotations

import sys

from sqlalchemy import text

from catalog_pipeline.db.engine import catalog_engine
from catalog_pipeline.db.migrate import upgrade_catalog

if __name__ == "__main__":
    engine = catalog_engine(sys.argv[1], upgrade=False)
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    print("ready", flush=True)
    sys.stdin.readline()
    print(upgrade_catalog(engine), flush=True)
