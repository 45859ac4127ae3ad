"""Pure rules of infection, detection and quarantine among workers (one day at a time).

Rates are per day; a rate ``r`` becomes a daily probability ``1 - exp(-r)``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["daily_prob", "detection_prob", "infection_prob", "contacts_quarantined", "entry_quarantine_factor",
           "incidence_on", "city_incidence", "map_districts", "district_incidence", "scenario_district_incidence",
           "pool_incidence"]

#: days at the end of a series whose mean is held (or decays) after it
TAIL_DAYS = 7


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


def incidence_on(series: np.ndarray, day: int, rule: str = "zero", half_life_days: float = 5.0) -> np.ndarray:
    """Value of a daily series (last axis = days) on ``day``; after its last day by ``rule``:
    ``zero``, ``hold`` (the mean of its last 7 days) or ``decay`` (that mean halving every
    ``half_life_days`` from the last day).

    >>> s = np.array([0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0])
    >>> float(incidence_on(s, 3)), float(incidence_on(s, 9, "zero")), float(incidence_on(s, 9, "hold"))
    (30.0, 0.0, 40.0)
    >>> float(incidence_on(s, 7 + 5, "decay", 5.0))
    20.0
    """
    series = np.asarray(series, dtype=float)
    n = series.shape[-1]
    if day < n:
        return series[..., day]
    if rule == "zero" or n == 0:
        return np.zeros(series.shape[:-1])
    level = series[..., -TAIL_DAYS:].mean(axis=-1)
    if rule == "hold":
        return level
    return level * 0.5 ** ((day - (n - 1)) / half_life_days)


def city_incidence(epi, day: int) -> float:
    """The city's reported cases per 100k residents on ``day`` (``epi``: the scenario's epidemic)."""
    return float(incidence_on(epi.incidence_per_100k, day, epi.after_series, epi.after_series_half_life_days))


def map_districts(csv_names: list[str], csv_totals: np.ndarray, districts: list[str],
                  district_pop: np.ndarray) -> np.ndarray:
    """Which districts of a case CSV stand for which scenario districts: a [J, D] boolean matrix.

    By name when every scenario district is a CSV district; otherwise by rank: CSV districts by
    total cases (descending) and scenario districts by population (descending) are dealt out
    round-robin, so that with fewer scenario districts each gets several CSV districts, and with
    more, several scenario districts share one CSV district.

    >>> map_districts(["x", "y", "z"], np.array([5.0, 9.0, 1.0]), ["big", "small"], np.array([9.0, 1.0])).astype(int).tolist()
    [[0, 1], [1, 0], [1, 0]]
    >>> map_districts(["x", "y"], np.array([5.0, 9.0]), ["y", "x"], np.array([1.0, 9.0])).astype(int).tolist()
    [[0, 1], [1, 0]]
    """
    j_n, d_n = len(csv_names), len(districts)
    m = np.zeros((j_n, d_n), dtype=bool)
    if not j_n or not d_n:
        return m
    index = {name: j for j, name in enumerate(csv_names)}
    if all(d in index for d in districts):
        for k, d in enumerate(districts):
            m[index[d], k] = True
        return m
    by_cases = sorted(range(j_n), key=lambda j: (-float(csv_totals[j]), csv_names[j]))
    by_pop = sorted(range(d_n), key=lambda k: (-float(district_pop[k]), k))
    for r in range(max(j_n, d_n)):
        m[by_cases[r % j_n], by_pop[r % d_n]] = True
    return m


def district_incidence(cases: np.ndarray, mapping: np.ndarray, district_pop: np.ndarray,
                       source_population: float) -> np.ndarray:
    """Reported cases per 100k residents [D, T] of each scenario district.

    The scenario city stands for the city behind the series (``source_population`` residents),
    the scenario districts mapped to a CSV district for that district at their share of the
    scenario's population: a CSV district's cases ``[J, T]`` fall on ``source_population`` x that
    share. So the population-weighted mean over districts is the series' total per 100k.

    >>> district_incidence(np.array([[10.0], [40.0]]), np.eye(2, dtype=bool), np.array([1.0, 1.0]), 1e5).tolist()
    [[20.0], [80.0]]
    """
    pop = np.asarray(district_pop, dtype=float)
    share = mapping @ pop / pop.sum() if pop.sum() > 0 else np.zeros(len(mapping))
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(share[:, None] > 0, cases / (source_population * share)[:, None] * 1e5, 0.0)
    return mapping.T.astype(float) @ rate


def scenario_district_incidence(epi, districts: tuple[str, ...], district_pop: np.ndarray) -> np.ndarray | None:
    """Reported cases per 100k residents [D, T] of the scenario's districts from the epidemic's
    district case series (None without one): :func:`map_districts`, then :func:`district_incidence`."""
    if not epi.district_cases:
        return None
    names = list(epi.district_cases)
    cases = np.array([epi.district_cases[n] for n in names], dtype=float)
    mapping = map_districts(names, cases.sum(axis=1), list(districts), district_pop)
    return district_incidence(cases, mapping, district_pop, float(epi.incidence_population))


def pool_incidence(day: int, epi, districts: np.ndarray | None, pool_district: np.ndarray,
                   district_pop: np.ndarray) -> np.ndarray:
    """Reported cases per 100k residents [P] around each worker pool's home on ``day``.

    With district series ``districts`` [D, T], a pool of a district gets its district's, a pool
    with no district (-1) the population-weighted mean; without, every pool gets the city's.
    After the series' end, ``epi.after_series`` decides.

    >>> from types import SimpleNamespace
    >>> epi = SimpleNamespace(incidence_per_100k=[3.0], after_series="zero", after_series_half_life_days=5.0)
    >>> pool_incidence(0, epi, np.array([[1.0], [9.0]]), np.array([0, 1, -1]), np.array([3.0, 1.0])).tolist()
    [1.0, 9.0, 3.0]
    >>> pool_incidence(0, epi, None, np.array([0, -1]), np.array([3.0, 1.0])).tolist()
    [3.0, 3.0]
    """
    if districts is None:
        return np.full(len(pool_district), city_incidence(epi, day))
    by_d = incidence_on(districts, day, epi.after_series, epi.after_series_half_life_days)
    pop = np.asarray(district_pop, dtype=float)
    mean = float(by_d @ pop / pop.sum()) if pop.sum() > 0 else 0.0
    return np.where(pool_district >= 0, by_d[np.maximum(pool_district, 0)], mean)
