"""Workforce, epidemic attrition, lockdowns and cascade failure (issue 3)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import simpy

import twin
from tests.conftest import SCENARIOS
from twin.network import build_network
from twin.policies.epidemic import detection_prob
from twin.processes.workforce import workforce
from twin.scenario import parse_scenario
from twin.testing import check_invariants
from twin.world import World

RICE = [{"name": "rice", "need_kg_per_person_day": 2.0, "spoilage_per_day": 0.0, "baseline_price_per_kg": 6.0,
         "elasticity": 0.0}]   # price does not change what people buy: these tests are about logistics


def _courier_town(confine: float | None = None) -> dict:
    """One compound that orders everything online from a dark store with 10 couriers."""
    data = {
        "name": "courier_town",
        "city": {"communities": [{"id": "c", "district": "d", "population": 5000, "offline_share": 0.0,
                                  "front_warehouse": "dark", "outlets": ["shop"], "household_stock_days": 1.0}]},
        "network": {"nodes": [
            {"id": "base", "kind": "out_of_province_base", "production_kg_per_day": 1e8},
            {"id": "sorter", "kind": "sorting_centre", "stock_days": 10},
            {"id": "dark", "kind": "front_warehouse", "couriers": 10, "stock_days": 10},
            {"id": "shop", "kind": "supermarket", "stock_days": 10}],
            "links": [{"src": "base", "dst": "sorter"}, {"src": "sorter", "dst": "dark"},
                      {"src": "sorter", "dst": "shop"}]},
        "categories": RICE,
        "households": {"online_share": 1.0, "demand_noise_cv": 0.0},
        "lockdowns": [{"level": "static", "start_day": 3, "end_day": 30, "close_outlets": True}],
        "epidemic": {"pass_share": 1.0},     # supply workers hold passes: only the shock confines them
        "surge": {"max_extra": 0.0, "courier_max_extra": 0.0},   # no overtime: capacity counts heads
        "run": {"days": 20},
    }
    if confine is not None:
        data["shocks"] = [{"kind": "confinement", "kinds": ["front_warehouse"], "roles": ["couriers"],
                           "factor": confine, "start_day": 5, "end_day": 30}]
    return data


def test_confined_courier_housing_caps_online_deliveries_at_the_remaining_couriers():
    res = twin.run(_courier_town(confine=0.8), seed=1)
    c = res["communities"].set_index("t_day")
    per_courier = 100 * 5.0
    # 2 of 10 couriers left from day 5; the orders the store took before (slots of 06:00 day 5, released
    # for 10 couriers) wait, and those not delivered within the 48-hour patience are cancelled on day 7
    assert np.allclose(c.loc[8:, "delivered_online_kg"], 2 * per_courier)
    assert res["orders"].set_index("t_day").loc[7, "orders_cancelled"] > 0
    assert np.allclose(c.loc[1:4, "delivered_online_kg"], 10 * per_courier)     # all 10 before
    assert (c.loc[6:, "delivered_offline_kg"] == 0).all()                       # static: no trips
    w = res["workforce"]
    couriers = w[(w["role"] == "couriers") & (w["t_day"] >= 6)]
    assert np.allclose(couriers["confined"], 8.0) and np.allclose(couriers["active"], 2.0)
    check_invariants(res)


def test_zero_pressure_and_no_lockdown_change_nothing():
    base = parse_scenario({"name": "t", "city": {"population": 30_000, "n_districts": 2}, "run": {"days": 15}})
    quiet = base.model_copy(update={"epidemic": parse_scenario({"epidemic": {"incidence_per_100k": [0.0] * 15}}).epidemic})
    a, b = twin.run(base, seed=4), twin.run(quiet, seed=4)
    assert a.tables["communities"].equals(b.tables["communities"])
    assert a.tables["nodes"].equals(b.tables["nodes"])
    w = b["workforce"]
    assert (w["new_infected"] == 0).all() and (w["quarantined"] == 0).all() and (w["confined"] == 0).all()
    assert np.allclose(w["active"], w["headcount"])


def test_infection_pressure_removes_workers_and_compartments_add_up():
    data = {"name": "t", "city": {"population": 50_000, "n_districts": 2}, "run": {"days": 20},
            "epidemic": {"incidence_per_100k": [2000.0] * 20, "work_beta": 0.5}}
    res = twin.run(data, seed=2)
    w = res["workforce"]
    day = w.groupby("t_day")[["headcount", "infectious", "quarantined", "active", "new_infected"]].sum()
    assert day["new_infected"].sum() > 0 and day["quarantined"].max() > 0
    assert day["active"].iloc[-1] < day["headcount"].iloc[-1]
    check_invariants(res)


def test_routine_testing_finds_cases_sooner():
    assert detection_prob(0.1, 2.0, 0.8, 1.0) > detection_prob(0.1, 0.0, 0.8, 1.0)
    assert detection_prob(0.1, 2.0, 0.8, 0.0) > detection_prob(0.1, 2.0, 0.8, 3.0)


def test_quarantine_lasts_its_set_number_of_days():
    """Trace of one crew: a case found on day 0 and its dormitory stay out exactly 5 days."""
    sc = parse_scenario({**_courier_town(), "lockdowns": [],
                         "epidemic": {"initial_infected_share": 0.1, "closure_days_on_case": 0, "symptom_detect_per_day": 1.0,
                                      "quarantine_days": 5, "dormitory_cluster_size": 4, "work_beta": 0.0}})
    env = simpy.Environment()
    world = World(env, build_network(sc), sc)
    crew = np.flatnonzero(world.pools.role == 2)[0]
    trace = []

    def watch(env):
        yield env.timeout(1.0)
        while True:
            trace.append((int(env.now // 24), int(world.pools.quarantined[crew]), int(world.pools.R[crew])))
            yield env.timeout(24.0)

    env.process(workforce(env, world, 0.25, np.random.SeedSequence(0)))
    env.process(watch(env))
    env.run(until=24 * 8)
    assert trace[0] == (0, 5, 0)             # 1 case + 4 dorm mates (of 10 couriers)
    assert [q for _, q, _ in trace[:5]] == [5] * 5
    assert trace[5] == (5, 0, 1)             # out on day 5: the case recovered, contacts back to work


def test_detected_case_closes_the_node_for_disinfection():
    sc = {**_courier_town(), "lockdowns": [],
          "epidemic": {"initial_infected_share": 0.1, "symptom_detect_per_day": 1.0, "closure_days_on_case": 2,
                       "work_beta": 0.0},
          "shifts": {"disinfect_between_shifts": False}}     # a dark store working in shifts closes on a case
    ev = twin.run(sc, seed=0, days=6)["events"]
    dark = ev[ev["target"] == "dark"]
    assert dark["event"].tolist()[:2] == ["closure", "reopening"]
    assert dark["t_day"].tolist()[:2] == [0, 2]
    assert (dark["shock"] == "case_detected").all()
    sc["epidemic"]["bubble_kinds"] = ["front_warehouse"]                  # closed-loop: stays open
    ev = twin.run(sc, seed=0, days=6)["events"]
    assert not (ev["target"] == "dark").any()
    del sc["epidemic"]["bubble_kinds"]
    sc["shifts"]["disinfect_between_shifts"] = True                       # disinfected between shifts: stays open
    ev = twin.run(sc, seed=0, days=6)["events"]
    assert not (ev["target"] == "dark").any()


def _cascade_town() -> dict:
    """Sorting centre A feeds three shops holding 1, 3 and 5 days of stock; B feeds a fourth."""
    shops = [("s1", 1.0), ("s2", 3.0), ("s3", 5.0), ("s4", 1.0)]
    return {
        "name": "cascade",
        "city": {"communities": [{"id": f"c_{s}", "district": "d", "population": 1000, "outlets": [s],
                                  "household_stock_days": 0.0} for s, _ in shops]},
        "network": {"nodes": [
            {"id": "base", "kind": "out_of_province_base", "production_kg_per_day": 1e7},
            {"id": "hub", "kind": "transit_warehouse"},
            {"id": "A", "kind": "sorting_centre"}, {"id": "B", "kind": "sorting_centre"},
            *[{"id": s, "kind": "supermarket", "stock_days": d} for s, d in shops]],
            "links": [{"src": "base", "dst": "hub"}, {"src": "hub", "dst": "A"}, {"src": "hub", "dst": "B"},
                      {"src": "A", "dst": "s1"}, {"src": "A", "dst": "s2"}, {"src": "A", "dst": "s3"},
                      {"src": "B", "dst": "s4"}]},
        "categories": RICE,
        "households": {"demand_noise_cv": 0.0},
        "shocks": [{"kind": "closure", "nodes": ["A"], "start_day": 5, "end_day": 15}],
        "run": {"days": 25},
    }


def test_closing_a_sorting_centre_cascades_in_order_of_stock_and_recovers():
    res = twin.run(_cascade_town(), seed=0)
    nodes = res["nodes"]
    starved = nodes[nodes["status"] == "starved"].groupby("node_id", observed=True)["t_day"].min()
    assert starved["s1"] < starved["s2"] < starved["s3"]
    assert "s4" not in starved.index                                      # fed by the other centre
    city = res["city"].set_index("t_day")
    assert city.loc[4, "cascade_depth"] == 0
    assert city.loc[5:14, "failed_nodes_tier3"].eq(1).all()
    assert city.loc[13, "failed_nodes_tier4"] == 3 and city.loc[13, "cascade_depth"] == 2
    c = res["communities"]
    # reopening restores service; prices come down at most 10% a day, and until they are back under
    # 1.5x (low-income households' food budget) only the low-income go short
    r = res["residents"]
    late = r[r["t_day"] >= 16]
    assert np.allclose(late.loc[late["group"] != "low_income", "shortfall_kg"], 0.0)
    index = res["prices"].groupby("t_day")["price_index"].mean()
    poor = late[late["group"] == "low_income"].groupby("t_day")["shortfall_kg"].sum()
    assert (poor[index.loc[poor.index] < 1.5] < 1e-3).all() and (poor[index.loc[poor.index] > 1.6] > 1.0).all()
    # fed by the other centre, c_s4 never runs short of goods; its low-income residents face the
    # district's prices, which the cascade drove up, and cut what they cannot pay for
    s4 = r[r["community_id"] == "c_s4"]
    assert s4.loc[s4["group"] != "low_income", "shortfall_kg"].sum() == 0
    assert c.loc[(c["community_id"] == "c_s4"), "unmet_kg"].sum() == pytest.approx(0.0, abs=1e-6)
    ev = res["events"]
    assert {"s1", "s2", "s3"} <= set(ev.loc[ev["event"] == "starved", "target"])
    assert {"s1", "s2", "s3"} <= set(ev.loc[ev["event"] == "restocked", "target"])
    assert "s4" not in set(ev["target"])


def test_transfer_stations_spare_drivers_the_entry_quarantine():
    base = {"name": "t", "city": {"population": 40_000, "n_districts": 2}, "run": {"days": 25},
            "epidemic": {"entry_quarantine_days": 7.0},
            "surge": {"max_extra": 0.0},   # drivers cannot make up lost days by overtime,
            "supply_response": {"max_extra": 0.0},   # nor partners' extra trucks,
            "network": {"suburban_share": 0.0},      # nor a short chain
            "lockdowns": [{"level": "limited", "start_day": 2, "end_day": 25}]}
    direct = twin.run(base, seed=1)["summary"].iloc[0]
    via = twin.run({**base, "network": {"suburban_share": 0.0, "use_transfer_stations": True}}, seed=1)["summary"].iloc[0]
    assert via["fill_of_need"] > direct["fill_of_need"]


@pytest.mark.parametrize("level", ["limited", "static"])
def test_lockdown_shifts_purchases_online(level):
    data = {"name": "t", "city": {"population": 30_000, "n_districts": 1}, "run": {"days": 12},
            "lockdowns": [{"level": level, "start_day": 4, "end_day": 12}], "epidemic": {"pass_share": 1.0}}
    c = twin.run(data, seed=3)["communities"]
    by_day = c.groupby("t_day")[["delivered_online_kg", "delivered_offline_kg"]].sum()
    share = by_day["delivered_online_kg"] / by_day.sum(axis=1)
    assert share.loc[6:].mean() > share.loc[:3].mean()
    if level == "static":
        assert (by_day.loc[4:, "delivered_offline_kg"] == 0).all()


def test_outbreak_scenario_validates_and_uses_real_incidence():
    sc = twin.load_scenario(SCENARIOS / "outbreak_lockdown.toml")
    assert sc.epidemic.incidence_source.startswith("shanghai_2022_daily_cases.csv")
    assert max(sc.epidemic.incidence_per_100k) > 100
    assert pd.Series(sc.epidemic.incidence_per_100k).idxmax() > 20
