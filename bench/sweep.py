"""Benchmark of sweeps: the town's 200-run sweep, or full-city 90-day runs, with 1 and 2 workers.

    python bench/sweep.py                      # 200 runs of the one-district town, 1 and 2 workers
    python bench/sweep.py --runs 60 --workers 1 2 4
    python bench/sweep.py --city full          # 4 runs of the 25-million city per configuration
    python bench/sweep.py --city full --runs 6 --dask-default-env
    python bench/sweep.py --city full --scenario scenarios/city_c_unified_supply.toml

Each worker count gets a fresh local cluster started the way ``twin sweep run`` starts it
(:func:`twin.sweep.runner.open_client`), warmed up (modules imported, one short run) before the
clock starts. Compute is the time spent inside ``twin.run``, measured in the tasks, summed over
runs; everything else the workers' time went to (scheduling, extracting series, building tables,
shipping results, writing chunks, idle workers at the end) is the sweep's overhead:

    overhead = (wall x workers - compute) / compute

``--city town`` prints runs per second, the scaling ratio against one worker (target >= 1.7x with
2 workers) and the overhead (target < 5%). ``--city full`` (``scenarios/outbreak_lockdown.toml``,
90 days) first runs each run as a plain process and then in a warm one-worker cluster (pairs a few
seconds apart, so other work on the machine weighs on both alike), then the sweep on each worker
count, and prints: plain-process seconds per run, in-worker compute seconds per run (wall and CPU,
system time apart), runs per hour on each worker count, the scaling ratio, the projected time of
1,000 runs on the largest worker count, and the workers' memory. Each full-city worker is first
warmed with one run of the sweep's length in the thread that runs its tasks (a 1,000-run sweep is
made of runs after each worker's first); that first run's cost is printed apart and added to the
projection. Targets: in-worker compute within 10% of the plain run, 2-worker scaling >= 1.85x,
1,000 runs <= 60 min on 2 cores. ``--dask-default-env`` adds a cluster started with Dask's own
worker environment (``MALLOC_TRIM_THRESHOLD_=65536``; twin/allocator.py overrides it) to compare.
``--scenario FILE`` measures another full-city scenario the same way (e.g. one of the city patterns
that ``scenarios/sweeps/allocation_patterns.toml`` sweeps); its runs vary ``epidemic.work_beta`` and
the first lockdown's ``end_day`` where the scenario has them, else the first shock's factor.

Figures on a machine shared with other work are noisy: the load average before each case is
printed, and in-worker compute rising with the number of workers means the cores are shared.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOWN = ROOT / "scenarios" / "sweeps" / "town.toml"
CITY = ROOT / "scenarios" / "outbreak_lockdown.toml"

TOWN_SWEEP = """
name = "bench_sweep"
base = "{base}"
days = {days}
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

CITY_SWEEP = """
name = "bench_full_city"
base = "{base}"
days = {days}
root_seed = 17
replicates = 1

[sampler]
method = "latin"
samples = {points}
"""

#: what the full-city benchmark varies, where the scenario has it: (field, range)
CITY_FIELDS = (("epidemic.work_beta", (0.2, 0.4)), ("lockdowns[0].end_day", (60.0, 80.0)),
               ("shocks[0].factor", (0.3, 0.7)))


def city_sweep(base: Path, days: int, points: int) -> str:
    """The full-city benchmark sweep of scenario ``base``: it varies each of :data:`CITY_FIELDS` the
    scenario has (``outbreak_lockdown.toml`` and the city patterns: the first two)."""
    from twin.scenario import ScenarioError, load_scenario
    from twin.sweep.spec import lookup_field
    data = load_scenario(base).model_dump(mode="json")
    text = CITY_SWEEP.format(base=base.as_posix(), days=days, points=points)
    found = 0
    for field, (low, high) in CITY_FIELDS[:2] if _has(data, CITY_FIELDS[0][0]) else CITY_FIELDS:
        try:
            lookup_field(data, field)
        except ScenarioError:
            continue
        text += f'\n[[uncertainties]]\nfield = "{field}"\nrange = [{low}, {high}]\n'
        found += 1
    if not found:
        raise SystemExit(f"bench/sweep.py: {base} has none of {', '.join(f for f, _ in CITY_FIELDS)} to vary")
    return text


def _has(data: dict, field: str) -> bool:
    from twin.scenario import ScenarioError
    from twin.sweep.spec import lookup_field
    try:
        lookup_field(data, field)
    except ScenarioError:
        return False
    return True


def _warm(base: str, days: int = 2) -> dict:
    """Import the model and run ``base`` for ``days`` in this (worker) process; its seconds and CPU.

    A full city is warmed with one run of the sweep's length: the process then holds the memory of
    a run (see twin/allocator.py), as every worker does after its first run of a long sweep, so
    the measured runs are the ones a 1,000-run sweep is made of. The first run pays for touching
    its memory for the first time (mostly system time); it is reported apart."""
    import twin
    import twin.sweep.task  # noqa: F401
    before, t = _cpu_times(), time.perf_counter()
    twin.run(base, days=days)
    after = _cpu_times()
    return {"wall_s": time.perf_counter() - t, "cpu_s": sum(after.values()) - sum(before.values()),
            "system_s": after["system_s"] - before["system_s"]}


def _warm_workers(client, base: str, days: int) -> list[dict]:
    """:func:`_warm` as a task on each worker: in the thread that runs the sweep's tasks, whose
    memory (its glibc arena) the sweep's runs then reuse."""
    workers = list(client.scheduler_info()["workers"])
    return client.gather([client.submit(_warm, base, days, workers=[w], allow_other_workers=False, pure=False)
                          for w in workers])


def _cpu_times() -> dict:
    """CPU seconds this (worker) process has used: user and system."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return {"user_s": ru.ru_utime, "system_s": ru.ru_stime}


def _worker_memory() -> dict:
    """Peak and current resident memory of this (worker) process, MiB."""
    import psutil
    return {"peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "rss_mib": psutil.Process().memory_info().rss / 2**20}


def plan(workdir: Path, city: str, n_runs: int, days: int, name: str, scenario: Path = CITY) -> Path:
    """Plan the benchmark sweep into ``workdir/name``: the same design for every case."""
    from twin.sweep import plan_sweep
    sweep_file = workdir / f"bench_{city}.toml"
    if city == "town":
        sweep_file.write_text(TOWN_SWEEP.format(base=TOWN.as_posix(), days=days, points=n_runs // 2))
    else:
        sweep_file.write_text(city_sweep(scenario, days, n_runs))
    return plan_sweep(sweep_file, workdir / name).folder


def one_case(workdir: Path, city: str, n_runs: int, days: int, workers: int, dask_default_env: bool = False,
             scenario: Path = CITY) -> dict:
    """Plan and run the sweep on a warm local cluster of ``workers`` processes; return its figures."""
    from twin.sweep import run_sweep
    from twin.sweep.runner import open_client

    folder = plan(workdir, city, n_runs, days, f"w{workers}{'-dask-env' if dask_default_env else ''}", scenario)
    with _cluster(workers, dask_default_env) as client:
        warm = _warm_workers(client, (TOWN if city == "town" else scenario).as_posix(), 2 if city == "town" else days)
        limits = [w.get("memory_limit") or 0 for w in client.scheduler_info()["workers"].values()]
        load = os.getloadavg()[0]
        cpu_before = client.run(_cpu_times)
        t = time.perf_counter()
        rep = run_sweep(folder, client=client, progress="none")
        wall = time.perf_counter() - t
        load_after = os.getloadavg()[0]
        cpu_after = client.run(_cpu_times)
        memory = list(client.run(_worker_memory).values())
    cpu = {k: sum(cpu_after[w][k] - cpu_before[w][k] for w in cpu_after) for k in ("user_s", "system_s")}
    assert rep.status.done == n_runs and rep.status.failed == 0, rep.status
    chunks = [json.loads(p.read_text()) for p in folder.glob("chunks/*/chunk.json")]
    per_run = {}
    for c in chunks:
        per_run.update(zip(range(c["runs"][0], c["runs"][1] + 1), c["run_compute_s"]))
    compute = sum(per_run.values())
    return {"workers": workers, "runs": n_runs, "chunks": len(chunks), "wall_s": wall, "runs_per_s": n_runs / wall,
            "compute_s": compute, "compute_per_run_s": compute / n_runs, "run_compute_s": per_run,
            "cpu_per_run_s": (cpu["user_s"] + cpu["system_s"]) / n_runs, "system_per_run_s": cpu["system_s"] / n_runs,
            "load_before": load, "load_after": load_after, "overhead_share": (wall * workers - compute) / compute,
            "peak_mib": max(m["peak_mib"] for m in memory), "rss_after_mib": max(m["rss_mib"] for m in memory),
            "memory_limit_mib": min(limits) / 2**20, "warnings": rep.warnings, "dask_default_env": dask_default_env,
            "first_cpu_s": sum(w["cpu_s"] for w in warm) / len(warm),
            "first_system_s": sum(w["system_s"] for w in warm) / len(warm)}


def _cluster(workers: int, dask_default_env: bool):
    """``twin sweep run``'s local cluster; with ``dask_default_env`` one with Dask's own worker environment."""
    from twin.sweep.runner import open_client
    if not dask_default_env:
        return open_client(workers=workers)
    import contextlib

    from distributed import Client, LocalCluster

    @contextlib.contextmanager
    def dask_default():
        before = os.environ.get("MALLOC_TRIM_THRESHOLD_")
        try:  # the nanny also sets its pre-spawn variables in this process: undo that afterwards
            with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                              silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
                yield client
        finally:
            if before is None:
                os.environ.pop("MALLOC_TRIM_THRESHOLD_", None)
            else:
                os.environ["MALLOC_TRIM_THRESHOLD_"] = before
    return dask_default()


def plain_run(folder: Path, run_id: int) -> dict:
    """One run of the sweep as ``_one_run`` in a sweep task does it, in this (fresh) process; its figures."""
    t_start = time.perf_counter()
    import twin
    from twin.sweep.design import run_payloads
    from twin.sweep.results import load_design
    from twin.sweep.seeds import run_seed
    from twin.sweep.store import read_manifest
    manifest = read_manifest(folder)
    design = load_design(folder)
    r = run_payloads(design[design["run_id"] == run_id], {p["column"]: p["field"] for p in manifest["parameters"]})[0]
    base = json.loads((folder / "base_scenario.json").read_text())
    before = resource.getrusage(resource.RUSAGE_SELF)
    t = time.perf_counter()
    twin.run(base, seed=run_seed(r["seed_root"], *r["seed_key"]), days=manifest["days"], overrides=r["overrides"],
             source=f"run {run_id}")
    run_s = time.perf_counter() - t
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return {"run_id": run_id, "run_s": run_s, "process_s": time.perf_counter() - t_start,
            "cpu_s": ru.ru_utime + ru.ru_stime - before.ru_utime - before.ru_stime,
            "run_system_s": ru.ru_stime - before.ru_stime, "user_s": ru.ru_utime, "system_s": ru.ru_stime,
            "peak_mib": ru.ru_maxrss / 1024, "minor_faults": ru.ru_minflt - before.ru_minflt}


def plain_case(workdir: Path, n_runs: int, days: int, scenario: Path = CITY) -> dict:
    """Each run of the sweep as a plain process (a fresh interpreter), then the same run in a warm
    one-worker cluster: pairs a few seconds apart, so other work on the machine weighs on both alike.
    The worker's CPU seconds include the sweep's own work on the run (series, tables).
    """
    from twin.sweep.design import run_payloads
    from twin.sweep.results import load_design
    from twin.sweep.runner import open_client
    from twin.sweep.store import read_manifest
    from twin.sweep.task import run_chunk
    folder = plan(workdir, "full", n_runs, days, "plain", scenario)
    manifest = read_manifest(folder)
    payloads = run_payloads(load_design(folder).sort_values("run_id"),
                            {p["column"]: p["field"] for p in manifest["parameters"]})
    base = json.loads((folder / "base_scenario.json").read_text())
    settings = {"days": manifest["days"], "timeseries": manifest["timeseries"], "meta": {"sweep_id": "bench"}}
    load = os.getloadavg()[0]
    runs = []
    with open_client(workers=1) as client:
        _warm_workers(client, scenario.as_posix(), days)
        for i in range(n_runs):
            t = time.perf_counter()
            out = subprocess.run([sys.executable, __file__, "--plain-run", str(folder), str(i)], capture_output=True,
                                 text=True, check=True, cwd=ROOT)
            plain = {**json.loads(out.stdout.strip().splitlines()[-1]), "wall_s": time.perf_counter() - t}
            before = client.run(_cpu_times)
            chunk = client.submit(run_chunk, base, payloads[i:i + 1], settings, pure=False).result()
            after = client.run(_cpu_times)
            cpu = {k: sum(after[w][k] - before[w][k] for w in after) for k in ("user_s", "system_s")}
            runs.append({**plain, "worker_run_s": chunk.compute_s[0], "worker_cpu_s": cpu["user_s"] + cpu["system_s"],
                         "worker_system_s": cpu["system_s"]})
    keys = ("run_s", "wall_s", "cpu_s", "run_system_s", "minor_faults", "worker_run_s", "worker_cpu_s", "worker_system_s")
    mean = {k: sum(r[k] for r in runs) / n_runs for k in keys}
    return {**mean, "runs": runs, "peak_mib": max(r["peak_mib"] for r in runs), "load_before": load,
            "load_after": os.getloadavg()[0],
            "run_ratio": sum(r["worker_run_s"] / r["run_s"] for r in runs) / n_runs,
            "cpu_ratio": sum(r["worker_cpu_s"] / r["cpu_s"] for r in runs) / n_runs,
            "run_s_by_id": {r["run_id"]: r["run_s"] for r in runs}}


def report_town(results: list[dict], n_runs: int, days: int) -> None:
    ref = results[0]
    print(f"sweep of {n_runs} runs of {TOWN.relative_to(ROOT)} ({days} days each)")
    for r in results:
        scaling = r["runs_per_s"] / ref["runs_per_s"]
        print(f"{r['workers']} worker{'s' if r['workers'] > 1 else ' '}: {r['wall_s']:6.1f} s, "
              f"{r['runs_per_s']:6.2f} runs/s, scaling {scaling:.2f}x vs {ref['workers']} worker, "
              f"{r['chunks']} chunks, compute {r['compute_s']:.1f} s ({1000 * r['compute_per_run_s']:.0f} ms/run), "
              f"overhead {100 * r['overhead_share']:.1f}% of compute, load average before {r['load_before']:.1f}")


def report_city(plain: dict, results: list[dict], n_runs: int, days: int, scenario: Path = CITY) -> None:
    """Wall-clock figures, and CPU seconds, which other work on the machine disturbs far less."""
    print(f"full city: {_shown(scenario)}, {days} days, {n_runs} runs per configuration; "
          f"{os.cpu_count()} CPUs")
    print(f"plain process, then the same run in a warm sweep worker, run by run ({n_runs} pairs, load average "
          f"before {plain['load_before']:.1f}, after {plain['load_after']:.1f}):")
    print(f"  plain: {plain['run_s']:.2f} s/run in twin.run ({plain['wall_s']:.2f} s with start-up); CPU "
          f"{plain['cpu_s']:.2f} s/run, of which system {plain['run_system_s']:.2f} s "
          f"({plain['minor_faults'] / 1e6:.2f} M page faults); peak {plain['peak_mib']:.0f} MiB")
    print(f"  in the worker: compute {plain['worker_run_s']:.2f} s/run ({plain['run_ratio']:.2f}x plain); CPU "
          f"{plain['worker_cpu_s']:.2f} s/run with the sweep's own work on it ({plain['cpu_ratio']:.2f}x plain), "
          f"of which system {plain['worker_system_s']:.2f} s")
    ref = next((r for r in results if r["workers"] == 1 and not r["dask_default_env"]), results[0])
    for r in results:
        same = [r["run_compute_s"][i] / plain["run_s_by_id"][i] for i in r["run_compute_s"] if i in plain["run_s_by_id"]]
        label = f"{r['workers']} worker{'s' if r['workers'] > 1 else ''}" + (
            " (Dask's default worker environment)" if r["dask_default_env"] else "")
        print(f"{label}: in-worker compute {r['compute_per_run_s']:.2f} s/run ({sum(same) / len(same):.2f}x plain, "
              f"run by run); worker CPU {r['cpu_per_run_s']:.2f} s/run ({r['cpu_per_run_s'] / plain['cpu_s']:.2f}x "
              f"plain), of which system {r['system_per_run_s']:.2f} s; load average before {r['load_before']:.1f}, "
              f"after {r['load_after']:.1f}")
        print(f"  {r['wall_s']:.1f} s wall, {3600 * r['runs_per_s']:.0f} runs/h, scaling "
              f"{r['runs_per_s'] / ref['runs_per_s']:.2f}x vs {ref['workers']} worker, overhead "
              f"{100 * r['overhead_share']:.1f}% of compute; worker memory: peak {r['peak_mib']:.0f} MiB, "
              f"{r['rss_after_mib']:.0f} MiB after the runs (Dask memory limit {r['memory_limit_mib']:.0f} MiB)")
    mine = [r for r in results if not r["dask_default_env"]]
    best = max(mine, key=lambda r: r["workers"])
    first = best["first_cpu_s"] - best["cpu_per_run_s"]   # a worker's first run: its memory touched the first time
    print(f"a worker's first run (before the clock): CPU {best['first_cpu_s']:.2f} s, of which system "
          f"{best['first_system_s']:.2f} s, {first:+.2f} s against a later run; a sweep pays it once per worker")
    print(f"projected 1,000 runs on {best['workers']} workers: {(1000 / best['runs_per_s'] + max(first, 0.0)) / 60:.0f} "
          f"min at the measured rate, the first runs included (cluster start-up, a few seconds once per sweep, left out)")
    if len(mine) > 1:  # what the CPU seconds say the cores would do if nothing else ran on them
        cpu_scaling = best["workers"] * ref["cpu_per_run_s"] / best["cpu_per_run_s"]
        print(f"on {best['workers']} otherwise idle cores (from CPU seconds per run): scaling {cpu_scaling:.2f}x, "
              f"1,000 runs in {1000 * best['cpu_per_run_s'] / best['workers'] / 60:.0f} min plus the sweep's overhead")
    print("goals: in-worker compute within 10% of the plain run; 2-worker scaling >= 1.85x; "
          "1,000 runs <= 60 min on 2 cores. Compute per run rising with workers, or a load average above "
          "the number of CPUs, means the cores are shared with something else: compare CPU seconds then.")


def _shown(path: Path) -> str:
    """``path`` relative to the repository when it lies inside it."""
    try:
        return path.relative_to(ROOT).as_posix()
    except ValueError:
        return path.as_posix()


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and print its figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--city", choices=("town", "full"), default="town",
                    help="town: 50,000 residents, 40 days; full: the 25-million city, 90 days (default town)")
    ap.add_argument("--runs", type=int, help="runs per configuration (default 200 for the town, 4 for the full city)")
    ap.add_argument("--days", type=int, help="days per run (default 40 for the town, 90 for the full city)")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts (default 1 2)")
    ap.add_argument("--dask-default-env", action="store_true",
                    help="full city: also run 1 worker started with Dask's default worker environment")
    ap.add_argument("--scenario", type=Path, default=None,
                    help="full city: the scenario file to sweep (default scenarios/outbreak_lockdown.toml)")
    ap.add_argument("--plain-run", nargs=2, metavar=("FOLDER", "RUN_ID"), help=argparse.SUPPRESS)  # internal
    args = ap.parse_args(argv)
    if args.plain_run:
        print(json.dumps(plain_run(Path(args.plain_run[0]), int(args.plain_run[1]))))
        return
    full = args.city == "full"
    if args.scenario is not None and not full:
        ap.error("--scenario needs --city full")
    scenario = (args.scenario or CITY).resolve()
    if not scenario.is_file():
        ap.error(f"--scenario: no such file: {args.scenario}")
    n_runs = args.runs or (4 if full else 200)
    days = args.days or (90 if full else 40)
    workdir = Path(tempfile.mkdtemp(prefix="twin-bench-sweep-"))
    try:
        plain = plain_case(workdir, n_runs, days, scenario) if full else None
        results = [one_case(workdir, args.city, n_runs, days, w, scenario=scenario) for w in args.workers]
        if full and args.dask_default_env:
            results.append(one_case(workdir, args.city, n_runs, days, 1, dask_default_env=True, scenario=scenario))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if full:
        report_city(plain, results, n_runs, days, scenario)
    else:
        report_town(results, n_runs, days)
        print(f"{os.cpu_count()} CPUs; compute per run rising with workers means they are shared with something else")


if __name__ == "__main__":
    main()
