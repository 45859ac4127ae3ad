"""The safety net's compiled serving rule (twin.policies.safety_net_fast) serves exactly the
requests of the numpy rule it replaces (issue 17), whatever the queue, pools, loads and capacities."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from twin.policies import safety_net as rule
from twin.policies import safety_net_fast as fast

load_kg = st.one_of(st.just(0.0), st.floats(0.0, 50.0), st.sampled_from([0.5, 1.0, 2.0, 1e-7]))
room = st.one_of(st.just(0.0), st.floats(0.0, 500.0), st.just(np.inf), st.sampled_from([1.0, 3.0, 10.0]))


@st.composite
def queues(draw):
    b, kinds = draw(st.integers(0, 80)), draw(st.integers(1, 5))
    n = draw(arrays(np.int64, b, elements=st.integers(0, 12)))
    kind = draw(arrays(np.int16, b, elements=st.integers(0, kinds - 1)))
    ledgers = []
    for _ in range(draw(st.integers(1, 3))):
        pools, m = draw(st.integers(1, 6)), draw(st.integers(0, 4))
        pool = draw(arrays(np.int64, b, elements=st.integers(0, pools - 1)))
        if draw(st.booleans()):
            pool = np.sort(pool)   # district order: the rule's sorted path
        ledgers.append((pool.astype(draw(st.sampled_from([np.int16, np.int32, np.int64]))),
                        draw(arrays(float, (kinds, m), elements=load_kg)), draw(arrays(float, (pools, m), elements=room))))
    return n, kind, ledgers, draw(st.integers(1, 4))


def by_batch(kind, ledgers):
    """The rule's ledgers: each batch's own load [B, M]."""
    return [(pool, load[kind], cap) for pool, load, cap in ledgers]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")   # the numpy rule divides by tiny loads
@settings(max_examples=300, deadline=None)
@given(queues())
def test_the_compiled_rule_serves_what_the_numpy_rule_serves(case):
    n, kind, ledgers, passes = case
    want = rule.serve_in_order(n, by_batch(kind, ledgers), passes)
    got = fast.serve_in_order(n, kind, ledgers, passes)
    assert got.dtype == np.int64 and got.tolist() == want.tolist()
    for pool, load, cap in by_batch(kind, ledgers):   # and, as the rule promises, within every capacity
        used = np.zeros_like(cap)
        np.add.at(used, pool, got[:, None] * load)
        assert (used <= cap * (1 + 1e-6) + 1e-9).all()


def test_a_city_sized_queue_is_served_alike():
    rng = np.random.default_rng(5)
    b, districts, pools, kinds = 30_000, 16, 17, 5
    n, kind = rng.integers(0, 4, b), rng.integers(0, kinds, b)
    district = np.sort(rng.integers(0, districts, b))
    load = np.stack([rng.choice([1.0, 1.5, 2.0], kinds), rng.choice([0.0, 3.0, 6.5], kinds)], axis=1)
    goods = rng.choice([0.0, 0.5, 2.5], (kinds, 6))
    ledgers = [(district, load, rng.uniform(0, 300, (districts, 2))),
               (rng.integers(0, pools, b), goods, rng.uniform(0, 2_000, (pools, 6))),
               (rng.integers(0, 9_999, b), load[:, 1:], np.where(rng.random((9_999, 1)) < 0.5, np.inf, 20.0))]
    assert fast.serve_in_order(n, kind, ledgers).tolist() == rule.serve_in_order(n, by_batch(kind, ledgers)).tolist()


def test_the_docstring_cases():
    teams = (np.zeros(3, int), np.array([[1.0]]), np.array([[4.0]]))
    assert fast.serve_in_order(np.array([3, 2, 2]), np.zeros(3, int), [teams]).tolist() == [3, 1, 0]
    stock = (np.zeros(3, int), np.array([[2.0, 0.0], [0.0, 1.0], [1.0, 0.0]]), np.array([[3.0, 5.0]]))
    assert fast.serve_in_order(np.array([2, 2, 2]), np.arange(3), [stock]).tolist() == [1, 2, 1]


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_goods_spread_over_groups_are_numpys(data):
    k, g, c = data.draw(st.integers(1, 30)), data.draw(st.integers(1, 6)), data.draw(st.integers(1, 14))
    cats = np.flatnonzero(data.draw(arrays(bool, c)))
    kg_of = st.one_of(st.just(0.0), st.floats(0.0, 1e3), st.floats(1e-6, 1e-2))
    spread = data.draw(arrays(float, (k, len(cats)), elements=kg_of))
    one = data.draw(st.one_of(st.just(np.zeros((0, len(cats)))), arrays(float, (k * g, len(cats)), elements=kg_of)))
    members = data.draw(arrays(float, (k, g), elements=st.floats(0.0, 1.0)))
    price, index = data.draw(arrays(float, c, elements=st.floats(0.5, 90.0))), data.draw(st.floats(0.0, 3.0))
    want = np.zeros((k, g, c))   # the numpy the kernel replaces (twin.processes.safety_net's hand-over)
    want[:, :, cats] = spread[:, None, :] * members[:, :, None]
    if len(one):
        want[:, :, cats] += one.reshape(k, g, len(cats))
    rows, got, spent, total = fast.spread_goods(spread, one, members, cats, price, index, c)
    assert np.array_equal(total, want.sum(axis=(1, 2)))
    assert not want[np.setdiff1d(np.arange(k), rows)].any()   # the compounds left out get nothing
    assert np.array_equal(got, want[rows])
    assert np.array_equal(spent, ((want * price[None, None, :]).sum(axis=2) * index)[rows])


def test_goods_spread_over_a_city_are_numpys():
    rng = np.random.default_rng(8)
    k, g, c, cats = 9_999, 5, 10, np.array([0, 1, 2, 4, 5, 6, 7, 9])
    spread = rng.lognormal(0, 2, (k, len(cats))) * (rng.random((k, 1)) < 0.3)
    one = rng.lognormal(0, 2, (k * g, len(cats))) * (rng.random((k * g, 1)) < 0.1)
    members, price = rng.dirichlet(np.ones(g), k), rng.uniform(2, 80, c)
    rows, got, spent, total = fast.spread_goods(spread, one, members, cats, price, 1.3, c)
    want = np.zeros((k, g, c))
    want[:, :, cats] = spread[:, None, :] * members[:, :, None] + one.reshape(k, g, len(cats))
    assert np.array_equal(rows, np.flatnonzero(want.any(axis=(1, 2))))
    assert np.array_equal(got, want[rows]) and np.array_equal(total, want.sum(axis=(1, 2)))
    assert np.array_equal(spent, ((want * price).sum(axis=2) * 1.3)[rows])


@pytest.mark.parametrize("shared", [False, True])
def test_a_delivery_to_some_compounds_tallies_as_the_whole_delivery(shared):
    """World.hand_over's ``rows`` (packages, safety-net drops): the same stock and day's tallies, to
    the bit, as the whole [K, ...] delivery with zeros for the compounds that get nothing."""
    import simpy

    from tests.conftest import ROOT
    from twin.network.build import build_network
    from twin.scenario import load_scenario
    from twin.world import World

    sc = load_scenario(ROOT / "scenarios" / "tiny" / "small_city.toml")
    worlds = [World(simpy.Environment(), build_network(sc), sc) for _ in range(2)]
    net, rng = worlds[0].net, np.random.default_rng(4)
    k, g, c = worlds[0].hh_stock.shape
    rows = np.sort(rng.choice(k, max(1, k // 3), replace=False))
    part = rng.lognormal(0, 2, (len(rows), c) if shared else (len(rows), g, c))
    spent = rng.uniform(0, 90, (len(rows),) if shared else (len(rows), g))
    whole, whole_spent = np.zeros((k, *part.shape[1:])), np.zeros((k, *spent.shape[1:]))
    whole[rows], whole_spent[rows] = part, spent
    nodes = np.flatnonzero(net.tier == net.tier.max())[:2]
    taken = np.full((len(nodes), c), part.sum() / (2 * c))
    for w in worlds:
        w.stock[nodes] += 1e6
    worlds[0].hand_over(nodes, taken, whole, "unified", pushed=True, spent_cny=whole_spent)
    worlds[1].hand_over(nodes, taken, part, "unified", pushed=True, spent_cny=spent, rows=rows)
    a, b = worlds
    assert np.array_equal(a.hh_stock, b.hh_stock) and np.array_equal(a.day_spent_ch, b.day_spent_ch)
    assert all(np.array_equal(a.day_res[key], b.day_res[key]) for key in a.day_res)


def calls(data) -> tuple[int, int, np.ndarray, np.ndarray]:
    """Batches (how many, of how many groups, their call times and groups) for the rules below."""
    b, g = data.draw(st.integers(0, 50)), data.draw(st.integers(1, 6))
    created = data.draw(arrays(float, b, elements=st.floats(0.0, 2_000.0)))
    return b, g, created, data.draw(arrays(np.int16, b, elements=st.integers(0, g - 1)))


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_expired_batches_are_the_rules(data):
    b, g, created, group = calls(data)
    patience = data.draw(arrays(float, g, elements=st.one_of(st.floats(0.0, 200.0), st.sampled_from([0.0, 24.0]))))
    now = data.draw(st.one_of(st.floats(0.0, 2_200.0), st.sampled_from([24.0, 48.4])))
    gone = np.empty(b, bool)
    count = fast.expired_batches(created, group, patience, now, gone)
    want = rule.expired(created, now, patience[group])
    assert gone.tolist() == want.tolist() and count == want.sum()


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_priority_keys_and_first_come_are_the_rules(data):
    b, g, created, group = calls(data)
    green = data.draw(arrays(bool, g))
    assert np.array_equal(fast.priority_keys(created, group, green, rule.LATER_H), rule.priority_key(green[group], created))
    n = data.draw(arrays(np.int64, b, elements=st.integers(0, 30)))
    capacity = data.draw(st.one_of(st.floats(0.0, 300.0), st.sampled_from([0.0, 2.0, 4.5, 3.0 - 1e-10])))
    assert fast.first_come(n, capacity).tolist() == rule.first_come(n, capacity).tolist()
