"""Pure rules of the safety net: how many requests special groups make, in which order queued
requests are served, and how many of them the capacity, the stock and the volunteers allow.

No simulation here: each rule maps arrays to arrays. Requests travel in *batches* of identical
requests (one compound, one group, one call time); every rule returns whole requests.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["Ledger", "expired", "grouped_exclusive_cumsum", "overflow", "priority_order", "refill_credit",
           "request_rates", "serve_in_order"]

#: one kind of limit on serving: (pool of each batch [B], load of one request [B, M], capacity [P, M])
Ledger = tuple[np.ndarray, np.ndarray, np.ndarray]


def request_rates(population: np.ndarray, elderly_share: np.ndarray, share: np.ndarray, of_elderly: np.ndarray,
                  uptake: np.ndarray, every_days: np.ndarray) -> np.ndarray:
    """Expected requests per day [K, G] of each group in each compound.

    members = residents (x elderly share for groups counted among the elderly) x share;
    a member who uses the safety net asks once every ``every_days``.

    >>> request_rates(np.array([1000.0]), np.array([0.2]), np.array([0.05, 0.01]), np.array([True, False]),
    ...               np.array([0.5, 1.0]), np.array([7.0, 2.0])).round(4).tolist()
    [[0.7143, 5.0]]
    """
    base = np.where(of_elderly[None, :], (population * elderly_share)[:, None], population[:, None])
    return base * (share * uptake / every_days)[None, :]


def priority_order(green: np.ndarray, created_h: np.ndarray, first_id: np.ndarray) -> np.ndarray:
    """Serving order of queued batches: green channel first, then oldest call, then request id.

    >>> priority_order(np.array([False, True, False]), np.array([1.0, 5.0, 0.5]), np.array([2, 9, 4])).tolist()
    [1, 2, 0]
    """
    return np.lexsort((first_id, created_h, ~green))


def expired(created_h: np.ndarray, now_h: float, patience_h: np.ndarray | float) -> np.ndarray:
    """Batches whose members have waited longer than their patience: they give up.

    >>> expired(np.array([0.0, 5.0, 6.0]), 10.0, 4.5).tolist()
    [True, True, False]
    """
    return now_h - created_h > patience_h


def refill_credit(credit: np.ndarray | float, per_tick: np.ndarray | float, largest_load: np.ndarray | float):
    """Capacity available this tick: the tick's capacity plus what earlier ticks left unused, but
    never more than one tick's worth and one largest request. Whole requests use the fractions
    of capacity the earlier ticks left (2.5 calls an hour: 2, 3, 2, 3 ...), a tiny capacity still
    serves a request now and then, and what is served over ticks never exceeds the capacity
    summed over them (credit starts at 0).

    >>> float(refill_credit(0.5, 2.5, 1.0)), float(refill_credit(3.0, 2.5, 1.0)), float(refill_credit(0.9, 0.3, 3.0))
    (3.0, 3.5, 1.2)
    """
    return np.minimum(np.asarray(credit, dtype=float) + per_tick, np.asarray(per_tick) + largest_load)


def grouped_exclusive_cumsum(pool: np.ndarray, values: np.ndarray) -> np.ndarray:
    """For each row, the sum of ``values`` over the earlier rows of the same pool (rows in order).

    >>> grouped_exclusive_cumsum(np.array([0, 1, 0, 1, 0]), np.array([1.0, 2.0, 3.0, 4.0, 5.0])).tolist()
    [0.0, 0.0, 1.0, 2.0, 4.0]
    """
    if not len(pool):
        return np.zeros_like(values, dtype=float)
    order = np.argsort(pool, kind="stable")
    v = values[order].astype(float)
    cs = np.cumsum(v, axis=0)
    excl = cs - v
    p = pool[order]
    start = np.flatnonzero(np.r_[True, p[1:] != p[:-1]])
    first = np.repeat(start, np.diff(np.r_[start, len(p)]))
    excl -= excl[first]
    out = np.empty_like(excl)
    out[order] = excl
    return out


def serve_in_order(n: np.ndarray, ledgers: Sequence[Ledger], passes: int = 3) -> np.ndarray:
    """Whole requests served [B] of batches given in serving order, within every ledger's capacity.

    Each ledger is ``(pool [B], load [B, M], capacity [P, M])``: one request of batch ``b`` uses
    ``load[b]`` of the capacity of pool ``pool[b]`` (a district's teams, a compound's volunteers, a
    warehouse's stock per category, ...). A batch gets as many requests as fit after everything
    queued ahead of it in its pools; a batch that does not fit (goods out of stock) does not
    hold up later batches needing other things. Vectorised: the first pass reserves room for the
    whole of every earlier batch; each later pass hands what is left to the batches that got
    nothing so far (in order among themselves). Never more than ``n``, and the loads served never
    exceed any capacity: a close approximation of serving the batches one by one.

    >>> teams = (np.zeros(3, int), np.array([[1.0], [1.0], [1.0]]), np.array([[4.0]]))
    >>> serve_in_order(np.array([3, 2, 2]), [teams]).tolist()                  # first come, first served
    [3, 1, 0]
    >>> stock = (np.zeros(3, int), np.array([[2.0, 0.0], [0.0, 1.0], [1.0, 0.0]]), np.array([[3.0, 5.0]]))
    >>> serve_in_order(np.array([2, 2, 2]), [stock]).tolist()   # rice short: the medicine batch still goes
    [1, 2, 1]
    """
    n = np.asarray(n, dtype=np.int64)
    served = np.zeros(len(n), dtype=np.int64)
    caps = [np.array(cap, dtype=float) for _, _, cap in ledgers]
    waiting = n > 0
    for _ in range(passes):
        left = np.where(waiting, n - served, 0)
        if not left.any():
            break
        fit = left.astype(float)
        for (pool, load, _), cap in zip(ledgers, caps):
            ahead = grouped_exclusive_cumsum(pool, left[:, None] * load)
            with np.errstate(divide="ignore", invalid="ignore"):
                room = np.where(load > 0, np.floor((cap[pool] - ahead) / np.where(load > 0, load, 1.0) + 1e-9), np.inf)
            fit = np.minimum(fit, room.min(axis=1))
        got = np.clip(fit, 0, left).astype(np.int64)
        if not got.any():
            break
        served += got
        waiting &= got == 0
        for (pool, load, _), cap in zip(ledgers, caps):
            np.subtract.at(cap, pool, got[:, None] * load)
    return served


def overflow(n: np.ndarray, is_new: np.ndarray, created_h: np.ndarray, room: float) -> np.ndarray:
    """Requests of each batch turned away because the queue holds more than ``room``: the newest
    arrivals (``is_new``) are dropped first; requests already queued are never dropped.

    >>> overflow(np.array([3, 2, 4]), np.array([False, True, True]), np.array([0.0, 1.0, 2.0]), 5).tolist()
    [0, 0, 4]
    >>> overflow(np.array([3, 2, 4]), np.array([False, True, True]), np.array([0.0, 1.0, 2.0]), 2).tolist()
    [0, 2, 4]
    """
    n = np.asarray(n, dtype=np.int64)
    excess = int(n.sum() - np.floor(room))
    out = np.zeros(len(n), dtype=np.int64)
    if excess <= 0:
        return out
    new = np.flatnonzero(is_new)
    newest_first = new[np.argsort(-created_h[new], kind="stable")]
    before = np.cumsum(n[newest_first]) - n[newest_first]
    out[newest_first] = np.clip(excess - before, 0, n[newest_first])
    return out
