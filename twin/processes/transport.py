"""Truck trips: each supplier tier dispatches once a day; convoys arrive after their travel time.

One dispatch wave handles every link out of one tier with array arithmetic; the trucks of a
wave that share a travel time (quarter hours) arrive together as one event. Events are
therefore convoys, not parcels, and their count does not grow with the city's size.
"""

from __future__ import annotations

import math

import numpy as np

from twin.jit import kernel
from twin.network.model import group_sum
from twin.policies.flows import _row_sum, _slots, first_split, prorata_fill, split_orders
from twin.world import Urgent, World

__all__ = ["dispatch"]


def dispatch(env, world: World, tier: int, hour: float):
    """Every day at ``hour``, suppliers of ``tier`` fill their customers' orders and send trucks."""
    wave = Wave(world.net, tier)
    yield env.timeout(hour)
    while True:
        if len(wave.links):
            _send(env, world, wave)
        yield env.timeout(24.0)


class Wave:
    """The fixed links out of one supplier tier, and what a day's dispatch reuses about them.

    Its arrays are read-only. Links not in use on a day (closed ends, standby reserves) stay in the arrays with no share of
    the orders, so the day's sums run over the same fixed indexes. ``suppliers`` and ``dests``:
    the nodes at the links' ends (ascending), ``src_slot`` and ``dst_slot`` each link's among
    them: a wave's rationing runs over its few suppliers, not the city's nodes. ``convoys``: the
    rows of the links sharing each travel time (ascending), the trucks that arrive together.
    """

    def __init__(self, net, tier: int):
        self.links = np.flatnonzero(net.tier[net.link_src] == tier)
        self.src, self.dst = net.link_src[self.links], net.link_dst[self.links]
        self.standby = net.standby[self.links]
        self.share, self.weight = net.link_share[self.links], net.link_weight[self.links]
        self.truck_kg, travel = net.truck_kg[self.links], net.travel_h[self.links]
        self.suppliers, self.src_slot = np.unique(self.src, return_inverse=True)
        self.dests, self.dst_slot = np.unique(self.dst, return_inverse=True)
        self.convoys = [(float(t), np.flatnonzero(travel == t)) for t in np.unique(travel)]
        # the convoys' rows one after another, and where each convoy's start: a day's loads are
        # picked in this order at once, each convoy then a slice of them
        self.by_time = np.concatenate([rows for _, rows in self.convoys]) if self.convoys else np.zeros(0, np.intp)
        self.starts = np.cumsum([0] + [len(rows) for _, rows in self.convoys[:-1]]).astype(np.intp)
        self.times = [t for t, _ in self.convoys]
        for a in (self.links, self.src, self.dst, self.standby, self.share, self.weight, self.truck_kg,
                  self.suppliers, self.src_slot, self.dests, self.dst_slot, self.by_time, self.starts):
            a.setflags(write=False)
        self._first: np.ndarray | None = None
        self._last: tuple[bytes, np.ndarray] | None = None   # the last split with some links not in use, by in_use

    def first_split(self, n: int, in_use: np.ndarray | None) -> np.ndarray:
        """:func:`~twin.policies.flows.first_split` of the wave's links (``in_use`` None: all), kept
        for all links in use; with some not in use, only the destinations they lead to are split
        again (a destination's split reads its own links alone: the others' rows are as kept), and the
        last such split is kept for the links in use then (read-only)."""
        if self._first is None:
            self._first = first_split(self.dst, self.share, self.weight, n)
            self._first.setflags(write=False)
        if in_use is None:
            return self._first
        key = in_use.tobytes()
        if self._last is not None and self._last[0] == key:   # the links in use as on the day before
            return self._last[1]
        touched = np.zeros(n, dtype=bool)
        touched[self.dst[~in_use]] = True
        rows = np.flatnonzero(touched[self.dst])
        out = self._first.copy()
        out[rows] = first_split(self.dst[rows], self.share[rows], self.weight[rows], n, in_use[rows])
        out.setflags(write=False)
        self._last = (key, out)
        return out


def _send(env, world: World, wave: Wave) -> None:
    net = world.net
    src, dst = wave.src, wave.dst
    world.backlog[wave.suppliers] = 0.0   # (the links' sources, each once)
    # a shop closed to shoppers by static management still receives goods (it delivers to gates)
    usable = (~wave.standby | world.released[src]) & ~world.shut[src] & ~world.shut[dst]
    if usable.all():
        usable = None
    elif not usable.any():
        return
    n = net.n_nodes
    # rationing over the wave's suppliers (rows of offered, capacity, ordered: ``slot`` for each link)
    sup, slot = wave.suppliers, wave.src_slot
    need = world.replenish(wave.dests, rows=wave.dst_slot)
    capacity = np.minimum(world.handling_left(), world.fleet_kg())[sup]
    offered = world.offered(sup)
    orders = need * split_orders(slot, dst, wave.share, wave.weight, need, offered, capacity, n, in_use=usable,
                                 first=wave.first_split(n, usable))
    ordered = group_sum(slot, orders, len(sup))
    asked = _present(slot if usable is None else slot[usable], len(sup))   # suppliers with a link in use
    world.observe_demand(sup[asked], ordered[asked])
    prio = (world.priority > 0).astype(np.int64) if world.sc.network.key_items_first else None   # key items, then the rest
    sent = prorata_fill(orders, slot, offered, capacity, prio, wanted=ordered)
    movable = prorata_fill(orders, slot, None, capacity, prio, wanted=ordered)   # were stock no limit
    arrays = (world.backlog, world.day_node_unfilled, world.stock, world.pipeline, world.day_node_out,
              world.day_node_shipped, world.day_trucks)
    if all(a.dtype == float and a.flags.c_contiguous for a in (orders, sent, movable, *arrays)) and sent.shape[1] <= 128:
        loaded = _book(src, dst, orders, sent, movable, wave.truck_kg, n, *arrays)
    else:
        loaded = _book_reference(world, src, dst, orders, sent, movable, wave.truck_kg, n)
    keep = loaded > 0   # links not in use load nothing
    if not keep.any():
        return
    kept = keep[wave.by_time]
    rows = wave.by_time[kept]   # the loaded links, convoy by convoy (each convoy's in row order)
    to, load, kg = dst[rows], sent[rows], loaded[rows]
    end = 0
    for t, n_rows in zip(wave.times, np.add.reduceat(kept, wave.starts, dtype=np.intp).tolist()):
        if n_rows:
            start, end = end, end + n_rows
            Urgent(env, t).callbacks.append(_arrival(world, to[start:end], load[start:end], kg[start:end]))


def _book_reference(world: World, src, dst, orders, sent, movable, truck_kg, n) -> np.ndarray:
    """The dispatch's bookkeeping in numpy (the reference of :func:`_book`): backlog and unfilled
    orders, stock out, goods on the way, the day's shipments and trucks; returns each link's load [L]."""
    loaded = sent.sum(axis=1)
    world.backlog += group_sum(src, np.maximum(movable - sent, 0.0), n)   # short of stock, not of hands
    world.day_node_unfilled += group_sum(src, orders.sum(axis=1) - loaded, n)
    keep = loaded > 0   # links not in use load nothing; their rows add zeros to the sums below
    if not keep.any():
        return loaded
    world.stock -= group_sum(src, sent, n)
    np.maximum(world.stock, 0.0, out=world.stock)  # rounding dust only
    world.pipeline += group_sum(dst, sent, n)
    out = group_sum(src, loaded, n)
    world.day_node_out += out
    world.day_node_shipped += out
    world.day_trucks += group_sum(src, np.where(keep, np.ceil(loaded / truck_kg - 1e-9), 0.0), n)
    return loaded


@kernel
def _book(src, dst, orders, sent, movable, truck_kg, n, backlog, unfilled, stock, pipeline, day_out, day_shipped,
          day_trucks):   # pragma: no cover (compiled)
    """:func:`_book_reference` in one compiled pass (row sums as numpy's, group sums in row order
    from 0.0, every whole-array update over the whole array as numpy's). The group sums are kept
    for the wave's suppliers and destinations only (:func:`_slots`), not city-sized: a node no
    link leaves (or reaches) gets the numpy update's + 0.0 (or - 0.0), which changes nothing but
    a -0.0 (and, for stock, clips what is not above 0 to 0.0)."""
    l_n, c_n = sent.shape
    loaded = np.empty(l_n)
    s_slot, s_n = _slots(src, n)
    short = np.zeros((s_n, c_n))
    left = np.zeros(s_n)
    keep = False
    for l in range(l_n):
        k = s_slot[src[l]]
        loaded[l] = _row_sum(sent[l], c_n)
        for c in range(c_n):
            x = movable[l, c] - sent[l, c]
            short[k, c] += x if (x > 0.0 or np.isnan(x)) else 0.0   # np.maximum(x, 0.0)
        left[k] += _row_sum(orders[l], c_n) - loaded[l]
        if loaded[l] > 0.0:
            keep = True
    if keep:
        d_slot, d_n = _slots(dst, n)
    else:
        d_slot, d_n = s_slot, 0
    out_c = np.zeros((s_n, c_n))
    in_c = np.zeros((d_n, c_n))
    out = np.zeros(s_n)
    trucks = np.zeros(s_n)
    if keep:
        for l in range(l_n):
            k, d = s_slot[src[l]], d_slot[dst[l]]
            for c in range(c_n):
                out_c[k, c] += sent[l, c]
                in_c[d, c] += sent[l, c]
            out[k] += loaded[l]
            trucks[k] += np.ceil(loaded[l] / truck_kg[l] - 1e-9) if loaded[l] > 0.0 else 0.0
    for i in range(n):
        k = s_slot[i]
        if k >= 0:
            unfilled[i] += left[k]
            for c in range(c_n):
                backlog[i, c] += short[k, c]
        else:   # + 0.0: only a -0.0 changes (to 0.0)
            _plus_zero(unfilled, i)
            for c in range(c_n):
                _plus_zero2(backlog, i, c)
        if not keep:
            continue
        if k >= 0:
            for c in range(c_n):
                x = stock[i, c] - out_c[k, c]
                stock[i, c] = x if (x > 0.0 or np.isnan(x)) else 0.0   # rounding dust only
            day_out[i] += out[k]
            day_shipped[i] += out[k]
            day_trucks[i] += trucks[k]
        else:   # stock - 0.0 is stock: only what is not above 0 (nor NaN) changes, to 0.0
            for c in range(c_n):
                if stock[i, c] <= 0.0:
                    stock[i, c] = 0.0
            _plus_zero(day_out, i)
            _plus_zero(day_shipped, i)
            _plus_zero(day_trucks, i)
        d = d_slot[i]
        if d >= 0:
            for c in range(c_n):
                pipeline[i, c] += in_c[d, c]
        else:
            for c in range(c_n):
                _plus_zero2(pipeline, i, c)
    return loaded


@kernel(inline=True)
def _plus_zero(a, i):   # pragma: no cover (compiled)
    """``a[i] += 0.0`` without a store where it changes nothing: only -0.0 becomes 0.0."""
    if a[i] == 0.0 and math.copysign(1.0, a[i]) < 0.0:
        a[i] = 0.0


@kernel(inline=True)
def _plus_zero2(a, i, j):   # pragma: no cover (compiled)
    """``a[i, j] += 0.0`` (:func:`_plus_zero`)."""
    if a[i, j] == 0.0 and math.copysign(1.0, a[i, j]) < 0.0:
        a[i, j] = 0.0


def _present(index: np.ndarray, n: int) -> np.ndarray:
    """The distinct values of ``index`` (< ``n``), ascending: ``np.unique`` without its sort."""
    seen = np.zeros(n, dtype=bool)
    seen[index] = True
    return np.flatnonzero(seen)


def _arrival(world: World, dst: np.ndarray, load: np.ndarray, kg: np.ndarray | None = None):
    """The convoy's unloading at its arrival: a load for a sorting centre with no crew on shift
    waits at the dock (still in transit) for the next shift with a crew at work. ``kg``: the
    loads' row sums, if known."""
    kg = load.sum(axis=1) if kg is None else kg
    unload = _unloading(world, dst, load, kg)
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
                _unloading(world, dst[sel], load[sel], kg[sel])(event)
            else:
                Urgent(world.env, float(w)).callbacks.append(_arrival(world, dst[sel], load[sel], kg[sel]))
    return at_dock


def _unloading(world: World, dst: np.ndarray, load: np.ndarray, kg: np.ndarray | None = None):
    """The unloading of ``load`` [R, C] at ``dst`` [R]: into stock, out of the pipeline (its
    rounding dust below zero cut once all are unloaded). Loads for the same destination are
    added one after another in row order, as ``np.add.at`` would (:func:`_unload`). ``kg``: the
    loads' row sums [R] (the day's inflow), if known."""
    kg = load.sum(axis=1) if kg is None else kg

    def unload(_event) -> None:
        _unload(world.stock, world.pipeline, world.day_node_in, dst, load, kg)
    return unload


@kernel
def _unload(stock, pipeline, day_in, dst, load, kg):   # pragma: no cover (compiled)
    """``np.add.at(stock, dst, load)``, ``np.subtract.at(pipeline, dst, load)``, then
    ``pipeline[dst] = np.maximum(pipeline[dst], 0.0)`` and ``np.add.at(day_in, dst, kg)``: in place."""
    c = load.shape[1]
    for r in range(len(dst)):
        d = dst[r]
        for j in range(c):
            stock[d, j] += load[r, j]
            pipeline[d, j] -= load[r, j]
        day_in[d] += kg[r]
    for r in range(len(dst)):
        d = dst[r]
        for j in range(c):
            if pipeline[d, j] <= 0.0:   # rounding dust only (np.maximum(p, 0.0): NaN kept, -0.0 made 0.0)
                pipeline[d, j] = 0.0
