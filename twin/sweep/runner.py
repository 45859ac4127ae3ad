"""``twin sweep run``: the pending chunks of a sweep on a Dask cluster, written as they finish.

One code path for every cluster: a ``distributed.Client`` connected either to a scheduler
address (``--scheduler`` or ``DASK_SCHEDULER_ADDRESS``) or to a ``LocalCluster`` of worker
processes with one thread each (the model is Python- and numpy-bound). Dask schedules; this
module only submits one task per chunk, writes each chunk as it completes and keeps count.

A worker that dies is Dask's business: its tasks run again elsewhere. A chunk task that fails
outside the model (its workers kept dying, it could not be unpickled ...) is submitted again up to
``retries`` times, then all its runs are recorded as failed. Model errors are not retried: a run
is deterministic given its seed, so it would fail again the same way.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import math
import os
import signal
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from twin.recording.writer import read_json
from twin.scenario import ScenarioError
from twin.sweep.design import run_payloads
from twin.sweep.progress import Progress
from twin.sweep.results import load_design
from twin.sweep.store import (SWEEP_SCHEMA_VERSION, SweepStatus, clean_staging, list_chunks, locked,
                              pending_ranges, read_choices, read_manifest, sweep_status, write_chunk)
from twin.sweep.task import ChunkOutput, failed_chunk, run_chunk
from twin.sweep.workerenv import LOCAL_WORKER_CONFIG, worker_warning

__all__ = ["RunReport", "default_chunk_size", "open_client", "run_sweep"]


@dataclass(frozen=True)
class RunReport:
    """What ``run`` did: the sweep's status afterwards and this invocation's figures."""

    status: SweepStatus
    runs: int
    chunks: int
    workers: int
    wall_s: float
    compute_s: float
    warnings: tuple[str, ...] = ()

    @property
    def exit_code(self) -> int:
        """0 when every run of the sweep succeeded, 3 when some failed (or are still pending)."""
        return 0 if self.status.failed == 0 and self.status.pending == 0 else 3


def default_chunk_size(n_runs: int, n_workers: int) -> int:
    """About 16 chunks per worker (small tail at the end, little overhead), 1 to 100 runs each.

    >>> default_chunk_size(200, 2), default_chunk_size(10, 4), default_chunk_size(10**6, 8)
    (7, 1, 100)
    """
    return max(1, min(100, math.ceil(n_runs / (16 * max(1, n_workers)))))


def run_sweep(folder: str | Path, *, workers: int | None = None, scheduler: str | None = None,
              chunk_size: int | None = None, retries: int = 0, client: Any = None,
              progress: str = "auto") -> RunReport:
    """Run every pending or failed chunk of a planned sweep; return the sweep's status afterwards.

    ``client``: an existing ``distributed.Client`` (then ``workers`` and ``scheduler`` are unused).
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    with locked(folder):
        clean_staging(folder)
        load_design(folder)  # a damaged plan is refused before any worker starts
        read_json(folder / "base_scenario.json", "base scenario")
        chunks = list_chunks(folder)
        n_todo = sum(b - a + 1 for a, b in pending_ranges(manifest["n_runs"], chunks, manifest["n_runs"] or 1))
        if n_todo == 0:
            return RunReport(sweep_status(folder), 0, 0, 0, 0.0, 0.0)
        t0 = time.perf_counter()
        with _use_client(client, workers, scheduler) as c:
            n_workers = sum(c.nthreads().values()) or 1  # task slots: workers x threads
            warnings = _check_workers(c)
            ranges = pending_ranges(manifest["n_runs"], chunks, chunk_size or default_chunk_size(n_todo, n_workers))
            prog = Progress(manifest["n_runs"], manifest["n_runs"] - n_todo, mode=progress)
            try:
                compute_s = _execute(c, folder, manifest, ranges, retries, prog)
            finally:
                prog.close()
                clean_staging(folder)
        return RunReport(sweep_status(folder), n_todo, len(ranges), n_workers, time.perf_counter() - t0, compute_s,
                         warnings)


@contextlib.contextmanager
def open_client(workers: int | None = None, scheduler: str | None = None) -> Iterator[Any]:
    """A ``distributed.Client``: to ``scheduler`` (or ``DASK_SCHEDULER_ADDRESS``) if given, else to a new
    ``LocalCluster`` of ``workers`` single-threaded processes (default: one per CPU). ``workers``
    given alone means a local cluster even when the environment names a scheduler.

    Local workers are spawned without Dask's ``MALLOC_TRIM_THRESHOLD_`` (which the nanny would also
    export into this process) and without its statistical profiler (see
    :data:`twin.sweep.workerenv.LOCAL_WORKER_CONFIG`). The settings are scoped to the cluster's
    start: each nanny reads them once, when it is made, and keeps them for the restarts of its
    worker; Dask's configuration elsewhere in the process is left alone.
    """
    import dask
    from distributed import Client, LocalCluster
    address = scheduler or (None if workers else dask.config.get("scheduler-address", None))
    if address:
        try:
            client = Client(address, timeout="15s")
        except (OSError, TimeoutError) as err:
            raise ScenarioError(str(address), "scheduler", f"cannot connect to the Dask scheduler ({err})") from None
        with client:
            yield client
        return
    n = workers or len(os.sched_getaffinity(0))
    # SIGINT ignored: the worker processes inherit it, so Ctrl-C stops this process, which stops them
    with _sigint_ignored(), dask.config.set(LOCAL_WORKER_CONFIG):
        # the scheduler always serves HTTP; a free local port, not 8787 (which warns when taken)
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0",
                               silence_logs=logging.ERROR)
    with cluster, Client(cluster) as client:
        yield client


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ignore SIGINT while processes are started (in the main thread; elsewhere, do nothing)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


@contextlib.contextmanager
def _use_client(client: Any, workers: int | None, scheduler: str | None) -> Iterator[Any]:
    if client is not None:
        yield client
    else:
        with open_client(workers, scheduler) as c:
            yield c


def _execute(client: Any, folder: Path, manifest: dict, ranges: list[tuple[int, int]], retries: int,
             prog: Progress) -> float:
    """Submit one task per chunk and write each chunk as it completes; return the runs' compute seconds."""
    from distributed import as_completed
    fields = {p["column"]: p["field"] for p in manifest["parameters"]}
    payloads = run_payloads(load_design(folder).sort_values("run_id"), fields, read_choices(folder))
    settings = {"days": manifest["days"], "timeseries": manifest["timeseries"],
                "meta": {"sweep_id": manifest["sweep_id"], "sweep_schema_version": SWEEP_SCHEMA_VERSION}}
    base = client.submit(_identity, json.loads((folder / "base_scenario.json").read_text()), pure=False,
                         key=f"sweep-base-{uuid.uuid4().hex[:8]}")
    pending: dict[str, tuple[tuple[int, int], int]] = {}

    def submit(rng: tuple[int, int], attempt: int):
        fut = client.submit(run_chunk, base, payloads[rng[0]:rng[1] + 1], settings, pure=False,
                            key=f"sweep-chunk-{rng[0]}-{rng[1]}-{uuid.uuid4().hex[:8]}")
        pending[fut.key] = (rng, attempt)
        return fut

    futures = as_completed([submit(r, 0) for r in ranges], loop=client.loop)
    compute_s = 0.0
    try:
        with sigint_noted() as ctrl_c:
            for fut in futures:
                rng, attempt = pending.pop(fut.key)
                try:
                    out = fut.result()
                except Exception as err:  # the task itself failed, not a run inside it
                    if attempt < retries:
                        futures.add(submit(rng, attempt + 1))
                        continue
                    out = failed_chunk(payloads[rng[0]:rng[1] + 1], err, traceback.format_exc(), settings["meta"],
                                       settings["timeseries"])
                fut.release()
                write_chunk(folder, out, _chunk_info(out, manifest["sweep_id"], attempt))
                compute_s += sum(out.compute_s)
                prog.update(out.scalars.num_rows, out.failures.num_rows)
                if ctrl_c.is_set():  # a Ctrl-C whose KeyboardInterrupt a finaliser swallowed
                    raise KeyboardInterrupt
    except KeyboardInterrupt:
        client.cancel([f for f in futures.futures], force=True)
        raise
    finally:
        base.release()
    return compute_s


@contextlib.contextmanager
def sigint_noted() -> Iterator[threading.Event]:
    """Note every Ctrl-C in an event, as well as raising ``KeyboardInterrupt`` as Python does.

    Python raises it in whatever the main thread runs, and drops it when that is a finaliser
    (``__del__`` of a Dask future released in the loop, say: "Exception ignored in ..."), so a
    sweep would go on to the end. A loop that checks the event after each step stops anyway.
    Only Python's own handler is wrapped (elsewhere than the main thread, or under another
    handler, the event is never set).
    """
    noted = threading.Event()
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield noted
        return

    def handler(signum, frame):
        noted.set()
        signal.default_int_handler(signum, frame)

    signal.signal(signal.SIGINT, handler)
    try:
        yield noted
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _check_workers(client: Any) -> tuple[str, ...]:
    """Make the connected workers keep the memory they free (:func:`twin.allocator.keep_freed_memory`);
    warn (stderr) naming those told not to (``TWIN_KEEP_MEMORY=0``); return the warnings."""
    from twin.allocator import memory_state
    try:
        states = client.run(memory_state)
    except Exception:  # a worker that cannot answer (an older twin ...) is no reason to stop a sweep
        return ()
    message = worker_warning(states)
    if message is None:
        return ()
    print(f"warning: {message}", file=sys.stderr)
    return (message,)


def _identity(x: Any) -> Any:
    return x


def _chunk_info(out: ChunkOutput, sweep_id: str, attempt: int) -> dict:
    return {"sweep_id": sweep_id, "runs": [out.first, out.last], "n_ok": out.scalars.num_rows,
            "n_failed": out.failures.num_rows, "compute_s": sum(out.compute_s), "run_compute_s": out.compute_s,
            "task_s": out.task_s, "worker": out.worker, "attempt": attempt,
            "written": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
