"""Robustness and recovery read off a performance curve ``s(t)`` (a Series of service level by day).

Notation: ``t0`` shock start day, ``w`` warm-up days, ``L`` pre-shock level, ``theta`` threshold
(0.95), ``P(t)`` residents on day ``t``. Days are whole: a day's value holds for the whole day,
so areas are sums over days (no interpolation).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = ["failure_day", "pre_shock_level", "recovery_day", "recovery_days", "resilience_loss_person_days",
           "time_to_failure_days"]


def _arrays(service: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    s = service.sort_index()
    return s.index.to_numpy(dtype=float), s.to_numpy(dtype=float)


def pre_shock_level(service: pd.Series, shock_day: float | None, warmup_days: int = 3) -> float:
    """``L = mean{ s(t) : w <= t < t0 }``.

    Falls back to the days before ``t0`` inside the warm-up when ``t0 <= w``, and to 1.0 (full
    service) when there is no day before the shock. Without a shock (``t0`` None) the mean is
    over every day from ``w`` on.

    >>> s = pd.Series([0.5, 1.0, 0.9, 0.2, 0.4])
    >>> pre_shock_level(s, 3, warmup_days=1), pre_shock_level(s, 1), pre_shock_level(s, 0), pre_shock_level(s, None, 3)
    (0.95, 0.5, 1.0, 0.30000000000000004)
    """
    t, v = _arrays(service)
    end = math.inf if shock_day is None else shock_day
    for window in ((t >= warmup_days) & (t < end), t < end):
        if window.any():
            return float(v[window].mean())
    return 1.0


def failure_day(service: pd.Series, shock_day: float | None, level: float, threshold: float = 0.95) -> float:
    """``t_f = min{ t >= t0 : s(t) < theta L }``; ``inf`` if service never falls that low (or no shock)."""
    if shock_day is None:
        return math.inf
    t, v = _arrays(service)
    hit = (t >= shock_day) & (v < threshold * level)
    return float(t[hit][0]) if hit.any() else math.inf


def time_to_failure_days(service: pd.Series, shock_day: float | None, level: float,
                         threshold: float = 0.95) -> float:
    """Time from shock to first failure, ``t_f - t0`` (``inf``: never failed).

    >>> s = pd.Series([1.0, 1.0, 1.0, 0.97, 0.8, 0.6, 0.9, 1.0])
    >>> time_to_failure_days(s, 2, 1.0)
    2.0
    """
    return failure_day(service, shock_day, level, threshold) - (shock_day or 0.0)


def recovery_day(service: pd.Series, shock_day: float | None, level: float, threshold: float = 0.95,
                 hold_days: int = 1) -> float:
    """``t_r = min{ t > t_f : s(u) >= theta L for t <= u < t + hold_days }``; ``t0`` if it never failed,
    ``inf`` if it fails and has not recovered by the end of the run."""
    tf = failure_day(service, shock_day, level, threshold)
    if math.isinf(tf):
        return float(shock_day) if shock_day is not None else 0.0
    t, v = _arrays(service)
    ok = v >= threshold * level
    run = np.zeros(len(ok), dtype=int)  # run[i]: consecutive ok days starting at i
    for i in range(len(ok) - 1, -1, -1):
        run[i] = (run[i + 1] + 1 if i + 1 < len(ok) else 1) if ok[i] else 0
    hit = (t > tf) & (run >= hold_days)
    return float(t[hit][0]) if hit.any() else math.inf


def recovery_days(service: pd.Series, shock_day: float | None, level: float, threshold: float = 0.95,
                  hold_days: int = 1) -> float:
    """Time from shock to return to ``theta`` of pre-shock service, ``t_r - t0``: 0 if service never
    fell below it, ``inf`` if it has not returned by the end of the run.

    >>> v = pd.Series([1.0, 1.0, 1.0, 0.8, 0.6, 0.4, 0.6, 0.8, 1.0, 1.0])   # V-shaped, shock on day 3
    >>> recovery_days(v, 3, 1.0), recovery_days(v.iloc[:8], 3, 1.0)
    (5.0, inf)
    """
    return recovery_day(service, shock_day, level, threshold, hold_days) - (shock_day or 0.0)


def resilience_loss_person_days(service: pd.Series, level: float, population: float | pd.Series,
                                start_day: float | None, end_day: float | None = None) -> float:
    """The resilience triangle: area between the pre-shock level and the curve, in person-days
    of unmet need::

        loss = sum_{t0 <= t < t_end} max(0, L - s(t)) * P(t) * 1 day

    ``t_end`` is the end of the run unless given; 0 without a shock.

    >>> v = pd.Series([1.0, 1.0, 1.0, 0.8, 0.6, 0.4, 0.6, 0.8, 1.0, 1.0])
    >>> round(resilience_loss_person_days(v, 1.0, 1000, 3), 6)   # (0.2+0.4+0.6+0.4+0.2) x 1000
    1800.0
    """
    if start_day is None:
        return 0.0
    t, v = _arrays(service)
    if isinstance(population, pd.Series):
        pop = population.reindex(service.sort_index().index).to_numpy(dtype=float)
    else:
        pop = np.full(len(t), float(population))
    window = (t >= start_day) & (t < (math.inf if end_day is None else end_day))
    return float((np.maximum(level - v[window], 0.0) * pop[window]).sum())
