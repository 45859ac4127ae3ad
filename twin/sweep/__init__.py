"""Parameter sweeps and sensitivity analysis of the twin, locally or on a Dask cluster.

    twin sweep plan scenarios/sweeps/courier_attrition.toml --out results/sweeps/couriers
    twin sweep run results/sweeps/couriers --workers 4
    twin sweep analyze results/sweeps/couriers --outcome shortfall_person_days

From Python: :func:`plan_sweep`, :func:`run_sweep`, :func:`load_sweep` (one DataFrame of every
run joined to its design), :func:`load_timeseries`, :func:`load_failures`, :func:`duckdb_connect`,
:func:`analyze_sweep`, :func:`discover_sweep` (PRIM boxes) and :func:`run_one` (redo one run alone). See ``docs/sweeps.md``.
"""

from __future__ import annotations

import json
from pathlib import Path

from twin.sweep.analyze import analyze_sweep
from twin.sweep.discover import discover_sweep
from twin.sweep.plan import plan_sweep
from twin.sweep.results import duckdb_connect, load_design, load_failures, load_sweep, load_timeseries
from twin.sweep.runner import run_sweep
from twin.sweep.seeds import run_seed
from twin.sweep.spec import SweepSpec, read_sweep
from twin.sweep.store import read_choices, read_manifest, sweep_status

__all__ = ["SweepSpec", "analyze_sweep", "discover_sweep", "duckdb_connect", "load_design", "load_failures", "load_sweep",
           "load_timeseries", "plan_sweep", "read_sweep", "run_one", "run_seed", "run_sweep", "sweep_status"]


def run_one(folder: str | Path, run_id: int, out: str | Path | None = None):
    """Redo one run of a sweep alone (same scenario, parameters and seed) and return its ``Result``.

    With ``out`` its run folder is written, as ``twin run`` does.
    """
    import twin
    from twin.sweep.design import run_payloads, run_scenario
    manifest = read_manifest(folder)
    design = load_design(folder)
    row = design[design["run_id"] == run_id]
    if row.empty:
        from twin.scenario import ScenarioError
        raise ScenarioError(str(folder), "run_id", f"no run {run_id} (the sweep has runs 0 to {manifest['n_runs'] - 1})")
    payload = run_payloads(row, {p["column"]: p["field"] for p in manifest["parameters"]}, read_choices(folder))[0]
    base = json.loads((Path(folder) / "base_scenario.json").read_text())
    return twin.run(run_scenario(base, payload), seed=run_seed(payload["seed_root"], *payload["seed_key"]),
                    days=manifest["days"], out=out, source=f"run {run_id}")
