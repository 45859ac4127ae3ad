"""Adaptability (what a regime switch or policy change regained) and evolvability (a second shock
after lessons are applied, against the first).

Notation as in :mod:`twin.metrics.robustness`; ``d`` a switch day, ``W`` the window in days,
``s'`` the curve of the comparison run (same shock, no switch).
"""

from __future__ import annotations

import math

import pandas as pd

from twin.metrics._common import MetricSettings
from twin.metrics.robustness import recovery_days, resilience_loss_person_days, time_to_failure_days

__all__ = ["adaptability", "episode_table", "evolvability", "switch_gains", "window_mean"]


def window_mean(service: pd.Series, start: float, end: float) -> float:
    """``mean{ s(t) : start <= t < end }`` (NaN when the window holds no day)."""
    t = service.index.to_numpy(dtype=float)
    v = service.to_numpy(dtype=float)[(t >= start) & (t < end)]
    return float(v.mean()) if len(v) else math.nan


def switch_gains(service: pd.Series, switches: list[float], window_days: int = 7) -> pd.DataFrame:
    """Within one run, service after each switch against service before it::

        before = mean{ s(t) : d - W <= t < d },  after = mean{ s(t) : d <= t < d + W },  gain = after - before

    >>> s = pd.Series([0.5, 0.5, 0.9, 0.9])
    >>> switch_gains(s, [2], window_days=2).to_dict("records")
    [{'switch_day': 2.0, 'before_level': 0.5, 'after_level': 0.9, 'gain_level': 0.4}]
    """
    rows = []
    for d in switches:
        before = window_mean(service, d - window_days, d)
        after = window_mean(service, d, d + window_days)
        rows.append({"switch_day": float(d), "before_level": before, "after_level": after,
                     "gain_level": after - before})
    return pd.DataFrame(rows, columns=["switch_day", "before_level", "after_level", "gain_level"])


def adaptability(service: pd.Series, comparison: pd.Series, switches: list[float], level: float,
                 population: float | pd.Series, window_days: int = 7) -> pd.DataFrame:
    """Service regained by each switch against the comparison run (same shock, no switch)::

        after = mean{ s(t) : d <= t < d + W },  after_no_switch = mean{ s'(t) : d <= t < d + W }
        regained_level = after - after_no_switch
        loss_avoided_person_days = sum_{t >= d} (max(0, L - s'(t)) - max(0, L - s(t))) * P(t)

    >>> run, cmp = pd.Series([1.0, 0.4, 0.8, 1.0]), pd.Series([1.0, 0.4, 0.5, 0.6])
    >>> adaptability(run, cmp, [2], level=1.0, population=100, window_days=2).round(6).to_dict("records")
    [{'switch_day': 2.0, 'after_level': 0.9, 'after_no_switch_level': 0.55, 'regained_level': 0.35, 'loss_avoided_person_days': 70.0}]
    """
    rows = []
    for d in switches:
        after, other = window_mean(service, d, d + window_days), window_mean(comparison, d, d + window_days)
        avoided = (resilience_loss_person_days(comparison, level, population, d)
                   - resilience_loss_person_days(service, level, population, d))
        rows.append({"switch_day": float(d), "after_level": after, "after_no_switch_level": other,
                     "regained_level": after - other, "loss_avoided_person_days": avoided})
    return pd.DataFrame(rows, columns=["switch_day", "after_level", "after_no_switch_level", "regained_level",
                                       "loss_avoided_person_days"])


def episode_table(service: pd.Series, population: float | pd.Series, episodes: list[tuple[float, float]],
                  level: float, settings: MetricSettings = MetricSettings()) -> pd.DataFrame:
    """Robustness and loss of each shock episode ``k``, read over its window
    ``[a_k, a_{k+1})`` (the last one to the end of the run), all against the pre-shock level ``L``
    of the first episode (the old normal)."""
    rows = []
    for k, (start, end) in enumerate(episodes):
        stop = episodes[k + 1][0] if k + 1 < len(episodes) else math.inf
        t = service.index.to_numpy(dtype=float)
        s = service[(t >= start) & (t < stop)]
        rows.append({
            "episode": k + 1, "start_day": start, "end_day": end,
            "min_service_level": float(s.min()) if len(s) else math.nan,
            "min_service_day": float(s.idxmin()) if len(s) else math.nan,
            "time_to_failure_days": time_to_failure_days(s, start, level, settings.threshold),
            "recovery_days": recovery_days(s, start, level, settings.threshold, settings.hold_days),
            "loss_person_days": resilience_loss_person_days(service, level, population, start, stop),
        })
    return pd.DataFrame(rows)


def evolvability(episodes: pd.DataFrame) -> dict[str, float]:
    """Loss in the second shock against the first::

        loss_ratio = loss_2 / loss_1,   evolvability = 1 - loss_ratio

    ``evolvability > 0``: the city lost less the second time (it learned); ``< 0``: more.
    A ratio x/0 is ``inf`` and 0/0 is NaN. Empty when there are fewer than two episodes.

    >>> evolvability(pd.DataFrame({"loss_person_days": [200.0, 50.0]}))
    {'first_shock_loss_person_days': 200.0, 'second_shock_loss_person_days': 50.0, 'second_over_first_loss_ratio': 0.25, 'evolvability': 0.75}
    """
    if len(episodes) < 2:
        return {}
    first, second = (float(x) for x in episodes["loss_person_days"].iloc[:2])
    ratio = second / first if first > 0 else (math.inf if second > 0 else math.nan)
    return {"first_shock_loss_person_days": first, "second_shock_loss_person_days": second,
            "second_over_first_loss_ratio": ratio, "evolvability": 1.0 - ratio}
