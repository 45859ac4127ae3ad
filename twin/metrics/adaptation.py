"""Adaptability (what a regime switch or policy change regained), shock episodes, and evolvability
(what the city's kept adaptations saved in a second shock, against the same run without learning).

Notation as in :mod:`twin.metrics.robustness`; ``d`` a switch day, ``W`` the window in days,
``s'`` the curve of the comparison run (same shock, no switch).
"""

from __future__ import annotations

import math

import pandas as pd

from twin.metrics._common import MetricSettings
from twin.metrics.robustness import recovery_days, resilience_loss_person_days, time_to_failure_days

__all__ = ["EPISODE_COLUMNS", "adaptability", "episode_table", "evolvability", "switch_gains", "window_mean"]

#: the columns of :func:`episode_table`
EPISODE_COLUMNS = ["episode", "start_day", "end_day", "min_fill_of_need", "min_fill_day", "time_to_failure_days",
                   "recovery_days", "loss_person_days"]


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


def episode_table(curve: pd.Series, persons: float | pd.Series, episodes: list[tuple[float, float]],
                  level: float, settings: MetricSettings = MetricSettings()) -> pd.DataFrame:
    """Robustness and loss of each shock episode ``k`` (the one definition of failure and recovery of
    :mod:`twin.metrics.robustness`), read over its window ``[a_k, a_{k+1})`` (the last one to the end of
    the run), all against the pre-shock level ``L`` of the first episode (the old normal)::

        time_to_failure_days = t_f - a_k,  recovery_days = t_r - a_k  (inf: never),
        loss_person_days = sum_{a_k <= t < a_{k+1}} max(0, L - f(t)) * persons(t)

    >>> f = pd.Series([1.0, 1.0, 0.5, 0.9, 1.0, 1.0, 0.6, 0.6])   # a dip and recovery, then a collapse
    >>> episode_table(f, 10.0, [(2.0, 3.0), (6.0, 8.0)], 1.0)[["time_to_failure_days", "recovery_days",
    ...                                                          "loss_person_days"]].to_dict("list")
    {'time_to_failure_days': [0.0, 0.0], 'recovery_days': [2.0, inf], 'loss_person_days': [6.0, 8.0]}
    """
    rows = []
    t = curve.index.to_numpy(dtype=float)
    for k, (start, end) in enumerate(episodes):
        stop = episodes[k + 1][0] if k + 1 < len(episodes) else math.inf
        s = curve[(t >= start) & (t < stop)]
        rows.append({
            "episode": k + 1, "start_day": start, "end_day": end,
            "min_fill_of_need": float(s.min()) if len(s) else math.nan,
            "min_fill_day": float(s.idxmin()) if len(s) else math.nan,
            "time_to_failure_days": time_to_failure_days(curve, start, level, settings.threshold, stop),
            "recovery_days": recovery_days(curve, start, level, settings.threshold, settings.hold_days, stop),
            "loss_person_days": resilience_loss_person_days(curve, level, persons, start, stop),
        })
    return pd.DataFrame(rows, columns=EPISODE_COLUMNS)


def evolvability(learning: pd.DataFrame, counterfactual: pd.DataFrame) -> dict[str, float]:
    """What the adaptations the city kept after its first shock saved in the second: the episode tables
    of a run with learning and of the same scenario and seed without it (common random numbers, so
    the two runs are identical up to the end of the first episode)::

        loss_avoided = loss_2' - loss_2,    evolvability = 1 - loss_2 / loss_2'

    (``'`` the run without learning). ``evolvability > 0``: the city did better the second time
    because of what it kept; 0: no learning effect. ``x/0`` is ``-inf``, ``0/0`` 0. Empty when either
    run has fewer than two episodes.

    >>> with_ = pd.DataFrame({"loss_person_days": [200.0, 50.0]})
    >>> without = pd.DataFrame({"loss_person_days": [200.0, 150.0]})
    >>> {k: round(v, 4) for k, v in evolvability(with_, without).items()}   # doctest: +NORMALIZE_WHITESPACE
    {'first_shock_loss_person_days': 200.0, 'second_shock_loss_person_days': 50.0,
     'second_shock_loss_without_learning_person_days': 150.0, 'second_shock_loss_avoided_person_days': 100.0,
     'evolvability': 0.6667}
    """
    if len(learning) < 2 or len(counterfactual) < 2:
        return {}
    first, second = (float(x) for x in learning["loss_person_days"].iloc[:2])
    other = float(counterfactual["loss_person_days"].iloc[1])
    if other > 0:
        evo = 1.0 - second / other
    else:
        evo = -math.inf if second > 0 else 0.0
    return {"first_shock_loss_person_days": first, "second_shock_loss_person_days": second,
            "second_shock_loss_without_learning_person_days": other,
            "second_shock_loss_avoided_person_days": other - second, "evolvability": evo}
