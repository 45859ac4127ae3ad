"""Bad input: one clear line naming file and field, exit status 2, no traceback, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SCENARIOS, run_cli

TINY = (SCENARIOS / "tiny" / "one_of_each.toml").read_text()

CASES = {
    "unknown_field": ("[city]\npopulaton = 5\n", "city.populaton", "unknown field (allowed: population"),
    "negative_population": ("[city]\npopulation = -5\n", "city.population", "greater than 0"),
    "end_before_start": ('[[shocks]]\nkind = "supply_cut"\nstart_day = 9\nend_day = 3\n',
                         "shocks[0].end_day", "must be greater than start_day"),
    "missing_link_node": (TINY.replace('dst = "hub"', 'dst = "hubb"'), "network.links[0].dst",
                          "no node named 'hubb'"),
    "end_and_duration": ('[[shocks]]\nkind = "supply_cut"\nstart_day = 3\nend_day = 9\nduration_days = 6\n',
                         "shocks[0].duration_days", "give end_day (9) or duration_days (6), not both"),
    "no_end": ('[[shocks]]\nkind = "supply_cut"\nstart_day = 3\n', "shocks[0].end_day",
               "give end_day or duration_days"),
    "zero_duration": ('[[shocks]]\nkind = "supply_cut"\nstart_day = 3\nduration_days = 0\n',
                      "shocks[0].duration_days", "greater than 0"),
    "lockdown_end_and_duration": ('[[lockdowns]]\nlevel = "static"\nstart_day = 3\nend_day = 9\nduration_days = 6\n',
                                  "lockdowns[0].duration_days", "not both"),
    "malformed_toml": ("[city\npopulation = 5\n", "", "malformed TOML"),
    "wrong_type": ('[run]\ndays = "many"\n', "run.days", "valid integer"),
    "unknown_shock_node": (TINY + '\n[[shocks]]\nkind = "closure"\nnodes = ["nowhere"]\nstart_day = 1\nend_day = 2\n',
                           "shocks[0].nodes", "no node named 'nowhere'"),
    "unknown_shock_kind": ('[[shocks]]\nkind = "meteor"\nstart_day = 1\nend_day = 2\n', "shocks[0].kind",
                           "'closure'"),
    "cycle": (TINY + '\n[[network.links]]\nsrc = "sorter"\ndst = "hub"\n', "network.links", "cycle"),
    "share_out_of_range": ("[city]\nelderly_share = 1.5\n", "city.elderly_share", "less than or equal to 1"),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("command", ["run", "validate"])
def test_bad_scenario_exits_2_with_one_line(tmp_path: Path, case: str, command: str):
    text, field, fragment = CASES[case]
    path = tmp_path / f"{case}.toml"
    path.write_text(text)
    out = tmp_path / "out"
    args = [command, str(path)] + (["--out", str(out)] if command == "run" else [])
    proc = run_cli(*args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert str(path) in lines[0] and field in lines[0] and fragment in lines[0], lines[0]
    assert not out.exists()
    assert not (tmp_path / "results").exists()
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_missing_file(tmp_path: Path):
    proc = run_cli("validate", str(tmp_path / "nope.toml"))
    assert proc.returncode == 2
    assert "nope.toml: file not found" in proc.stderr


def test_bad_override_names_field(tmp_path: Path):
    proc = run_cli("run", str(SCENARIOS / "tiny" / "one_of_each.toml"), "--set", "households.online_share=2",
                   "--out", str(tmp_path / "o"))
    assert proc.returncode == 2
    assert "households.online_share" in proc.stderr and "less than or equal to 1" in proc.stderr
    assert not (tmp_path / "o").exists()


def _shipped_scenarios() -> list[Path]:
    """The scenario files of the repository (git-tracked), not files a user added, such as the
    README's bad-input example ``scenarios/x.toml``; every file when git is not there."""
    import subprocess
    try:
        out = subprocess.run(["git", "ls-files", "scenarios"], cwd=SCENARIOS.parent, capture_output=True, text=True,
                             check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        out = []
    files = [SCENARIOS.parent / f for f in out if f.endswith(".toml")] or list(SCENARIOS.rglob("*.toml"))
    return sorted(p for p in files if "sweeps" not in p.parts and "calibration" not in p.parts)


def test_good_scenarios_validate():
    paths = _shipped_scenarios()
    proc = run_cli("validate", *map(str, paths))                    # one call checks every file
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == len(paths) and all(f"{p}: valid" in line for p, line in zip(paths, lines))


def test_one_bad_file_among_good_ones_is_named_and_the_rest_still_checked(tmp_path: Path, tiny: Path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n[city]\npopulation = -5\n')
    proc = run_cli("validate", str(tiny), str(bad), str(tiny))
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [f"error: {bad}: city.population: Input should be greater than 0, got -5"]
    assert proc.stdout.count(f"{tiny}: valid") == 2
