"""The daily step's glue in compiled passes gives the floats of the numpy it replaced (issue 17).

Each kernel here stands for a few numpy lines of ``twin.processes.households``, ``twin.world``,
``twin.queues`` or ``twin.processes.transport``; each test holds it to those lines, special
values (zeros of both signs, inf, NaN) included where the model could meet them.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from twin.network.model import group_sum
from twin.policies.flows import ratio_of

special = st.one_of(st.floats(-1e6, 1e6), st.sampled_from([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-300, 1e300]))
kg = st.one_of(st.floats(0.0, 1e7), st.sampled_from([0.0, -0.0, 1e-300, np.inf]))


def same_floats(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal values and signs (zeros included), NaN where the other is NaN."""
    a, b = np.asarray(a), np.asarray(b)
    nan = np.isnan(a)
    return bool(a.shape == b.shape and np.array_equal(nan, np.isnan(b)) and np.array_equal(a[~nan], b[~nan])
                and np.array_equal(np.signbit(a[~nan]), np.signbit(b[~nan])))


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 7), st.integers(1, 4), st.sampled_from([1, 3, 10, 12]), st.data())
def test_goods_short_kernel_is_the_numpy_update(n, nd, c, data):
    from twin.world import _goods_short, _goods_short_ok
    at_node = data.draw(arrays(float, (n, c), elements=special))
    capacity = data.draw(arrays(float, n, elements=special))
    offered = data.draw(arrays(float, (n, c), elements=special))
    shut = data.draw(arrays(bool, n))
    bins = data.draw(arrays(np.intp, n, elements=st.integers(0, nd)))   # nd: a seller in no district
    start = data.draw(arrays(float, (nd, c), elements=st.floats(0.0, 1e6)))
    with np.errstate(all="ignore"):
        total = at_node.sum(axis=1)
        handed = ratio_of(np.minimum(capacity, total), total)
        handed[shut] = 0.0
        short = np.maximum(at_node * handed[:, None] - offered, 0.0)
        want = start + group_sum(bins, short, nd + 1)[:nd]
        got = start.copy()
        assert _goods_short_ok(at_node, capacity, offered, got)
        _goods_short(at_node, capacity, shut, offered, bins, got)
    assert same_floats(got, want)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6), st.integers(0, 12), st.sampled_from([1, 4, 10, 11]), st.data())
def test_taking_sales_off_the_shelves_is_the_numpy_update(n, rows, c, data):
    from twin.processes.households import _take_kernel
    node = data.draw(arrays(np.int64, rows, elements=st.integers(0, n - 1)))
    served = data.draw(arrays(float, (rows, c), elements=kg))
    at_node = data.draw(arrays(float, (n, c), elements=kg))
    stock = data.draw(arrays(float, (n, c), elements=special))
    unfilled, out = (data.draw(arrays(float, n, elements=st.floats(0.0, 1e6))) for _ in range(2))
    with np.errstate(all="ignore"):
        taken = group_sum(node, served, n)
        taken_kg = taken.sum(axis=1)
        want_unfilled = unfilled + (at_node.sum(axis=1) - taken_kg)
        want_stock = np.maximum(stock - taken, 0.0)
        want_out = out + taken_kg
        _take_kernel(node, served, at_node, stock, unfilled, out)
    for a, w in ((stock, want_stock), (unfilled, want_unfilled), (out, want_out)):
        assert same_floats(a, w)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 5), st.integers(0, 12), st.integers(1, 11), st.data())
def test_spreading_requests_over_edges_is_take_times_weight(k, e, c, data):
    from twin.processes.households import _scale_by_ratio, _spread
    request = data.draw(arrays(float, (k, c), elements=special))
    comm = data.draw(arrays(np.int64, e, elements=st.integers(0, k - 1)))
    w = data.draw(arrays(float, e, elements=special))
    part, whole = (data.draw(arrays(float, (k, c), elements=special)) for _ in range(2))
    served = data.draw(arrays(float, (e, c), elements=special))
    with np.errstate(all="ignore"):
        assert same_floats(_spread(request, comm, w), np.take(request, comm, axis=0) * w[:, None])
        want = served * np.take(ratio_of(part, whole), comm, axis=0)
        _scale_by_ratio(served, comm, part, whole)
    assert same_floats(served, want)


def test_priority_classes_are_np_unique_and_kept():
    from twin.policies.flows import _classes
    for p in (np.array([2, 0, 2, 1]), np.array([0.5, 0.5]), np.array([3, 1, 1, 0], dtype=np.int8)):
        levels, cls = np.unique(p, return_inverse=True)
        got, n = _classes(p)
        assert n == len(levels) and got.dtype == np.int64 and got.tolist() == cls.ravel().tolist()
        assert _classes(p.copy())[0] is got   # asked again: the kept answer
    assert _classes(np.array([1, 0]))[0].tolist() == [1, 0]   # the same bytes, another shape or dtype: its own
    assert _classes(np.array([1, 0], dtype=np.int32))[0].tolist() == [1, 0]


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 8), st.integers(1, 6), st.data())
def test_an_infinite_budget_pays_for_everything_whatever_it_costs(rows, c, data):
    """fill_by_priority's kernel skips the classes' sums of a row with an infinite budget: the
    numpy reference scales such a row by exactly 1, NaN, inf and negative kg or costs included."""
    from twin.policies.flows import _fill_by_priority, fill_by_priority
    kg = data.draw(arrays(float, (rows, c), elements=special))
    budget = data.draw(arrays(float, rows, elements=st.one_of(st.floats(0.0, 1e6), st.just(np.inf))))
    priority = data.draw(arrays(np.int64, c, elements=st.integers(0, 3)))
    cost = data.draw(st.one_of(st.none(), arrays(float, (rows, c), elements=special)))
    inf = budget == np.inf
    with np.errstate(all="ignore"):
        got = fill_by_priority(kg, budget, priority, cost)
        assert same_floats(got[inf], kg[inf] * 1.0)
        assert same_floats(_fill_by_priority(kg, budget, priority, cost)[inf], kg[inf] * 1.0)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 6), st.integers(1, 7), st.data())
def test_two_cohorts_go_into_stock_as_their_sum_added(k, w, data):
    from twin.queues import _add_two_into
    hh, a, b = (data.draw(arrays(float, (k, w), elements=special)) for _ in range(3))
    ga, gb = (data.draw(arrays(float, k, elements=special)) for _ in range(2))
    with np.errstate(all="ignore"):
        total = a * ga[:, None]
        total += b * gb[:, None]
        want = hh + total
        _add_two_into(hh, a, ga, b, gb)
    assert same_floats(hh, want)


def test_a_waves_convoys_are_slices_of_its_rows_by_travel_time():
    from twin.network.build import build_network
    from twin.processes.transport import Wave
    from twin.scenario import load_scenario
    net = build_network(load_scenario("scenarios/tiny/small_city.toml"))
    for tier in sorted(set(net.tier[net.link_src].tolist())):
        wave = Wave(net, tier)
        assert len(wave.by_time) == len(wave.links) and len(wave.starts) == len(wave.convoys)
        for (t, rows), start, t2 in zip(wave.convoys, wave.starts, wave.times):
            assert t == t2 and wave.by_time[start:start + len(rows)].tolist() == rows.tolist()


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 8), st.integers(1, 6), st.data())
def test_online_share_kernel_is_the_where_formula(k, g, data):
    from twin.world import _online_share
    comm_fw = data.draw(arrays(np.int64, k, elements=st.integers(-1, 3)))
    level = data.draw(arrays(np.int8, k, elements=st.integers(0, 2)))
    lockdown = data.draw(arrays(float, k, elements=special))
    on = data.draw(arrays(bool, g))
    habit, aid = data.draw(special), data.draw(special)
    own = np.where(level[:, None] == 2, 1.0, np.where(level[:, None] == 1, lockdown[:, None], habit))
    helped = np.where(level[:, None] >= 1, aid, 0.0)
    share = np.where(on[None, :], own, helped)
    want = np.where((comm_fw >= 0)[:, None], np.clip(share, 0.0, 1.0), 0.0)
    assert same_floats(_online_share(comm_fw, level, lockdown, on, habit, aid), want)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 7), st.integers(1, 5), st.integers(1, 12), st.booleans(), st.booleans(), st.data())
def test_times_rate_by_group_is_the_product_and_its_group_sums(k, g, c, in_place, kc, data):
    from twin.policies.residents import by_compound, by_group
    from twin.policies.residents_fast import times_rate_by_group
    a = data.draw(arrays(float, (k, g, c), elements=kg))
    rate = data.draw(arrays(float, (k, c), elements=st.floats(0.0, 1.0)))
    cost = data.draw(arrays(float, (k, c), elements=st.floats(0.0, 100.0)))
    costs = data.draw(st.booleans())
    with np.errstate(invalid="ignore"):   # inf x 0: NaN, in both
        want = a * rate[:, None, :]
        out, out_g, out_kc = (a if in_place else np.empty_like(a)), np.empty((k, g)), np.full((k, c), -1.0)
        out_cost = np.full((k, g), -1.0)
        times_rate_by_group(a, rate, out, out_g, out_kc, kc, cost, out_cost, costs)
        want_cost = np.einsum("kgc,kc->kg", want, cost)
    assert same_floats(out, want) and same_floats(out_g, by_group(want))
    assert same_floats(out_kc, by_compound(want)) if kc else (out_kc == -1.0).all()
    assert same_floats(out_cost, want_cost) if costs else (out_cost == -1.0).all()


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 7), st.integers(1, 5), st.integers(1, 20), st.data())
def test_einsum_cost_is_numpys_einsum(k, g, c, data):
    """numpy's sum of products of two contiguous runs (np.einsum("kgc,kc->kg")), zeros' signs included."""
    from twin.policies.residents_fast import einsum_cost
    a = data.draw(arrays(float, (k, g, c), elements=special))
    cost = data.draw(arrays(float, (k, c), elements=special))
    out = np.empty((k, g))
    with np.errstate(all="ignore"):
        einsum_cost(a, cost, out)
        assert same_floats(out, np.einsum("kgc,kc->kg", a, cost))


def test_einsum_cost_on_a_city_sized_array():
    from twin.policies.residents_fast import einsum_cost
    rng = np.random.default_rng(13)
    for c in (1, 2, 7, 8, 9, 10, 16, 17):
        a = rng.lognormal(0.0, 3.0, (9_999, 5, c)) * rng.choice([1.0, -1.0, 0.0], (9_999, 5, c))
        cost = rng.lognormal(0.0, 2.0, (9_999, c))
        out = np.empty((9_999, 5))
        einsum_cost(a, cost, out)
        assert same_floats(out, np.einsum("kgc,kc->kg", a, cost))


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 30), st.sampled_from([1, 2, 5, 7, 8, 9, 10, 16, 17, 74, 128, 129]), st.data())
def test_sum_rows_is_numpys_row_sum(rows, width, data):
    from twin.policies.flows import sum_rows
    a = data.draw(arrays(float, (rows, width), elements=special))
    with np.errstate(all="ignore"):
        assert same_floats(sum_rows(a), a.sum(axis=1))
        assert same_floats(sum_rows(np.asfortranarray(a)), np.asfortranarray(a).sum(axis=1))   # numpy's own
        q = np.ascontiguousarray(np.concatenate([a, a], axis=1))
        cols = np.arange(width)[::-1]
        assert same_floats(sum_rows(q[:, cols]), q[:, cols].sum(axis=1))   # a fancy pick of columns


def test_sum_rows_on_a_city_sized_array():
    from twin.policies.flows import sum_rows
    rng = np.random.default_rng(7)
    for width in (5, 10, 74):
        a = rng.lognormal(0.0, 3.0, (9_999, width)) * rng.choice([1.0, -1.0, 0.0], (9_999, width))
        assert same_floats(sum_rows(a), a.sum(axis=1))


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 7), st.integers(1, 5), st.integers(1, 12), st.data())
def test_two_cohorts_on_order_are_added_as_one_after_the_other(k, g, c, data):
    from twin.policies.residents_fast import add_on_order, add_two_on_order
    comp_a, comp_b = (data.draw(arrays(float, (k, g, c), elements=kg)) for _ in range(2))
    left_a, left_b = (data.draw(arrays(float, k, elements=st.floats(0.0, 1.0))) for _ in range(2))
    want, got = np.empty((k, g, c)), np.empty((k, g, c))
    with np.errstate(invalid="ignore"):
        add_on_order(want, comp_a, left_a, True)
        add_on_order(want, comp_b, left_b, False)
        add_two_on_order(got, comp_a, left_a, comp_b, left_b)
    assert same_floats(got, want)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 7), st.integers(1, 5), st.integers(1, 12), st.data())
def test_turned_away_orders_move_to_the_shops_as_the_numpy_update(k, g, c, data):
    from twin.policies.residents import by_compound
    from twin.policies.residents_fast import move_turned
    online, offline, turned = (data.draw(arrays(float, (k, g, c), elements=kg)) for _ in range(3))
    level = data.draw(arrays(np.int8, k, elements=st.integers(0, 2)))
    with np.errstate(invalid="ignore"):
        want_on, want_off = online.copy(), offline.copy()
        move = np.minimum(want_on, turned)
        move *= (level < 2)[:, None, None]
        want_on -= move
        want_off += move
        on_kc = np.empty((k, c))
        move_turned(online, offline, turned, (level < 2).astype(float), on_kc)
    assert same_floats(online, want_on) and same_floats(offline, want_off)
    assert same_floats(on_kc, by_compound(want_on))


def test_a_wave_keeps_its_last_split_for_the_same_links_in_use():
    from twin.network.build import build_network
    from twin.policies.flows import first_split
    from twin.processes.transport import Wave
    from twin.scenario import load_scenario
    net = build_network(load_scenario("scenarios/tiny/small_city.toml"))
    wave = Wave(net, 3)
    rng = np.random.default_rng(2)
    uses = [rng.random(len(wave.links)) < 0.7 for _ in range(2)]
    for use in (uses[0], uses[0].copy(), uses[1], uses[0]):
        got = wave.first_split(net.n_nodes, use)
        assert same_floats(got, first_split(wave.dst, wave.share, wave.weight, net.n_nodes, use))
        assert not got.flags.writeable
    assert wave.first_split(net.n_nodes, uses[0].copy()) is wave.first_split(net.n_nodes, uses[0])
