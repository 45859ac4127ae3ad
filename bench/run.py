"""Benchmarks: speed and memory of the twin, beside a bare SimPy loop measured in the same run.

    python bench/run.py            # all benchmarks
    python bench/run.py --only core
    python bench/run.py --scale    # 100M / 25M time ratio of generating and running 30 days

Each case runs in a fresh subprocess so its peak memory is its own. Sweeps have their own
benchmark: ``python bench/sweep.py`` (runs per second with 1 and 2 workers, overhead). Printed figures:
wall seconds, simulated days per second, the twin's SimPy events (in all, a simulated day, a second), the events per
second of a bare SimPy loop with as many timeouts (and with 1,000 and 100,000 live processes,
for scale), and peak resident memory.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CASES = {  # name -> (scenario, days)
    "core": ("scenarios/baseline.toml", 60),
    "supply_shock": ("scenarios/supply_shock.toml", 60),
    "outbreak": ("scenarios/outbreak_lockdown.toml", 60),
}


def bare_simpy(n_events: int, n_procs: int) -> float:
    """Events per second of ``n_procs`` processes doing nothing but timeouts, ``n_events`` in all."""
    import simpy

    env = simpy.Environment()
    per = max(1, n_events // n_procs)

    def proc(env):
        for _ in range(per):
            yield env.timeout(1.0)

    for _ in range(n_procs):
        env.process(proc(env))
    t = time.perf_counter()
    env.run()
    return n_procs * per / (time.perf_counter() - t)


def one_case(name: str) -> dict:
    """Run one case in this process and return its figures."""
    import twin

    scenario, days = CASES[name]
    t = time.perf_counter()
    res = twin.run(ROOT / scenario, days=days)
    wall = time.perf_counter() - t
    m = res.manifest
    n_events = int(m["simpy_events"])
    return {
        "case": name, "scenario": scenario, "days": days, "wall_s": wall,
        "sim_days_per_s": days / wall, "twin_events": n_events, "twin_events_per_s": n_events / wall,
        "bare_simpy_same_events_per_s": bare_simpy(n_events, 12),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "nodes": m["nodes"], "communities": m["communities"],
        "fill_of_need": res.tables["summary"].column("fill_of_need")[0].as_py(),
    }


SCALE = ("scenarios/baseline.toml", 30, (25_000_000, 100_000_000))  # scenario, days, populations


def scale_case(population: int) -> dict:
    """Generate the baseline city at ``population`` and run it (``SCALE``), in this process."""
    import twin
    from twin.network.build import build_network
    from twin.scenario import load_scenario

    scenario, days, _ = SCALE
    sc = load_scenario(ROOT / scenario, {"city.population": population})
    t = time.perf_counter()
    build_network(sc)  # the generator alone (the run below generates the city again)
    gen = time.perf_counter() - t
    before = resource.getrusage(resource.RUSAGE_SELF)
    t = time.perf_counter()
    res = twin.run(sc, days=days)
    wall = time.perf_counter() - t
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return {"population": population, "generate_s": gen, "wall_s": wall, "communities": res.manifest["communities"],
            "cpu_s": ru.ru_utime + ru.ru_stime - before.ru_utime - before.ru_stime,
            "system_s": ru.ru_stime - before.ru_stime, "peak_rss_mib": ru.ru_maxrss / 1024}


def scale() -> None:
    """Print how generating and running grow from 25M to 100M residents (goal: <= 4.4x for 4x).

    Wall time and CPU seconds (user + system) both: on a machine shared with other work the
    wall time of either case stretches with the load (printed), the CPU seconds far less.
    """
    scenario, days, pops = SCALE
    rows = []
    for pop in pops:
        load = os.getloadavg()[0]
        out = subprocess.run([sys.executable, __file__, "--scale-case", str(pop)], capture_output=True, text=True,
                             check=True, cwd=ROOT)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(r)
        print(f"[scale] {scenario} at {pop / 1e6:.0f}M, {days} days, {r['communities']:,} communities: "
              f"generate and run {r['wall_s']:.2f} s wall, {r['cpu_s']:.2f} s CPU ({r['system_s']:.2f} s system) "
              f"(generator alone {r['generate_s']:.2f} s), peak memory {r['peak_rss_mib']:.0f} MiB; "
              f"load average before {load:.1f}")
    a, b = rows[0], rows[-1]
    print(f"[scale] {b['population'] / 1e6:.0f}M / {a['population'] / 1e6:.0f}M: "
          f"{b['wall_s'] / a['wall_s']:.2f} x the wall time, {b['cpu_s'] / a['cpu_s']:.2f} x the CPU seconds "
          f"(goal <= 4.4 x), generator {b['generate_s'] / a['generate_s']:.2f} x; "
          f"peak memory at {b['population'] / 1e6:.0f}M {b['peak_rss_mib']:.0f} MiB ({os.cpu_count()} CPUs)")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=sorted(CASES), action="append")
    ap.add_argument("--scale", action="store_true", help="only the 100M / 25M time ratio and peak memory at 100M")
    ap.add_argument("--case", help=argparse.SUPPRESS)  # internal: run one case, print JSON
    ap.add_argument("--scale-case", type=int, help=argparse.SUPPRESS)  # internal: one population, print JSON
    args = ap.parse_args(argv)
    if args.case:
        print(json.dumps(one_case(args.case)))
        return
    if args.scale_case:
        print(json.dumps(scale_case(args.scale_case)))
        return
    if args.scale:
        scale()
        return
    print(f"bare SimPy, 1,000 processes:   {bare_simpy(1_000_000, 1_000):,.0f} timeouts/s")
    print(f"bare SimPy, 100,000 processes: {bare_simpy(1_000_000, 100_000):,.0f} timeouts/s")
    results: dict[str, dict] = {}
    for name in args.only or list(CASES):
        out = subprocess.run([sys.executable, __file__, "--case", name], capture_output=True, text=True,
                             check=True, cwd=ROOT)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"\n[{name}] {r['scenario']}, {r['days']} days, {r['communities']:,} communities, {r['nodes']:,} nodes")
        print(f"  wall {r['wall_s']:.2f} s, {r['sim_days_per_s']:.1f} simulated days/s, "
              f"peak memory {r['peak_rss_mib']:.0f} MiB")
        print(f"  twin: {r['twin_events']:,} SimPy events ({r['twin_events'] / r['days']:.0f} a day: phases, dispatch "
              f"waves, convoys, the safety-net desk's and the couriers' hourly rounds), "
              f"{r['twin_events_per_s']:,.0f} events/s "
              f"(bare SimPy, as many timeouts: {r['bare_simpy_same_events_per_s']:,.0f}/s)")
        print(f"  fill of need {r['fill_of_need']:.4f}")
        if name != "core" and "core" in results:
            print(f"  {r['wall_s'] / results['core']['wall_s']:.2f} x the core baseline's time")
        results[name] = r


if __name__ == "__main__":
    main()
