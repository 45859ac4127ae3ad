"""``twin report RUN_DIR... [--out FILE.html] [--baseline RUN_DIR]``: the run report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from twin.cliargs import nonneg_int
from twin.recording.writer import run_folder_problem
from twin.progress import add_progress_arguments

__all__ = ["register"]


def register(subparsers) -> None:
    """Add the ``report`` command to the ``twin`` command line."""
    p = subparsers.add_parser(
        "report", help="write an HTML report (metrics and figures) of one or more run folders",
        description="Write one self-contained HTML file (figures embedded, opens offline) with the headline "
                    "resilience metrics and figures of the runs, overlaid when several, and the figures as PNG "
                    "files in FILE_figures/.")
    p.add_argument("runs", nargs="+", type=Path, metavar="RUN_DIR", help="run folders written by `twin run`")
    p.add_argument("--out", type=Path, metavar="FILE.html",
                   help="report file (default: RUN_DIR/report.html for one run, ./report.html for several)")
    p.add_argument("--baseline", type=Path, metavar="RUN_DIR",
                   help="comparison run: the same shock with no regime switch (for adaptability)")
    p.add_argument("--warmup-days", type=nonneg_int, default=3, help="days left out of the pre-shock level (3)")
    p.add_argument("--threshold", type=_share, default=0.95,
                   help="failed below / recovered at this share of the pre-shock level (0.95)")
    p.add_argument("--shock-day", type=float, help="shock start day (default: the first shock event)")
    add_progress_arguments(p)
    p.set_defaults(func=_cmd_report)


def _cmd_report(args: argparse.Namespace) -> int:
    from twin.metrics import MetricSettings
    from twin.report import build_report
    from twin.report.build import check_report_target, default_out
    from twin.scenario import ScenarioError
    for path in [*args.runs, *([args.baseline] if args.baseline else [])]:
        problem = run_folder_problem(path)
        if problem:
            raise ScenarioError(problem[0], "", problem[1])
    check_report_target(Path(args.out) if args.out is not None else default_out(args.runs))
    if args.baseline is None:
        args.baseline = _named_comparison(args.runs)
    settings = MetricSettings(warmup_days=args.warmup_days, threshold=args.threshold, shock_start_day=args.shock_day)
    out = build_report(args.runs, args.out, baseline=args.baseline, settings=settings,
                       show_progress="none" if args.quiet else args.progress)
    figures = out.with_name(f"{out.stem}_figures")
    print(f"wrote {out} ({len(list(figures.glob('*.png')))} figures also in {figures})")
    return 0


def _named_comparison(runs: list[Path]) -> Path | None:
    """The comparison run the first run's scenario names (``run.compare_to``), if it exists."""
    import json
    scenario = runs[0] / "scenario.json"
    if not scenario.is_file():
        return None
    named = json.loads(scenario.read_text()).get("run", {}).get("compare_to")
    if named and _not_a_run(Path(named)) is None:
        return Path(named)
    if named:
        print(f"note: {runs[0]}: run.compare_to {named!r} is not a run folder; no comparison run", file=sys.stderr)
    return None


def _not_a_run(path: Path) -> str | None:
    if path.is_dir() and (path / "design.parquet").exists():
        return ("a sweep folder, which keeps summaries and daily city series, not run folders: analyse it with "
                "`twin sweep analyze` or twin.sweep.load_sweep, or write one run's folder with "
                "twin.sweep.run_one(DIR, RUN_ID, out=...) and report that")
    problem = run_folder_problem(path)
    return None if problem is None else f"{problem[0]}: {problem[1]}"


def _share(text: str) -> float:
    value = float(text)
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in (0, 1], got {value}")
    return value
