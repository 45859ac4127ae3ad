"""Transport-only and panic-buying shocks, with numbers a reader can check."""

from __future__ import annotations

import numpy as np
import pytest

import twin
from twin.scenario import ScenarioError, parse_scenario
from twin.testing import check_invariants


def _depot_chain(shocks: list[dict]) -> dict:
    """One compound of 1,000 (2 kg a day each) fed through a sorting centre whose one driver makes
    3 trips a day in 300-kg vans to each of its two customers: 900 kg a day, less than the 2,000 kg
    asked for, so its trucks are the bottleneck; its 10 sorters could handle 40,000 kg a day."""
    return {
        "name": "depot",
        "run": {"days": 12},
        "city": {"communities": [{"id": "c", "district": "d", "population": 1000, "outlets": ["shop"],
                                  "front_warehouse": "dark"}]},
        "network": {"nodes": [
            {"id": "base", "kind": "out_of_province_base", "production_kg_per_day": 1e6},
            {"id": "hub", "kind": "transit_warehouse"},
            {"id": "depot", "kind": "sorting_centre", "district": "d", "staff": 10, "drivers": 1},
            {"id": "shop", "kind": "supermarket", "district": "d"},
            {"id": "dark", "kind": "front_warehouse", "district": "d"}],
            "links": [{"src": "base", "dst": "hub", "travel_h": 4}, {"src": "hub", "dst": "depot"},
                      {"src": "depot", "dst": "shop", "truck_capacity_kg": 300},
                      {"src": "depot", "dst": "dark", "truck_capacity_kg": 300}]},
        "shocks": shocks,
        "surge": {"max_extra": 0.0},   # normal hours: the fleet is heads x trips x payload
    }


def _depot(res) -> "pd.DataFrame":  # noqa: F821
    n = res["nodes"]
    return n[n["node_id"] == "depot"].set_index("t_day")


def test_transport_shock_halves_what_trucks_carry_and_leaves_handling_alone():
    shock = {"kind": "transport", "nodes": ["depot"], "factor": 0.5, "start_day": 5, "end_day": 9}
    cut = _depot(twin.run(_depot_chain([shock]), seed=1))
    base = _depot(twin.run(_depot_chain([]), seed=1))
    on, off = [5, 6, 7, 8], [2, 3, 4, 9, 10, 11]
    # one driver x 3 trips x 300 kg = 900 kg a day; halved on the shock's days only
    assert np.allclose(base.loc[on + off, "fleet_kg_per_day"], 900.0)
    assert np.allclose(cut.loc[on, "fleet_kg_per_day"], 450.0)
    assert np.allclose(cut.loc[off, "fleet_kg_per_day"], 900.0)
    # the trucks are the bottleneck: what leaves the depot halves with them
    assert np.allclose(base.loc[on, "outflow_kg"], 900.0)
    assert np.allclose(cut.loc[on, "outflow_kg"], 450.0)
    # handling is untouched: 10 sorters x 4,000 kg
    assert np.allclose(cut["capacity_kg_per_day"], 40_000.0)
    assert (cut.loc[on, "status"] != "open").all()
    check_invariants(twin.run(_depot_chain([shock]), seed=1))


def test_transport_shock_can_target_couriers_only(small_city):
    s = {"kind": "transport", "kinds": ["front_warehouse"], "roles": ["couriers"], "factor": 0.25,
         "start_day": 2, "end_day": 4}
    res = twin.run(small_city, days=5, overrides={"shocks": [s]})
    n = res["nodes"]
    fw = n[n["kind"] == "front_warehouse"].set_index(["t_day", "node_id"])
    ratio = (fw.xs(2, level="t_day")["courier_kg_per_day"] / fw.xs(1, level="t_day")["courier_kg_per_day"])
    assert np.allclose(ratio, 0.25)   # no epidemic: the same couriers are at work both days
    sc_ = n[n["kind"] == "sorting_centre"].set_index(["t_day", "node_id"])
    assert np.allclose(sc_.xs(2, level="t_day")["fleet_kg_per_day"], sc_.xs(1, level="t_day")["fleet_kg_per_day"])


def test_transport_shock_rejects_roles_without_vehicles():
    data = _depot_chain([{"kind": "transport", "roles": ["staff"], "factor": 0.5, "start_day": 1, "end_day": 2}])
    with pytest.raises(ScenarioError, match=r"shocks\[0\]\.roles: a transport shock acts on drivers or couriers"):
        parse_scenario(data, "x.toml")


def test_panic_buying_raises_purchases_in_its_district_on_its_days(small_city):
    panic = {"kind": "panic_buying", "districts": ["district_01"], "start_day": 6, "end_day": 9,
             "panic_share": 0.5, "panic_stock_days": 7.0}
    base = twin.run(small_city, days=14, seed=2)["communities"]
    hit = twin.run(small_city, days=14, seed=2, overrides={"shocks": [panic]})["communities"]

    def by(c, district):
        return c[c["district"] == district].groupby("t_day")["demand_kg"].sum()

    b1, h1 = by(base, "district_01"), by(hit, "district_01")
    need1 = base[base["district"] == "district_01"].groupby("t_day")["need_kg"].sum()
    # nothing changes before the shock
    assert np.allclose(b1.loc[:5], h1.loc[:5])
    # on its first day half the households aim at 7 days instead of about 3: they ask for
    # about (0.5 x 7 + 0.5 x 3 - 3) = 2 extra days of need on top of the usual purchases
    extra = (h1.loc[6] - b1.loc[6]) / need1.loc[6]
    assert 1.4 < extra < 2.6, extra
    # the other districts ask for exactly what they did without the shock that day
    for d in ("district_02", "district_03"):
        assert np.isclose(by(base, d).loc[6], by(hit, d).loc[6])
    # once the shock ends, stocked-up households buy less than without it
    assert h1.loc[9:11].sum() < b1.loc[9:11].sum()


def test_panic_fields_belong_to_panic_buying():
    data = _depot_chain([{"kind": "closure", "nodes": ["shop"], "panic_share": 0.5, "start_day": 1, "end_day": 2}])
    with pytest.raises(ScenarioError, match=r"shocks\[0\]\.panic_share: only a panic_buying shock"):
        parse_scenario(data, "x.toml")


def test_panic_buying_targets_districts_only():
    data = _depot_chain([{"kind": "panic_buying", "kinds": ["supermarket"], "start_day": 1, "end_day": 2}])
    with pytest.raises(ScenarioError, match=r"shocks\[0\]\.kinds: a panic_buying shock targets households by districts only"):
        parse_scenario(data, "x.toml")


def test_panic_buying_where_pantries_hold_next_to_nothing_keeps_the_balance():
    """Regression (found by Hypothesis): a panic target over a pantry of 2e-313 days once gave inf x 0."""
    data = {"name": "empty_pantries", "city": {"population": 500, "n_districts": 1, "mean_compound_size": 200,
                                                 "household_stock_days": 2.2250738585e-313},
            "network": {"n_out_of_province_bases": 1, "n_suburban_bases": 0, "n_transit_warehouses": 1,
                        "n_wholesale_markets": 0, "n_sorting_centres": 1},
            "shocks": [{"kind": "panic_buying", "start_day": 0, "end_day": 2, "panic_share": 1.0,
                        "panic_stock_days": 1.0}]}
    res = twin.run(data, seed=0, days=5)
    check_invariants(res)
    c = res["communities"]
    assert c.loc[c["t_day"] == 0, "demand_kg"].sum() > c.loc[c["t_day"] == 0, "need_kg"].sum()   # they did panic
