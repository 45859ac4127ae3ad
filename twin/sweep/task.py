"""What a Dask worker does: run one chunk of a sweep and return its tables.

A run that raises is caught and becomes a row of the ``failures`` table (exception type, message
and traceback); the chunk goes on with its other runs. Compute time is measured around the model
run alone, so the sweep's own costs (extracting series, building tables, scheduling, writing)
can be told apart from it.
"""

from __future__ import annotations

import gc
import socket
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from twin.network.build import keep_networks
from twin.recording.tables import make_table
from twin.sim import frozen_heap

__all__ = ["ChunkOutput", "add_service", "daily_series", "failed_chunk", "run_chunk"]

ID_COLUMNS = ("run_id", "point_id", "lever_id", "replicate")


@dataclass
class ChunkOutput:
    """The tables of one chunk (runs ``first`` to ``last``) and where its time went."""

    first: int
    last: int
    scalars: pa.Table
    timeseries: pa.Table | None
    failures: pa.Table
    compute_s: list[float] = field(default_factory=list)
    task_s: float = 0.0
    worker: str = ""


def run_chunk(base: Mapping[str, Any], runs: Sequence[dict], settings: Mapping[str, Any]) -> ChunkOutput:
    """Run every run of a chunk (see :func:`twin.sweep.design.run_payloads`) and build its tables.

    ``settings``: ``days`` (or None), ``timeseries`` (bool), ``meta`` (file metadata).
    """
    t_task = time.perf_counter()
    first, last = runs[0]["run_id"], runs[-1]["run_id"]
    meta = {**settings["meta"], "runs": [first, last]}
    rows, series, failures, compute = [], [], [], []
    # runs that vary no network field share one network (same tables); the worker's long-lived
    # objects stay out of the garbage collector's passes for the whole chunk (see frozen_heap)
    with keep_networks(), frozen_heap(collect_first=True):
        for r in runs:
            ids = {k: r[k] for k in ID_COLUMNS}
            timer = [0.0]
            try:
                row, daily = _one_run(base, r, settings, timer)
            except Exception as err:  # a failed run is data, not the end of the sweep
                failures.append(failure_row(ids, err, traceback.format_exc()))
            else:
                rows.append({**ids, **row})
                if daily is not None:
                    series.append(daily)
            compute.append(timer[0])
            # A run leaves reference cycles (the SimPy environment, its processes and the world they
            # change) holding its arrays and tables, ~0.2 GiB for the full city, which only a full
            # collection frees; left to the cyclic GC's own pace, a worker's memory grew by about that
            # much with every run (0.8 GiB after one full-city run, 1.3 GiB after six). With the heap
            # from before the chunk frozen, the pass walks the chunk's objects only: about 0.02 s a run.
            gc.collect()
    out = ChunkOutput(first, last, _scalars(rows, meta), _series(series, meta) if settings["timeseries"] else None,
                      failures_table(failures, meta), compute)
    out.task_s, out.worker = time.perf_counter() - t_task, _worker_name()
    return out


def _one_run(base: Mapping[str, Any], r: dict, settings: Mapping[str, Any],
             timer: list[float]) -> tuple[dict, dict[str, np.ndarray] | None]:
    """One run: its summary row and (if wanted) daily series; ``timer[0]`` gets the seconds in ``twin.run``."""
    import twin
    from twin.sweep.design import run_scenario
    from twin.sweep.seeds import run_seed
    t0 = time.perf_counter()
    try:
        res = twin.run(run_scenario(base, r), seed=run_seed(r["seed_root"], *r["seed_key"]), days=settings["days"],
                       source=f"run {r['run_id']}")
    finally:
        timer[0] = time.perf_counter() - t0
    row = res.tables["summary"].to_pylist()[0]
    if not settings["timeseries"]:
        return row, None
    days = res.manifest["days"]
    ids = {k: np.full(days, r[k], np.int64) for k in ID_COLUMNS}
    return row, {**ids, "t_day": np.arange(days), **daily_series(res.tables, days)}


def _worker_name() -> str:
    try:
        from distributed import get_worker
        return get_worker().address
    except (ImportError, ValueError):
        return socket.gethostname()


def daily_series(tables: Mapping[str, pa.Table], days: int) -> dict[str, np.ndarray]:
    """City totals per day on the fixed grid ``t_day = 0 .. days-1`` (arrays of length ``days``).

    Every ``_kg`` column of ``communities`` summed over compounds, ``stock_kg`` and
    ``in_transit_kg`` from ``balance``, the number of nodes ``closed`` and ``starved`` each day,
    the numeric columns of ``city`` (infection, lockdown shares, failed nodes by tier, cascade
    depth, workers at work, request counts; ``regime`` as its code 0 normal, 1 emergency,
    2 extreme) and ``price_index``, the mean over categories and districts.
    Days a run did not record (none, normally) are NaN. :func:`add_service` adds the ratios.
    """
    comm = tables["communities"]
    kg = [c for c in comm.column_names if c.endswith("_kg") and not c.endswith("_per_kg")]  # not prices
    out = _sum_by_day(comm, kg, days)
    if "balance" in tables:
        bal = tables["balance"]
        out.update(_sum_by_day(bal, [c for c in ("stock_kg", "in_transit_kg") if c in bal.column_names], days))
    if "nodes" in tables and "status" in tables["nodes"].column_names:
        out.update(_status_counts(tables["nodes"], ("closed", "starved"), days))
    if "city" in tables:
        out.update({c: v for c, v in _city_by_day(tables["city"], days).items() if c not in out})
    if "prices" in tables and tables["prices"].num_rows:
        prices = tables["prices"]
        total = _sum_by_day(prices, ["price_index"], days)["price_index"]
        count = np.bincount(_day_index(prices, days), minlength=days)[:days]
        out["price_index"] = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    recorded = _recorded_days(comm, days)
    return {c: np.where(recorded, v, np.nan) if v.dtype.kind == "f" else v for c, v in out.items()}


def add_service(columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Add ``fill_of_need`` and ``market_service_level`` to rows of daily city totals (one row per run and day).

    Uses :func:`twin.metrics.daily_service`, which groups rows by ``t_day``: it is given a row
    number as ``t_day``, so one call serves every run and day of a chunk (one row per group).
    """
    from twin.metrics import daily_service
    kg = {c: v for c, v in columns.items() if c.endswith("_kg")}
    n = len(next(iter(columns.values())))
    service = daily_service(pd.DataFrame({"t_day": np.arange(n), **kg})).reindex(np.arange(n))
    missing = np.isnan(kg["need_kg"]) if "need_kg" in kg else np.zeros(n, bool)
    out = dict(columns)
    for c in service.columns:
        out[c] = np.where(missing, np.nan, service[c].to_numpy(dtype=float))
    return out


def _day_index(table: pa.Table, days: int) -> np.ndarray:
    t = table.column("t_day").to_numpy()
    return np.clip(t.astype(np.int64), 0, max(days - 1, 0))


def _recorded_days(table: pa.Table, days: int) -> np.ndarray:
    return np.bincount(_day_index(table, days), minlength=days)[:days] > 0


def _sum_by_day(table: pa.Table, columns: list[str], days: int) -> dict[str, np.ndarray]:
    """Column totals per day. Rows in day order (as the recorder writes them) are summed slice by slice,
    several times faster than ``bincount`` on the full city's 900,000 rows; any order still works.
    """
    day = _day_index(table, days)
    if len(day) and bool((day[1:] >= day[:-1]).all()):
        starts = np.flatnonzero(np.r_[True, day[1:] != day[:-1]])

        def total(v: np.ndarray) -> np.ndarray:
            out = np.zeros(days)
            out[day[starts]] = np.add.reduceat(v, starts)
            return out
    else:
        def total(v: np.ndarray) -> np.ndarray:
            return np.bincount(day, weights=v, minlength=days)[:days]
    return {c: total(table.column(c).to_numpy().astype(float, copy=False)) for c in columns}


def _city_by_day(city: pa.Table, days: int) -> dict[str, np.ndarray]:
    """``city.parquet`` (one row a day) on the grid: numeric columns, and the regime's code."""
    out = {}
    for name in city.column_names:
        if name == "t_day":
            continue
        col = city.column(name)
        if pa.types.is_dictionary(col.type):
            if name != "regime":
                continue
            col = pa.chunked_array([chunk.indices for chunk in col.chunks])
        if pa.types.is_integer(col.type) or pa.types.is_floating(col.type):
            out[name] = _sum_by_day(pa.table({"t_day": city.column("t_day"), name: col}), [name], days)[name]
    return out


def _status_counts(nodes: pa.Table, statuses: Sequence[str], days: int) -> dict[str, np.ndarray]:
    day = _day_index(nodes, days)
    return {f"{s}_nodes": np.bincount(day, weights=_equals(nodes.column("status"), s), minlength=days)[:days]
            .astype(np.int64) for s in statuses}


def _equals(column: pa.ChunkedArray, value: str) -> np.ndarray:
    """``column == value`` as a bool array; a dictionary column is compared on its codes, not decoded."""
    if not pa.types.is_dictionary(column.type):
        return pc.equal(column, value).to_numpy(zero_copy_only=False)
    parts = []
    for chunk in column.chunks:
        code = chunk.dictionary.index(value).as_py()
        parts.append(chunk.indices.to_numpy(zero_copy_only=False) == code if code >= 0
                     else np.zeros(len(chunk), bool))
    return np.concatenate(parts) if parts else np.zeros(0, bool)


def failure_row(ids: Mapping[str, int], err: BaseException, tb: str) -> dict:
    """One row of the failures table."""
    message = " ".join(str(err).split()) or type(err).__name__
    return {**ids, "error_type": type(err).__name__, "message": message, "traceback": tb}


def failures_table(rows: list[dict], meta: Mapping[str, Any]) -> pa.Table:
    """The failures of a chunk (possibly none, with the same columns)."""
    cols = {c: pa.array([r[c] for r in rows], pa.int64()) for c in ID_COLUMNS}
    cols.update({c: pa.array([r[c] for r in rows], pa.string()) for c in ("error_type", "message", "traceback")})
    return make_table(cols, {**meta, "table": "failures"})


def failed_chunk(runs: Sequence[dict], err: BaseException, tb: str, meta: Mapping[str, Any],
                 timeseries: bool) -> ChunkOutput:
    """A chunk whose task itself failed (e.g. its workers kept dying): every run is a failure."""
    rows = [failure_row({k: r[k] for k in ID_COLUMNS}, err, tb) for r in runs]
    meta = {**meta, "runs": [runs[0]["run_id"], runs[-1]["run_id"]]}
    return ChunkOutput(runs[0]["run_id"], runs[-1]["run_id"], _scalars([], meta),
                       _series([], meta) if timeseries else None, failures_table(rows, meta))


def _scalars(rows: list[dict], meta: Mapping[str, Any]) -> pa.Table:
    if not rows:
        return make_table({c: pa.array([], pa.int64()) for c in ID_COLUMNS}, {**meta, "table": "scalars"})
    names = list(dict.fromkeys(k for r in rows for k in r))
    return make_table({c: [r.get(c) for r in rows] for c in names}, {**meta, "table": "scalars"})


def _series(runs: list[dict[str, np.ndarray]], meta: Mapping[str, Any]) -> pa.Table:
    if not runs:
        return make_table({c: pa.array([], pa.int64()) for c in (*ID_COLUMNS, "t_day")}, {**meta, "table": "timeseries"})
    names = list(dict.fromkeys(k for r in runs for k in r))
    cols = {c: np.concatenate([r[c] if c in r else np.full(len(r["t_day"]), np.nan) for r in runs]) for c in names}
    cols = add_service(cols)
    return make_table({c: pa.array(v) for c, v in cols.items()}, {**meta, "table": "timeseries"})
