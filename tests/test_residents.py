"""Resident groups inside compounds, prices by category, reserve sales, crisis-driven safety-net calls.

Numbers a reader can check: a compound served only by a dark store, where offline residents
have nobody to order for them, leaves exactly them without food; a category whose reserve is
released rises less in price than its twin without one under the same supply cut.
"""

from __future__ import annotations

import numpy as np
import pytest

import twin
from twin.policies.residents import group_members
from twin.scenario import parse_scenario
from twin.testing import check_invariants

GROUPS = ["elderly_alone", "offline", "low_income", "lost_income", "others"]


def _online_only(aid: float, offline: float = 0.2) -> dict:
    """One compound of 1,000 whose only shop is a dark store; one staple that keeps and whose
    demand ignores price; no household stock, no elderly, no low-income, nobody losing income."""
    return {
        "name": "online_only",
        "categories": [{"name": "rice", "need_kg_per_person_day": 1.0, "spoilage_per_day": 0.0,
                        "baseline_price_per_kg": 5.0, "elasticity": 0.0}],
        "city": {"communities": [{"id": "c", "district": "d", "population": 1000, "elderly_share": 0.0,
                                  "offline_share": offline, "low_income_share": 0.0,
                                  "household_stock_days": 0.0, "front_warehouse": "dark"}]},
        "network": {"nodes": [{"id": "base", "kind": "out_of_province_base", "production_kg_per_day": 5000.0},
                              {"id": "hub", "kind": "transit_warehouse"},
                              {"id": "sorter", "kind": "sorting_centre", "district": "d"},
                              {"id": "dark", "kind": "front_warehouse", "district": "d"}],
                    "links": [{"src": "base", "dst": "hub", "travel_h": 2.0},
                              {"src": "hub", "dst": "sorter", "travel_h": 1.0},
                              {"src": "sorter", "dst": "dark", "travel_h": 0.5}]},
        "households": {"mutual_aid_share": aid, "demand_noise_cv": 0.0},
        "residents": {"lost_income_share": 0.0},
    }


def _fill_by_group(res, first_day: int) -> dict[str, float]:
    r = res["residents"]
    r = r[r["t_day"] >= first_day]
    g = r.groupby("group", observed=True)[["consumed_kg", "need_kg"]].sum()
    return (g["consumed_kg"] / g["need_kg"]).to_dict()


def test_group_members_partition_the_compound():
    m = group_members(np.array([0.3, 0.0]), np.array([0.1, 0.5]), np.array([0.2, 1.0]), 0.1, 0.25)
    assert m.sum(axis=1).tolist() == pytest.approx([1.0, 1.0])
    # 3% live alone (10% of the 30% elderly), 7% more are offline, 20% of the other 90% are low-income,
    # a quarter of the rest lost income
    assert m[0].tolist() == pytest.approx([0.03, 0.07, 0.18, 0.18, 0.54])
    assert m[1].tolist() == pytest.approx([0.0, 0.5, 0.5, 0.0, 0.0])


def test_online_only_compound_leaves_its_offline_residents_without_food():
    """200 of the 1,000 residents cannot order online and nobody orders for them: from day 5 on
    they eat nothing (no stock, no shop), while the 800 who order online eat all they need."""
    res = twin.run(parse_scenario(_online_only(aid=0.0)), days=20, seed=1)
    check_invariants(res)
    fill = _fill_by_group(res, first_day=5)
    assert fill["offline"] == pytest.approx(0.0, abs=1e-12)
    assert fill["others"] == pytest.approx(1.0, rel=1e-9)
    s = res["summary"].iloc[0]
    assert s["ever_below_one_day_share_offline"] == 1.0
    assert s["insecurity_odds_ratio_offline"] > 100.0
    r = res["residents"]
    members = r[r["t_day"] == 0].set_index("group")["population"].astype(float).to_dict()
    assert members["offline"] == pytest.approx(200.0) and members["others"] == pytest.approx(800.0)


def test_neighbours_order_for_a_share_of_offline_residents():
    """With neighbours ordering for half of them, offline residents get half of what they need
    (the shop they would walk to does not exist; the dark store has room for everyone). Online
    orders arrive after the day's meal, so the group's pantry settles over a few days (a damped
    swing from the empty start: 0.502 from day 5, 0.4999 from day 10)."""
    res = twin.run(parse_scenario(_online_only(aid=0.5)), days=20, seed=1)
    fill = _fill_by_group(res, first_day=10)
    assert fill["offline"] == pytest.approx(0.5, rel=1e-3)
    assert fill["others"] == pytest.approx(1.0, rel=1e-9)


def _twin_categories(reserved: list[str]) -> dict:
    """A small generated city with two identical categories ``a`` and ``b``; out-of-province output
    cut to 30% from day 5 to day 30; ``reserved`` are held in reserve and released."""
    cat = {"need_kg_per_person_day": 1.0, "spoilage_per_day": 0.001, "baseline_price_per_kg": 6.0,
           "elasticity": 0.5}
    return {"name": "twin_categories", "run": {"days": 30},
            "city": {"population": 200_000, "n_districts": 2, "layout_seed": 3},
            "categories": [{"name": "a", **cat}, {"name": "b", **cat}],
            "shocks": [{"kind": "supply_cut", "factor": 0.3, "start_day": 5, "end_day": 30}],
            "reserves": {"categories": reserved}}


def test_a_category_with_reserves_released_rises_less_in_price():
    res = twin.run(parse_scenario(_twin_categories(["a"])), seed=2)
    check_invariants(res)
    p = res["prices"]
    shock = p[p["t_day"] >= 5].groupby("category", observed=True)["price_index"].mean()
    assert shock["a"] < shock["b"] - 0.2, shock.to_dict()
    ev = res["events"]
    sales = ev[ev["event"].astype(str) == "reserve_sales"]["target"].astype(str).tolist()
    assert "a" in sales and "b" not in sales
    # without the release rule the two categories are twins: their prices move alike
    same = twin.run(parse_scenario(_twin_categories([])), seed=2)["prices"]
    same = same[same["t_day"] >= 5].groupby("category", observed=True)["price_index"].mean()
    assert same["a"] == pytest.approx(same["b"], rel=1e-6)


@pytest.fixture(scope="module")
def outbreak():
    """The small town's outbreak: a static lockdown of one district, a supply cut."""
    return twin.run("scenarios/tiny/small_outbreak.toml", seed=1)


def test_residents_table_adds_up_to_the_communities(outbreak):
    check_invariants(outbreak)
    r, c = outbreak["residents"], outbreak["communities"]
    assert len(r) == len(c) * len(GROUPS)
    assert list(r["group"].cat.categories) == GROUPS
    summed = r.groupby(["t_day", "community_id"], observed=True)[["need_kg", "consumed_kg"]].sum()
    ref = c.set_index(["t_day", "community_id"])[["need_kg", "consumed_kg"]]
    np.testing.assert_allclose(summed.loc[ref.index].to_numpy(), ref.to_numpy(), rtol=1e-5)


def test_who_goes_without_in_the_outbreak(outbreak):
    """Households on a budget eat least and are the likeliest to go food insecure; residents who
    cannot order online eat less than everyone else (limited trips push purchases online); those on
    a budget spend less a head than everyone else: here the households that lost their income,
    whose savings bind in the lockdown. (Whether they also pay a lower price index depends on which
    categories are scarce: they buy staples first.)"""
    s = outbreak["summary"].iloc[0]
    for group in ("low_income", "lost_income", "offline", "elderly_alone"):
        assert s[f"fill_of_need_{group}"] < s["fill_of_need_others"], group
        assert s[f"insecurity_odds_ratio_{group}"] > 1.0, group
    r = outbreak["residents"]
    r = r[r["t_day"].between(8, 21)].groupby("group")[["spent_cny", "population"]].sum()   # the lockdown
    per_head = r["spent_cny"] / r["population"]
    assert per_head["lost_income"] < per_head["others"]
    assert s["paid_index_p10"] < s["paid_index_p90"]


def test_safety_net_calls_rise_with_the_crisis():
    """The same city with the safety net in force: a static lockdown (shops closed, income lost,
    stocks running low) brings more requests than open shops do."""
    base = {"extends": "small_city.toml", "name": "calls", "run": {"days": 20},
            "regimes": {"normal": {"modes": ["market", "safety_net"]}}}
    from twin.scenario import load_scenario

    quiet = load_scenario("scenarios/tiny/small_city.toml").model_dump()
    quiet.update({k: v for k, v in base.items() if k != "extends"})
    locked = dict(quiet, lockdowns=[{"level": "static", "start_day": 5, "end_day": 20}])
    n = [twin.run(parse_scenario(sc), seed=4)["city"]["requests_created"].iloc[-1] for sc in (quiet, locked)]
    assert n[1] > 1.2 * n[0], n


def test_markup_cuts_group_orders():
    """Group buying with a markup: members order less through the group the dearer it is."""
    from twin.scenario import load_scenario

    base = load_scenario("scenarios/tiny/small_city.toml").model_dump()
    base["regimes"] = {"normal": {"modes": ["market", "group_buying"]}}
    base["group_buying"] = {"review_delay_days": 0, "min_orders": 1, "leader_share": 1.0, "markup": 0.0}
    dear = {**base, "group_buying": {**base["group_buying"], "markup": 1.0}}
    got = [twin.run(parse_scenario(sc), days=10, seed=1)["communities"]["delivered_group_kg"].sum()
           for sc in (base, dear)]
    assert got[1] < 0.8 * got[0], got


def test_check_residents_catches_a_group_eating_more_than_it_needs(outbreak):
    from twin.testing import check_residents

    r = outbreak["residents"].copy()
    r.loc[7, "consumed_kg"] = r.loc[7, "need_kg"] * 2 + 1.0
    with pytest.raises(AssertionError, match="residents"):
        check_residents(r, outbreak["communities"])


@pytest.mark.parametrize("data, message", [
    ({"reserves": {"categories": ["rice", "gold"]}}, "reserves.categories: no category 'gold'"),
    ({"residents": {"groups": {"pensioners": {"online": False}}}}, "residents.groups.pensioners: unknown group"),
    ({"safety_net": {"crisis_uptake": {"boredom": 1.0}}}, "crisis_uptake: unknown crisis 'boredom'"),
])
def test_bad_resident_and_reserve_fields_name_the_field(data, message):
    from twin.scenario import ScenarioError

    with pytest.raises((ScenarioError, ValueError), match=message):
        parse_scenario({"name": "bad", **data})
