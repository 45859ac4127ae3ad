"""Online orders inside the day (``twin.queues``): a store's queue traced by hand, orders conserved,
Little's law, and crews as the unit of contact."""

from __future__ import annotations

import numpy as np
import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

import twin
from twin.network import build_network
from twin.pools import COURIERS
from twin.processes.couriers import couriers
from twin.processes.workforce import workforce
from twin.rng import seed_sequence
from twin.scenario import parse_scenario
from twin.testing import check_invariants
from twin.world import GROUPS, World


def _store(couriers_n: float = 20.0, profile: list[float] | None = None, patience_h: int = 48,
           slot: str = "never", epidemic: dict | None = None, disinfect: bool = True) -> dict:
    """One compound, one dark store with ``couriers_n`` couriers of 500 kg a day (two crews: 06:00-16:00 and
    14:00-24:00), no surge."""
    data = {
        "city": {"communities": [{"id": "c", "district": "d", "population": 10_000, "outlets": ["shop"],
                                  "front_warehouse": "dark"}]},
        "network": {"nodes": [
            {"id": "base", "kind": "out_of_province_base", "production_kg_per_day": 1e5},
            {"id": "sorter", "kind": "sorting_centre", "district": "d"},
            {"id": "shop", "kind": "supermarket", "district": "d"},
            {"id": "dark", "kind": "front_warehouse", "district": "d", "couriers": couriers_n, "staff": 100}],
            "links": [{"src": "base", "dst": "sorter"}, {"src": "sorter", "dst": "shop"},
                      {"src": "sorter", "dst": "dark"}]},
        "categories": [{"name": "rice", "need_kg_per_person_day": 1.0, "spoilage_per_day": 0.0,
                        "baseline_price_per_kg": 6.0}],
        "households": {"demand_noise_cv": 0.0},
        "workforce": {"parcels_per_courier_day": 100.0, "kg_per_parcel": 5.0},
        "surge": {"max_extra": 0.0, "courier_max_extra": 0.0},
        "shifts": {"front_warehouse": {"starts_h": [6, 14], "hours": 10}, "disinfect_between_shifts": disinfect},
        "orders": {"patience_h": patience_h, "slot_release_when": slot, "courier_round_h": 0.5},
    }
    if profile is not None:
        data["orders"]["hourly_profile"] = profile
    if epidemic is not None:
        data["epidemic"] = epidemic
    return data


def _world(data: dict) -> tuple[simpy.Environment, World]:
    sc = parse_scenario(data)
    env = simpy.Environment()
    world = World(env, build_network(sc), sc)
    world.refresh_workforce()
    return env, world


def _basket(world: World, kg: float) -> np.ndarray:
    """An order basket [K, G, C] of ``kg`` of rice from the compound's 'others' group."""
    out = np.zeros((world.net.n_communities, len(GROUPS), world.net.n_categories))
    out[0, GROUPS.index("others"), 0] = kg
    return out


def _hour_profile(hour: int) -> list[float]:
    return [1.0 if h == hour else 0.0 for h in range(24)]


def test_one_store_through_a_day_lead_times_by_hand():
    """3,000 kg placed at 12:00; two crews of 10 couriers x 500 kg over 10-hour shifts (06-16, 14-24):
    500 kg an hour until 14:00, 1,000 an hour while both are on. Rounds leave at hh:35 and take
    30 minutes: 500 kg at 12:35 (lead 1 h 5 min), 500 at 13:35 (2 h 5), 1,000 at 14:35 (3 h 5) and
    1,000 at 15:35 (4 h 5). Median (1,500 kg reached): 3.083 h; 95th percentile (2,850 kg): 4.083 h."""
    env, world = _world(_store(profile=_hour_profile(12)))
    book = world.orders
    assert book.rates(world)[0, [5, 6, 13, 14, 15, 16, 23]].tolist() == [0, 500, 500, 1000, 1000, 500, 500]
    env.process(couriers(env, world))
    env.run(until=10.0)
    book.place(0, _basket(world, 3000.0))
    seen = {}

    def watch(env):
        yield env.timeout(1.9)
        while True:
            seen[env.now] = float(book.backlog_kg(int(env.now)).sum())
            yield env.timeout(1.0)

    env.process(watch(env))
    env.run(until=23.9)
    assert [seen[h] for h in (11.9, 12.9, 13.9, 14.9, 15.9)] == [0.0, 2500.0, 2000.0, 1000.0, 0.0]
    day = book.take_day()
    assert day["placed"].tolist() == [3000.0] and day["delivered"].tolist() == [3000.0]
    lead = day["lead"][0]
    assert lead[:4].tolist() == [500.0, 500.0, 1000.0, 1000.0]
    from twin.policies.queue import hist_quantile
    assert hist_quantile(day["lead"], book.lead_h, 0.5)[0] == pytest.approx(2 + 35 / 60 + 0.5)
    assert hist_quantile(day["lead"], book.lead_h, 0.95)[0] == pytest.approx(3 + 35 / 60 + 0.5)
    # handed over after the 23:35 round: in the household's stock, paid at the platform's price
    assert world.hh_stock[0, GROUPS.index("others"), 0] == pytest.approx(world.stock_days_g[0, GROUPS.index("others"), 0] * world.need_base_g[0, GROUPS.index("others"), 0] + 3000.0)
    assert world.day_res["delivered_online_kg"].sum() == pytest.approx(3000.0)
    assert book.cohorts == {}


def test_orders_wait_for_the_next_shift_and_are_cancelled_after_the_patience():
    """Placed at 02:00 (no crew on before 06:00) they wait 4 hours; with a patience of 3 hours they
    are cancelled at the 05:35 round, go back on the shelf, and the household turns to the shops."""
    env, world = _world(_store(profile=_hour_profile(2)))
    env.process(couriers(env, world))
    env.run(until=10.0)
    world.orders.place(0, _basket(world, 100.0))
    env.run(until=24.0 + 9.9)
    assert world.orders.take_day()["lead"][0, 4] == 100.0        # taken at 06:35, 4 hours after 02:00

    env, world = _world(_store(profile=_hour_profile(2), patience_h=3))
    env.process(couriers(env, world))
    env.run(until=10.0)
    shelf = world.stock[world.orders.fw, 0].copy()
    world.orders.place(0, _basket(world, 100.0))
    env.run(until=24.0 + 9.9)
    day = world.orders.take_day()
    assert day["cancelled"].tolist() == [100.0] and day["delivered"].tolist() == [0.0]
    assert world.stock[world.orders.fw, 0] == pytest.approx(shelf + 100.0)     # back on the shelf (09:35)
    turned = world.orders.take_turned_away()
    assert turned.sum() == pytest.approx(100.0)


@settings(max_examples=25)
@given(days=st.integers(1, 6), couriers_n=st.sampled_from([0.0, 1.0, 4.0, 20.0]),
       patience=st.integers(1, 60), slot=st.sampled_from(["never", "always"]),
       profile=st.lists(st.floats(0.0, 5.0), min_size=24, max_size=24).filter(lambda v: sum(v) > 0),
       daily=st.lists(st.floats(0.0, 20_000.0), min_size=6, max_size=6))
def test_orders_are_conserved(days, couriers_n, patience, slot, profile, daily):
    """Every store, every day: placed = delivered + cancelled + backlog change; and every kg picked
    into an order is at the door, back on the shelf or still in an order."""
    env, world = _world(_store(couriers_n=couriers_n, profile=profile, patience_h=patience, slot=slot))
    book = world.orders
    env.process(couriers(env, world))
    shelf0 = float(world.stock[book.fw, 0].sum())
    home0 = float(world.hh_stock.sum())
    backlog, accepted = 0.0, 0.0
    for d in range(days):
        env.run(until=24.0 * d + 10.0)
        cap = book.slots_kg(world)[book.fw]
        kg = float(min(daily[d], cap[0]))
        book.place(d, _basket(world, kg))
        accepted += kg
        env.run(until=24.0 * d + 23.75)
        t = book.take_day()
        world.day_courier_out[:] = 0.0            # as the recorder does at 23:45
        now = float(book.backlog_kg(24 * d + 23).sum())
        placed, delivered, cancelled = (float(t[k].sum()) for k in ("placed", "delivered", "cancelled"))
        assert placed - delivered - cancelled == pytest.approx(now - backlog, abs=1e-6 * max(accepted, 1.0))
        assert delivered <= couriers_n * 500.0 * (1 + 1e-12) + 1e-9
        backlog = now
        at_door = float(world.hh_stock.sum()) - home0
        back = float(world.stock[book.fw, 0].sum()) - shelf0
        assert at_door + back + float(book.goods_kg().sum()) == pytest.approx(accepted, abs=1e-6 * max(accepted, 1.0))


def test_littles_law_on_a_steady_state():
    """Backlog = throughput x mean wait: the time-average of the waiting kg (placed at hh:00, taken
    at hh:35) over ten steady days equals kg placed per hour x the mean wait of delivered kg."""
    env, world = _world(_store(couriers_n=30.0))
    book = world.orders
    area = [0.0]
    real_round = book.round

    def round_and_measure(world, t_abs):
        before = float(book.backlog_kg(t_abs).sum())   # from hh:00 (placed) to hh:35
        real_round(world, t_abs)
        after = float(book.backlog_kg(t_abs).sum())    # from hh:35 to the next hh:00
        if t_abs >= 24 * 5:
            area[0] += before * 35 / 60 + after * 25 / 60

    book.round = round_and_measure
    env.process(couriers(env, world))
    waited, served, placed = 0.0, 0.0, 0.0
    for d in range(15):
        env.run(until=24.0 * d + 10.0)
        book.place(d, _basket(world, 12_000.0))
        env.run(until=24.0 * d + 23.75)
        t = book.take_day()
        world.day_courier_out[:] = 0.0            # as the recorder does at 23:45
        if d >= 5:
            waited += float(t["lead"].sum(axis=0) @ book.wait_h)
            served += float(t["delivered"].sum())
            placed += float(t["placed"].sum())
    assert served == pytest.approx(placed, rel=0.02)                 # steady: what comes in goes out
    mean_wait = waited / served
    assert mean_wait > 0.9                                            # the peaks queue (the least wait is 35 min)
    lam = placed / (10 * 24.0)
    assert area[0] / (10 * 24.0) == pytest.approx(lam * mean_wait, rel=0.03)


def _crew_pools(world: World) -> np.ndarray:
    p = world.pools
    return np.flatnonzero((p.role == COURIERS) & (p.node == world.orders.fw[0]))


@pytest.mark.parametrize("disinfect", [True, False])
def test_a_case_quarantines_its_crew_not_the_other_shift(disinfect):
    """An infectious courier of the morning crew is found (detection certain): his crew-mates, who
    share his dormitory, go into quarantine with him; the afternoon crew keeps working, and the
    store stays open and delivers only in the afternoon crew's hours (unless it closes on a case)."""
    epi = {"incidence_per_100k": [0.0] * 5, "symptom_detect_per_day": 1.0, "work_beta": 0.0,
           "dormitory_cluster_size": 50.0, "shared_dormitory_roles": ["couriers"], "after_series": "zero"}
    env, world = _world(_store(epidemic=epi, disinfect=disinfect))
    pools = world.pools
    morning, afternoon = _crew_pools(world)
    assert pools.crew[[morning, afternoon]].tolist() == [0, 1]
    assert pools.headcount[[morning, afternoon]].tolist() == [10, 10]
    pools.S[morning] -= 1
    pools.I[morning] += 1
    env.process(workforce(env, world, 0.25, seed_sequence(1)))
    env.run(until=1.0)
    assert pools.quarantined[[morning, afternoon]].tolist() == [10, 0]
    assert pools.active()[[morning, afternoon]].tolist() == [0.0, 10.0]
    rates = world.orders.rates(world)[0]
    if disinfect:
        assert not world.closed[world.orders.fw[0]]
        assert rates[[6, 13, 14, 23]].tolist() == [0.0, 0.0, 500.0, 500.0]
        assert world.courier_kg()[world.orders.fw[0]] == 5000.0
    else:
        assert world.closed[world.orders.fw[0]]
        assert rates.sum() == 0.0


@pytest.mark.parametrize("slot", ["never", "lockdown"])
def test_lockdown_run_keeps_every_invariant_with_goods_in_queues(slot):
    """A static lockdown (days 3-7) puts every purchase online at a store whose couriers carry
    4,000 kg a day, against 10,000 kg of need. Taking every order, the store's backlog grows, orders
    wait out the 20-hour patience and are cancelled; releasing a day's slots at 06:00, it takes
    only what its couriers can carry and turns the rest away at once (to shops delivering to the
    gate). The balance with goods in queues, the orders identities and every invariant hold."""
    data = _store(couriers_n=8.0, slot=slot, patience_h=20)
    data["lockdowns"] = [{"level": "static", "start_day": 3, "end_day": 8}]
    res = twin.run(data, seed=0, days=10)
    check_invariants(res)
    o = res["orders"].set_index("t_day")
    assert o.loc[:2, "lead_time_p95_h"].max() < 4.0 and (o.loc[:2, "backlog_orders"] == 0).all()
    if slot == "never":
        assert o.loc[5:7, "orders_cancelled"].min() > 0
        assert o.loc[4:7, "backlog_kg"].min() > 4000.0                     # more than a day's deliveries
        assert o.loc[5:7, "lead_time_p50_h"].min() == pytest.approx(20 - 1 + 35 / 60 + 0.5)   # at the patience
    else:
        assert (o.loc[:7, "orders_cancelled"] == 0).all()
        assert (o.loc[3:7, "orders_placed_kg"] <= 4000.0 * (1 + 1e-9)).all()
        assert o.loc[4:7, "lead_time_p95_h"].max() < 20.0


def test_a_load_waits_at_the_sorting_centre_dock_for_a_crew_on_shift():
    """The sorting centre's day crew (06:00-18:00) is in quarantine: a load arriving at 08:00 stays
    on the truck (in transit) until the night crew comes on at 18:00, then is unloaded."""
    from twin.pools import STAFF
    from twin.processes.transport import _arrival
    data = _store()
    data["network"]["nodes"][1]["staff"] = 20
    env, world = _world(data)
    sorter = int(np.flatnonzero(world.net.is_kind("sorting_centre"))[0])
    p = world.pools
    day_crew = np.flatnonzero((p.role == STAFF) & (p.node == sorter) & (p.crew == 0))[0]
    p.Qs[0, day_crew] += p.S[day_crew]
    p.S[day_crew] = 0
    world.refresh_workforce()
    load = np.array([[500.0]])
    world.pipeline[sorter] += load[0]
    stock0 = float(world.stock[sorter, 0])
    seen = {}

    def watch(env):
        while True:
            seen[env.now] = (float(world.stock[sorter, 0]) - stock0, float(world.pipeline[sorter, 0]))
            yield env.timeout(1.0)

    env.run(until=8.0)
    from twin.world import Urgent
    Urgent(env, 0.0).callbacks.append(_arrival(world, np.array([sorter]), load))
    env.process(watch(env))
    env.run(until=20.0)
    assert world.dock_wait(np.array([sorter])).tolist() == [0.0]          # 20:00: the night crew is on
    assert seen[9.0] == (0.0, 500.0) and seen[17.0] == (0.0, 500.0)      # waiting, still in transit
    assert seen[18.0] == (500.0, 0.0)                                     # unloaded at 18:00
