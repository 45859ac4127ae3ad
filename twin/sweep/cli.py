"""``twin sweep plan | run | status | analyze | discover``.

Exit status: 0 success; 2 bad input (one line naming file and field, nothing written); 3 some
runs failed (``run``); 130 interrupted (chunks written so far are kept: run again to resume).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from twin.cliargs import nonneg_int, pos_int
from twin.progress import add_progress_arguments

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``sweep`` command and its subcommands to the ``twin`` parser."""
    p = subparsers.add_parser("sweep", help="parameter sweeps and sensitivity analysis, locally or on a Dask cluster",
                              description="Parameter sweeps and sensitivity analysis (see docs/sweeps.md).")
    sub = p.add_subparsers(dest="sweep_command", required=True)

    pl = sub.add_parser("plan", help="validate a sweep file; write its design and manifest (nothing runs)")
    pl.add_argument("sweep_file", type=Path)
    pl.add_argument("--out", type=Path, metavar="DIR", help="sweep folder (default: results/sweeps/<name>)")
    pl.set_defaults(func=_cmd_plan)

    r = sub.add_parser("run", help="run the pending and failed chunks of a planned sweep")
    r.add_argument("folder", type=Path, metavar="DIR")
    where = r.add_mutually_exclusive_group()
    where.add_argument("--workers", type=pos_int, metavar="N", help="local worker processes (default: one per CPU)")
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: $DASK_SCHEDULER_ADDRESS, "
                            "else a local cluster)")
    r.add_argument("--chunk-size", type=pos_int, metavar="K", help="runs per task and per file (default: ~16 chunks per worker)")
    r.add_argument("--retries", type=nonneg_int, default=0, metavar="R",
                   help="resubmit a chunk whose task failed outside the model up to R times (default 0)")
    add_progress_arguments(r)
    r.set_defaults(func=_cmd_run)

    st = sub.add_parser("status", help="runs done, failed and pending")
    st.add_argument("folder", type=Path, metavar="DIR")
    st.add_argument("--failures", type=nonneg_int, default=5, metavar="N", help="show the first N failures")
    st.set_defaults(func=_cmd_status)

    an = sub.add_parser("analyze", help="Sobol or Morris indices of an outcome into a Parquet table and a plot")
    an.add_argument("folder", type=Path, metavar="DIR")
    an.add_argument("--outcome", action="append", required=True, metavar="NAME",
                    help="a column of the runs' summary, e.g. shortfall_person_days (repeatable)")
    an.add_argument("--conf-level", type=float, default=0.95, help="confidence level of the intervals")
    an.add_argument("--resamples", type=pos_int, default=100, help="bootstrap resamples")
    an.set_defaults(func=_cmd_analyze)

    di = sub.add_parser("discover", help="PRIM scenario discovery: which parameter ranges and values lead to the "
                                         "runs with an outcome below or above a value",
                        description="PRIM boxes over the sweep's parameters (uncertainties and levers) for the runs "
                                    "whose outcome is below (or above) a value: the peeling trajectory (coverage, "
                                    "density), the chosen box and a plot, into DIR/analysis (docs/sweeps.md).")
    di.add_argument("folder", type=Path, metavar="DIR")
    di.add_argument("--outcome", required=True, metavar="NAME", help="a column of the runs' summary, e.g. min_fill_of_need")
    rule = di.add_mutually_exclusive_group(required=True)
    rule.add_argument("--below", type=float, metavar="X", help="runs of interest: outcome < X")
    rule.add_argument("--above", type=float, metavar="X", help="runs of interest: outcome > X")
    di.add_argument("--alpha", type=float, default=0.05, help="share of the box's runs peeled or pasted per step (default 0.05)")
    di.add_argument("--mass-min", type=float, default=0.05, help="stop peeling below this share of all runs (default 0.05)")
    di.add_argument("--threshold", type=float, default=0.8,
                    help="choose the box of highest coverage with at least this density (default 0.8)")
    di.add_argument("--no-paste", action="store_true", help="skip pasting after peeling")
    di.set_defaults(func=_cmd_discover)


def _cmd_plan(args: argparse.Namespace) -> int:
    from twin.sweep.plan import plan_sweep
    rep = plan_sweep(args.sweep_file, args.out)
    for i, w in enumerate(rep.warnings):
        print(f"warning: {w}" if i == 0 else w, file=sys.stderr)
    print(f"{rep.n_points} design points x {rep.n_levers} lever combinations x {rep.replicates} replicates "
          f"= {rep.n_runs} runs")
    if rep.written:
        print(f"wrote {rep.folder} (sweep {rep.sweep_id})")
    else:
        print(f"{rep.folder} already holds this sweep ({rep.sweep_id}); nothing changed")
    print(f"next: twin sweep run {rep.folder}")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from twin.sweep.runner import run_sweep
    try:
        rep = run_sweep(args.folder, workers=args.workers, scheduler=args.scheduler, chunk_size=args.chunk_size,
                        retries=args.retries, progress="none" if args.quiet else args.progress)
    except KeyboardInterrupt:
        print(f"interrupted: finished chunks are kept; `twin sweep run {args.folder}` resumes", file=sys.stderr)
        raise
    s = rep.status
    if rep.runs:
        rate = rep.runs / rep.wall_s if rep.wall_s else 0.0
        print(f"ran {rep.runs} runs in {rep.chunks} chunks on {rep.workers} workers: {rep.wall_s:.1f} s, "
              f"{rate:.2f} runs/s")
    else:
        print("nothing to run")
    print(_status_line(s))
    if s.failed:
        print(f"failed runs: twin sweep status {args.folder}")
    return rep.exit_code


def _cmd_status(args: argparse.Namespace) -> int:
    from twin.sweep.results import load_failures
    from twin.sweep.store import read_manifest, sweep_status
    m = read_manifest(args.folder)
    s = sweep_status(args.folder)
    print(f"sweep {m['name']} ({m['sweep_id']}): {m['sampler']['method']}, {m['n_points']} points x "
          f"{m['n_levers']} lever combinations x {m['replicates']} replicates")
    print(_status_line(s))
    if s.failed and args.failures:
        f = load_failures(args.folder).head(args.failures)
        print(f"first failures (of {s.failed}):")
        for row in f.itertuples(index=False):
            print(f"  run {row.run_id} (point {row.point_id}, lever {row.lever_id}, replicate {row.replicate}): "
                  f"{row.error_type}: {row.message}")
    return 0


def _cmd_analyze(args: argparse.Namespace) -> int:
    from twin.sweep.analyze import analyze_sweep
    rep = analyze_sweep(args.folder, args.outcome, conf_level=args.conf_level, num_resamples=args.resamples)
    t = rep.table
    for (outcome, lever_id), sub in t.groupby(["outcome", "lever_id"], sort=False):
        wide = sub.pivot_table(index="parameter", columns="index", values=["value", "conf"], sort=False)
        print(f"{outcome}, lever combination {lever_id} ({sub['method'].iloc[0]}):")
        print(wide.round(4).to_string())
    for path in rep.files:
        print(f"wrote {path}")
    return 0


def _cmd_discover(args: argparse.Namespace) -> int:
    from twin.sweep.discover import discover_sweep
    rep = discover_sweep(args.folder, args.outcome, below=args.below, above=args.above, alpha=args.alpha,
                         mass_min=args.mass_min, threshold=args.threshold, paste=not args.no_paste)
    st = rep.result.stats
    ch = st.loc[rep.result.chosen]
    left_out = f" ({rep.dropped} runs with no value left out)" if rep.dropped else ""
    print(f"{rep.rule}: {rep.n_cases} of {rep.n_runs} runs ({rep.n_cases / rep.n_runs:.0%}){left_out}")
    print(f"trajectory: {len(st)} boxes ({sum(k == 'peel' for k in rep.result.kinds)} peels"
          f"{', pasted' if rep.result.kinds[-1] == 'paste' else ''}); chosen box, step {rep.result.chosen}: "
          f"coverage {ch['coverage']:.2f}, density {ch['density']:.2f}, mass {ch['mass']:.2f}")
    restricted = rep.box[rep.box["restricted"]]
    for row in restricted.itertuples(index=False):
        what = (f"{row.low:.4g} to {row.high:.4g} (of {row.full_low:.4g} to {row.full_high:.4g})"
                if row.kind == "numeric" else f"in {{{row.values.replace('|', ', ')}}} (of {row.all_values.replace('|', ', ')})")
        print(f"  {row.parameter}: {what}")
    if restricted.empty:
        print("  no parameter restricted: the cases are spread over the whole design")
    for path in rep.files:
        print(f"wrote {path}")
    return 0


def _status_line(s) -> str:
    return (f"{s.n_runs} runs: {s.done} done, {s.failed} failed, {s.pending} pending "
            f"({s.chunks} chunks, {s.failed_chunks} with failures)")


