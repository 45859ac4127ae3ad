"""``twin calibrate CONFIG.toml``: fit scenario fields to observed series (docs/calibration.md).

Exit status: 0 success; 2 bad input (one line naming file and field, nothing written); 3 every
trial failed; 130 interrupted (scored trials are kept: run again to resume).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from twin.cliargs import pos_int

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``calibrate`` command to the ``twin`` parser."""
    p = subparsers.add_parser("calibrate", help="fit scenario fields to observed series (Optuna, runs on Dask)",
                              description="Fit scenario fields to observed series or tables with Optuna; the runs "
                                          "go to a Dask cluster as a sweep's do (see docs/calibration.md). Run "
                                          "again to resume or, after raising trials, to go on.")
    p.add_argument("config", type=Path, metavar="CONFIG.toml")
    p.add_argument("--out", type=Path, metavar="DIR", help="calibration folder (default: results/calibrations/<name>)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=pos_int, metavar="N", help="local worker processes (default: one per CPU)")
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: $DASK_SCHEDULER_ADDRESS, else a "
                            "local cluster)")
    p.add_argument("--trials", type=pos_int, metavar="N",
                   help="go up to N trials in all instead of the file's trials (run again without it to go on)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(func=_cmd_calibrate)


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from twin.calibrate.run import calibrate
    try:
        rep = calibrate(args.config, args.out, workers=args.workers, scheduler=args.scheduler,
                        progress=not args.quiet, trials=args.trials)
    except KeyboardInterrupt:
        where = f" --out {args.out}" if args.out else ""
        print(f"interrupted: scored trials are kept; `twin calibrate {args.config}{where}` resumes", file=sys.stderr)
        raise
    print(f"{'resumed' if rep.resumed else 'calibrated'} {rep.folder}: ran {rep.ran} trials now; "
          f"{rep.complete} scored, {rep.failed} failed in all ({rep.wall_s:.1f} s)")
    if rep.best_trial is None:
        print("no trial could be scored: see the error column of trials.parquet")
        return rep.exit_code
    values = ", ".join(f"{k} = {v:.6g}" if isinstance(v, float) else f"{k} = {v}" for k, v in rep.best_fields.items())
    print(f"best trial {rep.best_trial}: loss {rep.best_loss:.6g}; {values}")
    for path in rep.files:
        print(f"wrote {path}")
    print(f"next: twin run {rep.folder / 'best.toml'}")
    return rep.exit_code
