"""Prices, household behaviour and fairness (issue 4)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import twin
from twin.policies.pricing import demand_response, effective_index, step_index, target_index

kg = st.floats(0.0, 1e7)
elasticity = st.floats(0.0, 3.0)


@given(arrays(float, 6, elements=kg), arrays(float, 6, elements=kg), elasticity,
       st.floats(0.1, 1.0), st.floats(1.0, 10.0))
def test_target_price_stays_within_floor_and_cap(requested, supplied, e, floor, cap):
    p = target_index(requested, supplied, np.array([e]), floor, cap)
    assert np.all(p >= floor) and np.all(p <= cap)


@given(arrays(float, 6, elements=st.floats(1e-3, 1e7)), elasticity)
def test_supply_equal_to_demand_keeps_the_baseline(q, e):
    assert np.allclose(target_index(q, q, np.array([e]), 0.7, 5.0), 1.0)


@given(arrays(float, 4, elements=st.floats(0.1, 10.0)), arrays(float, 4, elements=st.floats(0.1, 10.0)),
       st.floats(0.0, 1.0), st.floats(0.0, 1.0), st.floats(0.1, 1.0), st.floats(1.0, 10.0))
def test_price_steps_are_bounded(now, target, rise, fall, floor, cap):
    nxt = step_index(now, target, rise, fall, floor, cap)
    assert np.all(nxt >= floor - 1e-12) and np.all(nxt <= cap + 1e-12)
    inside = (now >= floor) & (now <= cap)
    assert np.all((nxt <= now * (1 + rise) + 1e-12)[inside] | (nxt <= floor + 1e-12)[inside])


@given(arrays(float, 5, elements=kg), arrays(float, 5, elements=st.floats(0.1, 10.0)))
def test_zero_elasticity_ignores_price(q, index):
    assert np.array_equal(demand_response(q, index, np.zeros(5)), q)


def test_dearer_means_less_bought_and_policy_lowers_what_is_paid():
    assert demand_response(np.array([10.0]), np.array([2.0]), np.array([0.6]))[0] < 10.0
    assert effective_index(np.array([2.0]), np.array([0.0]), np.array([0.0]))[0] == 2.0
    assert effective_index(np.array([2.0]), np.array([0.5]), np.array([0.5]))[0] == 0.75


def _shocked(extra_shocks=(), days=35) -> dict:
    return {"name": "t", "city": {"population": 60_000, "n_districts": 2}, "run": {"days": days},
            "shocks": [{"kind": "supply_cut", "factor": 0.3, "start_day": 5, "end_day": 20}, *extra_shocks]}


def test_supply_cut_raises_prices_and_they_recover():
    prices = twin.run(_shocked(), seed=1)["prices"]
    city = prices.groupby("t_day")["price_index"].mean()
    assert abs(city.loc[:4] - 1).max() < 0.01
    assert city.max() > 1.3
    assert city.iloc[-1] < 0.5 * (city.max() - 1) + 1


def test_a_price_cap_holds_prices_down_on_the_same_cut():
    free = twin.run(_shocked(), seed=1)
    capped = twin.run(_shocked([{"kind": "price_cap", "factor": 1.2, "start_day": 0, "end_day": 35}]), seed=1)
    assert capped["prices"]["price_index"].max() <= 1.2 + 1e-12
    assert capped["prices"]["price_index"].mean() < free["prices"]["price_index"].mean()
    assert capped["summary"]["peak_price_index"].item() < free["summary"]["peak_price_index"].item()
    assert capped["summary"]["share_paid_up_40pct"].item() <= free["summary"]["share_paid_up_40pct"].item()


def test_vouchers_lower_what_residents_pay_not_the_market_price():
    free = twin.run(_shocked(), seed=1)
    voucher = twin.run(_shocked([{"kind": "subsidy", "factor": 0.5, "start_day": 0, "end_day": 35}]), seed=1)
    assert voucher["communities"]["spent_cny"].sum() < free["communities"]["spent_cny"].sum()
    assert voucher["communities"]["price_paid_index"].max() <= 0.5 * voucher["prices"]["price_index"].max() + 1e-9


def _announced(panic_share: float) -> dict:
    return {"name": "t", "city": {"population": 60_000, "n_districts": 1}, "run": {"days": 12},
            "households": {"panic_share": panic_share, "panic_stock_days": 10.0},
            "lockdowns": [{"level": "limited", "announce_day": 4, "start_day": 7, "end_day": 12}]}


def test_panic_buying_after_an_announcement_empties_outlets_faster():
    calm = twin.run(_announced(0.0), seed=2)["nodes"]
    panic = twin.run(_announced(0.8), seed=2)["nodes"]

    def outlet_stock(nodes):
        shops = nodes[nodes["kind"].isin(["supermarket", "wet_market"])]
        return shops.groupby("t_day")["stock_kg"].sum()

    a, b = outlet_stock(calm), outlet_stock(panic)
    assert np.allclose(a.loc[:3], b.loc[:3])                 # nothing happens before the announcement
    assert b.loc[5] < 0.8 * a.loc[5]                          # shelves empty before any supply is lost
    ev = twin.run(_announced(0.8), seed=2)["events"]
    assert (ev["event"] == "lockdown_announced").sum() == 1


def test_fairness_columns_and_summary():
    res = twin.run(_shocked(), seed=1)
    c = res["communities"]
    for col in ("paid_per_kg", "price_paid_index", "stock_below_one_day", "low_income_share", "spent_cny"):
        assert col in c
    s = res["summary"].iloc[0]
    for key in ("share_paid_up_40pct", "share_paid_up_100pct", "share_paid_within_5pct", "gini_fill_of_need",
                "food_insecure_person_days", "peak_price_index_vegetables"):
        assert key in s
    assert 0 <= s["share_paid_up_100pct"] <= s["share_paid_up_40pct"] <= 1
    p = res["prices"]
    assert set(p.columns) >= {"t_day", "category", "district", "price_per_kg", "baseline_price_per_kg", "price_index"}
    assert np.allclose(p["price_per_kg"], p["price_index"] * p["baseline_price_per_kg"])


def _couriers_short(scarcity: str) -> dict:
    """Every shopper must order online (static management) while couriers carry a fifth of their
    usual load: the goods are on the shelves, the labour to hand them over is not."""
    return {"name": "t", "city": {"population": 60_000, "n_districts": 1}, "run": {"days": 20},
            "prices": {"scarcity": scarcity},
            "households": {"gate_delivery_share": 0.0},
            "lockdowns": [{"level": "static", "start_day": 5, "end_day": 20}],
            "shocks": [{"kind": "transport", "roles": ["couriers"], "factor": 0.2, "start_day": 5, "end_day": 20}]}


def test_sellers_price_their_goods_not_the_couriers_they_lack():
    """Cavallo, Cavallo and Rigobon (2014): when only the means to hand goods over are short,
    sellers ration by quantity and prices barely move; pricing what reached buyers instead reads
    the courier bottleneck as a goods shortage."""
    shelves = twin.run(_couriers_short("shelves"), seed=3)
    delivered = twin.run(_couriers_short("delivered"), seed=3)
    short = shelves["communities"].groupby("t_day")[["consumed_kg", "need_kg"]].sum()
    assert (short["consumed_kg"] / short["need_kg"]).loc[10:].mean() < 0.8     # residents do go short
    nodes = shelves["nodes"]
    outlets = nodes[nodes["kind"].isin(["supermarket", "wet_market", "front_warehouse"])]
    on_shelves = outlets.groupby("t_day")["stock_kg"].sum().loc[10:]
    assert on_shelves.min() > short["need_kg"].max()                          # while the shelves hold a day's need
    p_shelves = shelves["prices"].groupby("t_day")["price_index"].max()
    p_delivered = delivered["prices"].groupby("t_day")["price_index"].max()
    assert p_shelves.max() < 1.2 and p_shelves.loc[10:].mean() < 1.05
    assert shelves["prices"]["price_index"].min() > 0.99                       # and no category falls either
    assert p_delivered.loc[10:].mean() > 1.5


def _district_cut_off(rule: str) -> dict:
    """The sorting centres of one district of two lose 70% of their hands: its shops go short of
    goods while the other district's are full."""
    return {"name": "t", "city": {"population": 120_000, "n_districts": 2}, "run": {"days": 30},
            "prices": {"chain_pricing": rule},
            "shocks": [{"kind": "capacity", "factor": 0.3, "kinds": ["sorting_centre"], "districts": ["district_02"],
                        "start_day": 5, "end_day": 30}]}


def test_chains_price_the_city_so_a_cut_off_district_goes_short_at_the_citys_price():
    """DellaVigna and Gentzkow (2019): chains price uniformly across stores. With chain pricing
    uniform, the short district pays within a few per cent of what the full one pays and its
    shortage shows as empty shelves; with every seller clearing its own district, its price runs
    well above the other's."""
    def by_district(res):
        p = res["prices"].pivot_table(index="t_day", columns="district", values="price_index", aggfunc="mean")
        c = res["communities"].groupby(["t_day", "district"])[["consumed_kg", "need_kg"]].sum()
        return p.loc[15:], (c["consumed_kg"] / c["need_kg"]).unstack().loc[15:]
    p_uni, fill_uni = by_district(twin.run(_district_cut_off("uniform"), seed=1))
    p_loc, _ = by_district(twin.run(_district_cut_off("local"), seed=1))
    assert fill_uni["district_02"].mean() < fill_uni["district_01"].mean() - 0.1       # goes short
    assert (p_uni["district_02"] - p_uni["district_01"]).abs().max() < 0.05             # at the city's price
    assert p_uni["district_02"].mean() > 1.05                                            # which does rise
    assert (p_loc["district_02"] - p_loc["district_01"]).mean() > 0.25                  # local clearing splits them
    assert p_loc["district_01"].max() < 1.01
