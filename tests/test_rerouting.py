"""Rerouting and surge capacity (issue 11, item 2): closed suppliers' orders move to open ones,
which work harder for a while (overtime, extra shifts) and then tire.

The analytic network: 9 sorting centres each planned to sort 20 t a day for 9 supermarkets
that each order from all of them. Each centre has 7 sorters of 4 t a day: 28 t, 1.4 x its
planned load. Close 4 and the 5 survivors must sort 9/5 x 20 = 36 t a day each: 8 t above
normal capacity, 0.57 of the full surge (+50% = 14 t). With a budget of 5 days of full surge
and half a day restored per rested day, a day at 0.57 spends 0.57 - 0.5 x 0.43 = 0.36 days of
budget: it lasts about 14 days; then the survivors can hold only r / (1 + r) = 1/3 of the full
surge: 28 + 14 / 3 = 32.7 t a day, 1.63 x their planned load (1.4 x without any surge).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import twin
from twin.policies.flows import split_orders
from twin.policies.surge import available_extra, next_budget, overtime_hours, surge_used
from twin.testing import check_invariants

N_SC = 9
PLANNED_T = 20.0          # t/day per sorting centre: 9 compounds x 10,000 residents x 2 kg / 9
CLOSE = (5, 30)           # four centres closed on days 5-29


def _nine_centres(close: bool = True, **surge) -> dict:
    scs = [f"sc{i}" for i in range(N_SC)]
    shops = [f"shop{i}" for i in range(N_SC)]
    nodes = [{"id": "base", "kind": "out_of_province_base", "production_kg_per_day": 1e9},
             {"id": "hub", "kind": "transit_warehouse", "stock_days": 30}]
    nodes += [{"id": s, "kind": "sorting_centre", "staff": 7, "stock_days": 5} for s in scs]
    nodes += [{"id": s, "kind": "supermarket", "stock_days": 2} for s in shops]
    links = [{"src": "base", "dst": "hub", "travel_h": 2}]
    links += [{"src": "hub", "dst": s} for s in scs]
    links += [{"src": s, "dst": o} for s in scs for o in shops]
    data = {
        "name": "nine_centres",
        "city": {"communities": [{"id": f"c{i}", "district": "d", "population": 10_000, "outlets": [shops[i]],
                                  "household_stock_days": 2.0} for i in range(N_SC)]},
        "network": {"nodes": nodes, "links": links},
        "categories": [{"name": "food", "need_kg_per_person_day": 2.0, "spoilage_per_day": 0.0,
                        "baseline_price_per_kg": 6.0}],
        "households": {"demand_noise_cv": 0.0},
        "surge": {"budget_days": 5.0, "recovery_per_day": 0.5, **surge},
        "run": {"days": 45},
    }
    if close:
        data["shocks"] = [{"kind": "closure", "nodes": scs[:4], "start_day": CLOSE[0], "end_day": CLOSE[1]}]
    return data


def _survivors(res):
    n = res["nodes"]
    s = n[n["node_id"].astype(str).isin([f"sc{i}" for i in range(4, N_SC)])]
    return s.groupby("t_day")[["outflow_kg", "surge_used", "surge_left_days", "overtime_h", "overtime_cny"]].mean()


def test_survivors_carry_nine_fifths_while_the_surge_lasts_then_less():
    res = twin.run(_nine_centres(), seed=1)
    check_invariants(res)
    s = _survivors(res)
    load = s["outflow_kg"] / (PLANNED_T * 1000)
    assert load.loc[1:4].mean() == pytest.approx(1.0, abs=0.02)
    # the first days of the closure: the survivors sort 9/5 of their normal load
    assert load.loc[CLOSE[0] + 1:CLOSE[0] + 8].mean() == pytest.approx(9 / 5, abs=0.05)
    assert s["surge_used"].loc[CLOSE[0] + 1:CLOSE[0] + 8].mean() == pytest.approx(8 / 14, abs=0.05)
    # the budget is spent at 0.36 days a day, so it runs out after about 14 days ...
    spent = s["surge_left_days"].loc[CLOSE[0] + 1] - s["surge_left_days"].loc[CLOSE[0] + 6]
    assert spent / 5 == pytest.approx(8 / 14 - 0.5 * (1 - 8 / 14), abs=0.04)
    assert s["surge_left_days"].loc[CLOSE[0] + 16:CLOSE[1] - 1].max() < 0.5
    # ... after which they hold a third of the full surge: 1.63 x, still more than 1.4 x
    tired = load.loc[CLOSE[0] + 18:CLOSE[1] - 1].mean()
    assert tired == pytest.approx(1.4 + 0.7 / 3, abs=0.05)
    # the surge is paid: 7 sorters x 0.57 x 50% x 8 h = 16 worker-hours a survivor a day, at 35 x 1.5 CNY/h
    day = CLOSE[0] + 3
    assert s.loc[day, "overtime_h"] == pytest.approx(7 * s.loc[day, "surge_used"] * 0.5 * 8, rel=1e-6)
    assert s.loc[day, "overtime_cny"] == pytest.approx(s.loc[day, "overtime_h"] * 35 * 1.5, rel=1e-6)
    summary = res["summary"].iloc[0]
    assert summary["overtime_h"] == pytest.approx(res["nodes"]["overtime_h"].sum())
    # reopened, the survivors rest and their budget recovers half a day a day up to 5 days
    rested = s["surge_left_days"].loc[CLOSE[1] + 1:]
    assert np.diff(rested.to_numpy())[:5] == pytest.approx(0.5, abs=1e-9)
    assert rested.iloc[-1] == pytest.approx(5.0)


def test_without_surge_survivors_stop_at_crew_capacity():
    res = twin.run(_nine_centres(max_extra=0.0), seed=1)
    s = _survivors(res)
    load = s["outflow_kg"] / (PLANNED_T * 1000)
    assert load.loc[CLOSE[0] + 2:CLOSE[1] - 1].mean() == pytest.approx(1.4, abs=0.02)
    assert s["overtime_h"].sum() == 0.0


def test_normal_times_need_no_surge():
    res = twin.run(_nine_centres(close=False), seed=1)
    assert res["nodes"]["overtime_h"].sum() == 0.0
    assert res["nodes"]["surge_left_days"].min() == pytest.approx(5.0)


def test_surge_policy_by_hand():
    # a crew of normal capacity 100 kg and a +50% surge: 120 kg is 0.4 of the full surge
    used = surge_used(np.array([120.0, 80.0, 170.0]), np.array([100.0, 100.0, 100.0]), 0.5)
    assert used.tolist() == pytest.approx([0.4, 0.0, 1.0])
    # two weeks of full surge from rested: 14 days, gone; a rested day restores half a day
    b = np.array([14.0])
    for _ in range(14):
        b = next_budget(b, np.array([1.0]), 14.0, 0.5)
    assert b.tolist() == [0.0]
    assert available_extra(b, 0.5).tolist() == [0.0]
    b = next_budget(b, np.array([0.0]), 14.0, 0.5)
    assert b.tolist() == [0.5] and available_extra(b, 0.5).tolist() == [0.25]
    # held at r / (1 + r) of the full surge, the budget neither grows nor shrinks
    assert next_budget(np.array([3.0]), np.array([1 / 3]), 14.0, 0.5).tolist() == pytest.approx([3.0])
    assert overtime_hours(np.array([10.0]), np.array([0.4]), 0.5, 8.0).tolist() == pytest.approx([16.0])


# -- a generated small city: 500,000 residents, 9 sorting centres in 4 districts -------------------
SPREAD = ["sorting_centre_001", "sorting_centre_003", "sorting_centre_005", "sorting_centre_008"]


def _small_city(per_outlet: int) -> dict:
    return {"name": "small_city_closures", "city": {"population": 500_000, "n_districts": 4},
            "network": {"n_sorting_centres": 9, "n_transit_warehouses": 4, "n_wholesale_markets": 2,
                        "n_out_of_province_bases": 4, "n_suburban_bases": 2,
                        "sorting_centres_per_outlet": per_outlet},
            "shocks": [{"kind": "closure", "nodes": SPREAD, "start_day": 5, "end_day": 25}],
            "run": {"days": 25}}


def _closure_story(res) -> tuple[float, float, float]:
    """Mean starved outlets a day, fill of need, survivors' sorting over their own pre-shock sorting."""
    n = res["nodes"]
    during = n["t_day"].between(8, 24)
    outlets = n[n["kind"].isin(["supermarket", "front_warehouse"]) & during]
    starved = outlets.groupby("t_day")["status"].apply(lambda s: int((s == "starved").sum())).mean()
    c = res["communities"][res["communities"]["t_day"] >= 8]
    fill = c["consumed_kg"].sum() / c["need_kg"].sum()
    sc = n[(n["kind"] == "sorting_centre") & ~n["node_id"].astype(str).isin(SPREAD)]
    before = sc[sc["t_day"].between(1, 4)].groupby("t_day")["outflow_kg"].sum().mean()
    after = sc[sc["t_day"].between(8, 20)].groupby("t_day")["outflow_kg"].sum().mean()
    return starved, fill, after / before


def test_multi_sourcing_starves_far_fewer_outlets_than_single_sourcing():
    single = _closure_story(twin.run(_small_city(1), seed=1))
    double = _closure_story(twin.run(_small_city(2), seed=1))
    # one sorting centre each: the closed centres' outlets starve, the survivors carry about what they
    # did (a little more: residents of starved shops turn to dark stores fed by open centres)
    assert single[0] > 30 and single[1] < 0.93 and single[2] < 1.3
    # two each: their orders move to the open centre, which works overtime to carry them
    assert double[0] < single[0] / 3
    assert double[1] > 0.97
    assert double[2] > 1.4


# -- the split rule, as a property -----------------------------------------------------------------
@given(st.integers(1, 4).flatmap(lambda n_src: st.tuples(
    st.just(n_src),
    arrays(float, (n_src, 2), elements=st.floats(0, 1)),          # planned shares (unnormalised)
    arrays(float, (n_src, 2), elements=st.floats(0, 50)),         # suppliers' stock
    arrays(float, n_src, elements=st.floats(0, 50)),              # suppliers' capacity
    arrays(float, 2, elements=st.floats(0, 40)))))                # the destination's order
def test_split_orders_shares_sum_to_one_and_favour_suppliers_that_can_fill(case):
    n_src, planned, stock, capacity, need = case
    src, dst = np.arange(n_src), np.full(n_src, n_src)
    stock_all = np.vstack([stock, np.zeros((1, 2))])
    cap_all = np.append(capacity, 0.0)
    share = split_orders(src, dst, planned, np.ones(n_src), np.tile(need, (n_src, 1)), stock_all, cap_all, n_src + 1)
    assert np.all(share >= 0)
    assert np.allclose(share.sum(axis=0), 1.0)
    # a supplier with neither stock nor capacity gets no orders while another one can fill some
    served = (stock > 0) & (capacity[:, None] > 0) & (planned > 0)
    for c in range(2):
        if need[c] > 0 and served[:, c].any():
            blocked = (planned[:, c] > 0) & ~served[:, c]
            assert np.all(share[blocked, c] == 0)
