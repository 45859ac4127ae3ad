"""``twin report`` end to end, the analysis API (``twin.load_results``), and the report in a browser.

Two real runs of the small city with its sorting centres closed: one with no response, one
releasing the reserves two days into the closure (a policy change); the second also gets
hand-made prices and safety-net requests, tables other engineers are adding to the model.
"""

from __future__ import annotations

import base64
import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import twin
from tests.conftest import ROOT, SCENARIOS, run_cli
from twin.metrics import (MetricSettings, cascade_depth, failed_nodes_by_tier, layer_failed_share, never_to_null,
                          resilience)

SECTIONS = ("runs", "headline", "service", "stock_by_tier", "cascade", "workforce", "prices", "channels",
            "fairness", "adaptability", "comparison", "events", "metrics")
CHROMIUM = Path("/usr/bin/chromium")
CLOSURE = {"name": "sorting_closure", "kind": "closure", "kinds": ["sorting_centre"], "start_day": 6, "end_day": 11}
RELEASE = {"name": "release", "kind": "reserve_release", "start_day": 8, "end_day": 20}


def _scenario(*shocks: dict) -> dict:
    sc = twin.load_scenario(SCENARIOS / "tiny" / "small_city.toml").model_dump(mode="json")
    return {**sc, "shocks": list(shocks)}


def _add_table(run_dir: Path, name: str, frame: pd.DataFrame) -> None:
    """Write ``frame`` as ``<name>.parquet`` and list it in the manifest, as ``twin run`` would."""
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), run_dir / f"{name}.parquet")
    manifest = json.loads((run_dir / "manifest.json").read_text())
    manifest["tables"][name] = {"file": f"{name}.parquet", "rows": len(frame)}
    (run_dir / "manifest.json").write_text(json.dumps(manifest))


def _prices_and_requests(run_dir: Path, days: int) -> None:
    rng = np.random.default_rng(0)
    cats, districts = ["rice", "vegetables", "meat"], ["district_01", "district_02"]
    idx = pd.MultiIndex.from_product([range(days), cats, districts], names=["t_day", "category", "district"])
    bump = np.repeat(np.where((np.arange(days) >= 6) & (np.arange(days) < 14), 1.5, 1.0), len(cats) * len(districts))
    prices = idx.to_frame(index=False).assign(baseline_price_per_kg=6.0, price_index=bump)
    prices["price_per_kg"] = prices["baseline_price_per_kg"] * prices["price_index"]
    _add_table(run_dir, "prices", prices)
    n = 40
    created = rng.uniform(0, 24 * days, n)
    outcome = np.array(["served"] * 30 + ["abandoned"] * 5 + ["pending"] * 3 + ["dropped"] * 2)
    served = np.where(outcome == "served", created + rng.uniform(1, 30, n), np.nan)
    _add_table(run_dir, "requests", pd.DataFrame({
        "request_id": np.arange(n), "community_id": [f"c01_000{i % 5 + 1}" for i in range(n)],
        "group": np.where(np.arange(n) % 2, "elderly_alone", "chronic_patient"), "created_h": created,
        "served_h": served, "outcome": outcome, "wait_h": np.where(np.isnan(served), 24.0, served - created)}))


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("runs")
    closure, release = root / "closure", root / "closure_release"
    twin.run(_scenario(CLOSURE), days=24, out=closure)
    twin.run(_scenario(CLOSURE, RELEASE), days=24, out=release)
    _prices_and_requests(release, 24)
    return {"closure": closure, "release": release}


@pytest.fixture(scope="module")
def two_run_report(runs, tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    out = tmp_path_factory.mktemp("report") / "compare.html"
    proc = run_cli("report", str(runs["release"]), str(runs["closure"]), "--baseline", str(runs["closure"]),
                   "--out", str(out))
    return proc, out


def test_two_run_report_has_every_section_and_a_png_per_figure(two_run_report):
    proc, out = two_run_report
    assert proc.returncode == 0, proc.stderr
    assert f"wrote {out}" in proc.stdout
    text = out.read_text()
    for anchor in SECTIONS:
        assert f'<section id="{anchor}">' in text, anchor
    pngs = sorted((out.parent / "compare_figures").glob("*.png"))
    names = {p.stem for p in pngs}
    assert names == {"service", "stock_by_tier", "cascade", "workforce", "prices", "channels", "fairness"}
    embedded = re.findall(r'src="data:image/png;base64,([^"]+)"', text)
    assert len(embedded) == len(pngs)
    for png in pngs:
        assert png.read_bytes().startswith(b"\x89PNG")
        assert base64.b64encode(png.read_bytes()).decode() in embedded
    assert not re.search(r'(src|href)="(https?:)?//', text)              # nothing loaded from the network
    assert "against the comparison run" in text                          # the release is a policy change
    assert "safety-net requests by group" in text and "Peak price index" in text


def test_progress_is_plain_when_not_a_tty(two_run_report):
    proc, _ = two_run_report
    assert "report: drawing figures: 7/7" in proc.stderr
    assert "\r" not in proc.stderr


def test_single_run_report_defaults_into_the_run_folder_and_notes_absent_tables(runs, tmp_path):
    run_dir = tmp_path / "closure"
    shutil.copytree(runs["closure"], run_dir)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    for name in ("workforce", "city", "prices"):                        # as written before those existed
        manifest["tables"].pop(name, None)
        (run_dir / f"{name}.parquet").unlink(missing_ok=True)
    (run_dir / "manifest.json").write_text(json.dumps(manifest))
    proc = run_cli("report", str(run_dir), "--no-progress")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    text = (run_dir / "report.html").read_text()
    assert "Not in these runs (no prices.parquet)" in text and "Not in these runs (no workforce.parquet)" in text
    assert '<section id="comparison">' not in text                      # one run: nothing to compare
    assert {p.stem for p in (run_dir / "report_figures").glob("*.png")} == {
        "service", "stock_by_tier", "cascade", "channels", "fairness"}
    assert sorted(p.name for p in run_dir.iterdir() if p.name.startswith(".")) == []   # no temporary files left


def test_progress_lines_without_a_tty_and_a_bar_on_one():
    import io

    from twin.report.progress import progress

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    plain, tty = io.StringIO(), Terminal()
    assert list(progress(["a", "b"], "work", stream=plain)) == ["a", "b"]
    assert plain.getvalue() == "work: 1/2\nwork: 2/2\n"
    assert list(progress(range(3), "work", stream=tty)) == [0, 1, 2]
    assert "\r" in tty.getvalue() and "work:" in tty.getvalue() and "/3" in tty.getvalue()   # a tqdm bar


def test_report_rejects_what_is_not_a_run_folder(tmp_path):
    proc = run_cli("report", str(tmp_path / "missing"))
    assert proc.returncode == 2 and proc.stderr.strip() == f"error: {tmp_path / 'missing'}: no such folder"
    (tmp_path / "sweep").mkdir()
    (tmp_path / "sweep" / "design.parquet").write_bytes(b"")
    proc = run_cli("report", str(tmp_path / "sweep"))
    assert proc.returncode == 2 and "a sweep folder" in proc.stderr


def test_summary_parquet_holds_the_metrics_the_report_computes(runs):
    res = twin.load_results(runs["closure"])
    written = res["summary"].iloc[0].to_dict()
    recomputed = never_to_null(resilience(res, 2.0, MetricSettings()))
    for key in ("shock_start_day", "time_to_failure_days", "recovery_days", "resilience_loss_person_days",
                "peak_cascade_depth", "gini_fill_of_need", "food_insecure_person_days"):
        assert written[key] == pytest.approx(recomputed[key], nan_ok=True), key
    assert written["shock_start_day"] == 6.0 and written["peak_failed_nodes_tier3"] == 2
    assert written["resilience_loss_person_days"] > 0


def test_cascade_metrics_agree_with_the_city_table(runs):
    res = twin.load_results(runs["closure"])
    if "city" not in res:
        pytest.skip("this model version writes no city.parquet")
    city = res["city"].set_index("t_day")
    failed = failed_nodes_by_tier(res["nodes"])
    for tier in failed.columns:
        assert (failed[tier] == city[f"failed_nodes_tier{tier}"]).all(), tier
    share = layer_failed_share(res["nodes"], res["communities"])
    depth = cascade_depth(res["city"])
    # a chain needs failures in at least two layers, and is no longer than the failed layers allow
    assert (depth <= (share > 0).sum(axis=1).clip(lower=1) - 1).all()
    assert depth.max() >= 1


def test_load_results_types_units_and_extra_tables(runs):
    res = twin.load_results(runs["release"])
    nodes, comm, req = res["nodes"], res["communities"], res["requests"]
    assert isinstance(nodes["node_id"].dtype, pd.CategoricalDtype)
    assert nodes["status"].dtype.ordered and list(nodes["status"].cat.categories) == [
        "open", "degraded", "starved", "closed"]
    assert comm["date"].dtype.kind == "M" and comm["t_day"].dtype.kind == "i"
    assert comm.attrs["units"]["need_kg"] == "kg" and comm.attrs["units"]["t_day"] == "day"
    assert "what residents need" in comm.attrs["descriptions"]["need_kg"]
    assert isinstance(req["group"].dtype, pd.CategoricalDtype) and req["outcome"].dtype.ordered
    assert res["prices"].attrs["units"]["price_per_kg"] == "CNY/kg"


def test_the_five_line_example_of_the_docs_runs(runs, capsys):
    doc = (ROOT / "docs" / "report.md").read_text()
    code = re.search(r"The five-line example:\n\n```python\n(.*?)```", doc, re.S).group(1)
    assert len(code.strip().splitlines()) == 5
    exec(code.replace('"results/shock"', repr(str(runs["closure"]))), {})
    out = capsys.readouterr().out
    assert "resilience_loss_person_days" in out and "district_01" in out


def test_load_results_of_a_sweep_folder_needs_twin_sweep(tmp_path, monkeypatch):
    (tmp_path / "design.parquet").write_bytes(b"")
    monkeypatch.setitem(sys.modules, "twin.sweep", None)             # as if twin.sweep were not installed
    with pytest.raises(ImportError, match="sweep folder"):
        twin.load_results(tmp_path)


def test_load_results_delegates_a_sweep_folder_to_twin_sweep(tmp_path, monkeypatch):
    sweep = pytest.importorskip("twin.sweep", reason="twin.sweep (parameter sweeps) is not in this tree yet")
    frame = pd.DataFrame({"run_id": [0, 1], "city.population": [1e5, 2e5], "service_level": [0.9, 0.8]})
    seen = []
    monkeypatch.setattr(sweep, "load_sweep", lambda path: seen.append(Path(path)) or frame)
    (tmp_path / "design.parquet").write_bytes(b"")
    assert twin.load_results(tmp_path) is frame and seen == [tmp_path]


def test_load_results_of_a_folder_without_manifest(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a run folder"):
        twin.load_results(tmp_path)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs headless Chromium at /usr/bin/chromium "
                                                  "(apt-get install -y chromium)")
def test_report_opens_in_headless_chromium(two_run_report, tmp_path):
    import matplotlib.image as mpimg
    _, out = two_run_report
    shot = tmp_path / "shot.png"
    proc = subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0",
         f"--screenshot={shot}", "--window-size=1200,2000", out.resolve().as_uri()],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    for sign in ("Uncaught", "ERR_FILE_NOT_FOUND", "Not allowed to load local resource", "Failed to load resource"):
        assert sign not in proc.stderr, sign
    pixels = mpimg.imread(shot)[..., :3]
    assert pixels.shape[:2] == (2000, 1200)
    ink = (pixels.min(axis=2) < 0.9).mean()                             # share of pixels that are not white
    assert ink > 0.05 and pixels.std() > 0.05, (ink, pixels.std())
    assert math.isfinite(float(pixels.mean()))


def test_the_comparison_run_named_in_the_scenario_is_used(tmp_path):
    import twin

    base = tmp_path / "no_switch_run"
    twin.run(ROOT / "scenarios" / "tiny" / "small_city.toml", days=6, out=base)
    switched = tmp_path / "switched"
    twin.run(ROOT / "scenarios" / "tiny" / "small_city.toml", days=6, out=switched,
             overrides={"run.compare_to": str(base),
                        "regimes": {"initial": "normal", "switch_delay_days": 0,
                                    "schedule": [{"day": 2, "to": "emergency"}]}})
    proc = run_cli("report", str(switched), "--no-progress")
    assert proc.returncode == 0, proc.stderr
    assert "no_switch_run" in (switched / "report.html").read_text()
