"""Resilience metrics against hand-built series with known answers (issue 6).

Curves are Series of service level by day; tables are the smallest frames with the columns a
metric reads, so each expected value can be checked by hand in the comment beside it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from twin.metrics import (MetricSettings, adaptability, cascade_stats, daily_service, episode_table, episodes,
                          evolvability, failed_nodes_by_tier, fill_curve, food_insecure_person_days, gini,
                          layer_failed_share, lorenz, pre_shock_level, price_stats, recovery_days, request_stats,
                          resilience, resilience_loss_person_days, service_curve, shock_intervals,
                          shock_start_day, summary_row, switch_days, switch_gains, tier_down_days,
                          time_to_failure_days, workforce_stats)
from twin.recording.cascade import CascadeState, chain_depths

V_SHAPE = pd.Series([1.0, 1.0, 1.0, 1.0, 0.8, 0.6, 0.4, 0.6, 0.8, 1.0, 1.0, 1.0])   # shock on day 4
NEVER = pd.Series([1.0, 1.0, 1.0, 1.0, 0.7, 0.5, 0.5, 0.5, 0.6, 0.6])              # shock on day 4


def test_v_shaped_curve():
    level = pre_shock_level(V_SHAPE, 4, warmup_days=1)
    assert level == 1.0
    assert time_to_failure_days(V_SHAPE, 4, level) == 0.0           # day 4 (0.8) is already below 0.95
    assert recovery_days(V_SHAPE, 4, level) == 5.0                  # back to 1.0 on day 9
    # triangle: (0.2 + 0.4 + 0.6 + 0.4 + 0.2) x 1000 residents = 1800 person-days
    assert resilience_loss_person_days(V_SHAPE, level, 1000, 4) == pytest.approx(1800.0)


def test_curve_that_never_recovers():
    level = pre_shock_level(NEVER, 4, warmup_days=0)
    assert level == 1.0
    assert time_to_failure_days(NEVER, 4, level) == 0.0
    assert math.isinf(recovery_days(NEVER, 4, level))
    # 0.3 + 0.5 + 0.5 + 0.5 + 0.4 + 0.4 = 2.6 days of the whole city, to the end of the run
    assert resilience_loss_person_days(NEVER, level, 100, 4) == pytest.approx(260.0)


def test_late_failure_threshold_and_hold_days():
    s = pd.Series([1.0, 1.0, 0.97, 0.96, 0.90, 0.96, 0.80, 0.99, 1.0, 1.0])  # shock on day 2, fails day 4
    assert time_to_failure_days(s, 2, 1.0) == 2.0
    assert recovery_days(s, 2, 1.0, hold_days=1) == 5.0               # day 5 is a pause: back for good on day 7
    assert recovery_days(s, 2, 1.0, hold_days=3) == 5.0               # days 7-9 hold
    assert math.isinf(recovery_days(s, 2, 1.0, hold_days=4))          # only 3 days left to hold
    assert recovery_days(s, 2, 1.0, threshold=0.5) == 0.0             # never below half: nothing to recover


def test_a_dip_then_a_collapse_is_one_failure_never_recovered():
    # the case: a dip on day 6 that comes back on day 7, then the collapse from day 8
    s = pd.Series([1.0] * 6 + [0.9, 1.0, 0.6, 0.5, 0.5, 0.5])
    assert time_to_failure_days(s, 5, 1.0) == 1.0
    assert math.isinf(recovery_days(s, 5, 1.0))
    # each episode reads its own window: recovered before the next episode starts
    assert recovery_days(s, 5, 1.0, end_day=8) == 2.0


def test_the_triangle_counts_person_days_of_food_missing_whatever_the_price_does():
    # same food eaten, demand halved by high prices in the second city: same curve, same loss
    base = _tables([1.0, 1.0, 0.6, 0.8, 1.0])
    pricey = _tables([1.0, 1.0, 0.6, 0.8, 1.0])
    pricey["communities"]["demand_kg"] = 50.0
    ev = pd.DataFrame({"t_day": [2], "event": ["supply_cut_start"], "shock": ["cut"]})
    a, b = (resilience({**t, "events": ev}, 2.0) for t in (base, pricey))
    # need 100 kg/day = 50 persons' worth at 2 kg; missing 40 + 20 kg = 30 person-days
    assert a["resilience_loss_person_days"] == b["resilience_loss_person_days"] == pytest.approx(30.0)
    assert a["resilience_loss_person_days"] == pytest.approx(a["shortfall_person_days"])
    assert a["market_service_level"] != b["market_service_level"]


def test_case_closures_do_not_start_a_shock():
    ev = pd.DataFrame({"t_day": [0, 2, 5, 5, 9], "shock": ["case_detected", "case_detected", "east", "", "east"],
                       "event": ["closure", "reopening", "lockdown_static_start", "closure", "lockdown_static_end"],
                       "target": ["n1", "n1", "d1", "n2", "d1"]})
    assert shock_start_day(ev) == 5.0
    assert episodes(shock_intervals(ev, 20)) == [(5.0, 9.0)]
    forced = pd.DataFrame({"t_day": [3, 5, 12], "shock": ["schedule", "regime_extreme", "schedule"],
                           "event": ["regime_decision", "regime_switch", "regime_decision"],
                           "target": ["normal->extreme", "normal->extreme", "extreme->normal"]})
    assert shock_start_day(forced) == 3.0                             # a regime forced on schedule is a shock
    assert episodes(shock_intervals(forced, 20)) == [(3.0, 21.0)]     # no switch back to normal was logged


def test_no_shock_means_no_failure_and_no_loss():
    flat = pd.Series([0.5, 1.0, 0.98, 1.0])
    assert pre_shock_level(flat, None, warmup_days=1) == pytest.approx(0.9933333333)
    assert math.isinf(time_to_failure_days(flat, None, 1.0))
    assert recovery_days(flat, None, 1.0) == 0.0
    assert resilience_loss_person_days(flat, 1.0, 10, None) == 0.0


def test_loss_weights_each_day_by_its_population():
    pop = pd.Series([10.0, 10.0, 20.0, 40.0])
    s = pd.Series([1.0, 0.5, 0.5, 0.75])
    assert resilience_loss_person_days(s, 1.0, pop, 1) == pytest.approx(5 + 10 + 10)


def _nodes(statuses: dict[int, list[str]], days: int) -> pd.DataFrame:
    """One node per (tier, index) with a status per day."""
    rows = []
    for tier, per_day in statuses.items():
        for t in range(days):
            rows.append({"t_day": t, "node_id": f"n{tier}", "tier": tier, "status": per_day[t]})
    return pd.DataFrame(rows)


def test_cascade_of_known_depth():
    # sorting centre closed on day 1, its outlet starves on day 2, the compound goes hungry on day 3
    o, c, s = "open", "closed", "starved"
    nodes = _nodes({0: [o] * 5, 2: [o] * 5, 3: [o, c, c, c, o], 4: [o, o, s, s, s]}, 5)
    comm = pd.DataFrame({"t_day": range(5), "need_kg": [10.0] * 5, "consumed_kg": [10, 10, 10, 5, 10.0]})
    share = layer_failed_share(nodes, comm)
    assert list(share.columns) == [0, 2, 3, 4, 5]
    failed = failed_nodes_by_tier(nodes)
    assert failed[3].tolist() == [0, 1, 1, 1, 0] and failed[4].tolist() == [0, 0, 1, 1, 1]
    assert tier_down_days(share) == 4                                  # days 1-4: tier 3 or 4 fully failed


def _cascade(failed, starved, comm_failed, onset_day=0):
    """Hub 0 -> sorting centre 1 -> outlet 2 -> compound 0; sorting centre 3 -> outlet 4 -> compound 1."""
    src, dst, tier = np.array([0, 1, 3]), np.array([1, 2, 4]), np.array([2, 3, 4, 3, 4])
    state = CascadeState(src, dst, tier, 5, edge_comm=np.array([0, 1]), edge_outlet=np.array([2, 4]),
                         comm_fw=np.array([-1, -1]), n_communities=2)
    return state.day(onset_day, np.array(failed), np.array(starved), np.array(comm_failed))


def test_a_cascade_through_two_tiers_is_deeper_than_two_unrelated_failures():
    # the sorting centre closes, its outlet starves, its compound goes hungry: 2 links
    depth, cut = _cascade([False, True, True, False, False], [False, False, True, False, False], [True, False])
    assert depth == 2
    assert cut.tolist() == [0.0, 0.0, 0.0, 0.5, 0.5]                  # compound 0 cut off through tiers 3 and 4
    # a sorting centre closes on one side, an outlet on the other: nothing follows anything
    depth, cut = _cascade([False, True, False, False, True], [False, False, False, False, False], [False, False])
    assert depth == 0 and cut.sum() == 0.0
    # a closed outlet is a cause of its own even below a failed supplier; its compound follows it
    depth, cut = _cascade([False, True, True, False, False], [False, False, False, False, False], [True, False])
    assert depth == 1 and cut.tolist() == [0.0, 0.0, 0.0, 0.0, 0.5]


def test_a_failure_that_began_before_its_suppliers_does_not_follow_it():
    src, dst, tier = np.array([0]), np.array([1]), np.array([3, 4])
    depth, _ = chain_depths(np.array([True, True]), np.array([False, True]), np.array([5.0, 2.0]), src, dst, tier)
    assert depth.tolist() == [0, 0]                                    # the outlet starved on day 2, the centre closed on 5
    depth, tiers = chain_depths(np.array([True, True]), np.array([False, True]), np.array([2.0, 5.0]), src, dst, tier)
    assert depth.tolist() == [0, 1] and tiers.tolist() == [8, 24]


def test_cascade_stats_read_the_city_table():
    city = pd.DataFrame({"t_day": [0, 1, 2], "cascade_depth": [0, 2, 1], "cut_off_share_tier3": [0.0, 0.5, 0.2]})
    assert cascade_stats(city) == {"peak_cascade_depth": 2, "peak_cut_off_share_tier3": 0.5}
    assert cascade_stats(None) == {}


def test_shock_events_intervals_episodes_and_switches():
    ev = pd.DataFrame({
        "t_day": [2, 3, 5, 6, 9, 12, 20, 25, 4],
        "event": ["reserve_release_start", "supply_cut_start", "closure", "regime_switch", "reopening",
                  "supply_cut_end", "capacity_start", "capacity_end", "closure"],
        "shock": ["rel", "cut", "x", "", "x", "cut", "cap", "cap", "case"],
    })
    assert shock_start_day(ev) == 3.0                                  # a lever's start is not a shock
    iv = shock_intervals(ev, last_day=30)
    assert iv[["shock", "start_day", "end_day", "scheduled"]].values.tolist() == [
        ["cut", 3.0, 12.0, True], ["case", 4.0, 31.0, False], ["x", 5.0, 9.0, False], ["cap", 20.0, 25.0, True]]
    assert episodes(iv) == [(3.0, 12.0), (20.0, 25.0)]                 # closures on cases are no episodes
    assert switch_days(ev) == [2.0, 6.0]


def test_evolvability_is_learning_against_no_learning_in_the_second_shock():
    # common random numbers: identical up to the end of the first shock (days 3-4)
    learned = pd.Series([1.0] * 3 + [0.5, 0.5, 1.0, 1.0] + [0.8, 1.0, 1.0])     # shocks on days 3 and 7
    unlearned = pd.Series([1.0] * 3 + [0.5, 0.5, 1.0, 1.0] + [0.5, 0.7, 1.0])
    eps = [(3.0, 5.0), (7.0, 8.0)]
    with_, without = (episode_table(s, 10, eps, level=1.0) for s in (learned, unlearned))
    assert with_["loss_person_days"].tolist() == pytest.approx([10.0, 2.0])
    assert without["loss_person_days"].tolist() == pytest.approx([10.0, 8.0])  # (0.5 + 0.3) x 10
    assert with_["recovery_days"].tolist() == [2.0, 1.0] and without["recovery_days"].tolist() == [2.0, 2.0]
    ev = evolvability(with_, without)
    assert ev["second_shock_loss_avoided_person_days"] == pytest.approx(6.0)
    assert ev["evolvability"] == pytest.approx(1 - 2.0 / 8.0)
    # two identical cuts with nothing learned: evolvability 0, whatever the stocks left by the first
    assert evolvability(without, without)["evolvability"] == 0.0
    assert evolvability(with_.iloc[:1], without) == {}


def test_adaptability_against_the_run_without_the_switch():
    run = pd.Series([1.0, 1.0, 0.4, 0.4, 0.8, 0.9, 1.0])
    no_switch = pd.Series([1.0, 1.0, 0.4, 0.4, 0.5, 0.5, 0.6])
    gains = switch_gains(run, [4], window_days=2)
    assert gains["gain_level"].item() == pytest.approx(0.85 - 0.4)
    table = adaptability(run, no_switch, [4], level=1.0, population=100, window_days=2)
    assert table["regained_level"].item() == pytest.approx(0.85 - 0.5)
    # from day 4: no-switch loss (0.5+0.5+0.4) - run loss (0.2+0.1+0) = 1.1 city-days
    assert table["loss_avoided_person_days"].item() == pytest.approx(110.0)


def test_fairness_figures():
    assert gini([1.0, 1.0, 1.0]) == 0.0
    assert gini([0.0, 0.0, 0.0, 1.0]) == pytest.approx(0.75)
    x, y = lorenz([0.5, 1.0], [1, 3])
    assert x.tolist() == [0.0, 0.25, 1.0] and y.tolist() == pytest.approx([0.0, 0.5 / 3.5, 1.0])
    comm = pd.DataFrame({"population": [100, 200, 300], "need_kg": [2.0, 2.0, 2.0], "consumed_kg": [2.0, 1.7, 1.9]})
    assert food_insecure_person_days(comm) == 200.0                   # only 1.7 / 2 = 0.85 < 0.9


def test_service_curves_count_every_delivery_channel():
    c = pd.DataFrame({"t_day": [0, 0], "community_id": ["a", "b"], "district": ["d1", "d2"],
                      "population": [100, 900], "need_kg": [2.0, 2.0], "demand_kg": [4.0, 4.0],
                      "delivered_offline_kg": [1.0, 1.0], "delivered_online_kg": [0.0, 1.0],
                      "delivered_group_kg": [1.0, 0.0], "delivered_safety_net_kg": [0.0, 2.0], "consumed_kg": [2.0, 2.0]})
    assert daily_service(c)["market_service_level"].item() == pytest.approx(6 / 8)
    assert daily_service(c)["fill_of_need"].item() == 1.0
    assert fill_curve(c, "district").loc[0].tolist() == [1.0, 1.0]
    by = service_curve(c, "district")
    assert by.loc[0].tolist() == [0.5, 1.0]
    # population percentile ranks 1/2 and 1: medium and large
    assert service_curve(c, "size_class").loc[0].to_dict() == {"medium": 0.5, "large": 1.0}


def test_prices_requests_and_workforce_figures():
    prices = pd.DataFrame({"t_day": [0, 0, 1, 1], "category": ["rice", "meat"] * 2, "district": ["d"] * 4,
                           "price_index": [1.0, 1.0, 1.2, 2.0]})
    assert price_stats(prices) == {"peak_price_index": pytest.approx(1.6), "peak_price_day": 1,
                                   "max_category_price_index": 2.0, "peak_price_index_meat": 2.0,
                                   "peak_price_index_rice": 1.2}
    req = pd.DataFrame({"request_id": range(5), "group": ["elderly"] * 5,
                        "outcome": ["served", "served", "served", "abandoned", "pending"],
                        "created_h": [0.0, 10.0, 20.0, 0.0, 5.0], "served_h": [2.0, 14.0, 40.0, np.nan, np.nan]})
    st = request_stats(req)
    assert st["response_time_p50_h"] == 4.0 and st["response_time_p95_h"] == pytest.approx(18.4)
    assert (st["abandoned_requests"], st["pending_requests"], st["served_request_share"]) == (1, 1, 0.6)
    work = pd.DataFrame({"t_day": [0, 1, 2], "headcount": [10.0] * 3, "active": [10.0, 6.0, 8.0],
                         "infectious": [0.0, 2.0, 1.0], "quarantined": [0.0, 3.0, 1.0]})
    assert workforce_stats(work) == {"min_active_workforce_share": 0.6, "min_active_workforce_day": 1,
                                     "peak_infectious": 2.0, "peak_quarantined": 3.0}


def _tables(service: list[float], events: pd.DataFrame | None = None, **extra) -> dict[str, pd.DataFrame]:
    """A one-compound city whose daily service follows ``service`` (demand 100 kg, need 100 kg)."""
    n = len(service)
    comm = pd.DataFrame({"t_day": range(n), "community_id": ["c"] * n, "district": ["d"] * n,
                         "population": [50.0] * n, "need_kg": [100.0] * n, "demand_kg": [100.0] * n,
                         "delivered_offline_kg": [100.0 * s for s in service], "delivered_online_kg": [0.0] * n,
                         "unmet_kg": [100.0 * (1 - s) for s in service], "consumed_kg": [100.0 * s for s in service],
                         "shortfall_kg": [100.0 * (1 - s) for s in service], "hh_stock_days": [1.0] * n})
    nodes = pd.DataFrame({"t_day": range(n), "node_id": ["o"] * n, "tier": [4] * n, "status": ["open"] * n,
                          "stock_kg": [10.0] * n})
    return {"communities": comm, "nodes": nodes, "events": events, **extra}


def test_summary_row_of_a_v_shaped_run():
    ev = pd.DataFrame({"t_day": [4, 9], "event": ["supply_cut_start", "supply_cut_end"], "shock": ["cut", "cut"]})
    row = summary_row(_tables(V_SHAPE.tolist(), ev), need_kg_per_person_day=2.0)
    assert row["shock_start_day"] == 4.0 and row["pre_shock_fill_of_need"] == 1.0
    assert (row["time_to_failure_days"], row["recovery_days"]) == (0.0, 5.0)
    assert row["resilience_loss_person_days"] == pytest.approx(1.8 * 50)    # need 100 kg = 50 persons at 2 kg
    assert row["resilience_loss_person_days"] == pytest.approx(row["shortfall_person_days"])
    assert row["min_fill_of_need"] == 0.4 and row["min_fill_day"] == 6
    assert row["n_shock_episodes"] == 1 and "evolvability" not in row
    assert row["food_insecure_person_days"] == 5 * 50                 # days 4-8 below 0.9 of need
    assert "peak_cascade_depth" not in row and row["gini_fill_of_need"] == 0.0   # no city table
    for absent in ("peak_price_index", "response_time_p50_h", "min_supply_workers_active_share", "n_switches"):
        assert absent not in row


def test_summary_row_writes_never_as_null():
    row = summary_row(_tables([1.0] * 6), need_kg_per_person_day=2.0)
    assert math.isnan(row["shock_start_day"]) and math.isnan(row["time_to_failure_days"])   # no shock, no failure
    assert row["recovery_days"] == 0.0 and row["resilience_loss_person_days"] == 0.0
    assert math.isinf(resilience(_tables([1.0] * 6), 2.0)["time_to_failure_days"])           # inf in the API
    ev = pd.DataFrame({"t_day": [2], "event": ["supply_cut_start"], "shock": ["cut"]})
    row = summary_row(_tables([1.0, 1.0, 0.5, 0.5, 0.5], ev), need_kg_per_person_day=2.0)
    assert row["time_to_failure_days"] == 0.0 and math.isnan(row["recovery_days"])           # never recovered


def test_resilience_with_settings_and_optional_tables():
    ev = pd.DataFrame({"t_day": [3, 6], "event": ["policy_change", "regime_switch"], "shock": ["", ""]})
    city = pd.DataFrame({"t_day": range(8), "regime": ["normal"] * 2 + ["emergency"] * 4 + ["extreme"] * 2})
    row = resilience(_tables([1, 1, 0.5, 0.5, 0.7, 0.8, 1, 1], ev, city=city), 2.0,
                     MetricSettings(shock_start_day=2, warmup_days=0, switch_window_days=2))
    assert row["shock_start_day"] == 2.0 and row["n_switches"] == 3  # days 2 (regime), 3 (policy), 6
    assert row["first_switch_delay_days"] == 0.0
    assert (row["days_emergency"], row["days_extreme"]) == (4, 2)
