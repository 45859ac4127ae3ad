"""A network that adapts as real ones do (issue 11): who a lockdown confines, crews from headcounts,
channels standing in for each other, group buying from many sources, supply points, supply response.

Each test shows one mechanism with numbers a reader can check by hand.
"""

from __future__ import annotations

import numpy as np

import twin
from tests.conftest import SCENARIOS
from twin.network import build_network
from twin.scenario import load_scenario, parse_scenario
from twin.testing import check_invariants

SMALL = SCENARIOS / "tiny" / "small_city.toml"
RICE = [{"name": "rice", "need_kg_per_person_day": 2.0, "spoilage_per_day": 0.0, "baseline_price_per_kg": 6.0,
         "elasticity": 0.0}]
ALL_STATIC = [{"level": "static", "start_day": 2, "end_day": 30}]


def _daily(res, *cols):
    return res["communities"].groupby("t_day")[list(cols)].sum()


def test_out_of_province_crews_keep_working_through_the_citys_lockdown():
    """A static lockdown of the whole city confines the crews who live in it (no passes here),
    not those of bases in other provinces and their long-haul drivers."""
    data = {
        "name": "two_bases",
        "city": {"communities": [{"id": "c", "district": "d", "population": 1000, "outlets": ["shop"]}]},
        "network": {"nodes": [
            {"id": "far", "kind": "out_of_province_base", "production_kg_per_day": 1e6, "staff": 40, "drivers": 10},
            {"id": "near", "kind": "suburban_base", "production_kg_per_day": 1e6, "staff": 20, "drivers": 5},
            {"id": "shop", "kind": "supermarket", "staff": 10, "district": "d"}],
            "links": [{"src": "far", "dst": "shop"}, {"src": "near", "dst": "shop"}]},
        "categories": RICE,
        "lockdowns": [{"level": "static", "start_day": 2, "end_day": 10}],
        "epidemic": {"pass_share": 0.0},
        "run": {"days": 6},
    }
    w = twin.run(data, seed=1)["workforce"]
    late = w[w["t_day"] == 4].astype({"kind": str, "role": str}).set_index(["kind", "role"])
    assert late.loc[("out_of_province_base", "staff"), "confined"] == 0
    assert late.loc[("out_of_province_base", "drivers"), "confined"] == 0
    assert late.loc[("out_of_province_base", "drivers"), "active"] == 10
    # the suburban base's crew lives in the city: all confined without passes
    assert late.loc[("suburban_base", "staff"), "confined"] == 20
    assert late.loc[("supermarket", "staff"), "confined"] == 10


def test_generated_crews_are_a_given_workforce_per_10k_residents():
    """Couriers: 32 per 10,000 residents (80,000 riders in a 25-million city), whatever their
    productivity; flow-sized crews shrink as productivity rises."""
    sc = load_scenario(SMALL)
    per_10k = build_network(sc).couriers.sum()
    # 60,000 residents x 32 / 10,000 = 192, each dark store's crew rounded up to whole workers
    assert 192 <= per_10k <= 192 + (build_network(sc).couriers > 0).sum()
    fast = load_scenario(SMALL, overrides={"workforce.parcels_per_courier_day": 200})
    assert build_network(fast).couriers.sum() == per_10k
    flow = load_scenario(SMALL, overrides={"workforce.crews": "flow"})
    flow_fast = load_scenario(SMALL, overrides={"workforce.crews": "flow", "workforce.parcels_per_courier_day": 200})
    assert build_network(flow_fast).couriers.sum() < 0.6 * build_network(flow).couriers.sum()


def test_doubling_courier_productivity_doubles_what_a_fixed_courier_pool_delivers():
    """Everyone locked in, shops shut, couriers the only channel and the bottleneck: 25 -> 50
    parcels a courier a day doubles deliveries."""
    def online(parcels: int) -> float:
        res = twin.run(SMALL, seed=1, days=14, overrides={
            "workforce.parcels_per_courier_day": parcels, "households.gate_delivery_share": 0.0,
            "surge": {"max_extra": 0.0, "courier_max_extra": 0.0},   # normal hours: capacity counts heads
            "lockdowns": ALL_STATIC, "epidemic": {"pass_share": 1.0}})
        check_invariants(res)
        return float(_daily(res, "delivered_online_kg").loc[8:, "delivered_online_kg"].mean())
    slow, fast = online(25), online(50)
    assert 1.85 < fast / slow < 2.05
    # 192 couriers x 25 parcels x 5 kg = 24 t a day, within 10%
    assert abs(slow - 192 * 25 * 5) < 0.1 * 192 * 25 * 5


def test_closing_every_shop_moves_purchases_online_up_to_courier_capacity():
    closure = [{"kind": "closure", "kinds": ["supermarket", "wet_market"], "start_day": 5, "end_day": 20}]
    res = twin.run(SMALL, seed=1, days=16, overrides={"shocks": closure})
    check_invariants(res)
    d = _daily(res, "delivered_online_kg", "delivered_offline_kg", "need_kg")
    before, during = d.loc[1:4, "delivered_online_kg"].mean(), d.loc[8:15, "delivered_online_kg"].mean()
    assert (d.loc[6:15, "delivered_offline_kg"] == 0).all()
    assert during > 1.5 * before
    n = res["nodes"]
    fw = n[(n["kind"] == "front_warehouse") & (n["t_day"] >= 8)].groupby("t_day")
    capacity = np.minimum(fw["capacity_kg_per_day"].sum(), fw["courier_kg_per_day"].sum())
    # the dark stores work at their capacity (here their pickers': 20 x 2.5 t), never above it
    assert (d.loc[8:15, "delivered_online_kg"] <= capacity + 1e-6).all()
    assert during > 0.95 * capacity.mean()


def _gate_town(share: float) -> dict:
    """One compound under static management, its only shop closed to shoppers: 10 store staff
    handle 15 t a day, the compound needs 10 t."""
    return {
        "name": "gate_town",
        "city": {"communities": [{"id": "c", "district": "d", "population": 5000, "offline_share": 0.0,
                                  "outlets": ["shop"], "household_stock_days": 1.0}]},
        "network": {"nodes": [
            {"id": "base", "kind": "out_of_province_base", "production_kg_per_day": 1e8},
            {"id": "shop", "kind": "supermarket", "staff": 10, "district": "d", "stock_days": 5}],
            "links": [{"src": "base", "dst": "shop"}]},
        "categories": RICE,
        "households": {"demand_noise_cv": 0.0, "gate_delivery_share": share},
        "surge": {"max_extra": 0.0},   # normal hours: capacity counts heads
        "lockdowns": [{"level": "static", "start_day": 3, "end_day": 30}],
        "epidemic": {"pass_share": 1.0},
        "run": {"days": 12},
    }


def test_shops_closed_by_static_management_deliver_to_the_gate_within_their_staff_share():
    shut = twin.run(_gate_town(0.0), seed=1)
    half = twin.run(_gate_town(0.5), seed=1)
    for res in (shut, half):
        check_invariants(res)
    assert _daily(shut, "delivered_gate_kg").loc[3:, "delivered_gate_kg"].sum() == 0
    gate = _daily(half, "delivered_gate_kg", "consumed_kg", "need_kg").loc[6:]
    assert np.allclose(gate["delivered_gate_kg"], 0.5 * 10 * 1500.0, rtol=1e-6)   # 7.5 t of 10 t needed
    assert np.allclose(gate.loc[10:, "consumed_kg"], 7500.0, rtol=1e-6)   # once the pantry is empty


def _group_city(**over) -> dict:
    return {"regimes": {"initial": "emergency", "emergency": {"modes": ["market", "group_buying"]}},
            "group_buying": {"review_delay_days": 0.0, "min_orders": 1.0, "leader_share": 1.0}, **over}


def test_group_buying_buys_from_shops_and_dark_stores_when_the_hubs_close():
    hubs_closed = [{"kind": "closure", "kinds": ["transit_warehouse", "wholesale_market"], "start_day": 0,
                    "end_day": 20}]
    res = twin.run(SMALL, seed=1, days=10, overrides=_group_city(shocks=hubs_closed))
    check_invariants(res)
    assert _daily(res, "delivered_group_kg").loc[2:, "delivered_group_kg"].min() > 0
    only_hubs = twin.run(SMALL, seed=1, days=10, overrides=_group_city(
        shocks=hubs_closed, group_buying={"review_delay_days": 0.0, "min_orders": 1.0, "leader_share": 1.0,
                                          "source_kinds": ["transit_warehouse", "wholesale_market"]}))
    assert _daily(only_hubs, "delivered_group_kg")["delivered_group_kg"].sum() == 0


def test_community_supply_points_wake_up_with_a_collective_mode_and_carry_goods():
    points = {"network.community_supply_points_per_10k": 1.0}
    market = twin.run(SMALL, seed=1, days=10, overrides=points)
    n = market["nodes"]
    assert n.loc[n["kind"] == "community_supply_point", ["stock_kg", "outflow_kg"]].to_numpy().sum() == 0
    group = twin.run(SMALL, seed=1, days=10, overrides={**points, **_group_city()})
    check_invariants(group)
    n = group["nodes"]
    sp = n[n["kind"] == "community_supply_point"].groupby("t_day")[["inflow_kg", "outflow_kg"]].sum()
    assert sp.loc[3:, "inflow_kg"].min() > 0 and sp.loc[3:, "outflow_kg"].min() > 0


def test_scarcity_draws_extra_supply_after_its_lead_time():
    """An 80% cut of out-of-province output (no short chain to cushion it) raises prices; partners
    answer with extra output and trucks after the lead time, and people eat more than without."""
    cut = [{"kind": "supply_cut", "factor": 0.2, "start_day": 3, "end_day": 30}]

    def run(extra: float):
        res = twin.run(SMALL, seed=1, days=25, overrides={"shocks": cut, "supply_response.max_extra": extra,
                                                          "supply_response.lead_days": 3,
                                                          "network.suburban_share": 0.0})
        check_invariants(res)
        n = res["nodes"]
        made = n[n["kind"] == "out_of_province_base"].groupby("t_day")["inflow_kg"].sum()
        return made, res["summary"]["fill_of_need"].item()
    made_off, fill_off = run(0.0)
    made_on, fill_on = run(1.0)
    first_rise = int(np.flatnonzero(made_on.to_numpy() > made_off.to_numpy() + 1e-6)[0])
    assert first_rise >= 3 + 3          # no answer before the cut plus the lead time
    assert made_on.loc[first_rise:].sum() > 1.2 * made_off.loc[first_rise:].sum()
    assert fill_on > fill_off


def test_an_unknown_source_kind_is_a_clear_scenario_error():
    import pytest
    from twin.scenario.loading import ScenarioError
    with pytest.raises(ScenarioError, match="group_buying.source_kinds"):
        parse_scenario({"group_buying": {"source_kinds": ["spaceport"]}})
