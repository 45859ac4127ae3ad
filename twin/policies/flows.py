"""Pure rules that decide how much moves: order-up-to replenishment and pro-rata rationing.

No simulation here: every function maps arrays to arrays, so each can be tested alone.
"""

from __future__ import annotations

import numpy as np

from twin.network.model import group_sum

__all__ = ["fill_by_priority", "fit_rows", "household_demand", "online_share", "order_up_to", "prorata_fill",
           "split_by_weight"]


def order_up_to(level: np.ndarray, stock: np.ndarray, pipeline: np.ndarray) -> np.ndarray:
    """Order what brings stock plus goods on the way up to ``level`` (never negative).

    >>> order_up_to(np.array([10.0, 10.0]), np.array([4.0, 12.0]), np.array([1.0, 0.0])).tolist()
    [5.0, 0.0]
    """
    return np.maximum(level - stock - pipeline, 0.0)


def prorata_fill(request: np.ndarray, node: np.ndarray, stock: np.ndarray, capacity_kg: np.ndarray,
                 priority: np.ndarray | None = None) -> np.ndarray:
    """Serve requests [R, C] at supplier ``node[r]`` from ``stock`` [N, C] within ``capacity_kg`` [N].

    Each supplier first rations every category in proportion to the requests for it when its
    stock runs short, then scales all it hands out down to its handling capacity (kg/day); with
    ``priority`` [C] (lower first), the capacity goes to the categories in priority order
    (:func:`fill_by_priority`). Returns the served quantities [R, C]: never more than requested,
    and the sum served by a supplier never exceeds its stock (per category) nor its capacity
    (over categories).

    >>> prorata_fill(np.array([[6.0], [2.0]]), np.array([0, 0]), np.array([[4.0]]), np.array([100.0])).tolist()
    [[3.0], [1.0]]
    >>> prorata_fill(np.array([[2.0, 2.0]]), np.array([0]), np.array([[9.0, 9.0]]), np.array([3.0]),
    ...              priority=np.array([1, 0])).tolist()
    [[1.0, 2.0]]
    """
    n = stock.shape[0]
    wanted = group_sum(node, request, n)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        by_stock = np.where(wanted > stock, stock / np.where(wanted > 0, wanted, 1.0), 1.0)
        if priority is not None:
            handed = wanted * by_stock
            by_capacity = ratio_of(fill_by_priority(handed, capacity_kg, priority), handed)
            return request * (by_stock * by_capacity)[node]
        handed = (wanted * by_stock).sum(axis=1)
        by_capacity = np.where(handed > capacity_kg, capacity_kg / np.where(handed > 0, handed, 1.0), 1.0)
    return request * by_stock[node] * by_capacity[node][:, None]


def ratio_of(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """``part / whole`` elementwise, 1 where ``whole`` is 0 (nothing asked: nothing cut).

    >>> ratio_of(np.array([1.0, 0.0]), np.array([4.0, 0.0])).tolist()
    [0.25, 1.0]
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(whole > 0, part / np.where(whole > 0, whole, 1.0), 1.0)


def fill_by_priority(kg: np.ndarray, budget: np.ndarray, priority: np.ndarray,
                     cost: np.ndarray | None = None) -> np.ndarray:
    """Fit each row of ``kg`` [R, C] into its ``budget`` [R], priority class by class (lower first).

    A class is served in full while the budget lasts; the class that exhausts it is scaled down
    uniformly; later classes get nothing. ``cost`` [R, C] (or [C]) prices a kg in budget units
    (default 1: the budget is in kg, e.g. a courier's capacity; CNY: a household's food budget).

    >>> fill_by_priority(np.array([[2.0, 2.0, 2.0]]), np.array([3.0]), np.array([1, 0, 1])).tolist()
    [[0.5, 2.0, 0.5]]
    """
    kg = np.asarray(kg, dtype=float)
    levels, cls = np.unique(np.asarray(priority), return_inverse=True)
    onehot = np.eye(len(levels))[cls.ravel()]                          # [C, L]
    spend = (kg if cost is None else kg * cost) @ onehot                # [R, L] per class
    with np.errstate(invalid="ignore", divide="ignore"):
        left = np.asarray(budget, dtype=float)[:, None] - (np.cumsum(spend, axis=1) - spend)
        scale = np.where(spend > left, np.maximum(left, 0.0) / np.where(spend > 0, spend, 1.0), 1.0)
    return kg * scale[:, cls.ravel()]


def split_by_weight(owner: np.ndarray, weight: np.ndarray, n_owners: int) -> np.ndarray:
    """Normalise ``weight`` within each owner (edges of a community); owners with no weight get 0.

    >>> split_by_weight(np.array([0, 0, 1]), np.array([1.0, 3.0, 0.0]), 2).tolist()
    [0.25, 0.75, 0.0]
    """
    total = group_sum(owner, weight, n_owners)[owner]
    return np.where(total > 0, weight / np.where(total > 0, total, 1.0), 0.0)


def household_demand(need: np.ndarray, stock: np.ndarray, target_days: np.ndarray) -> np.ndarray:
    """What households try to buy today: today's need plus the gap to their stock target
    (``target_days`` per row [R], or per row and category like ``need``).

    >>> household_demand(np.array([[2.0]]), np.array([[1.0]]), np.array([3.0])).tolist()
    [[7.0]]
    """
    target = np.asarray(target_days)
    if target.ndim < np.ndim(need):
        target = target[..., None]
    return np.maximum(need * (1.0 + target) - stock, 0.0)


def online_share(offline_share: np.ndarray, front_warehouse: np.ndarray, habit: float) -> np.ndarray:
    """Share of a community's purchases ordered online: residents who can, times the habit.

    Compounds with no front warehouse (``-1``) order nothing online.

    >>> online_share(np.array([0.1, 0.1]), np.array([3, -1]), 0.5).tolist()
    [0.45, 0.0]
    """
    return np.where(front_warehouse >= 0, (1.0 - offline_share) * habit, 0.0)


def fit_rows(kg: np.ndarray, budget_kg: np.ndarray, priority: np.ndarray | None = None) -> np.ndarray:
    """Scale each row of ``kg`` [R, C] down, keeping its mix, so its total fits ``budget_kg`` [R]
    (with ``priority`` [C]: class by class, :func:`fill_by_priority`).

    >>> fit_rows(np.array([[6.0, 2.0], [1.0, 1.0]]), np.array([4.0, np.inf])).tolist()
    [[3.0, 1.0], [1.0, 1.0]]
    """
    if priority is not None:
        return fill_by_priority(kg, budget_kg, priority)
    total = kg.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(total > budget_kg, budget_kg / np.where(total > 0, total, 1.0), 1.0)
    return kg * scale[:, None]
