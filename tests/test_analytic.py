"""Analytic sanity cases: normal times serve everyone; unlimited capacity means no waiting."""

from __future__ import annotations

import numpy as np

import twin
from tests.conftest import SCENARIOS
from twin.metrics import daily_service
from twin.testing import check_invariants

WARM_UP_DAYS = 5


def test_baseline_serves_99_percent_after_warm_up():
    res = twin.run(SCENARIOS / "baseline.toml", days=30)
    daily = daily_service(res["communities"])
    after = daily.loc[daily.index >= WARM_UP_DAYS]
    assert after["market_service_level"].min() >= 0.99, after["market_service_level"].min()
    assert after["fill_of_need"].min() >= 0.99
    check_invariants(res)


def _unlimited_chain(n_days: int = 20) -> dict:
    """One compound fed by a base that makes far more than it needs, nobody short of staff,
    every node stocked for weeks so that only capacity could make anyone wait."""
    return {
        "name": "unlimited",
        "city": {"communities": [{"id": "c", "district": "d", "population": 500, "outlets": ["shop"],
                                  "front_warehouse": "dark", "household_stock_days": 2.0}]},
        "network": {"nodes": [
            {"id": "base", "kind": "out_of_province_base", "production_kg_per_day": 1e9},
            {"id": "hub", "kind": "transit_warehouse", "stock_days": 30},
            {"id": "sorter", "kind": "sorting_centre", "stock_days": 30},
            {"id": "shop", "kind": "supermarket", "stock_days": 30},
            {"id": "dark", "kind": "front_warehouse", "stock_days": 30}],
            "links": [{"src": "base", "dst": "hub", "travel_h": 8}, {"src": "hub", "dst": "sorter"},
                      {"src": "sorter", "dst": "shop"}, {"src": "sorter", "dst": "dark"}]},
        "categories": [{"name": "rice", "need_kg_per_person_day": 0.5, "spoilage_per_day": 0.0,
                        "baseline_price_per_kg": 6.0},
                       {"name": "greens", "need_kg_per_person_day": 1.5, "spoilage_per_day": 0.05,
                        "baseline_price_per_kg": 6.0}],
        "households": {"demand_noise_cv": 0.3},
        "run": {"days": n_days},
    }


def test_unlimited_capacity_means_nothing_waits():
    res = twin.run(_unlimited_chain(), seed=3)
    c = res["communities"]
    assert np.allclose(c["unmet_kg"], 0.0, atol=1e-6)
    assert np.allclose(c["shortfall_kg"], 0.0, atol=1e-6)
    check_invariants(res)


def _two_compounds(close_outlet: bool) -> dict:
    data = {
        "name": "two_compounds",
        "city": {"communities": [
            {"id": "north", "district": "d", "population": 800, "outlets": ["shop_n"]},
            {"id": "south", "district": "d", "population": 800, "outlets": ["shop_s"]}]},
        "network": {"nodes": [
            {"id": "base", "kind": "out_of_province_base", "production_kg_per_day": 1e7},
            {"id": "sorter", "kind": "sorting_centre"},
            {"id": "shop_n", "kind": "supermarket"}, {"id": "shop_s", "kind": "supermarket"}],
            "links": [{"src": "base", "dst": "sorter", "travel_h": 6}, {"src": "sorter", "dst": "shop_n"},
                      {"src": "sorter", "dst": "shop_s"}]},
        "run": {"days": 20},
    }
    if close_outlet:
        data["shocks"] = [{"kind": "closure", "nodes": ["shop_n"], "start_day": 5, "end_day": 12}]
    return data


def test_closing_the_only_outlet_raises_unmet_demand():
    open_ = twin.run(_two_compounds(False), seed=1)["communities"]
    shut = twin.run(_two_compounds(True), seed=1)["communities"]

    def unmet(df, who):
        return df.loc[df["community_id"] == who, "unmet_kg"].sum()

    assert unmet(open_, "north") < 1e-6
    assert unmet(shut, "north") > 0.5 * 7 * 800 * 2.0          # most of a week of need
    assert abs(unmet(shut, "south") - unmet(open_, "south")) < 1e-6   # the neighbour is untouched
    north = shut[shut["community_id"] == "north"].set_index("t_day")
    assert north.loc[6:11, "delivered_offline_kg"].max() == 0.0
    assert north.loc[14:, "unmet_kg"].max() < 1e-6                  # reopening restores service
