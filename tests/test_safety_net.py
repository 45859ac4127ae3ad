"""The safety net: its pure rules, one desk on its own (trace), request accounting on random
cities (Hypothesis), capacity limits, and behaviour (hotline cut, prescription lever, lockdown)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

import twin
from twin.metrics import request_stats
from twin.network import build_network
from twin.policies.safety_net import (expired, first_come, grouped_exclusive_cumsum, overflow, priority_key,
                                      refill_credit, request_rates, serve_in_order)
from twin.processes.safety_net import CHANNELS, TICK_OFFSET_H, SafetyNetDesk
from twin.scenario import ScenarioError, parse_scenario
from twin.scenario.safety_net import DEFAULT_GROUPS, SafetyNet, check_goods
from twin.testing import check_invariants, generated_cities, requests_by_day, seeds
from twin.world import World

CITY = {"name": "sn_city", "city": {"population": 200_000, "n_districts": 2}, "regimes": {"initial": "emergency"}}


def _run(days: int = 8, seed: int = 1, **sections):
    return twin.run({**CITY, **sections}, days=days, seed=seed)


# -- pure rules -------------------------------------------------------------------------------------
@given(n=st.lists(st.integers(0, 20), max_size=30), cap=st.floats(0.0, 200.0))
def test_one_server_is_first_come_first_served(n, cap):
    n = np.array(n, dtype=np.int64)
    one = (np.zeros(len(n), np.int64), np.ones((len(n), 1)), np.array([[cap]]))
    assert serve_in_order(n, [one]).tolist() == first_come(n, cap).tolist()
    assert first_come(n, cap).sum() == min(int(n.sum()), math.floor(cap + 1e-9))


@st.composite
def _ledgers(draw):
    b = draw(st.integers(1, 25))
    n = np.array(draw(st.lists(st.integers(0, 6), min_size=b, max_size=b)), dtype=np.int64)
    ledgers = []
    for _ in range(draw(st.integers(1, 3))):
        p, m = draw(st.integers(1, 4)), draw(st.integers(1, 3))
        pool = np.array(draw(st.lists(st.integers(0, p - 1), min_size=b, max_size=b)))
        load = np.array(draw(st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.5, 3.0]), min_size=b * m, max_size=b * m)))
        cap = np.array(draw(st.lists(st.floats(0.0, 30.0), min_size=p * m, max_size=p * m)))
        ledgers.append((pool, load.reshape(b, m), cap.reshape(p, m)))
    return n, ledgers


@given(case=_ledgers())
def test_serving_never_exceeds_requests_or_any_capacity(case):
    n, ledgers = case
    served = serve_in_order(n, ledgers)
    assert served.dtype == np.int64 and (served >= 0).all() and (served <= n).all()
    for pool, load, cap in ledgers:
        used = np.zeros_like(cap)
        np.add.at(used, pool, served[:, None] * load)
        assert (used <= cap + 1e-6).all()
    # the head of the queue gets all it can: nothing is ahead of it
    head = min((math.floor(c / u + 1e-9) for pool, load, cap in ledgers
                for u, c in zip(load[0], cap[pool[0]]) if u > 0), default=math.inf)
    assert served[0] == min(n[0], max(head, 0))


def test_a_request_out_of_stock_waits_without_holding_up_others():
    # three compounds' requests in order: medicine (out of stock), food, food; one team pool of 10 drops
    team = (np.zeros(3, np.int64), np.ones((3, 1)), np.array([[10.0]]))
    stock = (np.zeros(3, np.int64), np.array([[0.1, 0.0], [0.0, 7.0], [0.0, 7.0]]), np.array([[0.0, 20.0]]))
    assert serve_in_order(np.array([2, 2, 2]), [team, stock]).tolist() == [0, 2, 0]   # 20 kg of food: 2 boxes


def test_green_channel_goes_first_then_oldest_call():
    key = priority_key(np.array([False, False, True]), np.array([1.0, 0.5, 9.0]))
    assert np.argsort(key, kind="stable").tolist() == [2, 1, 0]


@given(per_tick=st.floats(0.0, 5.0), largest=st.floats(0.5, 3.0), demand=st.lists(st.integers(0, 8), max_size=40))
def test_credit_never_serves_more_than_the_capacity_summed_over_ticks(per_tick, largest, demand):
    credit, served = 0.0, 0
    for t, d in enumerate(demand, start=1):
        credit = float(refill_credit(credit, per_tick, largest))
        got = min(d, math.floor(credit / largest + 1e-9))
        credit -= got * largest
        served += got
        assert served * largest <= per_tick * t + 1e-6


def test_credit_keeps_fractions_so_a_backlog_is_served_at_capacity():
    credit, served = 0.0, 0
    for _ in range(10):
        credit = float(refill_credit(credit, 2.5, 1.0))
        got = int(first_come(np.array([100]), credit)[0])
        credit -= got
        served += got
    assert served == 25


@given(n=st.lists(st.integers(0, 9), min_size=1, max_size=20), room=st.floats(0.0, 60.0), data=st.data())
def test_overflow_drops_only_this_hours_calls_and_only_what_does_not_fit(n, room, data):
    n = np.array(n, dtype=np.int64)
    new = np.array(data.draw(st.lists(st.booleans(), min_size=len(n), max_size=len(n))))
    dropped = overflow(n, new, np.arange(len(n), dtype=float), room)
    assert (dropped[~new] == 0).all() and (dropped <= n).all()
    kept = int(n.sum() - dropped.sum())
    assert kept <= max(math.floor(room), int(n[~new].sum()))
    assert kept == min(int(n.sum()), max(math.floor(room), int(n[~new].sum())))


def test_give_up_after_patience_and_grouped_sums():
    assert expired(np.array([0.0, 3.0]), 10.0, np.array([12.0, 6.0])).tolist() == [False, True]
    pool, v = np.array([2, 0, 2, 2, 1]), np.arange(5.0)
    naive = [sum(v[j] for j in range(i) if pool[j] == pool[i]) for i in range(5)]
    assert grouped_exclusive_cumsum(pool, v).tolist() == naive


def test_longer_prescriptions_mean_fewer_refills():
    rates = request_rates(np.array([1000.0]), np.array([0.2]), np.array([0.1]), np.array([False]), np.array([0.5]),
                          np.array([7.0]))
    assert rates[0, 0] == pytest.approx(1000 * 0.1 * 0.5 / 7)
    elderly = request_rates(np.array([1000.0]), np.array([0.2]), np.array([0.1]), np.array([True]), np.array([1.0]),
                            np.array([1.0]))
    assert elderly[0, 0] == pytest.approx(20.0)


# -- scenario section -------------------------------------------------------------------------------
def test_groups_and_channels_given_change_the_defaults_field_by_field():
    sn = SafetyNet(groups={"infants": {"uptake": 0.9}, "veterans": {"share": 0.01}},
                   hotline={"calls_per_hour_per_1m": 10})
    assert sn.groups["infants"].goods_kg_per_day == DEFAULT_GROUPS["infants"].goods_kg_per_day
    assert sn.groups["infants"].uptake == 0.9 and "dialysis_patients" in sn.groups and "veterans" in sn.groups
    assert sn.hotline.calls_per_hour_per_1m == 10 and sn.hotline.patience_h == SafetyNet().hotline.patience_h
    assert SafetyNet.model_validate(sn.model_dump()) == sn   # a resolved scenario reads back the same


@pytest.mark.parametrize("section, field", [
    ({"prescription_days": 5}, "safety_net.prescription_days"),
    ({"calls_from_h": 20, "calls_to_h": 9}, "safety_net.calls_to_h"),
    ({"groups": {"Infants": {"share": 0.1}}}, "safety_net.groups.Infants"),
    ({"groups": {"infants": {"every_days": 0}}}, "safety_net.groups.infants.every_days"),
    ({"hotline": {"patience_h": -1}}, "safety_net.hotline.patience_h"),
])
def test_bad_sections_name_the_field(section, field):
    with pytest.raises(ScenarioError) as err:
        parse_scenario({"safety_net": section})
    assert err.value.field.startswith(field)


def test_goods_must_name_categories_but_default_goods_adapt():
    rice = [{"name": "rice", "need_kg_per_person_day": 2.0, "spoilage_per_day": 0.0, "baseline_price_per_kg": 6.0}]
    check_goods(SafetyNet(), {"rice"})                      # default groups: missing categories left out
    res = _run(days=3, categories=rice)
    check_invariants(res)
    req = res["requests"]
    assert req.loc[req["group"] == "elderly_alone", "delivered_kg"].sum() > 0   # rice only
    with pytest.raises(ScenarioError, match="safety_net.groups.infants.goods_kg_per_day: no category 'formula'"):
        _run(days=1, categories=rice, safety_net={"groups": {"infants": {"goods_kg_per_day": {"formula": 0.1}}}})


# -- one desk on its own ------------------------------------------------------------------------------
def _desk(sn: dict, population: int = 60_000, days: int = 3, empty_stock: bool = False):
    sc = parse_scenario({**CITY, "city": {"population": population, "n_districts": 2}, "safety_net": sn})
    env = simpy.Environment()
    world = World(env, build_network(sc, "<test>"), sc)
    if empty_stock:
        world.stock[:] = 0.0
    desk = SafetyNetDesk(world, 7)
    env.process(desk.process(env))
    env.run(until=24.0 * days)
    return desk, desk.table({}).to_pandas(), world


def test_trace_goods_out_of_stock_are_never_served_services_are():
    desk, req, world = _desk({}, empty_stock=True)
    goods = req["group"].astype(str).map(lambda g: bool(DEFAULT_GROUPS[g].goods_kg_per_day))
    served = req["outcome"] == "served"
    assert not (served & goods).any() and (served & ~goods).any()
    assert world.day_comm["delivered_safety_net_kg"].sum() == 0
    # out-of-stock requests waited in the dispatch queue and gave up after their patience
    gave_up = req[goods & (req["outcome"] == "abandoned") & req["answered_h"].notna()]
    patience = gave_up["group"].astype(str).map(lambda g: DEFAULT_GROUPS[g].patience_h)
    assert len(gave_up) and (gave_up["wait_h"] > patience).all() and (gave_up["wait_h"] <= patience + 1).all()


def test_trace_counts_close_every_hour_and_ids_cover_every_request():
    sc = parse_scenario({**CITY, "city": {"population": 60_000, "n_districts": 2},
                         "safety_net": {"hotline": {"calls_per_hour_per_1m": 30, "max_queue_per_1m": 50}}})
    env = simpy.Environment()
    desk = SafetyNetDesk(World(env, build_network(sc, "<test>"), sc), 3)
    for h in range(72):
        desk.tick(h + TICK_OFFSET_H)
        c = desk.daily_counts()
        assert c["requests_created"] == (c["requests_served"] + c["requests_pending"] + c["requests_abandoned"]
                                         + c["requests_dropped"])
    req = desk.table({}).to_pandas()
    ids = np.concatenate([np.arange(a, a + n) for a, n in zip(req["request_id"], req["n_requests"])])
    assert np.array_equal(np.sort(ids), np.arange(desk.counts["created"]))
    assert req["outcome"].astype(str).value_counts()["dropped"] > 0
    dropped = req[req["outcome"] == "dropped"]
    assert dropped["answered_h"].isna().all() and (dropped["wait_h"] < 1.0).all()


# -- random cities: accounting closes, no channel beyond its capacity ----------------------------------
@st.composite
def _safety_nets(draw):
    return {
        "prescription_days": draw(st.floats(7.0, 90.0)),
        "hotline": {"calls_per_hour_per_1m": draw(st.floats(0.0, 200.0)), "max_queue_per_1m": draw(st.floats(0.0, 3000.0)),
                    "patience_h": draw(st.floats(0.0, 30.0))},
        "online": {"calls_per_hour_per_1m": draw(st.floats(0.0, 200.0))},
        "teams_per_1m": draw(st.floats(0.0, 200.0)),
        "team_requests_per_day": draw(st.floats(1.0, 80.0)),
        "team_kg_per_day": draw(st.floats(1.0, 2000.0)),
        "team_rounds": draw(st.integers(1, 12)),
        "door_by_volunteers": draw(st.booleans()),
        "groups": {"elderly_alone": {"uptake": draw(st.floats(0.0, 1.0))},
                   "dialysis_patients": {"patience_h": draw(st.floats(1.0, 48.0))}},
    }


@settings(max_examples=30)
@given(data=generated_cities(max_population=30_000, max_shocks=2), sn=_safety_nets(), seed=seeds())
def test_accounting_closes_and_no_channel_exceeds_its_capacity(data, sn, seed):
    sc = parse_scenario({**data, "regimes": {"initial": "emergency"}, "safety_net": sn})
    res = twin.run(sc, seed=seed, days=8)
    check_invariants(res)   # created = served + pending + abandoned + dropped, every day, rebuilt from rows
    req, city = res["requests"], res["city"]
    rebuilt = requests_by_day(req, city["t_day"])
    assert (rebuilt["requests_dropped"] + city["requests_served"] + city["requests_pending"]
            + city["requests_abandoned"] == city["requests_created"]).all()
    ids = np.concatenate([np.arange(a, a + n) for a, n in zip(req["request_id"], req["n_requests"])] + [[]])
    assert np.array_equal(np.sort(ids), np.arange(city["requests_created"].iloc[-1]))   # each request once
    spec, net = sc.safety_net, res.network
    pop_m = net.population.sum() / 1e6
    answered = req.dropna(subset=["answered_h"])
    for c, chan in enumerate((spec.hotline, spec.online)):
        per_tick = answered[answered["channel"] == CHANNELS[c]].groupby("answered_h")["n_requests"].sum()
        capacity = chan.calls_per_hour_per_1m * pop_m
        assert (per_tick <= capacity + 1 + 1e-9).all()             # an hour: its capacity and one call carried
        ticks = np.floor(per_tick.index.to_numpy()) + 1           # ticks so far, the first at 00:24 of day 0
        assert (per_tick.cumsum().to_numpy() <= capacity * ticks + 1e-6).all()   # never more than in all
    served = req[req["outcome"] == "served"]
    effort = served["group"].astype(str).map(lambda g: spec.groups[g].team_effort) * served["n_requests"]
    by_round = effort.groupby([served["district"].astype(str), served["served_h"]]).sum()
    pop_d = {d: net.population[net.comm_district == i].sum() / 1e6 for i, d in enumerate(net.districts)}
    work = [h for h in range(24) if spec.team_from_h <= h + TICK_OFFSET_H < spec.team_to_h]
    rounds = min(spec.team_rounds, len(work))
    round_hours = np.array([work[i * len(work) // rounds] for i in range(rounds)])
    largest = max(g.team_effort for g in spec.groups.values())
    for district, e in by_round.groupby(level=0):
        per_round = spec.teams_per_1m * pop_d[district] * spec.team_requests_per_day / rounds
        assert (e <= per_round + largest + 1e-6).all()
        t = e.index.get_level_values(1).to_numpy()
        so_far = (t // 24) * rounds + (round_hours[None, :] <= (t % 24)[:, None]).sum(axis=1)
        assert (e.cumsum().to_numpy() <= per_round * so_far + 1e-6).all()
    kg = served.groupby([served["district"].astype(str), served["served_h"]])["delivered_kg"].sum()
    cats = {c.name for c in sc.categories}
    heaviest = max(sum(v for c, v in g.goods_kg_per_day.items() if c in cats)
                   * (spec.prescription_days if g.every_days == "prescription" else g.every_days)
                   for g in spec.groups.values())
    for (district, _), k in kg.items():
        assert k <= spec.teams_per_1m * pop_d[district] * spec.team_kg_per_day / rounds + heaviest + 1e-6


def test_request_stats_from_arrow_match_pandas_and_the_summary():
    res = _run(days=6)
    table = res.tables["requests"]
    from_arrow, from_pandas = request_stats(table), request_stats(table.to_pandas())
    assert from_arrow == from_pandas and from_arrow["n_requests"] > 0
    summary = res.tables["summary"].to_pylist()[0]
    for key, value in from_pandas.items():
        assert summary[key] == value, key


# -- behaviour ----------------------------------------------------------------------------------------
def test_cutting_the_hotline_abandons_more_requests_and_slows_the_answer():
    base = request_stats(_run(days=10)["requests"])
    cut = request_stats(_run(days=10, safety_net={"hotline": {"calls_per_hour_per_1m": 40}})["requests"])
    assert base["n_requests"] == cut["n_requests"]   # the same calls are made (common random numbers)
    assert cut["abandoned_requests"] > base["abandoned_requests"] + 0.1 * base["n_requests"]
    assert cut["served_request_share"] < base["served_request_share"]
    assert cut["response_time_p95_h"] > base["response_time_p95_h"]
    assert cut["response_time_p50_h"] > base["response_time_p50_h"]


def test_ninety_day_prescriptions_cut_refill_requests_about_thirteen_fold():
    def refills(days: float) -> int:
        req = _run(days=8, safety_net={"prescription_days": days})["requests"]
        return int(req.loc[req["group"] == "chronic_patients", "n_requests"].sum())
    short, long = refills(7.0), refills(90.0)
    assert 8 < short / long < 20


def test_no_request_while_the_safety_net_is_off_and_requests_start_with_it():
    off = twin.run({**CITY, "regimes": {"initial": "normal"}}, days=3)
    assert len(off["requests"]) == 0 and "outcome" in off["requests"]
    assert (off["city"]["requests_created"] == 0).all() and "n_requests" not in off["summary"]
    later = _run(days=6, regimes={"initial": "normal", "switch_delay_days": 1.0,
                                  "schedule": [{"day": 2, "to": "emergency"}]})
    switch_h = later["events"].query("event == 'regime_switch'")["t_h"].min()
    assert later["requests"]["created_h"].min() >= switch_h
    check_invariants(later)


def test_static_lockdown_goods_need_volunteers_at_the_door_unless_teams_carry_them():
    locked = {"lockdowns": [{"level": "static", "start_day": 0, "end_day": 30}], "workforce": {"volunteers_per_1000": 0.0},
              "epidemic": {"pass_share": 1.0}}   # warehouse staff hold passes: only the doorstep is short

    def served_kg(door_by_volunteers: bool) -> tuple[float, int]:
        res = _run(days=4, **locked, safety_net={"door_by_volunteers": door_by_volunteers})
        check_invariants(res)
        req = res["requests"]
        ok = req["outcome"] == "served"
        return float(req.loc[ok, "delivered_kg"].sum()), int(req.loc[ok & (req["delivered_kg"] == 0), "n_requests"].sum())

    (kg_vol, trips_vol), (kg_team, _trips_team) = served_kg(True), served_kg(False)
    assert kg_vol == 0 and trips_vol > 0        # no volunteer: no goods at the door, treatment trips go on
    assert kg_team > 0


def test_same_seed_same_requests():
    a, b = _run(days=4, seed=5), _run(days=4, seed=5)
    assert a.tables["requests"].equals(b.tables["requests"])
