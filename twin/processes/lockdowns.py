"""Lockdowns of residents: per district, normal shopping, limited trips or static management."""

from __future__ import annotations

import numpy as np

from twin.network.model import Network
from twin.scenario.loading import ScenarioError
from twin.scenario.response import LOCKDOWN_LEVELS, Lockdown
from twin.world import Urgent, World

__all__ = ["apply_lockdowns", "lockdown", "resolve_lockdowns"]


def resolve_lockdowns(lockdowns: list[Lockdown], net: Network, source: str) -> list[np.ndarray]:
    """District indices of each lockdown (all districts when none are named)."""
    index = {d: i for i, d in enumerate(net.districts)}
    out = []
    for i, lk in enumerate(lockdowns):
        for d in lk.districts:
            if d not in index:
                raise ScenarioError(source, f"lockdowns[{i}].districts",
                                    f"no district named {d!r} (allowed: {', '.join(net.districts)})")
        out.append(np.array([index[d] for d in lk.districts]) if lk.districts else np.arange(len(net.districts)))
    return out


def apply_lockdowns(world: World, lockdowns: list[Lockdown], districts: list[np.ndarray], active: set[int],
                    reason: str) -> None:
    """Set district and compound lockdown levels from the active lockdowns (the strictest wins)."""
    net = world.net
    nd = len(net.districts)
    level = np.zeros(nd, dtype=np.int8)
    trips = np.ones(nd)
    online = np.zeros(nd)
    close = np.zeros(nd, dtype=bool)
    for i in sorted(active):
        lk, ds = lockdowns[i], districts[i]
        code = LOCKDOWN_LEVELS.index(lk.level)
        stricter = code >= level[ds]
        level[ds] = np.maximum(level[ds], code)
        trips[ds] = np.where(stricter, lk.trips_every_days, trips[ds])
        online[ds] = np.where(stricter, lk.online_share, online[ds])
        if lk.level == "static" and lk.close_outlets:
            close[ds] = True
    city_wide = world.policy.lockdown
    if city_wide is not None:  # the regime's package locks down the whole city at least this much
        code = LOCKDOWN_LEVELS.index(city_wide)
        trips = np.where(level < code, 3.0, trips)
        online = np.where(level < code, 0.5, online)
        close |= code == 2
        level = np.maximum(level, code).astype(np.int8)
    world.district_level = level
    world.comm_level = level[net.comm_district]
    world.comm_trips_every = trips[net.comm_district]
    world.comm_lockdown_online = online[net.comm_district]
    outlets = net.is_kind("supermarket", "wet_market")
    in_static = np.zeros(net.n_nodes, dtype=bool)
    has_d = net.node_district >= 0
    in_static[has_d] = close[net.node_district[has_d]]
    world.set_closed("lockdown", outlets & in_static, reason)


def lockdown(env, world: World, i: int, lockdowns: list[Lockdown], districts: list[np.ndarray], active: set[int]):
    """Switch lockdown ``i`` on at ``start_day`` and off at ``end_day`` (00:00 of those days).

    An announcement (``announce_day``) sets off panic buying in the lockdown's districts, which
    lasts until ``households.panic_days_after_start`` days after the start (or the end).
    """
    lk = lockdowns[i]
    label = lk.name or f"lockdown_{i}"
    where = ",".join(lk.districts) or "all"
    comms = np.isin(world.net.comm_district, districts[i])
    if lk.announce_day is not None:
        env.process(_panic(env, world, lk, comms, label, where))
    yield Urgent(env, lk.start_day * 24.0)
    active.add(i)
    apply_lockdowns(world, lockdowns, districts, active, label)
    world.log(f"lockdown_{lk.level}_start", where, label)
    yield Urgent(env, (lk.end_day - lk.start_day) * 24.0)
    active.discard(i)
    apply_lockdowns(world, lockdowns, districts, active, label)
    world.log(f"lockdown_{lk.level}_end", where, label)


def _panic(env, world: World, lk: Lockdown, comms: np.ndarray, label: str, where: str):
    yield Urgent(env, lk.announce_day * 24.0)
    world.panic |= comms
    world.log("lockdown_announced", where, label)
    calm = min(lk.start_day + world.sc.households.panic_days_after_start, lk.end_day)
    yield Urgent(env, (calm - lk.announce_day) * 24.0)
    world.panic &= ~comms
