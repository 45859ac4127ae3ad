"""``twin compare RUN_DIR...``: the headline outcomes of several runs side by side."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Sequence

import pandas as pd
import pyarrow.parquet as pq

from twin.scenario import ScenarioError

__all__ = ["HEADLINE", "compare_runs", "register"]

#: the outcomes shown, in order, with a format each
HEADLINE = {
    "service_level": "{:.3f}", "fill_of_need": "{:.3f}", "min_service_level": "{:.3f}", "min_service_day": "{:.0f}",
    "shortfall_person_days": "{:,.0f}", "resilience_loss_person_days": "{:,.0f}", "time_to_failure_days": "{:.0f}",
    "recovery_days": "{:.0f}", "peak_cascade_depth": "{:.0f}", "peak_closed_nodes": "{:,.0f}",
    "peak_starved_nodes": "{:,.0f}", "gini_fulfilment": "{:.3f}", "food_insecure_person_days": "{:,.0f}",
    "peak_price_index": "{:.2f}", "share_paid_up_40pct": "{:.1%}", "share_paid_up_100pct": "{:.1%}",
    "mode_share_market": "{:.1%}", "mode_share_group_buying": "{:.1%}", "mode_share_unified": "{:.1%}",
    "mode_share_safety_net": "{:.1%}", "requests_abandoned": "{:,.0f}", "response_time_p95_h": "{:.1f}",
    "min_active_workforce_share": "{:.2f}", "days_in_emergency": "{:.0f}", "days_in_extreme": "{:.0f}",
    "n_switches": "{:.0f}",
}


def compare_runs(paths: Sequence[str | Path]) -> pd.DataFrame:
    """One column per run (named by its folder), one row per headline outcome present in any run."""
    columns = {}
    for path in map(Path, paths):
        summary = path / "summary.parquet"
        if not path.is_dir():
            raise ScenarioError(str(path), "", "no such folder; write a run folder with `twin run SCENARIO --out DIR`")
        if not summary.exists():
            raise ScenarioError(str(path), "", "not a run folder (no summary.parquet); make one with `twin run`")
        row = pq.read_table(summary).to_pylist()[0]
        name = path.name
        if name in columns:
            name = str(path)
        columns[name] = row
    keys = [k for k in HEADLINE if any(k in row for row in columns.values())]
    return pd.DataFrame({name: [row.get(k) for k in keys] for name, row in columns.items()}, index=keys)


def _formatted(frame: pd.DataFrame) -> pd.DataFrame:
    def fmt(key, value):
        if value is None or (isinstance(value, float) and value != value):
            return "-"
        if value == float("inf"):
            return "never"
        return HEADLINE[key].format(value)
    return pd.DataFrame({c: [fmt(k, v) for k, v in frame[c].items()] for c in frame.columns}, index=frame.index)


def register(subparsers) -> None:
    """Add ``twin compare``."""
    p = subparsers.add_parser("compare", help="print the headline outcomes of run folders side by side")
    p.add_argument("runs", nargs="+", type=Path)
    p.add_argument("--csv", type=Path, help="also write the raw numbers as CSV")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=_cmd_compare)


def _cmd_compare(args: argparse.Namespace) -> int:
    frame = compare_runs(args.runs)
    if args.csv:
        frame.to_csv(args.csv)
    if args.json:
        print(json.dumps({c: {k: _json_number(v) for k, v in frame[c].items()} for c in frame.columns},
                         default=str, indent=2, allow_nan=False))
    else:
        print(_formatted(frame).to_string())
    return 0


def _json_number(value):
    """Strict JSON: NaN (undefined) as null, infinity ("never") as the string "inf"."""
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return "inf" if value > 0 else "-inf"
    return value
