"""Pure rules of infection, detection and quarantine among workers (one day at a time).

Rates are per day; a rate ``r`` becomes a daily probability ``1 - exp(-r)``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["daily_prob", "detection_prob", "infection_prob", "contacts_quarantined", "entry_quarantine_factor"]


def daily_prob(rate_per_day: np.ndarray | float) -> np.ndarray:
    """Probability of at least one event in a day at ``rate_per_day``.

    >>> round(float(daily_prob(np.log(2.0))), 6)
    0.5
    """
    return 1.0 - np.exp(-np.asarray(rate_per_day, dtype=float))


def infection_prob(pressure_per_day: np.ndarray, exposure: np.ndarray, work_beta: float,
                   infectious: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Daily chance a susceptible worker is infected: community pressure x exposure + work transmission.

    ``pressure_per_day`` is the infections per resident per day around the worker's home;
    work transmission is ``work_beta`` x the infectious share of those at work.

    >>> float(infection_prob(np.array([0.0]), np.array([1.0]), 0.0, np.array([5.0]), np.array([10.0]))[0])
    0.0
    """
    share = np.where(present > 0, infectious / np.where(present > 0, present, 1.0), 0.0)
    return daily_prob(pressure_per_day * exposure + work_beta * share)


def detection_prob(symptom_p: float, test_interval_days: float, sensitivity: float, delay_days: float) -> float:
    """Daily chance an infectious worker is found: by symptoms, or by routine tests.

    Routine tests every ``T`` days with results after ``d`` days find a case after about
    ``T/2 + d`` days, with probability ``sensitivity``: a daily rate of ``sensitivity / (T/2 + d)``.

    >>> detection_prob(0.0, 0.0, 0.8, 1.0)
    0.0
    >>> round(detection_prob(0.0, 2.0, 1.0, 1.0), 4)
    0.3935
    """
    routine = 0.0
    if test_interval_days > 0:
        routine = float(daily_prob(sensitivity / (test_interval_days / 2.0 + delay_days)))
    return 1.0 - (1.0 - symptom_p) * (1.0 - routine)


def contacts_quarantined(detected: np.ndarray, susceptible: np.ndarray, per_case: np.ndarray) -> np.ndarray:
    """Susceptible co-workers sent to quarantine with the day's detected cases (never more than there are).

    >>> contacts_quarantined(np.array([1, 2, 0]), np.array([50, 5, 9]), np.array([20.0, 3.0, 3.0])).tolist()
    [20, 5, 0]
    """
    return np.minimum(susceptible, np.rint(detected * per_case).astype(np.int64))


def entry_quarantine_factor(trip_days: float, quarantine_days: float) -> float:
    """Share of a cross-region driver's time left for driving when each trip ends in quarantine.

    >>> entry_quarantine_factor(2.0, 0.0), entry_quarantine_factor(2.0, 6.0)
    (1.0, 0.25)
    """
    return trip_days / (trip_days + quarantine_days)
