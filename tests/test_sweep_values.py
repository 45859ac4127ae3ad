"""Sweep values that are whole tables, lists or scenario files (issue 15, part 2).

A scenario-file value makes the run's scenario that file, with the sweep's other values set on
top; a table replaces (or with ``merge`` is merged into) the table at its field; the design holds
readable labels; every value of a lever sees the same seeds (common random numbers).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import SCENARIOS
from twin.cli import main as twin_main
from twin.scenario import ScenarioError, parse_scenario
from twin.sweep import load_design, load_sweep, load_timeseries, plan_sweep, read_sweep, run_one
from twin.sweep.design import build_design, run_payloads, run_scenario

SMALL = (SCENARIOS / "tiny" / "small_city.toml").as_posix()


def _pattern(tmp: Path, name: str, body: str = "") -> str:
    """A scenario file of the small town, as a pattern file would be (extends a common base)."""
    (tmp / f"{name}.toml").write_text(f'extends = "{SMALL}"\nname = "{name}"\n{body}')
    return f"{name}.toml"


SHOCK = """
[[lockdowns]]
name = "static_one"
level = "static"
districts = ["district_01"]
start_day = 1
end_day = 3
"""

MARKET = SHOCK + '[regimes.normal]\nmodes = ["market"]\n'
GROUP = SHOCK + '[regimes.normal]\nmodes = ["market", "group_buying"]\ngroup_purchase_share = 0.8\n'
UNIFIED = SHOCK + '[regimes.normal]\nmodes = ["market", "unified"]\n'


def _sweep(tmp: Path, levers: str, extra: str = "", days: int = 5) -> Path:
    text = f"""name = "values_test"
days = {days}
root_seed = 42
replicates = 2
{extra}
[sampler]
method = "latin"
samples = 2

[[uncertainties]]
field = "lockdowns[0].duration_days"
name = "lockdown_days"
range = [1.0, 4.0]
{levers}"""
    path = tmp / "sweep.toml"
    path.write_text(text)
    return path


def test_scenario_files_table_and_list_values_plan_with_labels(tmp_path: Path):
    files = [_pattern(tmp_path, n, b) for n, b in (("market", MARKET), ("group", GROUP))]
    path = _sweep(tmp_path, f"""
[[levers]]
field = "scenario"
name = "pattern"
values = {json.dumps(files)}

[[levers]]
field = "regimes.emergency"
name = "package"
labels = ["market_only", "with_unified"]
values = [{{modes = ["market"]}}, {{modes = ["market", "unified"], price_cap_index = 1.3}}]
""")
    sweep = read_sweep(path)
    design = build_design(sweep)
    runs = design.runs
    assert len(runs) == 2 * 4 * 2
    assert set(runs["pattern"]) == {"market", "group"}                    # file stems
    assert set(runs["package"]) == {"market_only", "with_unified"}        # the given labels
    assert sweep.base["name"] == "market"                                 # the first file stands as the base
    pay = {p["run_id"]: p for p in run_payloads(runs, {p["column"]: p["field"] for p in design.parameters},
                                                sweep.choices)}
    row = runs[(runs["pattern"] == "group") & (runs["package"] == "with_unified")].iloc[0]
    sc = parse_scenario(run_scenario(sweep.base, pay[row["run_id"]]))
    assert sc.name == "group" and sc.regimes.normal.group_purchase_share == 0.8         # the file's scenario
    assert [m for m in sc.regimes.emergency.modes] == ["market", "unified"]            # the table on top
    assert sc.regimes.emergency.price_cap_index == 1.3
    assert sc.lockdowns[0].duration_days == pytest.approx(row["lockdown_days"])         # the range on top
    assert sc.lockdowns[0].end_day == pytest.approx(1 + row["lockdown_days"])


def test_a_table_replaces_the_field_unless_merged(tmp_path: Path):
    base = _pattern(tmp_path, "base", SHOCK + '[regimes.emergency]\nmodes = ["market"]\npass_share = 0.3\n')
    for merge, want in ((False, 1.0), (True, 0.3)):
        path = tmp_path / f"m{merge}.toml"
        path.write_text(f"""name = "merge_test"
base = "{base}"
root_seed = 1
[sampler]
method = "factorial"
[[levers]]
field = "regimes.emergency"
merge = {str(merge).lower()}
values = [{{modes = ["market", "unified"]}}]
""")
        sweep = read_sweep(path)
        design = build_design(sweep)
        assert list(design.runs["regimes_emergency"]) == ["modes=market+unified"]        # default label: its text
        rec = run_payloads(design.runs, {"regimes_emergency": "regimes.emergency"}, sweep.choices)[0]
        sc = parse_scenario(run_scenario(sweep.base, rec))
        default = parse_scenario({}).regimes.emergency.pass_share
        assert sc.regimes.emergency.pass_share == (want if merge else default)
        assert sc.regimes.emergency.modes == ["market", "unified"]


def test_list_values_label_by_their_items(tmp_path: Path):
    base = _pattern(tmp_path, "base", SHOCK)
    path = tmp_path / "lists.toml"
    path.write_text(f"""name = "list_test"
base = "{base}"
root_seed = 1
[sampler]
method = "factorial"
[[levers]]
field = "regimes.normal.modes"
name = "modes"
values = [["market"], ["market", "group_buying"], ["market", "unified", "safety_net"]]
""")
    sweep = read_sweep(path)
    assert list(build_design(sweep).levers["modes"]) == ["market", "market+group_buying", "market+unified+safety_net"]


def test_pattern_files_run_end_to_end_with_common_random_numbers(tmp_path: Path):
    """Two files that differ only in name and label are the same scenario: with common random
    numbers every (point, replicate) gives identical outcomes under both; replicates differ; a
    different pattern differs; the results name the pattern; run_one redoes a run exactly."""
    files = [_pattern(tmp_path, n, b) for n, b in (("market", MARKET), ("market_again", MARKET),
                                                     ("unified", UNIFIED))]
    path = _sweep(tmp_path, f"""
[[levers]]
field = "scenario"
name = "pattern"
values = {json.dumps(files)}
""")
    out = tmp_path / "out"
    assert twin_main(["sweep", "plan", str(path), "--out", str(out)]) == 0
    assert (out / "parameter_values.json").exists()
    assert twin_main(["sweep", "run", str(out), "--workers", "1", "--progress", "none"]) == 0
    df = load_sweep(out)
    assert len(df) == 2 * 3 * 2 and set(df["pattern"]) == {"market", "market_again", "unified"}
    wide = df.pivot_table(index=["point_id", "replicate"], columns="pattern", values="shortfall_kg")
    pd.testing.assert_series_equal(wide["market"], wide["market_again"], check_names=False)
    assert wide["market"].nunique() == len(wide)                    # seeds differ between points and replicates
    shares = df.groupby("pattern")["mode_share_unified"].mean()
    assert shares["unified"] > 0 and shares["market"] == 0          # the pattern's own modes were in force
    ts = load_timeseries(out)
    assert set(ts["pattern"]) == {"market", "market_again", "unified"}
    row = df[df["pattern"] == "unified"].iloc[-1]
    res = run_one(out, int(row["run_id"]))
    assert res["summary"]["shortfall_kg"].item() == row["shortfall_kg"]


def test_editing_a_scenario_file_makes_another_sweep(tmp_path: Path):
    files = [_pattern(tmp_path, n, b) for n, b in (("market", MARKET), ("group", GROUP))]
    path = _sweep(tmp_path, f'\n[[levers]]\nfield = "scenario"\nvalues = {json.dumps(files)}\n')
    first = plan_sweep(path, tmp_path / "out")
    again = plan_sweep(path, tmp_path / "out")
    assert first.written and not again.written
    _pattern(tmp_path, "group", GROUP.replace("0.8", "0.6"))
    with pytest.raises(ScenarioError, match="holds another sweep"):
        plan_sweep(path, tmp_path / "out")
    assert load_design(tmp_path / "out")["scenario"].tolist()[:2] == ["market", "market"]
