"""Truck trips: each supplier tier dispatches once a day; convoys arrive after their travel time.

One dispatch wave handles every link out of one tier with array arithmetic; the trucks of a
wave that share a travel time (quarter hours) arrive together as one event. Events are
therefore convoys, not parcels, and their count does not grow with the city's size.
"""

from __future__ import annotations

import numpy as np

from twin.network.model import group_sum
from twin.policies.flows import prorata_fill, split_orders
from twin.world import Urgent, World

__all__ = ["dispatch"]


def dispatch(env, world: World, tier: int, hour: float):
    """Every day at ``hour``, suppliers of ``tier`` fill their customers' orders and send trucks."""
    net = world.net
    wave = np.flatnonzero(net.tier[net.link_src] == tier)
    ends = net.link_src[wave], net.link_dst[wave]
    for a in (wave, *ends):   # fixed: group sums over them reuse their matrices (group_sum)
        a.setflags(write=False)
    yield env.timeout(hour)
    while True:
        if len(wave):
            _send(env, world, wave, ends)
        yield env.timeout(24.0)


def _send(env, world: World, wave: np.ndarray, ends: tuple[np.ndarray, np.ndarray]) -> None:
    net = world.net
    src, dst = ends
    world.backlog[src] = 0.0
    # a shop closed to shoppers by static management still receives goods (it delivers to gates)
    usable = (~net.standby[wave] | world.released[src]) & ~world.shut[src] & ~world.shut[dst]
    if usable.all():
        links = wave
    else:
        links = wave[usable]
        if not len(links):
            return
        src, dst = net.link_src[links], net.link_dst[links]
    n = net.n_nodes
    need = world.replenish(dst)
    capacity = np.minimum(world.handling_left(), world.fleet_kg())
    offered = world.offered()
    orders = need * split_orders(src, dst, net.link_share[links], net.link_weight[links], need, offered, capacity, n)
    suppliers = np.unique(src)
    ordered = group_sum(src, orders, n)
    world.observe_demand(suppliers, ordered[suppliers])
    prio = (world.priority > 0).astype(np.int64) if world.sc.network.key_items_first else None   # key items, then the rest
    sent = prorata_fill(orders, src, offered, capacity, prio, wanted=ordered)
    loaded = sent.sum(axis=1)
    movable = prorata_fill(orders, src, np.full_like(world.stock, np.inf), capacity, prio, wanted=ordered)   # were stock no limit
    world.backlog += group_sum(src, np.maximum(movable - sent, 0.0), n)   # short of stock, not of hands
    world.day_node_unfilled += group_sum(src, orders.sum(axis=1) - loaded, n)
    keep = loaded > 0
    if not keep.any():
        return
    if not keep.all():
        links, src, dst, sent, loaded = links[keep], src[keep], dst[keep], sent[keep], loaded[keep]
    world.stock -= group_sum(src, sent, n)
    np.maximum(world.stock, 0.0, out=world.stock)  # rounding dust only
    world.pipeline += group_sum(dst, sent, n)
    world.day_node_out += group_sum(src, loaded, n)
    world.day_node_shipped += group_sum(src, loaded, n)
    world.day_trucks += group_sum(src, np.ceil(loaded / net.truck_kg[links] - 1e-9), n)
    travel = net.travel_h[links]
    for t in np.unique(travel):
        sel = travel == t
        Urgent(env, float(t)).callbacks.append(_arrival(world, dst[sel], sent[sel]))


def _arrival(world: World, dst: np.ndarray, load: np.ndarray):
    """The convoy's unloading at its arrival: a load for a sorting centre with no crew on shift
    waits at the dock (still in transit) for the next shift with a crew at work."""
    unload = _unloading(world, dst, load)
    if not len(world.docks):
        return unload

    def at_dock(event) -> None:
        if world.docks_all_open:
            unload(event)
            return
        wait = world.dock_wait(dst)
        if not wait.any():
            unload(event)
            return
        for w in np.unique(wait):
            sel = wait == w
            if w == 0:
                _unloading(world, dst[sel], load[sel])(event)
            else:
                Urgent(world.env, float(w)).callbacks.append(_arrival(world, dst[sel], load[sel]))
    return at_dock


def _unloading(world: World, dst: np.ndarray, load: np.ndarray):
    if len(np.unique(dst)) == len(dst):   # one truck a destination: plain indexing adds the same
        def unload(_event) -> None:
            world.stock[dst] += load
            rows = world.pipeline[dst]
            rows -= load
            world.pipeline[dst] = np.maximum(rows, 0.0)  # rounding dust only
            world.day_node_in[dst] += load.sum(axis=1)
        return unload

    def unload_shared(_event) -> None:
        np.add.at(world.stock, dst, load)
        np.subtract.at(world.pipeline, dst, load)
        rows = world.pipeline[dst]
        world.pipeline[dst] = np.maximum(rows, 0.0)  # rounding dust only
        np.add.at(world.day_node_in, dst, load.sum(axis=1))
    return unload_shared
