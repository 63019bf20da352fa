"""Wall and CPU time of re-syncs in one process, best of a few rounds: less disturbed by other jobs
on a shared machine than bench_scale.py's single wall times, so two versions can be compared.

    python benchmarks/bench_resync.py URL [N] [ROUNDS]

URL is a catalog (an empty scratch database or SQLite file: it gets a provider of N synthetic
models, 100,000 by default). Each round loads the same list again (unchanged) and, after going back
to it, the list with every tenth prompt price moved (10% changed).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_children import PROVIDER, bench_frame  # noqa: E402

from catalog_pipeline.db.engine import catalog_engine  # noqa: E402
from catalog_pipeline.db.load import load_provider_models  # noqa: E402
from catalog_pipeline.providers import adapter_for  # noqa: E402


def main() -> None:
    url, models, rounds = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 100_000, int(sys.argv[3]) if len(sys.argv) > 3 else 3
    spec, engine = adapter_for(PROVIDER).SPEC, catalog_engine(url)
    listed, changed = bench_frame(models), bench_frame(models, changed_every=10)
    load_provider_models(engine, spec, listed)
    timings: dict[str, list[tuple[float, float]]] = {"unchanged re-sync": [], "10% prices changed": []}
    for _ in range(rounds):
        for step, frame in (("unchanged re-sync", listed), ("10% prices changed", changed)):
            wall, cpu = time.perf_counter(), time.process_time()
            load_provider_models(engine, spec, frame)
            timings[step].append((time.perf_counter() - wall, time.process_time() - cpu))
        load_provider_models(engine, spec, listed)  # back to the list
    for step, runs in timings.items():
        print(f"{engine.dialect.name:<12}{step:<20} best wall {min(w for w, _ in runs):6.3f} s   best CPU {min(c for _, c in runs):6.3f} s")


if __name__ == "__main__":
    main()
