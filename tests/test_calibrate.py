"""``twin calibrate``: identifiability on synthetic truth, resume, outputs, bad calibration files.

The truth: the small town (60,000 residents) with a supply cut and a demand surge on days 3-10;
targets made from one run with the cut at 0.45 of normal output and need at 1.25 x normal (seed
99, not a seed the calibration runs: the fit must see through run-to-run noise). Stated
tolerances: the cut within +-0.1 and the surge within +-0.05 of the truth (the ranges searched are
0.1-0.9 and 1.0-1.5).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import SCENARIOS
from twin.calibrate import calibrate, load_trials
from twin.calibrate.synthetic import write_synthetic_targets
from twin.cli import main

TRUTH = {"shocks[0].factor": 0.45, "shocks[1].factor": 1.25}

CONFIG = """\
name = "truth_{tag}"
base = "{base}"
days = 14
root_seed = 3
trials = {trials}
replicates = {replicates}
batch = 4
startup_trials = {startup}

[set]
shocks = [
    {{ name = "cut", kind = "supply_cut", start_day = 3, duration_days = 8, factor = 0.5 }},
    {{ name = "surge", kind = "demand_surge", start_day = 3, duration_days = 8, factor = 1.1 }},
]

[[fields]]
field = "shocks[0].factor"
name = "cut"
low = 0.1
high = 0.9

[[fields]]
field = "shocks[1].factor"
name = "surge"
low = 1.0
high = 1.5

[[targets]]
name = "sales"
file = "data/sales.csv"
by = ["date"]
value = "sales_t"
model = {{ table = "communities", column = "consumed_kg", scale = 0.001 }}

[[targets]]
name = "stock"
file = "data/stock.parquet"
by = ["t_day"]
value = "stock_t"
model = {{ table = "balance", column = "stock_kg", scale = 0.001 }}
"""


def write_config(folder: Path, tag: str = "a", trials: int = 30, replicates: int = 1, startup: int = 10) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{tag}.toml"
    path.write_text(CONFIG.format(tag=tag, base=SCENARIOS / "tiny" / "small_city.toml", trials=trials,
                                  replicates=replicates, startup=startup))
    return path


@pytest.fixture(scope="module")
def client():
    from twin.sweep.runner import open_client
    with open_client(workers=2) as c:
        yield c


@pytest.fixture(scope="module")
def truth_folder(tmp_path_factory) -> Path:
    """A folder with the calibration file's targets made from the truth (sales as CSV, stock as Parquet)."""
    folder = tmp_path_factory.mktemp("truth")
    path = write_config(folder)
    spec = read_calibration_spec(path)
    from twin.scenario import load_scenario
    base = load_scenario(SCENARIOS / "tiny" / "small_city.toml").model_dump(mode="json")
    spec_csv = spec.model_copy(update={"targets": [spec.targets[0], spec.targets[1].model_copy(update={"file": "data/stock.csv"})]})
    write_synthetic_targets(spec_csv, base, TRUTH, seed=99, folder=folder)
    stock = pd.read_csv(folder / "data" / "stock.csv")
    stock.to_parquet(folder / "data" / "stock.parquet")
    (folder / "data" / "stock.csv").unlink()
    return folder


def read_calibration_spec(path: Path):
    import tomllib
    from twin.calibrate.config import CalibrationSpec
    return CalibrationSpec.model_validate(tomllib.loads(path.read_text()))


def test_calibration_recovers_known_field_values(truth_folder: Path, client):
    path = write_config(truth_folder, "ident")
    rep = calibrate(path, truth_folder / "cal", client=client, progress=False)
    assert rep.exit_code == 0 and rep.complete == 30 and rep.failed == 0
    assert abs(rep.best_fields["shocks[0].factor"] - 0.45) <= 0.1, rep.best_fields
    assert abs(rep.best_fields["shocks[1].factor"] - 1.25) <= 0.05, rep.best_fields
    trials = load_trials(rep.folder)
    assert list(trials["trial"]) == list(range(30)) and (trials["state"] == "complete").all()
    best = trials.loc[trials["loss"].idxmin()]
    assert best["loss"] == pytest.approx(best["loss_sales"] + best["loss_stock"])     # weights 1
    # the truth scores better than every trial far from it (the loss sees the fields)
    far = trials[(trials["cut"] - 0.45).abs().gt(0.3) | (trials["surge"] - 1.25).abs().gt(0.15)]
    assert len(far) and far["loss"].min() > best["loss"]
    # best fields come back as a scenario and as JSON
    saved = json.loads((rep.folder / "best.json").read_text())
    assert saved["fields"] == rep.best_fields and saved["trial"] == rep.best_trial
    from twin.scenario import load_scenario
    sc = load_scenario(rep.folder / "best.toml")
    assert sc.shocks[0].factor == rep.best_fields["shocks[0].factor"] and sc.run.days == 14
    assert (rep.folder / "fit.png").stat().st_size > 10_000


def test_an_interrupted_calibration_resumes_without_redoing_trials(truth_folder: Path, client, monkeypatch):
    import twin.calibrate.run as run
    path = write_config(truth_folder, "resume", trials=8, replicates=1, startup=4)
    whole = calibrate(path, truth_folder / "whole", client=client, progress=False)
    real = run._run_batch
    batches = []

    def stop_in_second_batch(client, base, study, loaded, out, batch):  # Ctrl-C while its runs are out
        batches.append([t.number for t, _ in batch])
        if len(batches) == 2:
            raise KeyboardInterrupt
        return real(client, base, study, loaded, out, batch)

    monkeypatch.setattr(run, "_run_batch", stop_in_second_batch)
    with pytest.raises(KeyboardInterrupt):
        calibrate(path, truth_folder / "parts", client=client, progress=False)
    assert batches == [[0, 1, 2, 3], [4, 5, 6, 7]]     # trials 4-7 were proposed, never scored
    outputs = truth_folder / "parts" / "outputs"
    assert sorted(p.name for p in outputs.iterdir()) == [f"trial_{i:06d}.parquet" for i in range(4)]
    stamps = {p.name: p.stat().st_mtime_ns for p in outputs.iterdir()}
    batches.clear()
    monkeypatch.setattr(run, "_run_batch", lambda *a: batches.append([t.number for t, _ in a[-1]]) or real(*a))
    rep = calibrate(path, truth_folder / "parts", client=client, progress=False)
    assert rep.resumed and rep.ran == 4 and batches == [[4, 5, 6, 7]]     # trials 0-3 not run again
    assert {p: (outputs / p).stat().st_mtime_ns for p in stamps} == stamps
    # the trials proposed before the interruption keep their values: the same study as in one go
    pd.testing.assert_frame_equal(load_trials(whole.folder).drop(columns=["seconds", "finished"]),
                                  load_trials(rep.folder).drop(columns=["seconds", "finished"]))
    # a finished calibration run again does nothing; more trials go on from where it stopped
    again = calibrate(path, truth_folder / "parts", client=client, progress=False)
    assert again.ran == 0 and again.complete == 8
    more = calibrate(path, truth_folder / "parts", client=client, progress=False, trials=10)
    assert more.ran == 2 and more.complete == 10 and list(load_trials(more.folder)["trial"]) == list(range(10))


def test_cli_example_runs_and_writes_its_folder(tmp_path: Path, truth_folder: Path, capsys):
    path = write_config(truth_folder, "cli", trials=30, replicates=2, startup=4)
    code = main(["calibrate", str(path), "--out", str(tmp_path / "c"), "--workers", "1", "--trials", "2", "--quiet"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "ran 2 trials now; 2 scored, 0 failed" in out and "best trial" in out and "next: twin run" in out
    names = {p.name for p in (tmp_path / "c").iterdir()}
    assert {"manifest.json", "base_scenario.json", "calibration.toml", "targets.parquet", "study.journal",
            "outputs", "trials.parquet", "best.json", "best.toml", "fit.png"} <= names
    targets = pd.read_parquet(tmp_path / "c" / "targets.parquet")
    assert set(targets["target"]) == {"sales", "stock"} and targets["t_day"].between(0, 13).all()
    outputs = pd.read_parquet(tmp_path / "c" / "outputs" / "trial_000000.parquet")
    assert sorted(outputs["replicate"].unique()) == [0, 1] and len(outputs) == 2 * 2 * 14


# ---- bad calibration files: one line naming file and field, exit 2, nothing written ----------------------

def _edit(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


BAD = [  # (id, edit of the good file, fragments of the error line after the file)
    ("unknown_key", lambda s: s + "\ncolour = 1\n", ["colour", "unknown field"]),
    ("no_trials", lambda s: _edit(s, "trials = 30\n", ""), ["trials", "required"]),
    ("zero_replicates", lambda s: _edit(s, "replicates = 1", "replicates = 0"), ["replicates", "greater than or equal to 1"]),
    ("high_below_low", lambda s: _edit(s, "high = 0.9", "high = 0.05"), ["fields[0].high", "greater than low (0.1)"]),
    ("log_from_zero", lambda s: _edit(s, "low = 0.1\n", "low = 0.0\nlog = true\n"), ["fields[0].low", "above 0"]),
    ("no_such_field", lambda s: _edit(s, 'field = "shocks[0].factor"', 'field = "shocks[0].depth"'),
     ["fields[0].field", "no field 'depth'"]),
    ("field_not_a_number", lambda s: _edit(s, 'field = "shocks[0].factor"', 'field = "shocks[0].kind"'),
     ["fields[0].field", "only numbers"]),
    ("range_not_allowed", lambda s: _edit(_edit(s, 'field = "shocks[0].factor"', 'field = "city.population"'),
                                          "low = 0.1\nhigh = 0.9", "low = 10000\nhigh = 200000000"),
     ["fields[0].high", "city.population = 2e+08", "less than or equal to"]),
    ("fraction_of_whole", lambda s: _edit(_edit(s, 'field = "shocks[0].factor"', 'field = "city.n_districts"'),
                                          "low = 0.1\nhigh = 0.9", "low = 1.5\nhigh = 4"),
     ["fields[0].low", "whole numbers"]),
    ("same_field_twice", lambda s: _edit(s, 'field = "shocks[1].factor"', 'field = "shocks[0].factor"'),
     ["fields[1].field", "also fields[0]"]),
    ("no_base", lambda s: _edit(s, 'base = "', 'base = "/nowhere/'), ["base", "no scenario file"]),
    ("bad_set", lambda s: _edit(s, "[set]\n", '[set]\n"city.population" = -5\n'), ["city.population", "greater than"]),
    ("target_missing", lambda s: _edit(s, "data/sales.csv", "data/nope.csv"), ["targets[0].file", "file not found"]),
    ("target_not_csv", lambda s: _edit(s, "data/sales.csv", "cal.toml"), ["targets[0].file", ".csv or .parquet"]),
    ("value_column", lambda s: _edit(s, 'value = "sales_t"', 'value = "sold"'), ["targets[0].value", "no column 'sold'"]),
    ("by_column", lambda s: _edit(s, 'by = ["t_day"]', 'by = ["day"]'), ["targets[1].by", "no column 'day'"]),
    ("model_column", lambda s: _edit(s, 'column = "consumed_kg"', 'column = "eaten_kg"'),
     ["targets[0].model.column", "no column 'eaten_kg'", "communities"]),
    ("model_table", lambda s: _edit(s, 'table = "balance"', 'table = "ledger"'), ["targets[1].model.table", "balance"]),
    ("where_value", lambda s: _edit(s, 'column = "stock_kg"', 'column = "stock_kg", where = { category = "caviar" }'),
     ["targets[1].model.where.category", "'caviar'", "rice"]),
    ("text_column", lambda s: _edit(s, 'column = "stock_kg"', 'column = "category"'),
     ["targets[1].model", "must hold numbers"]),
    ("label_unknown", lambda s: _edit(s, 'by = ["t_day"]', 'by = ["t_day", "category"]'),
     ["targets[1].by", "no column 'category' in stock.parquet"]),
    ("days_after_run", lambda s: _edit(s, 'column = "stock_kg"', 'column = "stock_kg", days = [2, 40]'),
     ["targets[1].model.days", "after the run's last day (13)"]),
    ("per_with_mean", lambda s: _edit(s, 'column = "consumed_kg"', 'column = "consumed_kg", per = "need_kg", agg = "mean"'),
     ["targets[0].model.per", "agg = \"sum\""]),
    ("weights_all_zero", lambda s: _edit(_edit(s, 'value = "sales_t"', 'value = "sales_t"\nweight = 0'),
                                         'value = "stock_t"', 'value = "stock_t"\nweight = 0'), ["targets", "every weight is 0"]),
]
BAD_CSV = [  # (id, sales.csv text, fragments)
    ("bad_number", "date,sales_t\n2022-03-19,12\n2022-03-20,lots\n", ["targets[0].file", "row 3", "'sales_t'", "'lots'"]),
    ("bad_date", "date,sales_t\n2022-03-19,12\n2022-02-30,13\n", ["targets[0].file", "row 3", "YYYY-MM-DD"]),
    ("date_after_run", "date,sales_t\n2022-03-19,12\n2022-05-01,13\n", ["targets[0].file", "row 3", "2022-04-01"]),
    ("date_twice", "date,sales_t\n2022-03-19,12\n2022-03-19,13\n", ["targets[0].file", "row 3", "do not repeat"]),
    ("nan", "date,sales_t\n2022-03-19,nan\n", ["targets[0].file", "row 2", "finite"]),
    ("all_zero", "date,sales_t\n2022-03-19,0\n2022-03-20,0\n", ["targets[0].normalise", "mean is 0"]),
    ("empty", "date,sales_t\n", ["targets[0].file", "no rows"]),
]


PER_CATEGORY = ('by = ["date"]\nvalue = "sales_t"\nmodel = {{ table = "communities", column = "consumed_kg", scale = 0.001 }}',
                'by = ["category"]\nvalue = "sales_t"\nmodel = { table = "prices", column = "price_index", agg = "mean" }')


def _bad_cases():
    for name, edit, frags in BAD:
        yield pytest.param(edit, None, frags, id=name)
    yield pytest.param(lambda s: _edit(s, *(x.replace("{{", "{").replace("}}", "}") for x in PER_CATEGORY[:1]),
                                       PER_CATEGORY[1]),
                       "category,sales_t\nrice,1.1\ncaviar,1.2\n",
                       ["targets[0].file", "sales.csv: category 'caviar' is not in the model's prices table", "rice"],
                       id="unknown_category")
    for name, csv, frags in BAD_CSV:
        yield pytest.param(None, csv, frags, id=name)


@pytest.mark.parametrize("edit, csv, fragments", list(_bad_cases()))
def test_a_bad_calibration_is_one_line_exit_2_nothing_written(tmp_path: Path, monkeypatch, capsys, edit, csv,
                                                               fragments):
    from tests.test_bad_inputs import snapshot
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    pd.DataFrame({"date": pd.date_range("2022-03-19", periods=14).strftime("%Y-%m-%d"),
                  "sales_t": 120.0}).to_csv(tmp_path / "data" / "sales.csv", index=False)
    pd.DataFrame({"t_day": range(14), "stock_t": 2000.0}).to_parquet(tmp_path / "data" / "stock.parquet")
    text = CONFIG.format(tag="bad", base=SCENARIOS / "tiny" / "small_city.toml", trials=30, replicates=1, startup=5)
    if edit is not None:
        text = edit(text)
    if csv is not None:
        (tmp_path / "data" / "sales.csv").write_text(csv)
    (tmp_path / "cal.toml").write_text(text)
    before = snapshot(tmp_path)
    capsys.readouterr()
    code = main(["calibrate", "cal.toml", "--out", "out", "--quiet"])
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("error: cal.toml: "), err
    for frag in fragments:
        assert frag in lines[0], (frag, lines[0])
    assert snapshot(tmp_path) == before


def test_the_folder_of_another_calibration_or_of_anything_else_is_refused(truth_folder: Path, tmp_path: Path,
                                                                          capsys):
    from tests.test_bad_inputs import snapshot
    path = write_config(truth_folder, "refuse", trials=40)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("mine")
    other = tmp_path / "other"
    other.mkdir()
    (other / "manifest.json").write_text(json.dumps({"kind": "twin-calibration", "calibration_id": "0123"}))
    (other / "study.journal").write_text("")
    for out, frag in ((tmp_path / "mine", "not a calibration folder"), (other, "holds another calibration"),
                      (tmp_path / "mine" / "notes.txt", "not a folder")):
        before = snapshot(tmp_path)
        capsys.readouterr()
        assert main(["calibrate", str(path), "--out", str(out), "--quiet"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and str(out) in err[0] and frag in err[0], err
        assert snapshot(tmp_path) == before


# ---- the pure pieces: model outputs by hand, the loss's invariants --------------------------------------

def test_model_outputs_filter_group_and_aggregate_as_stated():
    import pyarrow as pa
    from twin.calibrate.config import Target
    from twin.calibrate.outputs import model_output
    tab = pa.table({"t_day": [0, 0, 0, 1, 1, 1], "role": ["couriers", "couriers", "staff"] * 2,
                    "active": [10.0, 20.0, 5.0, 8.0, 12.0, 7.0], "headcount": [20.0, 20.0, 5.0, 20.0, 20.0, 5.0]})

    def out(by, **model):
        t = Target(name="t", file="t.csv", by=by, model={"table": "workforce", **model})
        return model_output({"workforce": tab}, t)

    assert out(["t_day"], column="active", where={"role": "couriers"})["value"].tolist() == [30.0, 20.0]
    assert out(["t_day"], column="active", per="headcount")["value"].tolist() == [35 / 45, 27 / 45]
    assert out(["role"], column="active", agg="max")["value"].tolist() == [20.0, 7.0]
    assert out([], column="active", agg="mean", weight="headcount", days=(1, 1))["value"].tolist() == \
        [pytest.approx((8 * 20 + 12 * 20 + 7 * 5) / 45)]
    assert out(["date"], column="active", agg="min", scale=2.0)["value"].tolist() == [10.0, 14.0]


from hypothesis import given, strategies as st  # noqa: E402

_values = st.lists(st.floats(0.1, 1e4, allow_nan=False), min_size=1, max_size=30)


@given(obs=_values, noise=st.lists(st.floats(-0.5, 0.5), min_size=30, max_size=30), k=st.floats(0.01, 100.0),
       metric=st.sampled_from(["rmse", "mae"]), norm=st.sampled_from(["mean", "range", "sd", "none"]))
def test_the_error_is_zero_only_for_a_perfect_fit_and_normalised_errors_ignore_units(obs, noise, k, metric, norm):
    import numpy as np
    from twin.calibrate.loss import target_error
    from twin.calibrate.config import normaliser
    o = np.array(obs)
    if not normaliser(o, norm) > 0:
        return
    m = o * (1 + np.array(noise[:len(o)]))
    assert target_error(o, o, metric, norm) == 0.0
    e = target_error(o, m, metric, norm)
    assert e >= 0 and (e > 0) == bool(np.any(m != o))
    if norm != "none":   # tonnes or kilograms: the same error
        assert target_error(k * o, k * m, metric, norm) == pytest.approx(e, rel=1e-9, abs=1e-12)
    assert target_error(o, m, "mae", norm) <= target_error(o, m, "rmse", norm) + 1e-12   # mean |d| <= rms d
