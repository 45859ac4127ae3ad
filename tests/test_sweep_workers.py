"""The environment of sweep workers: glibc's malloc must keep its dynamic thresholds (issue 17).

Dask's nanny starts workers with ``MALLOC_TRIM_THRESHOLD_=65536``, which doubles the time of
full-city runs. Local clusters started by ``twin sweep run`` must spawn their workers without it,
and a sweep on workers that have it (a cluster started elsewhere) must say so. Not timed: the
speed is measured by ``bench/sweep.py --city full``.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from twin.sweep import plan_sweep, run_sweep
from twin.sweep.runner import open_client
from twin.sweep.workerenv import malloc_settings

linux_only = pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="reads /proc/<pid>/environ")

SWEEP = f"""
name = "workers_test"
base = "{(ROOT / 'scenarios' / 'sweeps' / 'town.toml').as_posix()}"
days = 4
root_seed = 3
replicates = 1

[sampler]
method = "latin"
samples = 2

[[uncertainties]]
field = "shocks[0].factor"
range = [0.2, 0.9]
"""


def plan(tmp: Path) -> Path:
    (tmp / "sweep.toml").write_text(SWEEP)
    return plan_sweep(tmp / "sweep.toml", tmp / "sweep").folder


def _worker_config() -> tuple:
    import dask
    return dask.config.get("distributed.worker.profile.enabled"), dask.config.get("distributed.admin.tick.interval")


def _start_environment() -> dict[str, str]:
    """The environment this (worker) process was started with, as the kernel recorded it."""
    raw = Path("/proc/self/environ").read_bytes()
    return dict(item.decode().partition("=")[::2] for item in raw.split(b"\0") if item)


@linux_only
def test_local_cluster_workers_start_without_dasks_trim_threshold(tmp_path: Path, capsys):
    import dask
    import distributed  # noqa: F401  (Dask's defaults for distributed are loaded on import)
    before = dask.config.get("distributed.nanny.pre-spawn-environ")
    with open_client(workers=2) as client:
        started = client.run(_start_environment)
        settings = client.run(malloc_settings)
        config = client.run(_worker_config)
        rep = run_sweep(plan(tmp_path), client=client, progress="none")
    assert len(started) == 2 and set(config.values()) == {(False, "1s")}   # less background work too
    for env in started.values():
        assert "MALLOC_TRIM_THRESHOLD_" not in env
        assert env.get("OMP_NUM_THREADS") == "1"            # Dask's other worker variables are kept
    assert settings and all(s == {} for s in settings.values())
    assert rep.exit_code == 0 and rep.warnings == ()
    assert "warning" not in capsys.readouterr().err
    # the setting is scoped to the cluster's start: Dask's configuration and this process are untouched
    assert dask.config.get("distributed.nanny.pre-spawn-environ") == before
    assert _worker_config() == (True, "20ms")
    assert "MALLOC_TRIM_THRESHOLD_" not in os.environ


@linux_only
def test_a_sweep_on_workers_with_the_trim_threshold_names_them(tmp_path: Path, capsys):
    from distributed import Client, LocalCluster
    saved = os.environ.get("MALLOC_TRIM_THRESHOLD_")
    try:  # a cluster started with Dask's defaults, as `dask worker` (with its nanny) starts them
        with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0",
                          silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
            assert list(client.run(malloc_settings).values()) == [{"MALLOC_TRIM_THRESHOLD_": "65536"}]
            rep = run_sweep(plan(tmp_path), client=client, progress="none")
    finally:  # the nanny also sets its pre-spawn variables in this process
        os.environ.pop("MALLOC_TRIM_THRESHOLD_", None)
        if saved is not None:
            os.environ["MALLOC_TRIM_THRESHOLD_"] = saved
    assert rep.exit_code == 0                               # slow, not wrong: the sweep runs
    err = capsys.readouterr().err
    assert err.count("warning: 1 of 1 Dask workers run with MALLOC_TRIM_THRESHOLD_=65536") == 1
    assert "pre-spawn-environ.MALLOC_TRIM_THRESHOLD_: null" in err and "docs/sweeps.md" in err
    assert len(rep.warnings) == 1 and rep.warnings[0] in err


@linux_only
def test_malloc_settings_are_those_the_process_started_with():
    code = ("import json, os; from twin.sweep.workerenv import malloc_settings; "
            "os.environ['MALLOC_TOP_PAD_'] = '1'; print(json.dumps(malloc_settings()))")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"}

    def settings(**extra: str) -> dict:
        out = subprocess.run([sys.executable, "-c", code], env={**env, **extra}, capture_output=True, text=True,
                             check=True, cwd=ROOT)
        return json.loads(out.stdout)

    assert settings() == {}                                  # set after start: glibc never saw it
    assert settings(MALLOC_TRIM_THRESHOLD_="65536", MALLOC_MMAP_MAX_="8") == {
        "MALLOC_TRIM_THRESHOLD_": "65536", "MALLOC_MMAP_MAX_": "8"}
    assert settings(GLIBC_TUNABLES="glibc.malloc.check=0:glibc.malloc.trim_threshold=131072") == {
        "glibc.malloc.trim_threshold": "131072"}


def test_a_chunk_leaves_no_simulation_behind_for_the_cyclic_gc(tmp_path: Path):
    """A run's SimPy environment, processes and world form reference cycles holding its arrays; a worker
    must not keep them until the cyclic GC gets round to it (its memory grew by a run's worth each run)."""
    import gc

    from twin.sweep.design import run_payloads
    from twin.sweep.results import load_design
    from twin.sweep.store import read_manifest
    from twin.sweep.task import run_chunk
    from twin.world import World
    folder = plan(tmp_path)
    manifest = read_manifest(folder)
    payloads = run_payloads(load_design(folder), {p["column"]: p["field"] for p in manifest["parameters"]})
    base = json.loads((folder / "base_scenario.json").read_text())
    gc.collect()
    gc.disable()  # only what run_chunk itself frees counts
    try:
        out = run_chunk(base, payloads, {"days": 4, "timeseries": True, "meta": {}})
        alive = [o for o in gc.get_objects() if isinstance(o, World)]
    finally:
        gc.enable()
    assert out.scalars.num_rows == 2 and out.failures.num_rows == 0
    assert alive == []
