"""Surge capacity: crews work harder (overtime, extra shifts, borrowed staff) for a while.

A crew's normal capacity is headcount x productivity. When its load exceeds that, it can add up
to ``max_extra`` of it (the full surge) while its surge budget lasts. The budget is counted in
days of full surge: a day spent at a share ``u`` of the full surge uses ``u`` days of it, and
the rest of the day (``1 - u``) restores ``recovery_per_day`` days, up to the full budget. With
less than one day left, only that fraction of the surge is available. A crew can therefore hold
a surge share of ``r / (1 + r)`` indefinitely (``r`` the recovery rate) and the full surge for
about ``budget`` days from rested.

No simulation here: the functions map arrays to arrays.
"""

from __future__ import annotations

import numpy as np

__all__ = ["available_extra", "surge_used", "next_budget", "overtime_hours"]


def available_extra(budget_days: np.ndarray, max_extra: float | np.ndarray) -> np.ndarray:
    """Extra capacity (share of normal) a crew may add today, given its budget left.

    >>> available_extra(np.array([5.0, 0.5, 0.0]), 0.5).tolist()
    [0.5, 0.25, 0.0]
    """
    return np.asarray(max_extra, dtype=float) * np.clip(budget_days, 0.0, 1.0)


def surge_used(load_kg: np.ndarray, normal_kg: np.ndarray, max_extra: float | np.ndarray) -> np.ndarray:
    """Share ``u`` in [0, 1] of the full surge a day's load needed beyond normal capacity.

    Unlimited crews (normal capacity ``inf``) and crews with no capacity never surge.

    >>> surge_used(np.array([90.0, 120.0, 200.0, 5.0]), np.array([100.0, 100.0, 100.0, np.inf]), 0.5).tolist()
    [0.0, 0.4, 1.0, 0.0]
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        full = normal_kg * np.asarray(max_extra, dtype=float)
        u = (load_kg - normal_kg) / np.where(full > 0, full, 1.0)
    ok = np.isfinite(normal_kg) & (full > 0)
    return np.where(ok, np.clip(np.nan_to_num(u), 0.0, 1.0), 0.0)


def next_budget(budget_days: np.ndarray, used: np.ndarray, full_days: float, recovery_per_day: float) -> np.ndarray:
    """Budget after a day at surge share ``used``: spends ``used``, restores ``recovery x (1 - used)``.

    >>> next_budget(np.array([14.0, 14.0, 0.3, 13.9]), np.array([1.0, 0.5, 1.0, 0.0]), 14.0, 0.5).tolist()
    [13.0, 13.75, 0.0, 14.0]
    """
    return np.clip(budget_days - used + recovery_per_day * (1.0 - used), 0.0, full_days)


def overtime_hours(workers: np.ndarray, used: np.ndarray, max_extra: float | np.ndarray, shift_h: float) -> np.ndarray:
    """Extra worker-hours of a day at surge share ``used``: workers x used x max_extra x shift.

    Unlimited crews (``inf`` workers) never surge and count no hours.

    >>> overtime_hours(np.array([10.0, np.inf]), np.array([0.5, 0.0]), 0.5, 8.0).tolist()
    [20.0, 0.0]
    """
    extra = used * np.asarray(max_extra, dtype=float)
    with np.errstate(invalid="ignore"):
        hours = np.where(extra > 0, workers * extra * shift_h, 0.0)
    return np.where(np.isfinite(hours), hours, 0.0)
