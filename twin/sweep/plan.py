"""``twin sweep plan``: validate a sweep file, build its design and write the sweep folder."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa

from twin import __version__
from twin.recording.tables import SCHEMA_VERSION, make_table
from twin.scenario import ScenarioError, parse_scenario
from twin.sweep.design import Design, build_design, run_payloads, run_scenario
from twin.sweep.spec import LoadedSweep, read_sweep
from twin.sweep.store import SWEEP_SCHEMA_VERSION, write_plan

__all__ = ["PlanReport", "check_values", "plan_sweep", "sweep_id"]

SEED_RULE = ("SeedSequence(root_seed, spawn_key=(point_id, replicate)); point_id is the uncertainty design "
             "point, so every lever combination of a point sees the same random draws")


@dataclass(frozen=True)
class PlanReport:
    """What ``plan`` did: the folder, the sweep's id and size, and warnings about parameter values."""

    folder: Path
    sweep_id: str
    n_points: int
    n_levers: int
    replicates: int
    n_runs: int
    written: bool
    warnings: list[str]


def plan_sweep(sweep_file: str | Path, out: str | Path | None = None) -> PlanReport:
    """Validate ``sweep_file`` and write its design and manifest to ``out`` (nothing runs yet).

    Planning the same sweep into its own folder again changes nothing (results are kept).
    """
    sweep = read_sweep(sweep_file)
    design = build_design(sweep)
    sid = sweep_id(sweep)
    out = Path(out) if out is not None else Path("results") / "sweeps" / sweep.spec.name
    manifest = _manifest(sweep, design, sid)
    meta = {"sweep_id": sid, "sweep_schema_version": SWEEP_SCHEMA_VERSION}
    tables = {"design": _table(design.runs, {**meta, "table": "design"}),
              "points": _table(design.units, {**meta, "table": "points"}),
              "levers": _table(design.levers, {**meta, "table": "levers"})}
    written = write_plan(out, tables, manifest, sweep.base, sweep.choices)
    return PlanReport(out, sid, len(design.units), len(design.levers), sweep.spec.replicates, len(design.runs), written,
                      check_values(sweep, design))


def sweep_id(sweep: LoadedSweep) -> str:
    """A stable id of the sweep: a hash of its validated spec and resolved base scenario."""
    what = {"spec": sweep.spec.model_dump(mode="json"), "base": sweep.base}
    if sweep.choices:  # the resolved scenario files and tables: editing a file makes another sweep
        what["choices"] = sweep.choices
    text = json.dumps(what, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def check_values(sweep: LoadedSweep, design: Design, limit: int = 3) -> list[str]:
    """Warnings for design combinations the scenario schema rejects (their runs will be recorded as failed).

    Every distinct (design point, lever combination) is set on the base scenario and validated;
    the first ``limit`` problems are named, with a count of all.
    """
    fields = {p["column"]: p["field"] for p in design.parameters}
    combos = design.runs[design.runs["replicate"] == 0]
    bad = []
    for rec in run_payloads(combos, fields, sweep.choices):
        try:
            parse_scenario(run_scenario(sweep.base, rec), "base")
        except ScenarioError as err:
            bad.append(f"point {rec['point_id']}, lever combination {rec['lever_id']}: "
                       f"{err.field + ': ' if err.field else ''}{err.message}")
    if not bad:
        return []
    head = (f"{len(bad)} of {len(combos)} design combinations are invalid for the base scenario; "
            "their runs will be recorded as failed")
    return [head] + [f"  {b}" for b in bad[:limit]]


def _manifest(sweep: LoadedSweep, design: Design, sid: str) -> dict:
    spec = sweep.spec
    return {
        "kind": "twin-sweep", "sweep_id": sid, "sweep_schema_version": SWEEP_SCHEMA_VERSION,
        "schema_version": SCHEMA_VERSION, "version": __version__, "name": spec.name,
        "description": spec.description, "source": sweep.source, "base_scenario": str(sweep.base_path),
        "start_date": sweep.base["run"]["start_date"], "days": spec.days or sweep.base["run"]["days"],
        "root_seed": spec.root_seed, "replicates": spec.replicates, "timeseries": spec.timeseries,
        "sampler": spec.sampler.model_dump(mode="json"), "problem": design.problem,
        "parameters": design.parameters, "seed_rule": SEED_RULE, "n_points": len(design.units),
        "n_levers": len(design.levers), "n_runs": len(design.runs),
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "spec": spec.model_dump(mode="json", exclude_none=True),
    }


def _table(df: pd.DataFrame, meta: dict) -> pa.Table:
    return make_table({c: pa.array(df[c].tolist()) for c in df.columns}, meta)
