"""Online orders inside the day: every front warehouse's first-come-first-served queue of order batches.

Mesoscopic: a *batch* is the orders of one day's cohort placed at one front warehouse in one clock
hour, all alike (the cohort's basket); the queue of a store is a ring of hourly batches
``q[F, H]`` (kg by placement hour, ``H`` = patience + 26 hours: a day of placements ahead and the
patience behind). A cohort (the orders households decide at the day's shopping phase) keeps its
composition by compound, resident group and category ``[K, G, C]``: a store's batches of one
cohort carry the same basket, so what couriers take from a batch is the same share of each of its
compounds' orders.

Goods: a store picks an accepted order at once (stock leaves its shelf, ``twin.processes.households``);
picked goods wait in the queue until delivered (into households' stock) or cancelled (back on the
shelf), so they are neither lost nor counted twice: :meth:`OrderBook.goods_kg` is the kg held in
orders, part of the balance's stock.

Times: the cohort of day ``d`` is decided at the shopping phase (10:00), picked then, and placed
(counted as placed, joining the queue) over the next 24 hours (clock hours from 10:00 on day ``d``, hours before 10:00 on day ``d + 1``) by
``orders.hourly_profile``, or all at ``orders.slot_release_h`` where slots are released. Couriers'
rounds leave at hh:35 (:data:`ROUND_MINUTE`) and take what is waiting, oldest first, within the
hour's capacity of the crews on shift (:func:`twin.policies.queue.shift_capacity`); an order is at
the door ``orders.courier_round_h`` later. A batch that has waited ``orders.patience_h`` hours at
a round is cancelled before the round is served.
"""

from __future__ import annotations

import math

import numpy as np

from twin.jit import kernel
from twin.network.model import Network, group_sum
from twin.policies.flows import sum_rows
from twin.policies.queue import serve_fcfs, shift_capacity

__all__ = ["OrderBook", "ROUND_MINUTE", "FLUSH_HOURS"]

#: minute past each hour at which couriers' rounds leave
ROUND_MINUTE = 35
#: rounds after which delivered and cancelled orders are handed over (before the 10:00 shopping phase
#: and the 23:45 record); in between they wait in the book (still goods in orders)
FLUSH_HOURS = (9, 23)


class Cohort:
    """One day's accepted orders: composition [K, G, C], per store [F, C] and [F], the placement
    hours used, and what rounds delivered and cancelled since the last hand-over [F]."""

    __slots__ = ("comp", "by_fw", "accepted", "hours", "delivered", "cancelled", "per_comm", "per_group", "base",
                 "spent")

    def __init__(self, comp: np.ndarray, by_fw: np.ndarray, hours: np.ndarray, per_comm: np.ndarray,
                 per_group: np.ndarray, base: np.ndarray, spent: np.ndarray):
        self.comp, self.by_fw, self.hours = comp, by_fw, hours
        self.accepted = sum_rows(by_fw)
        # [K, C] kg, [K, G] kg, baseline cost and price paid (at the price of the day it was placed)
        self.per_comm, self.per_group, self.base, self.spent = per_comm, per_group, base, spent
        self.delivered = np.zeros(len(by_fw))
        self.cancelled = np.zeros(len(by_fw))


class OrderBook:
    """Queues of online orders at every front warehouse (arrays over the F stores)."""

    def __init__(self, net: Network, sc, phase_h: float):
        self.net = net
        o, pattern = sc.orders, sc.shifts.front_warehouse
        self.fw = np.flatnonzero(net.is_kind("front_warehouse"))
        f = len(self.fw)
        slot = np.full(net.n_nodes + 1, f)
        slot[self.fw] = np.arange(f)
        self.comm_slot = np.where(net.comm_fw >= 0, slot[net.comm_fw], f)   # [K] store row (f: none)
        self.patience = int(o.patience_h)
        self.H = self.patience + 26
        self.q = np.zeros((f, self.H))
        self.phase = int(np.ceil(phase_h))
        w = np.asarray(o.hourly_profile, dtype=float)
        self.profile = w / w.sum()
        self.slot_h = int(o.slot_release_h)
        self.slot_when = o.slot_release_when
        self.round_h = float(o.courier_round_h)
        self.kg_per_order = float(sc.workforce.kg_per_parcel)
        self.starts, self.hours = list(pattern.starts_h), int(pattern.hours)
        self.crew_share = np.full((f, len(self.starts)), 1.0 / len(self.starts))
        self.slot_mode = np.zeros(f, dtype=bool)
        self.cohorts: dict[int, Cohort] = {}
        #: lead time of a batch taken at age a (hours since placement at the round): a + hh:35 + the ride
        self.lead_h = np.arange(self.patience) + ROUND_MINUTE / 60.0 + self.round_h
        self.wait_h = np.arange(self.patience) + ROUND_MINUTE / 60.0
        # the day's tallies [F] (zeroed by the recorder)
        self.day_placed = np.zeros(f)
        self.day_delivered = np.zeros(f)
        self.day_cancelled = np.zeros(f)
        self.day_lead = np.zeros((f, self.patience))     # kg delivered by age at the round
        self.turned_away: np.ndarray | None = None       # [K, G, C] cancelled since the last shopping phase
        self.served_district = np.zeros((len(net.districts), net.n_categories))   # delivered since then
        self.settled_district = np.zeros_like(self.served_district)                 # delivered or cancelled
        self._rates: np.ndarray | None = None
        self._goods: np.ndarray | None = None   # the hand-over's goods buffer (_delivered_goods)
        self._bufs: dict[int, np.ndarray] = {}   # the hand-over's sums of the delivered orders (_buffer)
        self._day_kg = np.zeros(f)
        self.t_abs = 0                                   # hour of the last round (or placement)
        self.oldest = 0                                  # no batch waits from an hour before this

    # -- placing ---------------------------------------------------------------------------------
    def slots_kg(self, world) -> np.ndarray:
        """What each node takes in online orders today [N]: inf, except at stores releasing slots,
        which take their couriers' capacity of a day less the orders still waiting at the release
        (those waiting now less what the crews take before it)."""
        out = np.full(self.net.n_nodes, np.inf)
        if self.slot_when == "never" or not len(self.fw):
            self.slot_mode[:] = False
            return out
        if self.slot_when == "always":
            self.slot_mode[:] = True
        else:
            net = self.net
            pop = np.bincount(self.comm_slot, weights=net.population, minlength=len(self.fw) + 1)[:-1]
            locked = np.bincount(self.comm_slot, weights=net.population * (world.comm_level >= 1),
                                 minlength=len(self.fw) + 1)[:-1]
            self.slot_mode = locked >= 0.5 * np.where(pop > 0, pop, np.inf)
        # a slot day starts at the release hour: the orders waiting now less what couriers take
        # before it are still there then, and take slots
        rates = self.rates(world)
        hour = self.phase % 24
        before = (np.arange(hour, hour + 24) % 24)[: (self.slot_h - hour) % 24 or 24]
        left = np.maximum(sum_rows(self.q) - sum_rows(rates[:, before]), 0.0)
        free = np.maximum(np.where(world.shut[self.fw], 0.0, world.courier_kg()[self.fw]) - left, 0.0)
        out[self.fw] = np.where(self.slot_mode, free, np.inf)
        return out

    def place(self, day: int, accepted: np.ndarray, spent: np.ndarray | None = None,
              per_group: np.ndarray | None = None, per_comm: np.ndarray | None = None) -> None:
        """Queue the orders households placed today [K, G, C] (already picked off the shelves);
        ``spent`` [K, G]: what they pay on delivery (default: the baseline cost); ``per_group``,
        ``per_comm``: their kg [K, G] and [K, C] where the caller has them."""
        f = len(self.fw)
        if not f:
            return
        per_comm = np.einsum("kgc->kc", accepted) if per_comm is None else per_comm
        by_fw = group_sum(self.comm_slot, per_comm, f + 1)[:f]
        total = sum_rows(by_fw)
        if total.sum() <= 0:
            return
        self.t_abs = max(self.t_abs, 24 * day + self.phase)
        clock = np.arange(24)
        when = np.where(clock >= self.phase, 24 * day + clock, 24 * (day + 1) + clock)   # absolute hour
        weights = np.where(self.slot_mode[:, None], (clock == self.slot_h)[None, :].astype(float),
                           self.profile[None, :])
        self.q[:, when % self.H] += total[:, None] * weights
        self.oldest = min(self.oldest, int(when[weights.any(axis=0)].min()))
        used = weights.any(axis=0)
        base = accepted @ self.net.price_per_kg
        self.cohorts[day] = Cohort(accepted, by_fw, when[used], per_comm,
                                   accepted.sum(axis=2) if per_group is None else per_group, base,
                                   base if spent is None else spent)

    # -- serving ---------------------------------------------------------------------------------
    def rates(self, world) -> np.ndarray:
        """Couriers' capacity [F, 24] per clock hour today (crews on shift; 0 where shut)."""
        day_kg = np.where(world.shut[self.fw], 0.0, world.courier_kg()[self.fw])
        return shift_capacity(day_kg, self.crew_share, self.starts, self.hours)

    def round(self, world, t_abs: int) -> None:
        """The couriers' round leaving at hh:35 of absolute hour ``t_abs``: cancel the batches that
        waited the patience, then serve the waiting ones oldest first within the hour's capacity."""
        self.t_abs = t_abs
        hour = t_abs % 24
        if hour == 0 or self._rates is None:   # crews and capacities are set by 00:15 for the day
            self._rates = self.rates(world)
            self._day_kg = world.courier_kg()[self.fw]
        if not self.cohorts:
            return
        self.day_placed += self.q[:, t_abs % self.H]    # the batches placed at hh:00 this hour
        pos = (t_abs - self.patience) % self.H
        gone = self.q[:, pos]
        if gone.any():
            self._cohort_of(t_abs - self.patience).cancelled += gone
            self.day_cancelled += gone
            self.q[:, pos] = 0.0
        cap = self._rates[:, hour]
        if cap.any():
            fw = self.fw
            cap = np.minimum(cap, np.maximum(self._day_kg - world.day_courier_out[fw], 0.0))
            oldest = self._oldest_age(t_abs)
            if oldest >= 0:
                ages = np.arange(oldest, -1, -1)
                cols = np.arange(t_abs - oldest, t_abs + 1) % self.H
                day_of = (t_abs - ages - self.phase) // 24   # nondecreasing, consecutive days
                out, parts = _serve_round(self.q, cols, cap, self.day_lead, day_of - day_of[0], int(day_of[-1] - day_of[0]) + 1)
                self.day_delivered += out
                world.day_courier_out[fw] += out
                for i, part in enumerate(parts):
                    if part.any():   # only a live cohort has batches to serve
                        self.cohorts[int(day_of[0]) + i].delivered += part
        if hour in FLUSH_HOURS:
            self.hand_over(world)

    def _oldest_age(self, t_abs: int) -> int:
        """Age of the oldest placed batch still waiting (-1: none), at most patience - 1; the
        oldest hour with orders moves forward as batches empty (``self.oldest``)."""
        t = max(self.oldest, t_abs - self.patience + 1)
        while t <= t_abs and not self.q[:, t % self.H].any():
            t += 1
        self.oldest = t
        return t_abs - t if t <= t_abs else -1

    def _cohort_of(self, t_abs: int) -> Cohort:
        return self.cohorts[(t_abs - self.phase) // 24]

    def hand_over(self, world) -> None:
        """Delivered orders join households' stock (paid at the price of the day they were placed,
        platform's markup included); cancelled ones go back on the shelf, and their households will
        turn to another channel; cohorts fully settled are dropped."""
        net = self.net
        f = len(self.fw)
        nd = len(net.districts)
        got = turned = None     # summed over cohorts: one hand-over to households, one back to the shelf
        goods = []              # each delivering cohort's orders [K, G, C] and share delivered [K]
        for day in list(self.cohorts):
            c = self.cohorts[day]
            acc = np.where(c.accepted > 0, c.accepted, 1.0)
            if c.delivered.any():
                g = np.append(c.delivered / acc, 0.0)[self.comm_slot]
                goods.append((c.comp, g))
                if got is None:   # into kept buffers: read before the next hand-over (world.receive adds them up)
                    got = [_times_rows(self._buffer(i, a.shape), a, g, add=False)
                           for i, a in enumerate((c.per_group, c.base, c.spent, c.per_comm))]
                else:   # added to the sums over the earlier cohorts (a + b: the same floats, in place)
                    for total, a in zip(got, (c.per_group, c.base, c.spent, c.per_comm)):
                        _times_rows(total, a, g)
                c.delivered = np.zeros(f)
            if c.cancelled.any():
                share = c.cancelled / acc
                world.stock[self.fw] += c.by_fw * share[:, None]
                g = np.append(share, 0.0)[self.comm_slot]
                if turned is None:
                    turned = [_times_rows(None, a, g) for a in (c.comp, c.per_group, c.per_comm)]
                else:
                    for total, a in zip(turned, (c.comp, c.per_group, c.per_comm)):
                        _times_rows(total, a, g)
                c.cancelled = np.zeros(f)
            if not self.q[:, self._live(c)].any():
                del self.cohorts[day]
        if got is not None:
            hh = world.hh_stock
            if hh.dtype == float and hh.flags.c_contiguous and all(comp.shape == hh.shape for comp, _ in goods):
                self._stock_goods(hh, goods)   # into households' stock at once: the floats of hh + (the goods' sum)
                world.receive(None, "online", pushed=True, spent_cny=got[2], per_group=got[0], base=got[1], in_stock=True)
            else:
                total = self._delivered_goods(*goods[0])
                for comp, g in goods[1:]:
                    _times_rows(total, comp, g)
                world.receive(total, "online", pushed=True, spent_cny=got[2], per_group=got[0], base=got[1])
            by_d = group_sum(net.comm_district, got[3], nd)
            self.served_district += by_d
            self.settled_district += by_d
        if turned is not None:
            self.turned_away = turned[0] if self.turned_away is None else self.turned_away + turned[0]
            world.day_res["demand_kg"] += turned[1]   # asked, and never came
            self.settled_district += group_sum(net.comm_district, turned[2], nd)

    def _buffer(self, i: int, shape: tuple[int, ...]) -> np.ndarray:
        """Kept work array ``i`` of ``shape`` (its values: whatever was last written to it)."""
        buf = self._bufs.get(i)
        if buf is None or buf.shape != shape:
            buf = self._bufs[i] = np.empty(shape)
        return buf

    def _delivered_goods(self, comp: np.ndarray, g: np.ndarray) -> np.ndarray:
        """``comp * g[:, None, None]`` [K, G, C] (a cohort's goods delivered, ``g`` [K] the share) in
        a kept buffer, without a fresh city-sized array per hand-over (later cohorts are added to
        it in place). The buffer is read before the next hand-over (households' stock takes it at once)."""
        if self._goods is None or self._goods.shape != comp.shape:
            self._goods = np.empty(comp.shape)
        return _times_rows(self._goods, comp, g, add=False)

    def _stock_goods(self, hh: np.ndarray, goods: list[tuple[np.ndarray, np.ndarray]]) -> None:
        """``hh += sum of comp * g[:, None, None]`` over the delivering cohorts ``goods`` (summed in
        order, then added), in place on the C-ordered ``hh``: one pass for one cohort; else the
        earlier cohorts summed in the kept buffer and the last one's added with it."""
        (comp, g), shape = goods[-1], (len(hh), math.prod(hh.shape[1:]))
        if len(goods) == 1:
            _times_rows(hh, comp, g)
            return
        if len(goods) == 2:   # the usual case: both in the one pass, no sum kept in between
            (first, f), flat = goods[0], (lambda a: np.ascontiguousarray(a).reshape(shape))
            _add_two_into(hh.reshape(shape), flat(first), f, flat(comp), g)
            return
        total = self._delivered_goods(*goods[0])
        for c, h in goods[1:-1]:
            _times_rows(total, c, h)
        _add_sum_into(hh.reshape(shape), total.reshape(shape), comp.reshape(shape), g)

    # -- reading -----------------------------------------------------------------------------------
    def _live(self, c: Cohort) -> np.ndarray:
        """Ring columns of a cohort's batches not yet cancelled (a column of a batch cancelled long
        ago may already hold a later cohort's orders)."""
        return c.hours[c.hours >= self.t_abs - self.patience] % self.H

    def _share_left(self, c: Cohort, settled_too: bool) -> np.ndarray:
        left = sum_rows(self.q[:, self._live(c)])
        if settled_too:
            left = left + c.delivered + c.cancelled
        return left / np.where(c.accepted > 0, c.accepted, 1.0)

    def goods_kg(self) -> np.ndarray:
        """Kg per category [C] picked into orders not yet at the door nor back on the shelf."""
        out = np.zeros(self.net.n_categories)
        for c in self.cohorts.values():
            out += self._share_left(c, True) @ c.by_fw
        return out

    def on_order(self) -> np.ndarray | None:
        """What each resident group [K, G, C] has on order and not yet received (None: nothing)."""
        out = None
        for comp, left in self.on_order_parts():
            part = comp * left
            out = part if out is None else out + part
        return out

    def on_order_parts(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """:meth:`on_order` as the sum of ``comp x left`` over the live cohorts: each cohort's orders
        [K, G, C] and the share of them not yet received [K, 1, 1] (summed in this order)."""
        return [(c.comp, np.append(self._share_left(c, True), 0.0)[self.comm_slot][:, None, None])
                for c in self.cohorts.values()]

    def take_turned_away(self) -> np.ndarray | None:
        """What households had cancelled since the last shopping phase [K, G, C] (then cleared)."""
        out, self.turned_away = self.turned_away, None
        return out

    def take_settled(self) -> tuple[np.ndarray, np.ndarray]:
        """Online orders settled (delivered or cancelled) and delivered per district [D, C] since the
        last shopping phase (then cleared): what the market asked and got online, as the price rule
        reads them (an order counts when it is settled, as in the demand tallies)."""
        out = self.settled_district, self.served_district
        self.settled_district = np.zeros_like(out[0])
        self.served_district = np.zeros_like(out[1])
        return out

    def backlog_kg(self, t_abs: int) -> np.ndarray:
        """Kg of orders placed by hour ``t_abs`` and waiting at each store [F] (neither delivered nor
        cancelled; orders of the day's cohort due later are not placed yet)."""
        return sum_rows(self.q[:, (t_abs - np.arange(self.patience)) % self.H])

    def take_day(self) -> dict[str, np.ndarray]:
        """The day's tallies per store (kg placed, delivered, cancelled; kg delivered by age), then zeroed."""
        out = {"placed": self.day_placed.copy(), "delivered": self.day_delivered.copy(),
               "cancelled": self.day_cancelled.copy(), "lead": self.day_lead.copy()}
        for a in (self.day_placed, self.day_delivered, self.day_cancelled, self.day_lead):
            a[:] = 0.0
        return out


def _served(waiting: np.ndarray, cap: np.ndarray) -> np.ndarray:
    """What couriers take from each store's waiting batches [F, B] (oldest first) within ``cap`` [F]
    (:func:`~twin.policies.queue.serve_fcfs`), a batch left with rounding dust taken whole. Only
    stores with capacity and orders are computed: the others take nothing (what the rule gives them).
    Column-major, as the batches picked by a column index were: the sums over a store's batches
    then add them in the same order (numpy's row sums depend on the memory layout)."""
    served = np.zeros(waiting.shape, order="F")
    busy = ((cap > 0) & waiting.any(axis=1)) | np.isnan(cap)
    if busy.any():
        w = waiting[busy]
        part = serve_fcfs(w, cap[busy])
        served[busy] = np.where(w - part <= 1e-12 * w, w, part)   # no rounding dust left
    return served


@kernel
def _serve_round(q, cols, cap, day_lead, day_idx, n_days):   # pragma: no cover (compiled)
    """A round's serving in one pass, in place: ``served = _served(q[:, cols], cap)`` (``cols``: ring
    columns of ages oldest, ..., 0), then ``q[:, cols] -= served``, ``day_lead[:, oldest::-1] +=
    served``; returns ``served.sum(axis=1)`` [F] and each cohort's part [n_days, F] (columns with
    ``day_idx`` i summed), added column by column as numpy sums the column-major ``served``. ``cols`` are distinct."""
    f, b = q.shape[0], len(cols)
    out = np.zeros(f)
    parts = np.zeros((n_days, f))
    oldest = b - 1
    for r in range(f):
        c = cap[r]
        busy = np.isnan(c)
        if c > 0.0:
            for j in range(b):
                if q[r, cols[j]] != 0.0:
                    busy = True
                    break
        if not busy:   # serves nothing: the updates would add zeros (the queue and tallies as they are)
            continue
        # serve_fcfs: np.clip(cap - (cumsum - w), 0, w), a batch left with dust taken whole; each
        # batch's part booked as it is served (``cols`` are distinct: a batch is read before it is written)
        cum = 0.0
        total = 0.0   # out[r], from 0.0 as numpy's sums start
        for j in range(b):
            col = cols[j]
            w = q[r, col]
            cum = w if j == 0 else cum + w
            v = c - (cum - w)
            if not np.isnan(v):
                v = v if v > 0.0 else 0.0
            if not np.isnan(v):
                v = v if v < w else w
            s = w if w - v <= 1e-12 * w else v
            q[r, col] = w - s
            day_lead[r, oldest - j] += s
            total += s
            parts[day_idx[j], r] += s
        out[r] = total
    return out, parts


def _times_rows(total: np.ndarray | None, a: np.ndarray, g: np.ndarray, add: bool = True) -> np.ndarray:
    """``a * g`` by rows (``a`` [K, ...], ``g`` [K]) into a fresh array (``total`` None), else into
    ``total`` in place: added to it (``total += a * g``, the floats of ``total + a * g``), or
    written over it (``add`` False). One compiled pass, no temporaries.

    >>> _times_rows(None, np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([2.0, 0.5])).tolist()
    [[2.0, 4.0], [1.5, 2.0]]
    >>> _times_rows(np.ones((2, 2)), np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([2.0, 0.5])).tolist()
    [[3.0, 5.0], [2.5, 3.0]]
    """
    if total is None:
        total, add = np.empty(a.shape), False
    if not total.flags.c_contiguous:
        raise ValueError("_times_rows: total must be C-ordered (written through a flat view)")
    shape = (len(a), math.prod(a.shape[1:]))
    _times_rows_into(total.reshape(shape), a.reshape(shape), g, add)
    return total


@kernel
def _times_rows_into(total, a, g, add):   # pragma: no cover (compiled)
    """``total[k] (+)= a[k] * g[k]`` for [K, W] arrays, in place."""
    w = a.shape[1]
    for k in range(a.shape[0]):
        f = g[k]
        if add:
            for i in range(w):
                total[k, i] += a[k, i] * f
        else:
            for i in range(w):
                total[k, i] = a[k, i] * f


@kernel
def _add_sum_into(hh, total, a, g):   # pragma: no cover (compiled)
    """``hh[k] += total[k] + a[k] * g[k]`` for [K, W] arrays, in place."""
    for k in range(a.shape[0]):
        f = g[k]
        for i in range(a.shape[1]):
            hh[k, i] += total[k, i] + a[k, i] * f


@kernel
def _add_two_into(hh, a, ga, b, gb):   # pragma: no cover (compiled)
    """``hh[k] += a[k] * ga[k] + b[k] * gb[k]`` for [K, W] arrays, in place: the floats of
    ``total = a * ga``, ``total += b * gb``, ``hh += total``."""
    for k in range(a.shape[0]):
        f, h = ga[k], gb[k]
        for i in range(a.shape[1]):
            hh[k, i] += a[k, i] * f + b[k, i] * h
