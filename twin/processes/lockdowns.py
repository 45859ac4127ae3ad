"""Lockdowns of residents: per district or per compound (grids), normal shopping, limited trips or
static management."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin.network.model import Network
from twin.rng import stream
from twin.scenario.loading import ScenarioError
from twin.scenario.response import LOCKDOWN_LEVELS, Lockdown
from twin.world import Urgent, World

__all__ = ["LockdownPlan", "apply_lockdowns", "grid_compounds", "lockdown", "resolve_lockdowns"]


@dataclass(frozen=True)
class LockdownPlan:
    """A lockdown's targets resolved to indices: the compounds it covers and, when it covers whole
    districts, those districts (empty for a grid lockdown)."""

    communities: np.ndarray   # compound indices
    districts: np.ndarray     # district indices locked as a whole (closes outlets, confines workers)
    where: str                # for the events table


def resolve_lockdowns(lockdowns: list[Lockdown], net: Network, source: str, layout_seed: int = 0) -> list[LockdownPlan]:
    """Compounds and whole districts of each lockdown (every district when none are named);
    unknown districts or compounds are scenario errors."""
    index = {d: i for i, d in enumerate(net.districts)}
    comm_index = {c: i for i, c in enumerate(net.community_ids)}
    out = []
    for i, lk in enumerate(lockdowns):
        for d in lk.districts:
            if d not in index:
                raise ScenarioError(source, f"lockdowns[{i}].districts",
                                    f"no district named {d!r} (allowed: {', '.join(net.districts)})")
        for c in lk.communities:
            if c not in comm_index:
                ids = net.community_ids
                raise ScenarioError(source, f"lockdowns[{i}].communities",
                                    f"no compound named {c!r} (allowed: ids of city.communities, here {ids[0]!r} "
                                    f"... {ids[-1]!r}; see communities.parquet)")
        ds = np.array([index[d] for d in lk.districts]) if lk.districts else np.arange(len(net.districts))
        ds = ds.astype(np.int64)
        label = lk.name or f"lockdown_{i}"
        if lk.communities:
            comms = np.unique([comm_index[c] for c in lk.communities]).astype(np.int64)
            out.append(LockdownPlan(comms, np.zeros(0, dtype=np.int64), ",".join(lk.communities)))
        elif lk.compounds_per_district is not None or lk.compound_share is not None:
            comms = grid_compounds(net.comm_district, ds, lk.compounds_per_district, lk.compound_share,
                                   stream(layout_seed, f"lockdown_grid:{label}"))
            out.append(LockdownPlan(comms, np.zeros(0, dtype=np.int64),
                                    f"{len(comms)} compounds in {','.join(lk.districts) or 'all'}"))
        else:
            comms = np.flatnonzero(np.isin(net.comm_district, ds)).astype(np.int64)
            out.append(LockdownPlan(comms, ds, ",".join(lk.districts) or "all"))
    return out


def grid_compounds(comm_district: np.ndarray, districts: np.ndarray, per_district: int | None,
                   share: float | None, rng: np.random.Generator) -> np.ndarray:
    """Compounds of a grid lockdown: ``per_district`` (or a ``share``, at least one) of each district's
    compounds, drawn without replacement; sorted indices.

    >>> grid_compounds(np.array([0, 0, 0, 1, 1]), np.array([0, 1]), 2, None, np.random.default_rng(0)).size
    4
    >>> grid_compounds(np.array([0, 0, 0, 0, 1]), np.array([0]), None, 0.5, np.random.default_rng(0)).size
    2
    """
    chosen = []
    for d in districts:
        members = np.flatnonzero(comm_district == d)
        if not len(members):
            continue
        n = per_district if per_district is not None else max(1, int(round(share * len(members))))
        chosen.append(rng.choice(members, min(n, len(members)), replace=False))
    return np.sort(np.concatenate(chosen)).astype(np.int64) if chosen else np.zeros(0, dtype=np.int64)


def apply_lockdowns(world: World, lockdowns: list[Lockdown], plans: list[LockdownPlan], active: set[int],
                    reason: str) -> None:
    """Set compound and district lockdown levels from the active lockdowns (the strictest wins).

    A district's level counts only lockdowns of the whole district: a grid lockdown changes its
    compounds' level, not the district's (its outlets stay open, its workers go to work).
    """
    net = world.net
    nd, k = len(net.districts), net.n_communities
    level = np.zeros(k, dtype=np.int8)
    trips = np.ones(k)
    online = np.zeros(k)
    d_level = np.zeros(nd, dtype=np.int8)
    close = np.zeros(nd, dtype=bool)
    for i in sorted(active):
        lk, plan = lockdowns[i], plans[i]
        cs = plan.communities
        code = LOCKDOWN_LEVELS.index(lk.level)
        stricter = code >= level[cs]
        level[cs] = np.maximum(level[cs], code)
        trips[cs] = np.where(stricter, lk.trips_every_days, trips[cs])
        online[cs] = np.where(stricter, lk.online_share, online[cs])
        d_level[plan.districts] = np.maximum(d_level[plan.districts], code)
        if lk.level == "static" and lk.close_outlets:
            close[plan.districts] = True
    city_wide = world.policy.lockdown
    if city_wide is not None:  # the regime's package locks down the whole city at least this much
        code = LOCKDOWN_LEVELS.index(city_wide)
        trips = np.where(level < code, 3.0, trips)
        online = np.where(level < code, 0.5, online)
        close |= code == 2
        level = np.maximum(level, code).astype(np.int8)
        d_level = np.maximum(d_level, code).astype(np.int8)
    world.district_level = d_level
    world.comm_level = level
    world.comm_trips_every = trips
    world.comm_lockdown_online = online
    outlets = net.is_kind("supermarket", "wet_market")
    in_static = np.zeros(net.n_nodes, dtype=bool)
    has_d = net.node_district >= 0
    in_static[has_d] = close[net.node_district[has_d]]
    world.set_closed("lockdown", outlets & in_static, reason)


def lockdown(env, world: World, i: int, lockdowns: list[Lockdown], plans: list[LockdownPlan], active: set[int]):
    """Switch lockdown ``i`` on at ``start_day`` and off at ``end_day`` (00:00 of those days).

    An announcement (``announce_day``) sets off panic buying in the lockdown's compounds, which
    lasts until ``households.panic_days_after_start`` days after the start (or the end).
    """
    lk = lockdowns[i]
    label = lk.name or f"lockdown_{i}"
    where = plans[i].where
    comms = np.zeros(world.net.n_communities, dtype=bool)
    comms[plans[i].communities] = True
    if lk.announce_day is not None:
        env.process(_panic(env, world, lk, comms, label, where))
    yield Urgent(env, lk.start_day * 24.0)
    active.add(i)
    apply_lockdowns(world, lockdowns, plans, active, label)
    world.log(f"lockdown_{lk.level}_start", where, label)
    yield Urgent(env, (lk.end_day - lk.start_day) * 24.0)
    active.discard(i)
    apply_lockdowns(world, lockdowns, plans, active, label)
    world.log(f"lockdown_{lk.level}_end", where, label)


def _panic(env, world: World, lk: Lockdown, comms: np.ndarray, label: str, where: str):
    yield Urgent(env, lk.announce_day * 24.0)
    world.panic |= comms
    world.log("lockdown_announced", where, label)
    calm = min(lk.start_day + world.sc.households.panic_days_after_start, lk.end_day)
    yield Urgent(env, (calm - lk.announce_day) * 24.0)
    world.panic &= ~comms
