"""The safety net's serving rule in compiled loops (:func:`twin.jit.kernel`).

:func:`serve_in_order` is :func:`twin.policies.safety_net.serve_in_order` (the readable rule and
its reference; tests/test_safety_net_fast.py holds the two to the same integers) with each
ledger's bounding step and its capacity update one pass over the batches instead of a dozen numpy
passes. Its floats are numpy's: :func:`~twin.policies.safety_net.grouped_exclusive_cumsum` is a
running sum over the batches in stable pool order (numpy's ``cumsum`` adds in sequence), less its
value at the pool's first batch; a pool's use is summed in batch order, as ``np.bincount`` does;
``minimum`` propagates NaN as numpy's does.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from twin.jit import kernel
from twin.policies.flows import pairwise_sum
from twin.policies.residents_fast import _min
from twin.policies.safety_net import Ledger

__all__ = ["expired_batches", "first_come", "priority_keys", "serve_in_order", "spread_goods"]


def serve_in_order(n: np.ndarray, kind: np.ndarray, ledgers: Sequence[Ledger], passes: int = 3) -> np.ndarray:
    """:func:`twin.policies.safety_net.serve_in_order` of batches whose loads are their kind's, the
    same served requests [B]: each ledger is ``(pool [B], load [S, M], capacity [P, M])`` with one
    request of batch ``b`` using ``load[kind[b]]`` (the rule's ledger ``(pool, load[kind], capacity)``;
    the safety net's kinds are its special groups, so no [B, M] loads are gathered)."""
    n = np.asarray(n, dtype=np.int64)
    kind = np.ascontiguousarray(kind, dtype=np.int64)
    served = np.zeros(len(n), dtype=np.int64)
    ledgers = [(np.ascontiguousarray(pool, dtype=np.int64), np.ascontiguousarray(load, dtype=float),
                np.array(cap, dtype=float)) for pool, load, cap in ledgers]
    waiting = n > 0
    for _ in range(passes):
        rows = np.flatnonzero(waiting)
        fit = (n - served)[rows].astype(float)
        for pool, load, cap in ledgers:
            if not len(rows):
                break
            rows, fit = _bound(rows, fit, pool, kind, load, cap)
        if not len(rows):
            break
        got = fit.astype(np.int64)
        served[rows] += got
        waiting[rows] = False
        for pool, load, cap in ledgers:
            _use(rows, got, pool, kind, load, cap)
    return served


@kernel
def _bound(rows, fit, pool, kind, load, cap):
    """One ledger's bound on the batches ``rows`` (in serving order) that may take ``fit`` requests
    each: the rows that can take at least one, and how many (the inner step of the reference)."""
    r, m = rows.shape[0], load.shape[1]
    alone = np.empty(r, np.int64)   # rows that could fit alone, in order
    a = 0
    for i in range(r):
        s, p = kind[rows[i]], pool[rows[i]]
        ok = True
        for j in range(m):
            u = load[s, j]
            if not (u <= cap[p, j] * (1 + 1e-9) or u <= 0):
                ok = False
                break
        if ok:
            alone[a] = i
            a += 1
    # stable order by pool of those rows (a counting sort), for the running sums
    n_pools = cap.shape[0]
    start = np.zeros(n_pools + 1, np.int64)
    for t in range(a):
        start[pool[rows[alone[t]]] + 1] += 1
    for q in range(n_pools):
        start[q + 1] += start[q]
    order = np.empty(a, np.int64)
    for t in range(a):
        q = pool[rows[alone[t]]]
        order[start[q]] = t
        start[q] += 1
    # what the rows ahead in its pool may take (numpy's cumsum over the stable order, less its
    # exclusive value at the pool's first row) bounds each row: the least room over the columns
    least = np.empty(a)
    run = np.zeros(m)
    first = np.empty(m)
    last_pool = -1
    for o in range(a):
        t = order[o]
        i = alone[t]
        b = rows[i]
        q, s = pool[b], kind[b]
        bound = np.inf
        for j in range(m):
            u = load[s, j]
            v = fit[i] * u
            run[j] = run[j] + v
            excl = run[j] - v
            if q != last_pool:
                first[j] = excl
            room = np.floor((cap[q, j] - (excl - first[j])) / u + 1e-9) if u > 0 else np.inf
            bound = _min(bound, room)
        least[t] = bound
        last_pool = q
    out_rows = np.empty(a, np.int64)
    out_fit = np.empty(a)
    k = 0
    for t in range(a):
        i = alone[t]
        f = _min(fit[i], least[t])
        if f >= 1:
            out_rows[k] = rows[i]
            out_fit[k] = f
            k += 1
    return out_rows[:k], out_fit[:k]


@kernel
def _use(rows, got, pool, kind, load, cap):
    """Take what the batches ``rows`` were given (``got`` requests each) from their pools' capacity:
    each pool's use summed in batch order, then subtracted (``np.bincount``'s sums)."""
    used = np.zeros(cap.shape[0])
    for j in range(cap.shape[1]):
        used[:] = 0.0
        for i in range(rows.shape[0]):
            b = rows[i]
            used[pool[b]] += got[i] * load[kind[b], j]
        for q in range(cap.shape[0]):
            cap[q, j] -= used[q]


def spread_goods(spread, one, members, cats, price, price_index, n_categories):
    """What the served requests hand to the compounds' resident groups.

    The kg spread per head over a compound's groups (``spread`` [K, U] x ``members`` [K, G]) plus
    the kg of requests from one group (``one`` [K x G, U], or no rows when there are none), in
    the used categories ``cats`` [U] of ``n_categories``. Returns ``(rows, got, spent, total)``:
    the compounds that get anything [R], their goods [R, G, C], what those are worth [R, G] at
    ``price`` [C] x ``price_index`` (numpy's ``(got * price).sum(axis=2)``) and every compound's
    kg [K] (``got.sum(axis=(1, 2))`` of the whole [K, G, C] goods, a pairwise sum of each row).
    """
    gets = (spread != 0).any(axis=1)
    if len(one):
        gets |= (one != 0).any(axis=1).reshape(len(spread), members.shape[1]).any(axis=1)
    rows = np.flatnonzero(gets)
    got = np.zeros((len(rows), members.shape[1], n_categories))
    spent, total = np.empty((len(rows), members.shape[1])), np.zeros(len(spread))
    _spread_goods(rows, spread, one, members, cats, price, price_index, got, spent, total)
    return rows, got, spent, total


@kernel
def _spread_goods(rows, spread, one, members, cats, price, price_index, got, spent, total):
    """:func:`spread_goods` of the compounds ``rows``."""
    r_n, g_n, c_n = got.shape
    has_one = one.shape[0] > 0
    cost = np.empty(c_n)
    flat = got.reshape(r_n, g_n * c_n)
    for r in range(r_n):
        k = rows[r]
        for g in range(g_n):
            for u in range(cats.shape[0]):
                v = spread[k, u] * members[k, g]
                if has_one:
                    v = v + one[k * g_n + g, u]
                got[r, g, cats[u]] = v
            for c in range(c_n):
                cost[c] = got[r, g, c] * price[c]
            spent[r, g] = pairwise_sum(cost) * price_index
        total[k] = pairwise_sum(flat[r])


@kernel
def expired_batches(created, group, patience, now, gone):
    """:func:`twin.policies.safety_net.expired` of batches made at ``created`` [B] by members of
    ``group`` [B] whose patience is ``patience`` [groups], into ``gone`` [B]; how many gave up."""
    count = 0
    for b in range(created.shape[0]):
        out = now - created[b] > patience[group[b]]
        gone[b] = out
        count += out
    return count


@kernel
def priority_keys(created, group, green, later_h):
    """:func:`twin.policies.safety_net.priority_key` of batches made at ``created`` [B] by members
    of ``group`` [B], whose groups have the green channel where ``green`` [groups]."""
    key = np.empty(created.shape[0])
    for b in range(created.shape[0]):
        key[b] = created[b] + (0.0 if green[group[b]] else later_h)
    return key


@kernel
def first_come(n, capacity):
    """:func:`twin.policies.safety_net.first_come`: whole requests taken [B] from batches ``n`` [B]
    in serving order by one server of ``capacity`` requests."""
    out = np.empty(n.shape[0], np.int64)
    cap = np.floor(capacity + 1e-9)
    ahead = 0
    for b in range(n.shape[0]):
        x = cap - ahead
        x = x if x > 0 else 0.0   # np.clip(x, 0, n): the lower bound, then the upper
        x = x if x < n[b] else float(n[b])
        out[b] = np.int64(x)
        ahead += n[b]
    return out
