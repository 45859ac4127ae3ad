"""Shocks and lockdowns given by ``duration_days`` instead of ``end_day``: the same run, and sweeps that
move a start while holding the length."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

import twin
from tests.conftest import ROOT, SCENARIOS
from twin.scenario import ScenarioError, load_scenario, parse_scenario, set_field
from twin.sweep import plan_sweep, read_sweep
from twin.sweep.design import build_design, run_payloads

TOWN = ROOT / "scenarios" / "sweeps" / "town.toml"


def test_duration_resolves_to_end_day_and_reads_back():
    base = load_scenario(TOWN).model_dump(mode="json")
    assert base["shocks"][0]["start_day"] == 8.0 and base["shocks"][0]["end_day"] == 22.0
    sc = parse_scenario(set_field(base, "shocks[0].duration_days", 5.0), "x")  # replaces the end day
    assert sc.shocks[0].end_day == 13.0 and sc.shocks[0].duration_days == 5.0
    dumped = sc.model_dump(mode="json")["shocks"][0]
    assert dumped["end_day"] is None and dumped["duration_days"] == 5.0   # the form given, so ...
    moved = parse_scenario(set_field(sc.model_dump(mode="json"), "shocks[0].start_day", 10.0), "x")
    assert moved.shocks[0].end_day == 15.0                                 # ... moving the start holds the length
    back = parse_scenario(set_field(sc.model_dump(mode="json"), "shocks[0].end_day", 20.0), "x")
    assert (back.shocks[0].end_day, back.shocks[0].duration_days) == (20.0, None)


def test_lockdown_takes_a_duration():
    sc = load_scenario(SCENARIOS / "outbreak_lockdown.toml", {"lockdowns[1].duration_days": 30})
    assert (sc.lockdowns[1].start_day, sc.lockdowns[1].end_day) == (13.0, 43.0)


@pytest.mark.parametrize("section, index", [("shocks", 0), ("shocks", 2), ("lockdowns", 0)])
def test_duration_form_gives_identical_tables(section: str, index: int):
    base = SCENARIOS / ("outbreak_lockdown.toml" if section == "lockdowns" else "sweeps/town.toml")
    sc = load_scenario(base, {"city.population": 300_000} if section == "lockdowns" else None)
    item = getattr(sc, section)[index]
    length = item.end_day - item.start_day
    data = set_field(sc.model_dump(mode="json"), f"{section}[{index}].duration_days", length)
    other = parse_scenario(data, "x")
    assert getattr(other, section)[index].end_day == item.end_day
    a, b = twin.run(sc, seed=3, days=25), twin.run(other, seed=3, days=25)
    assert set(a.tables) == set(b.tables)
    for name, table in a.tables.items():
        assert isinstance(table, pa.Table) and table.equals(b.tables[name]), name


SWEEP = f"""
name = "start_with_fixed_length"
base = "{TOWN.as_posix()}"
days = 40
root_seed = 1
replicates = 1

[sampler]
method = "factorial"

[[uncertainties]]
field = "shocks[0].start_day"
name = "cut_start_day"
values = [2.0, 10.0, 25.0]

[[levers]]
field = "shocks[0].duration_days"
name = "cut_days"
values = [7.0, 14.0]
"""


def test_sweep_moves_the_start_and_holds_the_length(tmp_path: Path):
    path = tmp_path / "sweep.toml"
    path.write_text(SWEEP)
    rep = plan_sweep(path, tmp_path / "out")
    assert rep.n_runs == 6 and not rep.warnings   # start 25 > the base's end day 22: valid with a length
    sweep = read_sweep(path)
    design = build_design(sweep)
    fields = {p["column"]: p["field"] for p in design.parameters}
    seen = set()
    for rec in run_payloads(design.runs, fields):
        data = sweep.base
        for field, value in rec["overrides"].items():
            data = set_field(data, field, value)
        shock = parse_scenario(data, "x").shocks[0]
        seen.add((shock.start_day, shock.end_day))
    assert seen == {(s, s + d) for s in (2.0, 10.0, 25.0) for d in (7.0, 14.0)}


def test_sweep_cannot_vary_both_end_day_and_duration(tmp_path: Path):
    path = tmp_path / "sweep.toml"
    path.write_text(SWEEP + '\n[[uncertainties]]\nfield = "shocks[0].end_day"\nvalues = [20.0, 30.0]\n')
    with pytest.raises(ScenarioError, match="are alternatives: vary one of them"):
        read_sweep(path)
