"""Trace tests of single processes: when things happen, and who wins a tie."""

from __future__ import annotations

import numpy as np
import simpy

import twin
from twin.network import build_network
from twin.processes.transport import dispatch
from twin.scenario import parse_scenario
from twin.sim import PHASE_HOURS
from twin.world import Urgent, World


def _chain(sorter_to_shop_h: float) -> dict:
    return {
        "city": {"communities": [{"id": "c", "district": "d", "population": 100, "outlets": ["shop"]}]},
        "network": {"nodes": [
            {"id": "base", "kind": "out_of_province_base", "production_kg_per_day": 1e5},
            {"id": "sorter", "kind": "sorting_centre", "stock_days": 5},
            {"id": "shop", "kind": "supermarket", "stock_days": 0}],
            "links": [{"src": "base", "dst": "sorter"},
                      {"src": "sorter", "dst": "shop", "travel_h": sorter_to_shop_h}]},
        "categories": [{"name": "rice", "need_kg_per_person_day": 1.0, "spoilage_per_day": 0.0,
                        "baseline_price_per_kg": 6.0}],
        "households": {"demand_noise_cv": 0.0},
    }


def test_convoy_arrives_after_its_travel_time():
    sc = parse_scenario(_chain(2.5))
    env = simpy.Environment()
    world = World(env, build_network(sc), sc)
    world.stock[2] = 0.0            # the shop is empty: it must order
    seen = []

    def watch(env):
        while True:
            seen.append((env.now, float(world.stock[2, 0]), float(world.pipeline[2, 0])))
            yield env.timeout(0.25)

    env.process(dispatch(env, world, tier=3, hour=PHASE_HOURS["dispatch"][3]))
    env.process(watch(env))
    env.run(until=12.0)
    level = world.order_level()[2, 0]
    by_time = {t: (s, p) for t, s, p in seen}
    assert by_time[7.0][0] == 0.0                      # the watcher runs before dispatch at 07:00
    assert by_time[7.25] == (0.0, level)               # loaded, on the road
    assert by_time[9.25] == (0.0, level)
    assert by_time[9.5] == (level, 0.0)                # arrived at 07:00 + 2.5 h


def test_arrival_at_shopping_hour_is_sold_the_same_day():
    """A convoy due at exactly 10:00 is unloaded before the 10:00 shopping phase (urgent events)."""
    travel = PHASE_HOURS["households"] - PHASE_HOURS["dispatch"][3]   # 3 h: arrives at 10:00 sharp
    data = _chain(travel)
    data["city"]["communities"][0]["household_stock_days"] = 0.0
    res = twin.run(data, seed=0, days=6)
    c = res["communities"]
    assert np.allclose(c["unmet_kg"], 0.0)


def test_urgent_beats_normal_at_the_same_instant():
    env = simpy.Environment()
    log = []

    def normal(env):
        yield env.timeout(5)
        log.append("normal")

    env.process(normal(env))
    Urgent(env, 5).callbacks.append(lambda _e: log.append("urgent"))
    env.run()
    assert log == ["urgent", "normal"]


def test_phases_of_one_day_run_in_documented_order():
    hours = [PHASE_HOURS["production"], *PHASE_HOURS["dispatch"], PHASE_HOURS["households"],
             PHASE_HOURS["spoilage"], PHASE_HOURS["record"]]
    assert hours == sorted(hours) and len(set(hours)) == len(hours)
    assert 0 < hours[0] and hours[-1] < 24


def test_short_hands_load_key_items_first():
    """A sorting centre with hands for about half the flow: with key-item lists (the default) the
    medicine gets through whole and rice takes the cut; without them both are cut alike."""
    def run(key_first: bool):
        data = _chain(1.0)
        data["network"]["nodes"][1]["staff"] = 2            # far fewer hands than the flow needs
        data["network"]["key_items_first"] = key_first
        data["categories"] = [
            {"name": "rice", "need_kg_per_person_day": 1.0, "spoilage_per_day": 0.0, "baseline_price_per_kg": 6.0,
             "priority": 1},
            {"name": "medicine", "need_kg_per_person_day": 0.1, "spoilage_per_day": 0.0, "baseline_price_per_kg": 200.0,
             "priority": 0}]
        data["city"]["communities"][0]["population"] = 20_000
        res = twin.run(data, seed=0, days=20)
        eaten = res["balance"].pivot_table(index="t_day", columns="category", values="cum_consumed_kg")
        per_day = eaten.diff().loc[10:].mean()
        return per_day["medicine"] / (0.1 * 20_000), per_day["rice"] / 20_000

    (med_first, rice_first), (med_alike, rice_alike) = run(True), run(False)
    assert med_first > 0.99                      # key items first: the medicine gets through whole
    assert med_alike < 0.9 * med_first           # cut alike, the medicine is short like the rice
    assert rice_first < rice_alike               # the rice takes the cut instead
