"""Two builds of the twin, timed back to back on the same run, and their tables compared.

    python bench/compare.py HEAD~3                  # HEAD~3 against the working tree, 3 pairs
    python bench/compare.py 4722179 main --pairs 5
    python bench/compare.py main . --days 30 --set city.population=2000000

A build is a git revision (checked out once into a temporary worktree) or ``.`` (this checkout,
as it stands). Each case runs in a fresh process of this interpreter with the build first on
``sys.path``, so both builds use the same installed packages (a build needing a package the other
lacks must be installed first). A case runs the scenario for 2 days to warm up (imports, and
numba's compiled kernels loaded) and frees that run's garbage (``gc.collect()``), then times
``twin.run`` for ``--days`` with ``time.process_time`` (CPU of the whole process, all threads)
and the wall clock, and reports the
peak resident memory. Before the pairs, each build runs once untimed: a build checked out afresh
has no compiled kernels cached yet (numba keeps them per source file), and compiling them (about
25 s of CPU) must not fall into a timed run.

Why pairs: a shared or throttled machine's speed drifts (one build's CPU for the same run was
seen to move by 1.5x within an hour), so two builds timed minutes apart say little. Here the
builds alternate, A then B, B then A, ..., and each pair's ratio B / A is printed with the mean
and the spread of the ratios; a drift slower than a pair cancels out of each ratio.

``--check`` (default on) also compares the two builds' tables from their first timed run: the
columns that are not bit-identical, with their largest relative difference (the golden tolerance
of ``tests/test_baselines.py`` is 1e-9).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CASE = r"""
import json, resource, sys, time
sys.path.insert(0, {src!r})
import twin
assert twin.__file__.startswith({src!r}), twin.__file__
over = json.loads({over!r})
twin.run({scenario!r}, days=2, overrides=over)
import gc; gc.collect()   # the warm-up's garbage freed before the timed run (as a sweep does after each run)
cpu, wall = time.process_time(), time.perf_counter()
res = twin.run({scenario!r}, days={days}, overrides=over)
cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
if {dump!r}:
    import pyarrow.parquet as pq
    for name, table in res.tables.items():
        pq.write_table(table, f"{dump}/{{name}}.parquet")
print(json.dumps({{"cpu": cpu, "wall": wall, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def checkout(build: str, keep: list[Path]) -> Path:
    """The source folder of ``build``: this checkout for ``.``, else a temporary worktree."""
    if build == ".":
        return ROOT
    rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", build + "^{commit}"],
                         capture_output=True, text=True)
    if rev.returncode != 0:
        sys.exit(f"compare: {build!r} is neither '.' nor a git revision of {ROOT}")
    path = Path(tempfile.mkdtemp(prefix=f"twin-{rev.stdout.strip()[:8]}-"))
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-f", str(path), rev.stdout.strip()],
                   check=True, capture_output=True)
    keep.append(path)
    return path


def time_case(src: Path, scenario: str, days: int, over: dict, dump: str = "") -> dict:
    """One timed run of build ``src`` in a fresh process."""
    code = CASE.format(src=str(src), scenario=scenario, days=days, over=json.dumps(over), dump=dump)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        sys.exit(f"compare: the run of {src} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def table_differences(a: Path, b: Path) -> list[tuple[str, str, float]]:
    """(table, column, largest relative difference) of every column not bit-identical between
    the Parquet files of folders ``a`` and ``b``; inf where shapes, types or non-numbers differ."""
    import numpy as np
    import pyarrow.parquet as pq

    out = []
    for fa in sorted(a.glob("*.parquet")):
        ta, fb = pq.read_table(fa), b / fa.name
        if not fb.exists():
            out.append((fa.stem, "(whole table)", float("inf")))
            continue
        tb = pq.read_table(fb)
        if ta.schema.names != tb.schema.names or ta.num_rows != tb.num_rows:
            out.append((fa.stem, "(columns or rows)", float("inf")))
            continue
        for name in ta.schema.names:
            ca, cb = ta[name], tb[name]
            if ca.equals(cb):
                continue
            try:
                xa, xb = ca.to_numpy().astype(float), cb.to_numpy().astype(float)
            except (TypeError, ValueError):
                out.append((fa.stem, name, float("inf")))
                continue
            same_nan = np.isnan(xa) & np.isnan(xb)
            with np.errstate(invalid="ignore", divide="ignore"):
                rel = np.abs(xa - xb) / np.maximum(np.maximum(np.abs(xa), np.abs(xb)), 1e-300)
            rel[same_nan | (xa == xb)] = 0.0
            if np.isnan(xa).tolist() != np.isnan(xb).tolist():
                out.append((fa.stem, name, float("inf")))
            elif rel.size and np.nanmax(rel) > 0:   # NaN in the same places is not a difference
                out.append((fa.stem, name, float(np.nanmax(rel))))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("base", help="the build compared against: a git revision, or '.'")
    ap.add_argument("head", nargs="?", default=".", help="the build measured: a git revision, or '.' (default)")
    ap.add_argument("--scenario", default="scenarios/outbreak_lockdown.toml")
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                    help="a scenario override (JSON value), as twin run --set")
    ap.add_argument("--no-check", dest="check", action="store_false", help="do not compare the tables")
    args = ap.parse_args(argv)
    over = {}
    for item in args.set:
        field, _, value = item.partition("=")
        try:
            over[field] = json.loads(value)
        except json.JSONDecodeError:
            over[field] = value
    keep: list[Path] = []
    try:
        src = {"base": checkout(args.base, keep), "head": checkout(args.head, keep)}
        print(f"{args.scenario}, {args.days} days{', ' + ', '.join(args.set) if args.set else ''}; "
              f"base {args.base} ({src['base']}), head {args.head} ({src['head']})")
        with tempfile.TemporaryDirectory() as tmp:
            dumps = {k: "" for k in src}
            if args.check:
                for k in src:
                    dumps[k] = str(Path(tmp) / k)
                    Path(dumps[k]).mkdir()
            for k in src:   # compiles a fresh checkout's kernels into its own cache, untimed
                time_case(src[k], args.scenario, args.days, over)
            ratios = []
            for i in range(args.pairs):
                order = ("base", "head") if i % 2 == 0 else ("head", "base")
                got = {k: time_case(src[k], args.scenario, args.days, over, dumps[k] if i == 0 else "")
                       for k in order}
                ratio = got["head"]["cpu"] / got["base"]["cpu"]
                ratios.append(ratio)
                print(f"pair {i + 1} ({order[0]} first): base {got['base']['cpu']:.2f} s CPU "
                      f"({got['base']['wall']:.2f} wall, {got['base']['peak_mib']:.0f} MiB), head "
                      f"{got['head']['cpu']:.2f} s CPU ({got['head']['wall']:.2f} wall, "
                      f"{got['head']['peak_mib']:.0f} MiB): head/base {ratio:.3f}", flush=True)
            spread = f" (min {min(ratios):.3f}, max {max(ratios):.3f})" if len(ratios) > 1 else ""
            print(f"head/base CPU: mean {statistics.fmean(ratios):.3f}{spread} over {len(ratios)} pairs")
            if args.check:
                diffs = table_differences(Path(dumps["base"]), Path(dumps["head"]))
                if not diffs:
                    print("tables: every column bit-identical")
                for table, column, rel in diffs:
                    print(f"tables: {table}.{column} differs, largest relative difference {rel:.3g}")
    finally:
        for path in keep:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(path)], capture_output=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
