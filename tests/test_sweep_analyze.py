"""Sensitivity analysis on toy outcomes with a known answer: ``a`` drives the outcome, ``b`` does nothing.

The sweep is planned as usual; instead of running the model, chunk files with the toy outcome are
written where ``twin sweep run`` would write them, so the whole read-back and analysis path is used.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import ROOT
from twin.recording.tables import make_table
from twin.scenario import ScenarioError
from twin.sweep import analyze_sweep, load_design, plan_sweep
from twin.sweep.store import write_chunk
from twin.sweep.task import ChunkOutput, failures_table

TOWN = (ROOT / "scenarios" / "sweeps" / "town.toml").as_posix()

SWEEP = f"""
name = "toy"
base = "{TOWN}"
root_seed = 3
replicates = 2

[sampler]
{{sampler}}

[[uncertainties]]
field = "shocks[0].factor"
name = "a"
range = [0.0, 1.0]

[[uncertainties]]
field = "shocks[2].factor"
name = "b"
range = [0.0, 1.0]
{{extra}}
"""


def toy_sweep(tmp: Path, sampler: str, extra: str = "", noise: float = 0.01, n_runs: int | None = None) -> Path:
    """Plan a toy sweep and write results of its first ``n_runs`` (default all): ``y = 10 a^2 + noise``
    (plus ``lever`` when crossed)."""
    (tmp / "toy.toml").write_text(SWEEP.format(sampler=sampler, extra=extra))
    folder = plan_sweep(tmp / "toy.toml", tmp / "toy").folder
    d = load_design(folder).head(n_runs)
    rng = np.random.default_rng(0)
    y = 10.0 * d["a"] ** 2 + noise * rng.standard_normal(len(d)) + d.get("lever", 0.0)
    ids = {c: d[c].to_numpy() for c in ("run_id", "point_id", "lever_id", "replicate")}
    scalars = make_table({**ids, "toy_outcome": y.to_numpy()}, {"table": "scalars"})
    out = ChunkOutput(0, len(d) - 1, scalars, None, failures_table([], {}))
    write_chunk(folder, out, {"runs": [0, len(d) - 1]})
    return folder


def _values(table: pd.DataFrame, index: str) -> pd.Series:
    return table[table["index"] == index].set_index("parameter")["value"]


def test_sobol_ranks_the_driver_first(tmp_path: Path):
    folder = toy_sweep(tmp_path, 'method = "sobol"\nsamples = 256')
    t = analyze_sweep(folder, ["toy_outcome"]).table
    s1, st = _values(t, "S1"), _values(t, "ST")
    assert s1["a"] > 0.9 and abs(s1["b"]) < 0.05 and st["a"] > 0.9 and st["b"] < 0.05
    conf = t.set_index(["parameter", "index"])["conf"]
    assert conf.notna().all() and (conf < 0.3).all()
    assert (folder / "analysis" / "toy_outcome.parquet").exists() and (folder / "analysis" / "toy_outcome.png").exists()


def test_morris_ranks_the_driver_first(tmp_path: Path):
    t = analyze_sweep(toy_sweep(tmp_path, 'method = "morris"\nsamples = 20'), ["toy_outcome"]).table
    mu_star = _values(t, "mu_star")
    assert mu_star["a"] > 5.0 and mu_star["b"] < 0.1
    assert t.loc[t["index"] == "mu_star", "conf"].notna().all()


def test_latin_rbd_fast_ranks_the_driver_first(tmp_path: Path):
    s1 = _values(analyze_sweep(toy_sweep(tmp_path, 'method = "latin"\nsamples = 200'), ["toy_outcome"]).table, "S1")
    assert s1["a"] > 0.8 and s1["a"] > s1["b"] + 0.5


def test_factorial_variance_shares_are_exact_and_per_lever(tmp_path: Path):
    lever = '\n[[levers]]\nfield = "households.online_share"\nname = "lever"\nvalues = [0.0, 0.5]\n'
    folder = toy_sweep(tmp_path, 'method = "factorial"', extra=lever, noise=0.0)
    t = analyze_sweep(folder, ["toy_outcome"]).table
    assert set(t["lever_id"]) == {0, 1} and set(t["lever"]) == {0.0, 0.5}
    for _, sub in t.groupby("lever_id"):
        s1, st = _values(sub, "S1"), _values(sub, "ST")
        assert s1["a"] == pytest.approx(1.0) and s1["b"] == pytest.approx(0.0, abs=1e-12)
        assert st["a"] == pytest.approx(1.0) and st["b"] == pytest.approx(0.0, abs=1e-12)


def test_missing_points_and_unknown_outcomes_are_errors(tmp_path: Path):
    folder = toy_sweep(tmp_path, 'method = "sobol"\nsamples = 8', n_runs=40)     # of 64 runs
    with pytest.raises(ScenarioError, match="12 design points have no value of 'toy_outcome'"):
        analyze_sweep(folder, ["toy_outcome"])
    with pytest.raises(ScenarioError, match="no numeric outcome 'nothing'"):
        analyze_sweep(folder, ["nothing"])


def test_sobol_second_order_indices_of_an_additive_outcome_are_near_zero(tmp_path: Path):
    t = analyze_sweep(toy_sweep(tmp_path, 'method = "sobol"\nsamples = 128\nsecond_order = true'),
                      ["toy_outcome"]).table
    s2 = _values(t, "S2")
    assert list(s2.index) == ["a:b"] and abs(s2["a:b"]) < 0.1
