"""Benchmark of sweeps: a 200-run sweep of the one-district town with 1 and with 2 workers.

    python bench/sweep.py                 # 200 runs, 1 and 2 workers
    python bench/sweep.py --runs 60 --workers 1 2 4

Each worker count gets a fresh ``LocalCluster`` (processes, one thread each), started and warmed
up (modules imported, one short run) before the clock starts. Printed figures: runs per second,
the scaling ratio against one worker (target >= 1.7x with 2 workers), and the sweep's own overhead
as a share of the runs' compute time (target < 5%):

    overhead = (wall x workers - compute) / compute

where ``compute`` is the time spent inside ``twin.run``, measured in the tasks, summed over runs;
everything else the workers' time went to (scheduling, extracting series, building tables,
shipping results, writing chunks, idle workers at the end) counts as overhead.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "scenarios" / "sweeps" / "town.toml"

SWEEP = """
name = "bench_sweep"
base = "{base}"
days = 40
root_seed = 7
replicates = 2

[sampler]
method = "latin"
samples = {points}

[[uncertainties]]
field = "shocks[0].factor"
range = [0.2, 0.9]

[[uncertainties]]
field = "shocks[2].factor"
range = [0.2, 1.0]

[[uncertainties]]
field = "shocks[1].end_day"
range = [12.0, 30.0]
"""


def _warm() -> None:
    import twin
    import twin.sweep.task  # noqa: F401
    twin.run(BASE, days=2)


def one_case(workdir: Path, n_runs: int, workers: int) -> dict:
    """Plan and run the sweep on a warm local cluster of ``workers`` processes; return its figures."""
    from distributed import Client, LocalCluster

    from twin.sweep import plan_sweep, run_sweep

    sweep_file = workdir / "bench_sweep.toml"
    sweep_file.write_text(SWEEP.format(base=BASE.as_posix(), points=n_runs // 2))
    folder = workdir / f"w{workers}"
    plan_sweep(sweep_file, folder)
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        client.run(_warm)
        load = os.getloadavg()[0]
        t = time.perf_counter()
        rep = run_sweep(folder, client=client, progress="none")
        wall = time.perf_counter() - t
    assert rep.status.done == n_runs and rep.status.failed == 0, rep.status
    chunks = [json.loads(p.read_text()) for p in folder.glob("chunks/*/chunk.json")]
    compute = sum(c["compute_s"] for c in chunks)
    return {"workers": workers, "runs": n_runs, "chunks": len(chunks), "wall_s": wall, "runs_per_s": n_runs / wall,
            "compute_s": compute, "compute_per_run_s": compute / n_runs, "load_before": load,
            "overhead_share": (wall * workers - compute) / compute}


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print its figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200, help="runs in the sweep (even; default 200)")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts (default 1 2)")
    args = ap.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="twin-bench-sweep-"))
    try:
        results = [one_case(workdir, args.runs, w) for w in args.workers]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    ref = results[0]
    print(f"sweep of {args.runs} runs of {BASE.relative_to(ROOT)} (40 days each)")
    for r in results:
        scaling = r["runs_per_s"] / ref["runs_per_s"]
        print(f"{r['workers']} worker{'s' if r['workers'] > 1 else ' '}: {r['wall_s']:6.1f} s, "
              f"{r['runs_per_s']:6.2f} runs/s, scaling {scaling:.2f}x vs {ref['workers']} worker, "
              f"{r['chunks']} chunks, compute {r['compute_s']:.1f} s ({1000 * r['compute_per_run_s']:.0f} ms/run), "
              f"overhead {100 * r['overhead_share']:.1f}% of compute, load average before {r['load_before']:.1f}")
    print(f"{os.cpu_count()} CPUs; compute per run rising with workers means they are shared with something else")


if __name__ == "__main__":
    main()
