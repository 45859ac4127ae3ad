"""PRIM scenario discovery (``twin sweep discover``, issue 15 part 4): analytic cases, a known box
recovered from synthetic data, categorical parameters, pasting, and the command on a sweep folder
whose results are synthetic (a known rule over the design's parameters)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.conftest import ROOT
from twin.cli import main as twin_main
from twin.recording.tables import make_table
from twin.sweep import load_design, plan_sweep
from twin.sweep.discover import Box, box_stats, box_table, in_box, prim, trajectory_table
from twin.sweep.store import write_chunk
from twin.sweep.task import ChunkOutput, failures_table

TOWN = (ROOT / "scenarios" / "sweeps" / "town.toml").as_posix()


def test_one_parameter_peeled_by_hand():
    """x = 0..9, cases x >= 7, alpha 0.1: each peel drops the lowest run (dropping the highest would
    drop a case). After k peels the box is [k, 9] with 10 - k runs, all 3 cases: coverage 1,
    density 3 / (10 - k), until [7, 9] (density 1); then peels cost cases. The chosen box (highest
    coverage at density >= 0.8) is [7, 9]."""
    x = pd.DataFrame({"a": np.arange(10.0)})
    res = prim(x, x["a"] >= 7, alpha=0.1, mass_min=0.05)
    t = trajectory_table(res)
    assert list(t["a_low"][:8]) == [0, 1, 2, 3, 4, 5, 6, 7] and (t["a_high"][:8] == 9).all()
    assert np.allclose(t["density"][:8], [3 / (10 - k) for k in range(8)])
    assert np.allclose(t["coverage"][:8], 1.0) and np.allclose(t["mass"][:8], [(10 - k) / 10 for k in range(8)])
    assert np.allclose(t["coverage"][8:], [2 / 3, 1 / 3]) and (t["density"][8:] == 1).all()
    assert res.chosen == 7 and t["chosen"].sum() == 1
    b = box_table(res)
    assert b.loc[0, ["low", "high", "coverage", "density", "mass"]].tolist() == [7.0, 9.0, 1.0, 1.0, 0.3]


def test_coverage_density_mass_of_a_box_by_hand():
    """8 runs on a 2 x 4 grid, cases where a = 1 and b >= 2 (2 runs) plus one at (0, 3): the box
    a in [1, 1], b in [2, 3] holds 2 runs, both cases: coverage 2/3, density 1, mass 2/8."""
    x = pd.DataFrame({"a": [0, 0, 0, 0, 1, 1, 1, 1], "b": [0, 1, 2, 3, 0, 1, 2, 3]}).astype(float)
    y = np.array([0, 0, 0, 1, 0, 0, 1, 1], bool)
    s = box_stats(in_box(x, Box({"a": (1.0, 1.0), "b": (2.0, 3.0)})), y)
    assert s == {"n_runs": 2, "n_cases": 2, "mass": 0.25, "coverage": pytest.approx(2 / 3), "density": 1.0}
    s = box_stats(in_box(x, Box({"a": (0.0, 1.0), "b": (3.0, 3.0)})), y)
    assert (s["n_runs"], s["n_cases"], s["coverage"], s["density"]) == (2, 2, pytest.approx(2 / 3), 1.0)


def test_categorical_parameter_peels_one_value_at_a_time():
    """12 runs, 4 of each pattern; cases are pattern a. Dropping b or c gains the same per run (b
    first, by name), then the other: {a} with coverage 1, density 1, mass 1/3."""
    x = pd.DataFrame({"pattern": ["a", "b", "c"] * 4})
    res = prim(x, x["pattern"] == "a", alpha=0.05, mass_min=0.05)
    t = trajectory_table(res)
    assert list(t["pattern_in"]) == ["a|b|c", "a|c", "a"]
    assert np.allclose(t["density"], [1 / 3, 1 / 2, 1]) and np.allclose(t["coverage"], 1.0)
    assert res.chosen == 2 and res.categorical == ["pattern"]


@pytest.mark.parametrize("noise,threshold", [(0.0, 0.8), (0.02, 0.9)])
def test_a_known_box_is_recovered(noise: float, threshold: float):
    """Cases where x1 > 0.6, x2 < 0.3 and c is not 'b' (x3 is irrelevant), with a share of labels flipped."""
    rng = np.random.default_rng(1)
    n = 2000
    x = pd.DataFrame({"x1": rng.random(n), "x2": rng.random(n), "x3": rng.random(n), "c": rng.choice(["a", "b", "c"], n)})
    y = ((x["x1"] > 0.6) & (x["x2"] < 0.3) & (x["c"] != "b")).to_numpy() ^ (rng.random(n) < noise)
    res = prim(x, y, threshold=threshold)
    b = box_table(res).set_index("parameter")
    assert b.loc["x1", "low"] == pytest.approx(0.6, abs=0.05) and b.loc["x1", "high"] == x["x1"].max()
    assert b.loc["x2", "high"] == pytest.approx(0.3, abs=0.05) and b.loc["x2", "low"] == x["x2"].min()
    assert b.loc["c", "values"] == "a|c"
    assert not b.loc["x3", "restricted"]
    assert b["density"].iloc[0] >= threshold and b["coverage"].iloc[0] >= 0.75


def test_pasting_grows_the_last_box_without_lowering_its_density():
    rng = np.random.default_rng(1)
    n = 2000
    x = pd.DataFrame({"x1": rng.random(n), "x2": rng.random(n), "x3": rng.random(n), "c": rng.choice(["a", "b", "c"], n)})
    y = ((x["x1"] > 0.6) & (x["x2"] < 0.3) & (x["c"] != "b")).to_numpy() ^ (rng.random(n) < 0.02)
    peeled = prim(x, y, paste=False)
    pasted = prim(x, y, paste=True)
    assert pasted.kinds[:-1] == peeled.kinds and pasted.kinds[-1] == "paste"
    last, grown = peeled.boxes[-1], pasted.boxes[-1]
    assert in_box(x, grown)[in_box(x, last)].all()                             # contains the peeled box
    assert pasted.stats["density"].iloc[-1] > peeled.stats["density"].iloc[-1]
    assert pasted.stats["n_runs"].iloc[-1] > peeled.stats["n_runs"].iloc[-1]


def test_bad_parameters_are_refused():
    x = pd.DataFrame({"a": np.arange(10.0)})
    with pytest.raises(ValueError, match="alpha"):
        prim(x, x["a"] > 5, alpha=0.6)
    with pytest.raises(ValueError, match="mass_min"):
        prim(x, x["a"] > 5, mass_min=0.0)


# ---- the command on a sweep folder with synthetic results ---------------------------------------------------

SWEEP = f"""name = "discover_test"
base = "{TOWN}"
days = 5
root_seed = 9
[sampler]
method = "latin"
samples = 80
[[uncertainties]]
field = "shocks[0].factor"
name = "inbound_share"
range = [0.2, 1.0]
[[uncertainties]]
field = "shocks[2].factor"
name = "courier_share"
range = [0.2, 1.0]
[[levers]]
field = "regimes.emergency.modes"
name = "package"
values = [["market"], ["market", "group_buying"], ["market", "unified"]]
"""


@pytest.fixture
def synthetic_sweep(tmp_path: Path) -> Path:
    """A planned sweep whose 'runs' are written by hand: min_fill_of_need is 0.7 where inbound_share
    < 0.5 under the market-only package, else 0.95 (a known box), with no model run."""
    (tmp_path / "sw.toml").write_text(SWEEP)
    folder = tmp_path / "swp"
    plan_sweep(tmp_path / "sw.toml", folder)
    d = load_design(folder)
    bad = (d["inbound_share"] < 0.5) & (d["package"] == "market")
    meta = {"sweep_id": "x", "table": "scalars"}
    cols = {c: pa.array(d[c].to_numpy()) for c in ("run_id", "point_id", "lever_id", "replicate")}
    cols["min_fill_of_need"] = pa.array(np.where(bad, 0.7, 0.95))
    cols["recovery_days"] = pa.array([None if b else 6.0 if c > 0.6 else 3.0 for b, c in zip(bad, d["courier_share"])],
                                     pa.float64())
    out = ChunkOutput(0, len(d) - 1, make_table(cols, meta), None, failures_table([], meta))
    write_chunk(folder, out, {})
    return folder


def test_discover_command_finds_the_known_box(synthetic_sweep: Path, capsys):
    code = twin_main(["sweep", "discover", str(synthetic_sweep), "--outcome", "min_fill_of_need", "--below", "0.8",
                      "--threshold", "1"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "min_fill_of_need < 0.8" in out and "package: in {market}" in out
    stem = synthetic_sweep / "analysis" / "prim_min_fill_of_need_below_0.8"
    box = pq.read_table(f"{stem}_box.parquet").to_pandas().set_index("parameter")
    assert box.loc["package", "values"] == "market" and box.loc["package", "field"] == "regimes.emergency.modes"
    assert box.loc["inbound_share", "high"] < 0.5 and box.loc["inbound_share", "high"] > 0.42
    assert not box.loc["courier_share", "restricted"]
    assert box["density"].iloc[0] == 1.0 and box["coverage"].iloc[0] >= 0.9
    traj = pq.read_table(f"{stem}_trajectory.parquet").to_pandas()
    assert traj["chosen"].sum() == 1 and {"package_in", "inbound_share_low", "courier_share_high"} <= set(traj.columns)
    assert Path(f"{stem}.png").stat().st_size > 10_000
    assert not [p for p in (synthetic_sweep / "analysis").iterdir() if p.name.startswith(".")]   # no temporaries left


def test_discover_leaves_out_runs_without_a_value(synthetic_sweep: Path, capsys):
    assert twin_main(["sweep", "discover", str(synthetic_sweep), "--outcome", "recovery_days", "--above", "4"]) == 0
    out = capsys.readouterr().out
    n_null = int(pq.read_table(synthetic_sweep / "chunks" / "r0000000-0000239" / "scalars.parquet")
                 .column("recovery_days").null_count)
    assert f"({n_null} runs with no value left out)" in out and n_null > 0
    assert "courier_share: 0.6" in out


@pytest.mark.parametrize("args,fragment", [
    (["--outcome", "nonsense", "--below", "1"], "--outcome"),
    (["--outcome", "min_fill_of_need", "--below", "0.1"], "--below"),          # splits nothing
    (["--outcome", "min_fill_of_need", "--above", "0.1"], "--above"),          # every run
    (["--outcome", "min_fill_of_need", "--below", "0.8", "--alpha", "0.7"], "--alpha"),
    (["--outcome", "min_fill_of_need", "--below", "0.8", "--threshold", "0"], "--threshold"),
    (["--outcome", "min_fill_of_need", "--below", "nan"], "--below"),
])
def test_discover_bad_input_is_one_line_and_writes_nothing(synthetic_sweep: Path, capsys, args, fragment):
    code = twin_main(["sweep", "discover", str(synthetic_sweep), *args])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("error: ") and fragment in err[0], err
    assert not (synthetic_sweep / "analysis").exists() or not any((synthetic_sweep / "analysis").iterdir())


from hypothesis import given, strategies as st  # noqa: E402


@given(seed=st.integers(0, 10_000), n=st.integers(20, 200), alpha=st.floats(0.02, 0.3),
       mass_min=st.floats(0.02, 0.4), threshold=st.floats(0.3, 1.0))
def test_trajectory_invariants(seed: int, n: int, alpha: float, mass_min: float, threshold: float):
    """Peeled boxes nest, so coverage never rises while peeling; every peeled box keeps at least
    mass_min of the runs; the chosen box obeys the threshold rule."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({"a": rng.random(n), "b": rng.integers(0, 4, n).astype(float), "c": rng.choice(["p", "q", "r"], n)})
    y = rng.random(n) < 0.3
    y[0], y[1] = True, False                                      # at least one case and one non-case
    res = prim(x, y, alpha=alpha, mass_min=mass_min, threshold=threshold)
    peels = [i for i, k in enumerate(res.kinds) if k != "paste"]
    for i, j in zip(peels, peels[1:]):
        assert in_box(x, res.boxes[i])[in_box(x, res.boxes[j])].all()
    st_ = res.stats
    assert (np.diff(st_.loc[peels, "coverage"]) <= 1e-12).all()
    assert (st_.loc[peels[1:], "mass"] >= mass_min - 1e-12).all()
    assert ((st_["density"] >= 0) & (st_["density"] <= 1)).all()
    ok = st_[st_["density"] >= threshold - 1e-12]
    chosen = st_.loc[res.chosen]
    if ok.empty:
        assert chosen["density"] == st_["density"].max()
    else:
        assert chosen["density"] >= threshold - 1e-12 and chosen["coverage"] == ok["coverage"].max()
