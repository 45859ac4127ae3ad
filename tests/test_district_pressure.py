"""Infection pressure by district (the per-district case series) and after the series ends."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import twin
from tests.conftest import SCENARIOS
from twin.policies.epidemic import (district_incidence, incidence_on, map_districts, pool_incidence,
                                    scenario_district_incidence)
from twin.scenario import ScenarioError, load_scenario, parse_scenario

DISTRICT_CSV = SCENARIOS / "data" / "shanghai_2022_district_daily_cases.csv"


def _two_districts(tmp_path: Path, days: int, cases: dict[str, float]) -> dict:
    """A city of 400,000 in two districts of 200,000; ``cases`` a day in each, every day."""
    csv = tmp_path / "cases.csv"
    rows = [(d.date(), name, n) for d in pd.date_range("2022-03-19", periods=days) for name, n in cases.items()]
    pd.DataFrame(rows, columns=["date", "district", "new_cases_total"]).to_csv(csv, index=False)
    return {"name": "two", "run": {"days": days},
            "city": {"population": 400_000,
                     "districts": [{"name": "a", "population": 200_000}, {"name": "b", "population": 200_000}]},
            "network": {"n_out_of_province_bases": 2, "n_suburban_bases": 1, "n_transit_warehouses": 1,
                        "n_wholesale_markets": 1, "n_sorting_centres": 2},
            # only community pressure infects: no work transmission, no contacts sent home
            "epidemic": {"district_incidence_csv": str(csv), "incidence_population": 400_000, "work_beta": 0.0,
                         "ascertainment": 1.0, "pressure_scale": 10.0, "contacts_per_case": 0.0,
                         "dormitory_cluster_size": 0.0}}


def test_a_district_with_ten_times_the_cases_has_ten_times_the_infections(tmp_path):
    # 40 cases a day among 200,000 = 20 per 100k; x 10 (pressure_scale) = a daily risk of 0.2%
    # per worker in district a, 2% in b, and the population-weighted mean (1.1%) for city-wide crews
    data = _two_districts(tmp_path, 30, {"a": 40.0, "b": 400.0})
    res = twin.run(data, seed=1)
    assert np.allclose(res["city"]["infection_per_100k"], 110.0)   # (40 + 400) per 400,000
    w = res["workforce"].sort_values(["pool", "t_day"])
    # susceptible at the start of each day: the day before's end (headcount on day 0)
    w["s_before"] = w.groupby("pool", observed=True)["susceptible"].shift(1).fillna(w["headcount"])
    rate = {"a": 20e-5 * 10, "b": 200e-5 * 10, "(city)": 110e-5 * 10}
    by = w.groupby("district", observed=True)
    observed = by["new_infected"].sum()
    exposure = by["s_before"].sum()          # susceptible worker-days
    for district, r in rate.items():
        expected = exposure[district] * (1.0 - np.exp(-r))
        assert observed[district] == pytest.approx(expected, rel=0.25 if district == "a" else 0.1), district
    per_day = observed / exposure
    assert 8.0 < per_day["b"] / per_day["a"] < 12.0          # ten times the risk: about ten times the infections
    assert observed["b"] > 5 * observed["a"]


def test_same_cases_everywhere_is_the_city_series(tmp_path):
    data = _two_districts(tmp_path, 3, {"a": 40.0, "b": 40.0})
    sc = parse_scenario(data)
    assert sc.epidemic.district_cases == {"a": [40.0] * 3, "b": [40.0] * 3}
    assert sc.epidemic.incidence_per_100k == [20.0] * 3     # filled from the districts when no city series
    net = twin.run(data, days=1).network
    d_pop = np.bincount(net.comm_district, weights=net.population)
    assert np.allclose(scenario_district_incidence(sc.epidemic, net.districts, d_pop), 20.0)


def test_rank_rule_deals_shanghai_districts_to_a_generated_city():
    """small_city's three districts are not Shanghai's: the most populous gets Pudong (most cases),
    and 16 districts are dealt round-robin by rank; no case is lost."""
    sc = load_scenario(SCENARIOS / "tiny" / "small_outbreak.toml",
                       {"epidemic.district_incidence_csv": str(DISTRICT_CSV)})
    epi = sc.epidemic
    assert len(epi.district_cases) == 16 and "浦东新区" in epi.district_cases
    names = list(epi.district_cases)
    cases = np.array([epi.district_cases[n] for n in names])
    pop = np.array([30_000.0, 20_000.0, 10_000.0])
    m = map_districts(names, cases.sum(axis=1), ["district_01", "district_02", "district_03"], pop)
    assert m.sum(axis=0).tolist() == [6, 5, 5] and (m.sum(axis=1) == 1).all()
    assert m[names.index("浦东新区"), 0]
    per_100k = district_incidence(cases, m, pop, float(epi.incidence_population))
    mean = pop @ per_100k / pop.sum()
    assert np.allclose(mean, cases.sum(axis=0) * 1e5 / epi.incidence_population)


def test_named_districts_take_their_own_series():
    m = map_districts(["黄浦区", "浦东新区"], np.array([1.0, 9.0]), ["浦东新区", "黄浦区"], np.array([5.0, 1.0]))
    assert m.astype(int).tolist() == [[0, 1], [1, 0]]


def test_after_series_rules():
    s = np.array([70.0, 60.0, 50.0, 40.0, 30.0, 20.0, 10.0, 0.0])   # last 7 days average 30
    assert incidence_on(s, 2, "decay") == 50.0                   # within the series: the series
    assert incidence_on(s, 8, "zero") == 0.0
    assert incidence_on(s, 30, "hold") == pytest.approx(30.0)
    assert incidence_on(s, 7 + 5, "decay", 5.0) == pytest.approx(15.0)
    assert incidence_on(s, 7 + 10, "decay", 5.0) == pytest.approx(7.5)
    assert incidence_on(np.zeros(0), 3, "hold") == 0.0


@pytest.mark.parametrize("rule, after", [("zero", [0.0, 0.0]), ("hold", [20.0, 20.0]), ("decay", [10.0, 5.0])])
def test_after_series_in_a_run(rule, after, small_city):
    """A 5-day series of 20 per 100k: the city's figure and the workers' pressure after day 4."""
    epi = {"incidence_per_100k": [20.0] * 5, "after_series": rule, "after_series_half_life_days": 5.0,
           "pressure_scale": 50.0, "work_beta": 0.0}
    res = twin.run(small_city, days=15, seed=3, overrides={"epidemic": epi})
    city = res["city"].set_index("t_day")["infection_per_100k"]
    assert np.allclose(city.loc[:4], 20.0)
    assert np.allclose(city.loc[[9, 14]], after)
    late = res["workforce"].query("t_day >= 6")["new_infected"].sum()
    assert (late == 0) if rule == "zero" else (late > 0)


def test_pool_without_district_gets_the_weighted_mean():
    from types import SimpleNamespace
    epi = SimpleNamespace(incidence_per_100k=[], after_series="hold", after_series_half_life_days=5.0)
    by_district = np.array([[10.0, 10.0], [40.0, 40.0]])
    got = pool_incidence(5, epi, by_district, np.array([0, 1, -1]), np.array([2.0, 1.0]))
    assert got.tolist() == [10.0, 40.0, 20.0]


def test_district_csv_errors_are_one_line(tmp_path, small_city):
    with pytest.raises(ScenarioError, match=r"epidemic\.district_column: no column 'area' in "
                                            r"shanghai_2022_district_daily_cases\.csv \(columns: date, district"):
        load_scenario(small_city, {"epidemic.district_incidence_csv": str(DISTRICT_CSV),
                                   "epidemic.district_column": "area"})
    with pytest.raises(ScenarioError, match=r"epidemic\.district_incidence_csv: file not found"):
        load_scenario(small_city, {"epidemic.district_incidence_csv": str(tmp_path / "none.csv")})
