"""Pure rules of the safety net: how many requests special groups make, in which order queued
requests are served, and how many of them the capacity, the stock and the volunteers allow.

No simulation here: each rule maps arrays to arrays. Requests travel in *batches* of identical
requests (one compound, one group, one call time); every rule returns whole requests.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["LATER_H", "Ledger", "crisis_rates", "expired", "first_come", "grouped_exclusive_cumsum", "overflow", "priority_key", "refill_credit",
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


def crisis_rates(rate: np.ndarray, rate_max: np.ndarray, crisis: np.ndarray, members: np.ndarray,
                 res_group: np.ndarray, gain: np.ndarray) -> np.ndarray:
    """Requests per day [K, S] of special groups whose uptake rises with the crises of the residents
    they live among: ``rate x (1 + sum_r gain_r x crisis_r)``, at most ``rate_max`` (uptake 1).

    ``crisis`` [K, G, R] flags of each resident group; a special group living in one resident
    group (``res_group`` [S] >= 0) reads that group's flags, the others the compound's share of
    residents in each crisis (``members`` [K, G]).

    >>> crisis_rates(np.array([[1.0, 1.0]]), np.array([[10.0, 1.5]]), np.array([[[1.0, 0.0], [0.0, 0.0]]]),
    ...              np.array([[0.5, 0.5]]), np.array([0, -1]), np.array([2.0, 1.0])).tolist()
    [[3.0, 1.5]]
    """
    spread = (crisis * members[:, :, None]).sum(axis=1)                           # [K, R]
    own = crisis[:, np.maximum(res_group, 0), :]                                  # [K, S, R]
    flags = np.where((res_group >= 0)[None, :, None], own, spread[:, None, :])
    return np.minimum(rate * (1.0 + flags @ gain), rate_max)


#: what sets a batch without the green channel behind every green one in a queue: more hours than any run
LATER_H = 1e7


def priority_key(green: np.ndarray, created_h: np.ndarray, later_h: float = LATER_H) -> np.ndarray:
    """Serving key of queued batches (smallest first): green channel first, then oldest call.
    Queues are kept sorted on it (ties keep their arrival order); ``later_h`` exceeds any run.

    >>> priority_key(np.array([False, True, False]), np.array([1.0, 5.0, 0.5])).argsort(kind="stable").tolist()
    [1, 2, 0]
    """
    return created_h + np.where(green, 0.0, later_h)


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


def first_come(n: np.ndarray, capacity: float) -> np.ndarray:
    """Whole requests taken [B] from batches in serving order by one server of ``capacity``
    requests (the case of :func:`serve_in_order` with one pool and unit loads).

    >>> first_come(np.array([2, 3, 1]), 4.5).tolist()
    [2, 2, 0]
    """
    n = np.asarray(n, dtype=np.int64)
    ahead = np.cumsum(n) - n
    return np.clip(np.floor(capacity + 1e-9) - ahead, 0, n).astype(np.int64)


def grouped_exclusive_cumsum(pool: np.ndarray, values: np.ndarray) -> np.ndarray:
    """For each row, the sum of ``values`` over the earlier rows of the same pool (rows in order).

    >>> grouped_exclusive_cumsum(np.array([0, 1, 0, 1, 0]), np.array([1.0, 2.0, 3.0, 4.0, 5.0])).tolist()
    [0.0, 0.0, 1.0, 2.0, 4.0]
    """
    if not len(pool):
        return np.zeros_like(values, dtype=float)
    ordered = bool((pool[1:] >= pool[:-1]).all())
    if ordered:
        order, p, v = None, pool, values.astype(float, copy=False)
    else:
        key = pool.astype(np.int16) if pool.max() < 2**15 and pool.min() >= 0 else pool   # radix sort
        order = np.argsort(key, kind="stable")
        p, v = pool[order], values[order].astype(float)
    excl = np.cumsum(v, axis=0) - v
    start = np.flatnonzero(np.r_[True, p[1:] != p[:-1]])
    excl -= np.repeat(excl[start], np.diff(np.r_[start, len(p)]), axis=0)
    if order is None:
        return excl
    out = np.empty_like(excl)
    out[order] = excl
    return out


def _all_rows(a: np.ndarray) -> np.ndarray:
    """``a.all(axis=1)`` of a tall [B, M] array, column by column (numpy reduces short rows slowly)."""
    if a.shape[1] == 0:
        return np.ones(a.shape[0], bool)
    out = a[:, 0].copy()
    for j in range(1, a.shape[1]):
        out &= a[:, j]
    return out


def _min_rows(a: np.ndarray) -> np.ndarray:
    """``a.min(axis=1, initial=np.inf)`` of a tall [B, M] array, column by column (exact)."""
    out = np.full(a.shape[0], np.inf)
    for j in range(a.shape[1]):
        np.minimum(out, a[:, j], out=out)
    return out


def serve_in_order(n: np.ndarray, ledgers: Sequence[Ledger], passes: int = 3) -> np.ndarray:
    """Whole requests served [B] of batches given in serving order, within every ledger's capacity.

    Each ledger is ``(pool [B], load [B, M], capacity [P, M])``: one request of batch ``b`` uses
    ``load[b]`` of the capacity of pool ``pool[b]`` (a district's teams, a compound's volunteers, a
    warehouse's stock per category, ...). A batch gets as many requests as fit after everything
    queued ahead of it in its pools; a batch that does not fit (goods out of stock) does not
    hold up later batches needing other things. Vectorised: in a pass, each ledger in turn bounds
    every batch by the room its pools leave after the bounds of the batches ahead (so the order
    of ``ledgers`` matters for speed only: put the tightest first); batches bounded to nothing
    drop out of the pass. Each later pass hands what is left to the batches that got nothing so
    far. Never more than ``n``, and the loads served never exceed any capacity: a close
    approximation of serving the batches one by one.

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
        rows = np.flatnonzero(waiting)
        fit = (n - served)[rows].astype(float)
        for (pool, load, _), cap in zip(ledgers, caps):
            p, u = (pool, load) if len(rows) == len(pool) else (pool[rows], np.take(load, rows, axis=0))   # rows: sorted
            held = np.take(cap, p, axis=0)
            alone = _all_rows((u <= held * (1 + 1e-9)) | (u <= 0))   # drop what cannot fit at all
            if not alone.all():
                rows, fit, p, u, held = rows[alone], fit[alone], p[alone], u[alone], held[alone]
            # what the batches ahead may still take is at most their bound so far: a safe reservation
            ahead = grouped_exclusive_cumsum(p, fit[:, None] * u)
            with np.errstate(divide="ignore", invalid="ignore"):
                room = np.where(u > 0, np.floor((held - ahead) / np.where(u > 0, u, 1.0) + 1e-9), np.inf)
            fit = np.minimum(fit, _min_rows(room))
            keep = fit >= 1
            rows, fit = rows[keep], fit[keep]
        if not len(rows):
            break
        got = fit.astype(np.int64)
        served[rows] += got
        waiting[rows] = False
        for (pool, load, _), cap in zip(ledgers, caps):
            used = got[:, None] * load[rows]
            for j in range(cap.shape[1]):
                cap[:, j] -= np.bincount(pool[rows], weights=used[:, j], minlength=len(cap))
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
