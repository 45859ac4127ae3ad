"""Robustness and recovery read off a performance curve ``f(t)`` (a Series by day; the city's fill
of need, ``consumed / need``, unless another curve is given).

Notation: ``t0`` shock start day, ``w`` warm-up days, ``L`` pre-shock level, ``theta`` threshold
(0.95), ``e`` the end of the episode's window (the next episode's start, or the end of the run).
Days are whole: a day's value holds for the whole day, so areas are sums over days.

One definition of failure and recovery, used by the summary, ``twin compare`` and the report:

- the city has *failed* on the first day ``t_f`` in ``[t0, e)`` with ``f(t) < theta L``;
- it has *recovered* on ``t_r``, the day after the last failed day in ``[t0, e)``, when at least
  ``hold_days`` days at or above ``theta L`` follow before ``e`` (a dip and a second collapse is
  one failure, recovered only after the last);
- a time that never comes is ``inf`` here and null ("never") in ``summary.parquet``.
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


def _window(t: np.ndarray, start: float, end: float | None) -> np.ndarray:
    return (t >= start) & (t < (math.inf if end is None else end))


def pre_shock_level(service: pd.Series, shock_day: float | None, warmup_days: int = 3) -> float:
    """``L = mean{ f(t) : w <= t < t0 }``.

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


def failure_day(service: pd.Series, shock_day: float | None, level: float, threshold: float = 0.95,
                end_day: float | None = None) -> float:
    """``t_f = min{ t0 <= t < e : f(t) < theta L }``; ``inf`` if it never falls that low (or no shock)."""
    if shock_day is None:
        return math.inf
    t, v = _arrays(service)
    hit = _window(t, shock_day, end_day) & (v < threshold * level)
    return float(t[hit][0]) if hit.any() else math.inf


def time_to_failure_days(service: pd.Series, shock_day: float | None, level: float,
                         threshold: float = 0.95, end_day: float | None = None) -> float:
    """Time from shock to first failure, ``t_f - t0`` (``inf``: never failed).

    >>> s = pd.Series([1.0, 1.0, 1.0, 0.97, 0.8, 0.6, 0.9, 1.0])
    >>> time_to_failure_days(s, 2, 1.0)
    2.0
    """
    return failure_day(service, shock_day, level, threshold, end_day) - (shock_day or 0.0)


def recovery_day(service: pd.Series, shock_day: float | None, level: float, threshold: float = 0.95,
                 hold_days: int = 1, end_day: float | None = None) -> float:
    """``t_r`` = the day after the last day in ``[t0, e)`` below ``theta L``, if ``hold_days`` days at
    or above it follow inside the window; ``t0`` if it never failed, ``inf`` if not recovered."""
    tf = failure_day(service, shock_day, level, threshold, end_day)
    if math.isinf(tf):
        return float(shock_day) if shock_day is not None else 0.0
    t, v = _arrays(service)
    inside = _window(t, shock_day, end_day)
    t, v = t[inside], v[inside]
    last_bad = int(np.flatnonzero(v < threshold * level)[-1])
    after = t[last_bad + 1:]
    return float(after[0]) if len(after) >= max(hold_days, 1) else math.inf


def recovery_days(service: pd.Series, shock_day: float | None, level: float, threshold: float = 0.95,
                  hold_days: int = 1, end_day: float | None = None) -> float:
    """Time from shock to lasting return to ``theta`` of the pre-shock level, ``t_r - t0``: 0 if the
    curve never fell below it, ``inf`` if it has not returned by ``e``.

    >>> v = pd.Series([1.0, 1.0, 1.0, 0.8, 0.6, 0.4, 0.6, 0.8, 1.0, 1.0])   # V-shaped, shock on day 3
    >>> recovery_days(v, 3, 1.0), recovery_days(v.iloc[:8], 3, 1.0)
    (5.0, inf)
    >>> dip_then_collapse = pd.Series([1.0, 1.0, 0.9, 1.0, 1.0, 0.5, 0.4, 0.4])
    >>> recovery_days(dip_then_collapse, 1, 1.0)   # back up on day 3, but it did not last
    inf
    """
    return recovery_day(service, shock_day, level, threshold, hold_days, end_day) - (shock_day or 0.0)


def resilience_loss_person_days(service: pd.Series, level: float, persons: float | pd.Series,
                                start_day: float | None, end_day: float | None = None) -> float:
    """The resilience triangle: the area between the pre-shock level and the curve, weighted by
    ``persons(t)`` = need(t) / kg a person needs a day, so that for the fill-of-need curve it is
    person-days of food missing below the pre-shock level::

        loss = sum_{t0 <= t < e} max(0, L - f(t)) * need(t) / n   =   sum max(0, L need(t) - consumed(t)) / n

    ``e`` is the end of the run unless given; 0 without a shock. With ``L = 1`` it is the shortfall
    (``shortfall_kg / n``) of the window.

    >>> v = pd.Series([1.0, 1.0, 1.0, 0.8, 0.6, 0.4, 0.6, 0.8, 1.0, 1.0])
    >>> round(resilience_loss_person_days(v, 1.0, 1000, 3), 6)   # (0.2+0.4+0.6+0.4+0.2) x 1000 residents' need
    1800.0
    """
    if start_day is None:
        return 0.0
    t, v = _arrays(service)
    if isinstance(persons, pd.Series):
        pop = persons.reindex(service.sort_index().index).to_numpy(dtype=float)
    else:
        pop = np.full(len(t), float(persons))
    window = _window(t, start_day, end_day)
    return float((np.maximum(level - v[window], 0.0) * pop[window]).sum())
