"""bench/sweep.py plans its full-city sweep on any shocked scenario: it varies the fields the
scenario has (infection and the first lockdown's end for the outbreak and the city patterns, the
first shock's depth for a supply shock), and names a scenario with nothing to vary."""

from __future__ import annotations

import importlib.util

import pytest

from tests.conftest import ROOT


def _bench():
    spec = importlib.util.spec_from_file_location("bench_sweep", ROOT / "bench" / "sweep.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize(("scenario", "fields"), [
    ("city_c_unified_supply.toml", ["epidemic.work_beta", "lockdowns[0].end_day"]),
    ("supply_shock.toml", ["shocks[0].factor"]),
])
def test_the_full_city_bench_sweeps_any_scenario(tmp_path, scenario, fields):
    from twin.sweep.store import read_manifest
    bench = _bench()
    folder = bench.plan(tmp_path, "full", 4, 90, "plain", ROOT / "scenarios" / scenario)
    manifest = read_manifest(folder)
    assert [p["field"] for p in manifest["parameters"]] == fields
    assert manifest["days"] == 90


def test_a_scenario_with_nothing_to_vary_is_named(tmp_path):
    with pytest.raises(SystemExit, match="baseline.toml has none of epidemic.work_beta"):
        _bench().plan(tmp_path, "full", 4, 90, "plain", ROOT / "scenarios" / "baseline.toml")


def test_a_scenario_needs_the_full_city_and_an_existing_file(capsys):
    bench = _bench()
    with pytest.raises(SystemExit) as err:
        bench.main(["--scenario", "scenarios/baseline.toml"])
    assert err.value.code == 2 and "--scenario needs --city full" in capsys.readouterr().err
    with pytest.raises(SystemExit) as err:
        bench.main(["--city", "full", "--scenario", "no_such.toml"])
    assert err.value.code == 2 and "no such file: no_such.toml" in capsys.readouterr().err
