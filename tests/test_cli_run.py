"""End-to-end runs of the CLI and the Python API: files, manifest, dtypes, atomic writes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

import twin
from tests.conftest import SCENARIOS, run_cli

TABLES = {"balance", "nodes", "communities", "events", "summary", "workforce", "city", "prices", "requests", "residents", "orders"}


def test_run_writes_a_complete_run_folder(tmp_path: Path):
    out = tmp_path / "run"
    proc = run_cli("run", str(SCENARIOS / "tiny" / "small_city.toml"), "--out", str(out), "--days", "12",
                   "--seed", "7")
    assert proc.returncode == 0, proc.stderr
    assert "service level" in proc.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["tables"]) == TABLES
    assert manifest["seed"] == "7" and manifest["days"] == 12 and len(manifest["scenario_hash"]) == 64
    for name in TABLES:
        assert (out / f"{name}.parquet").exists()
    assert (out / "scenario.json").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["run"]          # no temporary folders left
    schema = pq.read_schema(out / "balance.parquet")
    assert schema.field("stock_kg").metadata[b"unit"] == b"kg"
    assert b"schema_version" in schema.metadata[b"twin"]


def test_load_results_gives_typed_frames(tmp_path: Path):
    twin.run(SCENARIOS / "tiny" / "small_city.toml", days=5, out=tmp_path / "r")
    res = twin.load_results(tmp_path / "r")
    assert set(res) == TABLES
    nodes = res["nodes"]
    assert isinstance(nodes["node_id"].dtype, pd.CategoricalDtype)
    assert isinstance(nodes["status"].dtype, pd.CategoricalDtype)
    assert nodes.attrs["units"]["stock_kg"] == "kg"
    assert res["communities"]["date"].iloc[0] == pd.Timestamp("2022-03-19")
    assert res["summary"].shape[0] == 1


def test_rerun_replaces_the_folder_whole(tmp_path: Path):
    out = tmp_path / "r"
    twin.run(SCENARIOS / "tiny" / "one_of_each.toml", days=3, out=out)
    twin.run(SCENARIOS / "tiny" / "one_of_each.toml", days=6, out=out)
    assert json.loads((out / "manifest.json").read_text())["days"] == 6
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


def test_interrupted_write_leaves_nothing_that_looks_whole(tmp_path: Path, monkeypatch):
    import pyarrow.parquet as pq_mod

    calls = {"n": 0}
    real = pq_mod.write_table

    def failing(table, where, **kw):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(table, where, **kw)

    monkeypatch.setattr(pq_mod, "write_table", failing)
    with pytest.raises(KeyboardInterrupt):
        twin.run(SCENARIOS / "tiny" / "one_of_each.toml", days=3, out=tmp_path / "r")
    assert list(tmp_path.iterdir()) == []


def test_override_changes_the_run():
    a = twin.run(SCENARIOS / "tiny" / "small_city.toml", days=3)
    b = twin.run(SCENARIOS / "tiny" / "small_city.toml", days=3, overrides={"city.population": 30_000})
    assert b["summary"]["population"].item() == 30_000 != a["summary"]["population"].item()


def test_supply_shock_closes_sorting_centres_and_hurts_service():
    res = twin.run(SCENARIOS / "supply_shock.toml", days=30)
    ev = res["events"]
    closures = ev[ev["event"] == "closure"]
    assert set(closures["target"]) == {"sorting_centre_001", "sorting_centre_002"}
    assert (closures["t_day"] == 14).all()
    assert set(ev.loc[ev["event"] == "reopening", "t_day"]) == {21}
    nodes = res["nodes"]
    shut = nodes[(nodes["node_id"] == "sorting_centre_001") & nodes["t_day"].between(14, 20)]
    assert (shut["status"] == "closed").all() and (shut["outflow_kg"] == 0).all()
    summary = res["summary"].iloc[0]
    assert summary["min_market_service_level"] < 0.9
    assert summary["peak_closed_nodes"] == 2
