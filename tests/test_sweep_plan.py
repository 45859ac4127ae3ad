"""Sweep files, designs and seeds: validation errors, samplers, levers sharing seeds, the plan folder.

Nothing here runs the model or starts a cluster.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from tests.conftest import ROOT
from twin.cli import main as twin_main
from twin.scenario import ScenarioError
from twin.sweep import load_design, plan_sweep, read_sweep, run_seed
from twin.sweep.design import build_design

TOWN = (ROOT / "scenarios" / "sweeps" / "town.toml").as_posix()

SWEEP = f"""
name = "plan_test"
base = "{TOWN}"
days = 10
root_seed = 5
replicates = 2

[sampler]
method = "latin"
samples = 4

[[uncertainties]]
field = "shocks[0].factor"
range = [0.2, 0.9]

[[uncertainties]]
field = "network.n_sorting_centres"
name = "sorting_centres"
range = [1, 4]

[[levers]]
field = "households.online_share"
values = [0.1, 0.3, 0.6]
"""


def _write(tmp_path: Path, text: str, name: str = "sweep.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_plan_writes_design_and_manifest_before_anything_runs(tmp_path: Path):
    rep = plan_sweep(_write(tmp_path, SWEEP), tmp_path / "out")
    assert (rep.n_points, rep.n_levers, rep.n_runs) == (4, 3, 24) and rep.written and not rep.warnings
    d = load_design(tmp_path / "out")
    assert list(d["run_id"]) == list(range(24))
    assert {"point_id", "lever_id", "replicate", "shocks_0_factor", "sorting_centres", "households_online_share",
            "seed_root", "seed_key"} <= set(d.columns)
    assert d["sorting_centres"].dtype.kind == "i"                    # integer field: values rounded
    assert d["shocks_0_factor"].between(0.2, 0.9).all()
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["kind"] == "twin-sweep" and manifest["n_runs"] == 24 and len(manifest["sweep_id"]) == 16
    meta = json.loads(pq.read_schema(tmp_path / "out" / "design.parquet").metadata[b"twin"])
    assert meta["sweep_id"] == manifest["sweep_id"] and meta["schema_version"] and meta["sweep_schema_version"]
    assert not (tmp_path / "out" / "chunks").exists()


def test_planning_again_keeps_the_folder_and_another_sweep_is_refused(tmp_path: Path):
    sweep = _write(tmp_path, SWEEP)
    first = plan_sweep(sweep, tmp_path / "out")
    again = plan_sweep(sweep, tmp_path / "out")
    assert again.sweep_id == first.sweep_id and not again.written
    other = _write(tmp_path, SWEEP.replace("root_seed = 5", "root_seed = 6"), "other.toml")
    with pytest.raises(ScenarioError, match="holds another sweep"):
        plan_sweep(other, tmp_path / "out")


def test_levers_of_a_point_share_its_seed_and_replicates_do_not(tmp_path: Path):
    d = load_design(plan_sweep(_write(tmp_path, SWEEP), tmp_path / "out").folder)
    keys = d.groupby(["point_id", "replicate"])["seed_key"].apply(lambda s: {tuple(k) for k in s})
    assert all(len(k) == 1 for k in keys)                             # same key under every lever
    assert keys.map(lambda k: next(iter(k))).is_unique                 # different across points/replicates
    row = d.iloc[7]
    assert tuple(row["seed_key"]) == (row["point_id"], row["replicate"])
    ss = run_seed(row["seed_root"], *row["seed_key"])
    assert ss.entropy == 5 and ss.spawn_key == (row["point_id"], row["replicate"])


@pytest.mark.parametrize("method, extra, n_points", [
    ("sobol", "samples = 8", 8 * (2 + 2)),
    ("sobol", "samples = 8\nsecond_order = true", 8 * (2 * 2 + 2)),
    ("morris", "samples = 5\nnum_levels = 4", 5 * (2 + 1)),
    ("latin", "samples = 7", 7),
    ("factorial", "", 3 * 4),
])
def test_samplers_give_the_expected_number_of_points(tmp_path: Path, method: str, extra: str, n_points: int):
    text = SWEEP.replace('method = "latin"\nsamples = 4', f'method = "{method}"\n{extra}')
    if method == "factorial":
        text = text.replace("range = [1, 4]", "range = [1, 4]\nlevels = 4")
    design = build_design(read_sweep(_write(tmp_path, text)))
    assert len(design.units) == n_points
    assert len(design.runs) == n_points * 3 * 2
    assert ((design.units.drop(columns="point_id") >= 0) & (design.units.drop(columns="point_id") <= 1)).all().all()


def test_values_and_distributions_map_into_their_support(tmp_path: Path):
    text = SWEEP.replace('range = [0.2, 0.9]', 'distribution = { kind = "triangular", low = 0.1, mode = 0.3, high = 0.8 }')
    text = text.replace('name = "sorting_centres"\nrange = [1, 4]', 'name = "sorting_centres"\nvalues = [1, 3]')
    d = build_design(read_sweep(_write(tmp_path, text))).runs
    assert d["shocks_0_factor"].between(0.1, 0.8).all()
    assert set(d["sorting_centres"]) <= {1, 3}


BAD = [
    ("unknown top-level field", "root_seed = 5", "root_seed = 5\nrepetitions = 3", "repetitions: unknown field"),
    ("field not in scenario", 'field = "shocks[0].factor"', 'field = "shocks[0].factr"',
     "uncertainties[0].field: 'shocks[0].factr': no field 'factr'"),
    ("shock index out of range", 'field = "shocks[0].factor"', 'field = "shocks[9].factor"',
     "uncertainties[0].field: 'shocks[9].factor': shocks has 4 entries"),
    ("range and values", "range = [0.2, 0.9]", "range = [0.2, 0.9]\nvalues = [0.5]",
     "uncertainties[0].range: give exactly one of range, values or distribution"),
    ("sobol not power of 2", 'method = "latin"\nsamples = 4', 'method = "sobol"\nsamples = 10',
     "sampler.samples: must be a power of 2"),
    ("missing base", f'base = "{TOWN}"', 'base = "nowhere.toml"', "base: no scenario file"),
    ("distribution without sd", "range = [0.2, 0.9]", 'distribution = { kind = "normal", mean = 0.5 }',
     "uncertainties[0].distribution.sd: required by a normal distribution"),
    ("reserved name", 'name = "sorting_centres"', 'name = "replicate"', "uncertainties[1].name: 'replicate' is reserved"),
    ("bad range order", "range = [0.2, 0.9]", "range = [0.9, 0.2]", "uncertainties[0].range: low must be below high"),
    ("negative replicates", "replicates = 2", "replicates = 0", "replicates: Input should be greater than or equal to 1"),
    ("malformed toml", "replicates = 2", "replicates = ", "malformed TOML"),
]


@pytest.mark.parametrize("case, old, new, message", BAD, ids=[b[0] for b in BAD])
def test_bad_sweep_files_give_one_line_exit_2_and_write_nothing(tmp_path: Path, capsys, case, old, new, message):
    assert old in SWEEP
    path = _write(tmp_path, SWEEP.replace(old, new))
    out = tmp_path / "out"
    code = twin_main(["sweep", "plan", str(path), "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and err.startswith(f"error: {path}: ")
    assert message in err, err
    assert not out.exists()


def test_invalid_design_combinations_are_warned_at_plan_time(tmp_path: Path, capsys):
    path = _write(tmp_path, SWEEP.replace("values = [0.1, 0.3, 0.6]", "values = [0.1, 1.5]"))
    assert twin_main(["sweep", "plan", str(path), "--out", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert "warning: 4 of 8 design combinations are invalid" in err
    assert "households.online_share" in err


def test_seed_of_a_run_does_not_depend_on_anything_but_point_and_replicate():
    a, b = run_seed(3, 4, 1), run_seed(3, 4, 1)
    assert np.array_equal(a.generate_state(4), b.generate_state(4))
    assert not np.array_equal(a.generate_state(4), run_seed(3, 4, 0).generate_state(4))


@pytest.mark.parametrize("name", ["courier_attrition", "closure_timing", "allocation_patterns"])
def test_shipped_example_sweeps_plan_cleanly(tmp_path: Path, name: str):
    rep = plan_sweep(ROOT / "scenarios" / "sweeps" / f"{name}.toml", tmp_path / name)
    assert rep.written and not rep.warnings and rep.n_runs > 100
