"""``twin compare RUN_DIR...``: the headline outcomes of several runs side by side.

Runs of the same scenario (same scenario hash, different seeds) form a pattern: each figure is shown
as the mean over its seeds with the 95% band of the mean, and every pattern's difference from the
first is marked better or worse, with its unit, and said to be within the seeds' noise or not
(:mod:`twin.metrics.patterns`). Days that never came are shown as ``never``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Sequence

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from twin.metrics.headline import HEADLINE
from twin.metrics.patterns import BAND_NOTE, Pattern, group_patterns, pattern_differences, pattern_table
from twin.recording.writer import run_folder_problem
from twin.scenario import ScenarioError

__all__ = ["compare_runs", "load_patterns", "register"]


def _read(paths: Sequence[str | Path]) -> list[tuple[str, dict, dict]]:
    out, seen = [], set()
    for path in map(Path, paths):
        problem = run_folder_problem(path)
        if problem is not None:
            raise ScenarioError(problem[0], "", problem[1])
        summary = path / "summary.parquet"
        try:
            rows = pq.read_table(summary).to_pylist()
        except (OSError, pa.ArrowException) as err:
            raise ScenarioError(str(summary), "", f"cannot read it ({str(err).splitlines()[0][:120]}); "
                                                  "run `twin run` again") from None
        if not rows:
            raise ScenarioError(str(summary), "", "has no row; run `twin run` again")
        row = rows[0]
        manifest_file = path / "manifest.json"
        try:
            manifest = json.loads(manifest_file.read_text()) if manifest_file.is_file() else {}
        except (OSError, ValueError):
            raise ScenarioError(str(manifest_file), "", "cannot read it; run `twin run` again") from None
        name = path.name if path.name not in seen else str(path)
        seen.add(name)
        out.append((name, manifest, row))
    return out


def compare_runs(paths: Sequence[str | Path]) -> pd.DataFrame:
    """Raw numbers: one column per run (named by its folder), one row per headline figure present in
    any run (null where a day never came)."""
    runs = _read(paths)
    keys = [f.key for f in HEADLINE if any(f.key in row for _, _, row in runs)]
    return pd.DataFrame({name: [row.get(k) for k in keys] for name, _, row in runs}, index=keys)


def load_patterns(paths: Sequence[str | Path]) -> list[Pattern]:
    """The runs grouped by pattern (scenario), in the order given."""
    return group_patterns(_read(paths))


def register(subparsers) -> None:
    """Add ``twin compare``."""
    p = subparsers.add_parser("compare", help="print the headline outcomes of run folders side by side",
                              description="Runs of the same scenario with different seeds are read as one pattern: "
                                          "the mean over seeds with its 95%% band, and differences from the first "
                                          "pattern marked better or worse and within noise or not.")
    p.add_argument("runs", nargs="+", type=Path)
    p.add_argument("--csv", type=Path, help="also write the raw numbers (one column per run) as CSV")
    p.add_argument("--json", action="store_true", help="print the raw numbers as JSON instead of tables")
    p.set_defaults(func=_cmd_compare)


def _cmd_compare(args: argparse.Namespace) -> int:
    if args.csv and (args.csv.suffix.lower() != ".csv" or (args.csv.exists() and not args.csv.is_file())):
        raise ScenarioError(str(args.csv), "--csv", "must name a CSV file (ending in .csv, not a folder)")
    frame = compare_runs(args.runs)
    if args.csv:
        from twin.recording.writer import atomic_file
        with atomic_file(args.csv) as tmp:
            frame.to_csv(tmp)
    if args.json:
        print(json.dumps({c: {k: _json_number(v) for k, v in frame[c].items()} for c in frame.columns},
                         default=str, indent=2, allow_nan=False))   # null for a day that never came
        return 0
    patterns = load_patterns(args.runs)
    with pd.option_context("display.max_colwidth", 80, "display.width", 250):
        print(pattern_table(patterns).to_string())
        if len(patterns) > 1:
            print(f"\nDifferences from {patterns[0].label}:")
            print(pattern_differences(patterns).to_string())
    print("\n" + BAND_NOTE)
    return 0


def _json_number(value):
    """Strict JSON: NaN (undefined) as null, infinity ("never") as the string "inf"."""
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return "inf" if value > 0 else "-inf"
    return value
