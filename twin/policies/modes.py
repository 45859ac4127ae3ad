"""Pure rules of the collective allocation modes: who can form a buying group, who gets a package.

No simulation here: each rule maps arrays to arrays (one entry per compound unless named).
"""

from __future__ import annotations

import numpy as np

__all__ = ["group_orders", "groups_formed", "package_due", "participation", "per_head_allocation", "trigger_fires"]


def participation(base: float, fatigue_per_day: float, days_running: float) -> float:
    """Share of eligible households still ordering after ``days_running`` days of group buying.

    Fatigue: residents juggling many group chats drop out, ``base / (1 + fatigue x days)``.

    >>> participation(0.9, 0.02, 0.0), round(participation(0.9, 0.02, 50.0), 3)
    (0.9, 0.45)
    """
    return base / (1.0 + fatigue_per_day * max(days_running, 0.0))


def group_orders(population: np.ndarray, offline_share: np.ndarray, household_size: float, share: float) -> np.ndarray:
    """Orders a compound's group collects: households that can order online, times participation.

    Offline residents (mostly elderly) cannot join.

    >>> group_orders(np.array([100.0, 1000.0]), np.array([0.0, 0.5]), 2.5, 0.5).tolist()
    [20.0, 100.0]
    """
    return population / household_size * (1.0 - offline_share) * share


def groups_formed(orders: np.ndarray, min_orders: float, has_leader: np.ndarray, leader_free: np.ndarray,
                  banned: np.ndarray) -> np.ndarray:
    """A compound is served through a group when it has a leader at work, enough orders and no ban.

    >>> groups_formed(np.array([50.0, 10.0, 50.0, 50.0]), 30.0, np.array([1, 1, 0, 1], bool),
    ...               np.array([1, 1, 1, 1], bool), np.array([0, 0, 0, 1], bool)).tolist()
    [True, False, False, False]
    """
    return has_leader & leader_free & ~banned & (orders >= min_orders)


def package_due(day: int, first_day: float, interval_days: float, n_compounds: int) -> np.ndarray:
    """Which compounds get their package today: each every ``interval_days``, staggered by compound.

    >>> package_due(10, 10, 3, 6).tolist()
    [True, False, False, True, False, False]
    >>> package_due(9, 10, 3, 3).tolist()
    [False, False, False]
    """
    if day < first_day:
        return np.zeros(n_compounds, dtype=bool)
    step = max(int(round(interval_days)), 1)
    return (np.arange(n_compounds) + int(day - first_day)) % step == 0


def per_head_allocation(wanted: np.ndarray, available: np.ndarray) -> np.ndarray:
    """Share out ``available`` [C] over requests ``wanted`` [R, C] by the same fraction for all.

    Packages are allocated per head: when the stock is short, every compound due gets the same
    share of its package.

    >>> per_head_allocation(np.array([[2.0, 1.0], [2.0, 1.0]]), np.array([2.0, 5.0])).tolist()
    [[1.0, 1.0], [1.0, 1.0]]
    """
    total = wanted.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(total > available, available / np.where(total > 0, total, 1.0), 1.0)
    return wanted * frac[None, :]


def trigger_fires(value: float, above: float | None, below: float | None) -> bool:
    """A threshold rule on one daily figure.

    >>> trigger_fires(5.0, 3.0, None), trigger_fires(0.8, None, 0.9), trigger_fires(0.95, None, 0.9)
    (True, True, False)
    """
    if above is not None:
        return value > above
    return below is not None and value < below
