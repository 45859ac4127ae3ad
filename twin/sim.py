"""Assemble a world from a scenario and run it.

The order of one day
--------------------
The clock unit is the hour; day ``d`` runs from ``24 d`` to ``24 (d + 1)``.

1. 00:00  shocks and lockdowns that start or end this day switch (levers recomputed from the
   active set);
2. 00:15  workforce: quarantines end, workers are infected, detected and quarantined with their
   contacts; nodes with a detected case close; confinement; capacities are recomputed;
3. 00:30  production: open bases produce up to their order-up-to level within capacity;
4. 01:00, 03:00, 05:00, 07:00, 09:00  dispatch waves of supplier tiers 0 to 4 (bases, transfer
   stations, hubs and reserves, sorting centres, community points): orders, rationing, trucks;
5. any time  convoys arrive after their travel time and are unloaded at once;
6. 08:00  unified supply (while in force): joint supply reaches the reserves; packages go out;
7. 09:30  prices per district and category move towards the level clearing yesterday's demand
   against what shops can sell today; traders decide how much to hold back; reserves sell
   categories priced over their trigger to the district's shops;
8. 10:00  every resident group of every compound draws need, buys through its group (group
   buying) and the market, offline and online as its lockdown and channel access allow, and eats;
   online orders are picked and queued at the front warehouse (``twin.queues``); every hour at
   hh:35 couriers on shift take a round of queued orders (after the 09:35 and 23:35 rounds the
   delivered orders join households' stock);
   hourly at hh:24 the safety-net desk takes calls (team rounds at 08:24, 11:24, 14:24, 17:24);
9. 23:00  spoilage everywhere; 23:15 surge: crews that worked beyond normal hours spend surge
   budget, rested ones recover it (``twin.processes.surge``); at 00:00 each crew is allowed the
   extra capacity its budget covers for the day;
10. 23:30 regimes: triggers are checked on the day's figures; a decision takes effect after the
    switching delay;
11. 23:45 the recorder snapshots the day and zeroes the day's tallies.

Simultaneous events: phases sit at distinct hours, so they never tie with each other. Convoy
arrivals and shock switches are *urgent* events: at the same instant they happen before any
phase, among themselves in the order they were scheduled (SimPy's FIFO by event id).
"""

from __future__ import annotations

import gc
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import simpy

from twin import __version__
from twin.allocator import keep_freed_memory
from twin.metrics import summary_row
from twin.network import Network
from twin.preflight import preflight
from twin.progress import Progress
from twin.processes.couriers import couriers
from twin.processes.households import households
from twin.processes.learning import learning
from twin.processes.lockdowns import apply_lockdowns, lockdown
from twin.processes.regimes import RegimeController
from twin.processes.unified import UnifiedSupply
from twin.processes.market import pricing
from twin.processes.safety_net import SafetyNetDesk
from twin.processes.workforce import workforce
from twin.processes.shocks import apply_levers, shock
from twin.processes.supply import production, spoilage
from twin.processes.surge import surge
from twin.processes.transport import dispatch
from twin.recording.columns import finish_tables
from twin.recording.recorder import Recorder
from twin.recording.tables import make_table
from twin.rng import seed_sequence
from twin.scenario import Scenario, scenario_hash
from twin.world import World

__all__ = ["PHASE_HOURS", "Result", "frozen_heap", "simulate"]

PHASE_HOURS = {"workforce": 0.25, "production": 0.5, "dispatch": (1.0, 3.0, 5.0, 7.0, 9.0), "unified": 8.0,
               "pricing": 9.5, "households": 10.0, "spoilage": 23.0, "surge": (0.0, 23.25), "regimes": 23.5, "record": 23.75}


@dataclass
class Result:
    """What one run produced: Arrow tables by name, plus run facts for the manifest."""

    tables: dict[str, pa.Table]
    manifest: dict
    network: Network = field(repr=False)

    def frames(self) -> dict[str, pd.DataFrame]:
        """The tables as pandas DataFrames (ids as categoricals, dates as datetime64)."""
        return {name: t.to_pandas(date_as_object=False) for name, t in self.tables.items()}

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name].to_pandas(date_as_object=False)

    def plot(self, **kw):
        """A figure of the run's daily series: :func:`twin.plot.overview`."""
        from twin.plot import overview
        return overview(self, **kw)


def simulate(sc: Scenario, *, seed: int | np.random.SeedSequence | None = None, days: int | None = None,
             source: str = "<scenario>", progress: bool | str = False) -> Result:
    """Run a validated scenario and return its tables (no files written).

    ``progress``: days simulated on stderr (True or ``"auto"``: a bar on a terminal, lines
    otherwise; ``"bar"``, ``"lines"``; False or ``"none"``: nothing), see :mod:`twin.progress`.

    The run uses one core: numpy's BLAS (matrix products such as a [K, G, C] stock priced per
    category) is held to one thread while it runs, see :func:`one_blas_thread`; the objects alive
    before it are left out of the cyclic garbage collector's passes, see :func:`frozen_heap`. The
    process keeps the memory it frees for its next arrays, see :func:`twin.allocator.keep_freed_memory`.
    """
    keep_freed_memory()
    with one_blas_thread(), frozen_heap():
        return _simulate(sc, seed=seed, days=days, source=source, progress=progress)


@contextmanager
def frozen_heap(collect_first: bool = False):
    """A block in which the objects alive when it starts are left out of the cyclic garbage
    collector's passes (``gc.freeze``), and put back after it (``gc.unfreeze``); if they are
    frozen already (a caller's block, e.g. :func:`twin.sweep.task.run_chunk`), nothing changes.
    ``collect_first``: one full pass before freezing, so that garbage left before the block is
    freed rather than kept through it (a sweep's chunk of runs does this once).

    Why: a process that imported twin holds some 170,000 objects (modules, numba, pandas,
    pydantic) that the collector's full passes walk every time, about 0.07 s each; a full-city run
    triggered such passes worth about 0.17 s, and a sweep's ``gc.collect()`` after each run
    another 0.1 s. The block's own objects are collected as before; cyclic garbage older than the
    block (an earlier run's world, if nothing collected it) waits until the block ends. Nothing the
    model computes depends on when the collector runs.
    """
    if gc.get_freeze_count():
        yield
        return
    if collect_first:
        gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def one_blas_thread():
    """A context in which numpy's BLAS (OpenBLAS) uses one thread; previous settings restored after.

    Why: the model's matrix products are thin (city-sized rows times ten categories or five
    groups, e.g. ``kg @ price``). OpenBLAS splits any product over about 10,000 rows between all
    cores and has its threads spin while they wait; on 2 cores shared with anything else the
    waiting cost more than the product. Measured: a [40,000, 10] x [10, 4] product took 16 ms of
    CPU on two threads and 0.4 ms on one, and these products made the 100-million city (40,000
    compounds) 5.2 times as costly in CPU seconds as the 25-million one instead of 4.4 times
    (``bench/run.py --scale``, load average 10). A run is one core's work by design (sweeps run one per core), and Dask's workers
    already start with ``OPENBLAS_NUM_THREADS=1``: plain runs now match them. The results are the
    same floats: OpenBLAS shares rows and columns of the product between threads, never the sum
    inside one element.
    """
    from threadpoolctl import threadpool_limits
    return threadpool_limits(limits=1, user_api="blas")


def _simulate(sc: Scenario, *, seed: int | np.random.SeedSequence | None, days: int | None, source: str,
              progress: bool | str) -> Result:
    wall = time.perf_counter()
    seed = sc.run.seed if seed is None else seed
    days = sc.run.days if days is None else days
    ss = seed_sequence(seed)
    net, plans, lock_districts = preflight(sc, source, days)
    env = simpy.Environment()
    world = World(env, net, sc)
    recorder = Recorder(world, days)
    active: set[int] = set()
    locked: set[int] = set()
    env.process(workforce(env, world, PHASE_HOURS["workforce"], ss))
    env.process(production(env, world, PHASE_HOURS["production"]))
    for tier, hour in enumerate(PHASE_HOURS["dispatch"]):
        env.process(dispatch(env, world, tier, hour))
    desk = SafetyNetDesk(world, ss)
    world.desk = desk
    env.process(desk.process(env))
    env.process(pricing(env, world, PHASE_HOURS["pricing"]))
    env.process(households(env, world, PHASE_HOURS["households"], ss))
    env.process(couriers(env, world))
    env.process(spoilage(env, world, PHASE_HOURS["spoilage"]))
    env.process(surge(env, world, PHASE_HOURS["surge"]))
    env.process(recorder.process(env, PHASE_HOURS["record"]))
    for plan in plans:
        env.process(shock(env, world, plan, plans, active))
    for i in range(len(sc.lockdowns)):
        env.process(lockdown(env, world, i, list(sc.lockdowns), lock_districts, locked))

    def refresh_levers(reason: str) -> None:
        apply_levers(world, plans, active, reason)
        apply_lockdowns(world, list(sc.lockdowns), lock_districts, locked, reason)

    refresh_levers(f"regime_{sc.regimes.initial}")
    regimes = RegimeController(world, refresh_levers)
    env.process(regimes.process(env, PHASE_HOURS["regimes"]))
    env.process(UnifiedSupply(world).process(env, PHASE_HOURS["unified"]))
    env.process(learning(env, world, days))
    n_events = _run(env, days * 24.0, progress)
    meta = {"scenario": sc.name, "seed": _seed_text(ss), "scenario_hash": scenario_hash(sc),
            "version": __version__, "start_date": sc.run.start_date}
    tables = recorder.tables(meta)
    tables["requests"] = desk.table(meta)
    need_pp = float(net.need_kg_pp.sum())
    # split_blocks: each column its own block, no consolidation copy of the whole table
    summary = summary_row({k: v if k in ("requests", "residents") else v.to_pandas(split_blocks=True)
                           for k, v in tables.items()}, need_pp)
    tables["summary"] = make_table({k: [v] for k, v in summary.items()}, meta)
    tables = finish_tables(tables, sc.run.start_date)
    manifest = {**meta, "days": days, "simpy_events": n_events, "wall_s": time.perf_counter() - wall,
                "nodes": net.n_nodes, "communities": net.n_communities, "links": int(len(net.link_src))}
    return Result(tables, manifest, net)


def _run(env: simpy.Environment, until: float, progress: bool | str = False) -> int:
    """Step the environment up to ``until`` hours, counting the events processed."""
    n = 0
    with Progress(int(until // 24), "simulating", unit="days", mode=progress) as bar:
        day = 0
        while env.peek() < until:
            env.step()
            n += 1
            if env.now >= (day + 1) * 24.0:
                bar.update(int(env.now // 24) - day)
                day = int(env.now // 24)
        if int(until // 24) > day:
            bar.update(int(until // 24) - day)
    return n


def _seed_text(ss: np.random.SeedSequence) -> str:
    return f"{ss.entropy}" + (f":{','.join(map(str, ss.spawn_key))}" if ss.spawn_key else "")
