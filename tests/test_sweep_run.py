"""Running sweeps: local clusters, a real Dask scheduler with worker processes, determinism,
resume after an interruption, a killed worker, failed runs, read-back in pandas and DuckDB.

Small sweeps of the one-district town (a few dozen runs of 15 days) keep this quick.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import ROOT
from twin.cli import main as twin_main
from twin.sweep import (duckdb_connect, load_failures, load_sweep, load_timeseries, plan_sweep, run_one,
                        run_sweep, sweep_status)

TOWN = (ROOT / "scenarios" / "sweeps" / "town.toml").as_posix()
BIN = Path(sys.executable).parent

SWEEP = f"""
name = "run_test"
base = "{TOWN}"
days = {{days}}
root_seed = 11
replicates = {{replicates}}

[sampler]
method = "latin"
samples = 6

[[uncertainties]]
field = "shocks[0].factor"
name = "inbound_share"
range = [0.2, 0.9]

[[uncertainties]]
field = "shocks[2].factor"
name = "courier_share"
range = [0.3, 1.0]

[[levers]]
field = "households.online_share"
name = "online_share"
values = {{online}}
"""


def plan(tmp: Path, name: str, days: int = 15, replicates: int = 3, online: str = "[0.2, 0.5]") -> Path:
    """Plan the test sweep into ``tmp/name`` and return the folder."""
    sweep = tmp / f"{name}.toml"
    sweep.write_text(SWEEP.format(days=days, replicates=replicates, online=online))
    return plan_sweep(sweep, tmp / name).folder


def frames(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Scalars joined to the design, and the time series: what must not depend on how a sweep ran."""
    return load_sweep(folder), load_timeseries(folder)


def assert_same_results(a: Path, b: Path) -> None:
    (sa, ta), (sb, tb) = frames(a), frames(b)
    assert sa["run_id"].is_unique and len(sa) == len(sb)
    pd.testing.assert_frame_equal(sa, sb)
    pd.testing.assert_frame_equal(ta, tb)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """The test sweep (6 points x 2 levers x 3 replicates = 36 runs) run on one local worker, 5 runs a chunk."""
    folder = plan(tmp_path_factory.mktemp("ref"), "ref")
    rep = run_sweep(folder, workers=1, chunk_size=5, progress="none")
    assert rep.exit_code == 0 and rep.status.done == 36
    return folder


def test_results_do_not_depend_on_workers_or_chunk_size(reference: Path, tmp_path: Path):
    folder = plan(tmp_path, "two")
    rep = run_sweep(folder, workers=2, chunk_size=4, progress="none")
    assert (rep.status.done, rep.status.failed, rep.status.pending, rep.chunks) == (36, 0, 0, 9)
    assert_same_results(reference, folder)
    assert len(list((folder / "chunks").iterdir())) == 9
    assert not any(p.name.startswith(".") for p in (folder / "chunks").iterdir())


def test_read_back_in_pandas_and_duckdb(reference: Path):
    df = load_sweep(reference)
    assert len(df) == 36 and list(df["run_id"]) == list(range(36))
    assert {"inbound_share", "courier_share", "online_share", "market_service_level", "shortfall_person_days"} <= set(df)
    assert df["market_service_level"].nunique() > 1                  # the parameters matter
    ts = load_timeseries(reference)
    assert len(ts) == 36 * 15 and ts.groupby("run_id")["t_day"].apply(list).map(lambda d: d == list(range(15))).all()
    assert {"market_service_level", "fill_of_need", "need_kg", "consumed_kg", "stock_kg", "closed_nodes", "date"} <= set(ts)
    con = duckdb_connect(reference)
    db = con.sql("SELECT * FROM runs ORDER BY run_id").df()
    assert list(db["run_id"]) == list(df["run_id"])
    assert np.allclose(db["shortfall_person_days"], df["shortfall_person_days"])
    assert con.sql("SELECT count(*) FROM timeseries").fetchall() == [(len(ts),)]


def test_one_run_can_be_redone_alone(reference: Path):
    row = load_sweep(reference).iloc[13]
    redo = run_one(reference, 13)["summary"].iloc[0]
    assert redo["shortfall_person_days"] == row["shortfall_person_days"]
    assert redo["market_service_level"] == row["market_service_level"]


def test_levers_of_a_point_see_the_same_random_draws(reference: Path):
    """Lever with no effect on the model's draws: same point, same replicate -> same demand noise."""
    ts = load_timeseries(reference)
    need = ts.pivot_table(index=["point_id", "replicate", "t_day"], columns="online_share", values="need_kg")
    assert np.allclose(need.iloc[:, 0], need.iloc[:, 1])             # need depends on the seed alone
    by_rep = ts[ts["point_id"] == 0].pivot_table(index="t_day", columns="replicate", values="need_kg")
    assert not np.allclose(by_rep[0], by_rep[1])                      # replicates draw differently


def test_analyze_writes_indices_and_a_plot(reference: Path, capsys):
    # market service level, not shortfall: with surge capacity and the short chain the town eats its fill
    # through these 15 days whatever the shocks, but serves less of what it asks for
    assert twin_main(["sweep", "analyze", str(reference), "--outcome", "market_service_level"]) == 0
    out = capsys.readouterr().out
    assert "rbd_fast" in out and "inbound_share" in out
    t = pd.read_parquet(reference / "analysis" / "market_service_level.parquet")
    assert set(t["index"]) == {"S1"} and set(t["lever_id"]) == {0, 1} and t["value"].notna().all()
    assert (reference / "analysis" / "market_service_level.png").stat().st_size > 1000
    assert twin_main(["sweep", "analyze", str(reference), "--outcome", "no_such_outcome"]) == 2


def test_failed_runs_are_recorded_and_the_others_complete(tmp_path: Path, capsys):
    folder = plan(tmp_path, "bad", replicates=1, online="[0.3, 1.5]")   # online_share 1.5 is invalid
    capsys.readouterr()
    assert twin_main(["sweep", "run", str(folder), "--workers", "1", "--chunk-size", "4", "--progress", "lines"]) == 3
    out = capsys.readouterr().out
    assert "6 done, 6 failed, 0 pending" in out
    f = load_failures(folder)
    assert len(f) == 6 and (f["lever_id"] == 1).all() and set(f["error_type"]) == {"ScenarioError"}
    assert f["message"].str.contains("households.online_share").all() and f["traceback"].str.contains("Traceback").all()
    assert len(load_sweep(folder)) == 6 and (load_sweep(folder)["online_share"] == 0.3).all()
    assert twin_main(["sweep", "status", str(folder)]) == 0
    assert "ScenarioError" in capsys.readouterr().out
    # running again redoes the chunks with failures, and only those, without duplicating rows
    rep = run_sweep(folder, workers=1, progress="none")
    assert rep.exit_code == 3 and rep.runs == 12 and rep.status.done == 6 and rep.status.failed == 6
    assert load_sweep(folder)["run_id"].is_unique and len(load_failures(folder)) == 6


def _cli(folder: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "twin.cli", "sweep", "run", str(folder), *args],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def _wait_for_chunks(folder: Path, n: int, proc: subprocess.Popen, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and proc.poll() is None:
        chunks = folder / "chunks"
        if chunks.is_dir() and sum(1 for p in chunks.iterdir() if not p.name.startswith(".")) >= n:
            return
        time.sleep(0.01)
    raise AssertionError(f"no {n} chunks before the process ended: {proc.communicate()}")


def test_interrupted_sweeps_resume_to_exactly_the_uninterrupted_rows(reference: Path, tmp_path: Path):
    folder = plan(tmp_path, "resume")
    # Ctrl-C: exit 130, the chunks finished so far are kept
    proc = _cli(folder, "--workers", "2", "--chunk-size", "1", "--progress", "lines")
    _wait_for_chunks(folder, 3, proc)
    os.kill(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    first = sweep_status(folder)
    assert first.done >= 3 and first.pending > 0
    # killed outright, client and workers (the process group), mid-way
    proc = _cli(folder, "--workers", "2", "--chunk-size", "1", "--progress", "lines")
    _wait_for_chunks(folder, first.chunks + 2, proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    second = sweep_status(folder)
    assert second.done > first.done and second.pending > 0
    # resume: only the missing runs, to exactly the rows of the uninterrupted sweep
    proc = _cli(folder, "--workers", "2", "--chunk-size", "4")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert f"ran {second.pending} runs" in out and "36 done, 0 failed, 0 pending" in out
    assert_same_results(reference, folder)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DaskCluster:
    """A ``dask scheduler`` and ``dask worker`` processes on 127.0.0.1, started from the venv's commands."""

    def __init__(self, n_workers: int):
        port = _free_port()
        self.address = f"tcp://127.0.0.1:{port}"
        self.scheduler = self._start([str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                      "--no-dashboard"])
        self.workers = [self._start([str(BIN / "dask"), "worker", self.address, "--nthreads", "1", "--no-nanny",
                                     "--no-dashboard", "--host", "127.0.0.1", "--name", f"w{i}"])
                        for i in range(n_workers)]
        from distributed import Client
        with Client(self.address, timeout="30s") as c:
            c.wait_for_workers(n_workers, timeout=60)

    @staticmethod
    def _start(cmd: list[str]) -> subprocess.Popen:
        return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def close(self) -> None:
        """Stop the processes started here: workers outright (a graceful stop can hang), then the scheduler."""
        for p in self.workers:
            if p.poll() is None:
                p.kill()
            p.wait()
        self.scheduler.terminate()
        try:
            self.scheduler.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.scheduler.kill()
            self.scheduler.wait()


@pytest.fixture
def dask_cluster():
    cluster = DaskCluster(2)
    try:
        yield cluster
    finally:
        cluster.close()


def test_a_real_scheduler_gives_the_local_results(reference: Path, tmp_path: Path, dask_cluster: DaskCluster):
    folder = plan(tmp_path, "remote")
    rep = run_sweep(folder, scheduler=dask_cluster.address, chunk_size=2, progress="none")
    assert rep.exit_code == 0 and rep.workers == 2
    assert_same_results(reference, folder)


def test_the_environment_names_the_scheduler(tmp_path: Path, dask_cluster: DaskCluster, monkeypatch, capsys):
    import dask
    folder = plan(tmp_path, "env", replicates=1, online="[0.3]")
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", dask_cluster.address)
    dask.config.refresh()
    try:
        assert twin_main(["sweep", "run", str(folder), "--progress", "none"]) == 0
    finally:
        monkeypatch.delenv("DASK_SCHEDULER_ADDRESS")
        dask.config.refresh()
    assert "on 2 workers" in capsys.readouterr().out
    assert sweep_status(folder).done == 6


def test_a_killed_worker_does_not_stop_the_sweep(reference: Path, tmp_path: Path, dask_cluster: DaskCluster):
    folder = plan(tmp_path, "kill")
    result: dict = {}
    thread = threading.Thread(target=lambda: result.update(rep=run_sweep(
        folder, scheduler=dask_cluster.address, chunk_size=2, progress="none")))
    thread.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and sweep_status(folder).chunks < 3:
        time.sleep(0.01)
    victim = dask_cluster.workers[1]
    victim.kill()
    victim.wait()
    at_kill = sweep_status(folder)
    thread.join(timeout=120)
    assert not thread.is_alive()
    assert at_kill.pending > 0                                         # the worker died mid-sweep
    status = result["rep"].status
    assert (status.done, status.failed, status.pending) == (36, 0, 0)
    assert_same_results(reference, folder)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_ctrl_c_that_a_finaliser_swallows_still_stops_the_loop():
    from twin.sweep.runner import sigint_noted

    class Finalised:  # Ctrl-C lands while a finaliser runs: Python prints "Exception ignored" and goes on
        def __del__(self):
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(100_000):
                pass

    Finalised()  # under Python's own handler the interrupt is lost: no KeyboardInterrupt here
    with sigint_noted() as ctrl_c:
        Finalised()
    assert ctrl_c.is_set()   # the sweep's and the calibration's loops check this after each chunk / batch
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with sigint_noted() as ctrl_c:
        with pytest.raises(KeyboardInterrupt):  # an interrupt anywhere else raises as before
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(100_000):
                pass
    assert ctrl_c.is_set()
