"""Sweep workers: they keep the memory they free, and those that do not are named (issue 17).

Each run makes glibc keep freed memory in its process (twin/allocator.py), whatever environment
Dask's nanny gave the worker; ``TWIN_KEEP_MEMORY=0`` opts out, and a sweep on such workers says
so. Local clusters started by ``twin sweep run`` keep Dask's ``MALLOC_TRIM_THRESHOLD_`` out of the
workers and of this process. Not timed: the speed is measured by ``bench/sweep.py --city full``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import platform
from pathlib import Path

import pytest

from tests.conftest import ROOT
from twin.allocator import keeps_freed_memory
from twin.sweep import plan_sweep, run_sweep
from twin.sweep.runner import open_client

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
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "sweep.toml").write_text(SWEEP)
    return plan_sweep(tmp / "sweep.toml", tmp / "sweep").folder


def _worker_config() -> tuple:
    import dask
    return dask.config.get("distributed.worker.profile.enabled"), dask.config.get("distributed.admin.tick.interval")


def _start_environment() -> dict[str, str]:
    """The environment this (worker) process was started with, as the kernel recorded it."""
    raw = Path("/proc/self/environ").read_bytes()
    return dict(item.decode().partition("=")[::2] for item in raw.split(b"\0") if item)


glibc = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="sets glibc's allocator")


@linux_only
@glibc
def test_local_cluster_workers_keep_freed_memory_and_start_without_dasks_trim_threshold(tmp_path: Path, capsys):
    import dask
    import distributed  # noqa: F401  (Dask's defaults for distributed are loaded on import)
    before = dask.config.get("distributed.nanny.pre-spawn-environ")
    with open_client(workers=2) as client:
        started = client.run(_start_environment)
        config = client.run(_worker_config)
        rep = run_sweep(plan(tmp_path), client=client, progress="none")
        kept = client.run(keeps_freed_memory)
    assert len(started) == 2 and set(config.values()) == {(False, "1s")}   # less background work too
    for env in started.values():
        assert "MALLOC_TRIM_THRESHOLD_" not in env
        assert env.get("OMP_NUM_THREADS") == "1"            # Dask's other worker variables are kept
    assert list(kept.values()) == [True, True]
    assert rep.exit_code == 0 and rep.warnings == ()
    assert "warning" not in capsys.readouterr().err
    # the setting is scoped to the cluster's start: Dask's configuration and this process are untouched
    assert dask.config.get("distributed.nanny.pre-spawn-environ") == before
    assert _worker_config() == (True, "20ms")
    assert "MALLOC_TRIM_THRESHOLD_" not in os.environ


@contextlib.contextmanager
def _dask_cluster(extra_env: dict[str, str]):
    """A cluster started with Dask's defaults (as ``dask worker`` starts them) plus ``extra_env``."""
    import dask
    from distributed import Client, LocalCluster
    saved = {k: os.environ.get(k) for k in ("MALLOC_TRIM_THRESHOLD_", *extra_env)}
    try:
        with dask.config.set({f"distributed.nanny.pre-spawn-environ.{k}": v for k, v in extra_env.items()}), \
                LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0",
                             silence_logs=logging.ERROR) as c, Client(c) as client:
            yield client
    finally:  # the nanny also sets its pre-spawn variables in this process
        for k, v in saved.items():
            os.environ.pop(k, None)
            if v is not None:
                os.environ[k] = v


@linux_only
@glibc
def test_workers_with_dasks_environment_keep_freed_memory_and_those_that_opt_out_are_named(tmp_path: Path, capsys):
    with _dask_cluster({}) as client:      # Dask's MALLOC_TRIM_THRESHOLD_=65536: overridden by the run
        assert client.run(_start_environment).popitem()[1]["MALLOC_TRIM_THRESHOLD_"] == "65536"
        rep = run_sweep(plan(tmp_path / "a"), client=client, progress="none")
        assert list(client.run(keeps_freed_memory).values()) == [True]
    assert rep.exit_code == 0 and rep.warnings == () and "warning" not in capsys.readouterr().err
    with _dask_cluster({"TWIN_KEEP_MEMORY": "0"}) as client:
        rep = run_sweep(plan(tmp_path / "b"), client=client, progress="none")
        assert list(client.run(keeps_freed_memory).values()) == [False]
    assert rep.exit_code == 0                               # slower, not wrong: the sweep runs
    err = capsys.readouterr().err
    assert err.count("warning: 1 of 1 Dask workers give the memory they free back to the system") == 1
    assert "TWIN_KEEP_MEMORY=0 in their environment" in err and "docs/sweeps.md" in err
    assert len(rep.warnings) == 1 and rep.warnings[0] in err
    assert "TWIN_KEEP_MEMORY" not in os.environ


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
