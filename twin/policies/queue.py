"""Pure rules of first-come-first-served queues of order batches (front warehouses' couriers)."""

from __future__ import annotations

import numpy as np

from twin.policies.flows import sum_rows

__all__ = ["serve_fcfs", "hist_quantile", "shift_capacity"]


def serve_fcfs(waiting: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """What a server takes from each batch [R, B] (batches oldest first along B) within its
    ``capacity`` [R]: the oldest batches whole, then part of the next, nothing after.

    >>> serve_fcfs(np.array([[3.0, 4.0, 5.0], [1.0, 0.0, 2.0]]), np.array([5.0, 10.0])).tolist()
    [[3.0, 2.0, 0.0], [1.0, 0.0, 2.0]]
    """
    before = np.cumsum(waiting, axis=1) - waiting
    cap = np.asarray(capacity, dtype=float)[:, None]
    with np.errstate(invalid="ignore"):
        return np.clip(cap - before, 0.0, waiting)


def hist_quantile(hist: np.ndarray, values: np.ndarray, q: float) -> np.ndarray:
    """The ``q`` quantile [R] of each row's weights ``hist`` [R, B] over ``values`` [B] (increasing):
    the least value at which the cumulative weight reaches ``q`` of the row's total; NaN for an
    empty row. Batches of identical orders share one value, so this is exact, not interpolated.

    >>> hist_quantile(np.array([[1.0, 1.0, 2.0], [0.0, 0.0, 0.0]]), np.array([1.0, 2.0, 3.0]), 0.5).tolist()
    [2.0, nan]
    """
    total = sum_rows(hist)
    cum = np.cumsum(hist, axis=1)
    idx = (cum < q * total[:, None] * (1.0 - 1e-12)).sum(axis=1)
    out = values[np.minimum(idx, len(values) - 1)].astype(float)
    return np.where(total > 0, out, np.nan)


def shift_capacity(day_kg: np.ndarray, crew_share: np.ndarray, starts_h: list[int], hours: int) -> np.ndarray:
    """Capacity [R, 24] per clock hour of servers working in shifts: a crew's share of the day's
    capacity ``day_kg`` [R] spread evenly over its shift's hours (a shift past midnight wraps to
    the early hours). ``crew_share`` [R, S]: each shift's crew's share of those at work.

    >>> shift_capacity(np.array([20.0]), np.array([[0.5, 0.5]]), [6, 14], 10)[0, [5, 6, 14, 15, 23]].tolist()
    [0.0, 1.0, 2.0, 2.0, 1.0]
    """
    on = np.zeros((len(starts_h), 24))
    for s, h in enumerate(starts_h):
        on[s, (h + np.arange(hours)) % 24] = 1.0 / hours
    with np.errstate(invalid="ignore"):
        rate = day_kg[:, None] * (crew_share @ on)
    return np.where(np.isinf(day_kg)[:, None], np.where(crew_share @ on > 0, np.inf, 0.0), rate)
