"""Fast paths give the same floats as the plain arithmetic they replace (issues 15 and 17).

group_sum's compiled pass against a bincount, ratio_of's in-place division against
np.where, and a run's one-thread BLAS: none of them may change a table.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import twin
from twin.network.build import build_network
from twin.network.model import group_sum
from twin.policies.flows import ratio_of
from twin.scenario import load_scenario
from twin.sim import frozen_heap, one_blas_thread

special = st.one_of(st.floats(-1e6, 1e6), st.sampled_from([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-300, 1e300]))


def bincount_sum(index: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """The plain group sum: one bincount per column (rows in row order)."""
    return np.stack([np.bincount(index, weights=values[:, j], minlength=n) for j in range(values.shape[1])], axis=1)


def same_floats(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal values and signs (zeros included); NaN where the other is NaN (its sign bit is the
    compiler's choice of operand order, and a NaN in a group sum is a bug upstream anyway)."""
    nan = np.isnan(a)
    return bool(np.array_equal(nan, np.isnan(b)) and np.array_equal(a[~nan], b[~nan])
                and np.array_equal(np.signbit(a[~nan]), np.signbit(b[~nan])))


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 6), st.integers(1, 4), st.data())
def test_group_sum_kernel_sums_as_a_bincount(n, c, data):
    rows = data.draw(st.integers(0, 12))
    index = data.draw(arrays(data.draw(st.sampled_from([np.int64, np.int32])), rows, elements=st.integers(0, n - 1)))
    values = data.draw(arrays(float, (rows, c), elements=special))
    want = bincount_sum(index, values, n) if rows else np.zeros((n, c))
    for v in (values, np.asfortranarray(values)):
        got = group_sum(index, v, n)
        assert got.shape == (n, c)
        assert same_floats(got, want)
    assert same_floats(group_sum(index, values[:, 0], n), np.bincount(index, weights=values[:, 0], minlength=n))


def test_group_sum_on_a_city_sized_index():
    rng = np.random.default_rng(5)
    index = rng.integers(0, 500, 80_000)
    values = rng.lognormal(0.0, 3.0, (len(index), 10)) * rng.choice([1.0, -1.0, 0.0], (len(index), 10))
    assert same_floats(group_sum(index, values, 500), bincount_sum(index, values, 500))
    assert same_floats(group_sum(index, values > 1.0, 500), bincount_sum(index, (values > 1.0).astype(float), 500))


def test_group_sum_refuses_an_index_outside_its_groups():
    with pytest.raises(ValueError, match="outside"):
        group_sum(np.array([0, 3]), np.ones((2, 2)), 3)
    with pytest.raises(ValueError, match="outside"):
        group_sum(np.array([-1, 0]), np.ones(2), 3)


def test_the_network_cannot_be_changed():
    net = build_network(load_scenario("scenarios/tiny/small_city.toml"))
    with pytest.raises(ValueError, match="read-only"):
        net.edge_comm[0] = 1
    with pytest.raises(ValueError, match="read-only"):
        net.production_kg_day *= 2


@given(arrays(float, (3, 4), elements=special), arrays(float, (3, 4), elements=special))
def test_ratio_of_is_the_where_formula(part, whole):
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        want = np.where(whole > 0, part / np.where(whole > 0, whole, 1.0), 1.0)
        got = ratio_of(part, whole)
        got_b = ratio_of(part[:, None, :], whole[:, None, :])
    assert np.array_equal(got, want, equal_nan=True) and np.array_equal(np.signbit(got), np.signbit(want))
    assert got_b.shape == (3, 1, 4) and np.array_equal(got_b[:, 0], want, equal_nan=True)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        for p, w, x in ((part[:, 1], whole[:, 1], want[:, 1]), (part[:, ::2], whole[:, ::2], want[:, ::2])):   # vectors, strided views
            assert same_floats(ratio_of(p, w), x)
    assert ratio_of(np.float32([1.0]), np.float32([4.0])).dtype == np.float32   # dtype as np.where gave


def test_a_run_holds_blas_to_one_thread_and_restores_it():
    from threadpoolctl import threadpool_info

    def blas_threads():
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]

    before = blas_threads()
    with one_blas_thread():
        assert all(t == 1 for t in blas_threads())
    assert blas_threads() == before
    twin.run("scenarios/tiny/one_of_each.toml", days=2)
    assert blas_threads() == before


def test_a_run_leaves_older_objects_out_of_the_collectors_passes_and_puts_them_back():
    import gc
    import weakref

    class Cycle:
        def __init__(self):
            self.me = self

    gc.collect()
    old = weakref.ref(Cycle())     # garbage before the block: kept through it, freed after it
    alive = Cycle()                # alive as it starts, garbage inside it: freed after it
    held = weakref.ref(alive)
    with frozen_heap():
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with frozen_heap(collect_first=True):   # a caller froze the heap: left as it is
            assert gc.get_freeze_count() == frozen and old() is not None
        new = weakref.ref(Cycle())   # the block's own garbage: collected as before
        del alive
        gc.collect()
        assert old() is not None and held() is not None and new() is None
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert old() is None and held() is None
    dead = weakref.ref(Cycle())
    with frozen_heap(collect_first=True):   # a sweep's chunk: older garbage freed first
        assert dead() is None and gc.get_freeze_count() > 0
    twin.run("scenarios/tiny/one_of_each.toml", days=2)
    assert gc.get_freeze_count() == 0


class _Reads:
    """Wraps a scenario (or a part of it) and notes the attributes read through it."""

    def __init__(self, obj, seen: set, prefix: str = ""):
        self._obj, self._seen, self._prefix = obj, seen, prefix

    def __getattr__(self, name):
        self._seen.add(self._prefix + name)
        value = getattr(self._obj, name)
        return _Reads(value, self._seen, f"{name}.") if name == "households" and not self._prefix else value


@pytest.mark.parametrize("path", ["scenarios/tiny/small_city.toml", "scenarios/tiny/one_of_each.toml"])
def test_the_network_is_built_from_its_key_parts_alone(path):
    """network_key hashes what build_network reads: a new read of another part fails here."""
    from twin.network.build import NETWORK_PARTS
    sc = load_scenario(path)
    seen: set[str] = set()
    net = build_network(_Reads(sc, seen))
    assert seen <= {*NETWORK_PARTS, "households", "households.online_share"}, seen
    assert np.array_equal(net.link_share, build_network(sc).link_share)


def test_kept_networks_give_the_tables_of_a_fresh_build():
    from twin.network.build import _KEPT, keep_networks, network_key
    sc = load_scenario("scenarios/tiny/small_outbreak.toml")
    other = sc.with_({"epidemic.work_beta": 0.4, "households.demand_noise_cv": 0.2})   # no network field
    moved = sc.with_({"network.capacity_factor": 1.7})
    assert network_key(sc) == network_key(other) != network_key(moved)
    fresh = [twin.run(s, seed=4, days=12) for s in (sc, other, moved)]
    with keep_networks():
        kept = [twin.run(s, seed=4, days=12) for s in (sc, other, moved)]
        assert kept[0].network is kept[1].network is not kept[2].network
    assert not _KEPT                                   # let go on leaving
    for a, b in zip(fresh, kept):
        for name, table in a.tables.items():
            assert table.equals(b.tables[name]), name
    assert build_network(sc) is not build_network(sc)  # outside: built every time


class _Stub:
    """The World arrays an unloading touches."""

    def __init__(self, stock: np.ndarray, pipeline: np.ndarray):
        self.stock, self.pipeline, self.day_node_in = stock.copy(), pipeline.copy(), np.zeros(len(stock))


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 5), st.integers(0, 14), st.data())
def test_unloading_adds_as_np_add_at(n, rows, data):
    """Loads for a shared destination, added one after another by the unloading's kernel, give np.add.at's floats."""
    from twin.processes.transport import _unloading
    dst = data.draw(arrays(np.int64, rows, elements=st.integers(0, n - 1)))
    kg = st.one_of(st.floats(0.0, 1e6), st.sampled_from([0.0, -0.0, 1.0]))
    load = data.draw(arrays(float, (rows, 3), elements=kg))
    stock = data.draw(arrays(float, (n, 3), elements=kg))
    pipeline = data.draw(arrays(float, (n, 3), elements=kg))
    want = _Stub(stock, pipeline)
    np.add.at(want.stock, dst, load)
    np.subtract.at(want.pipeline, dst, load)
    want.pipeline[dst] = np.maximum(want.pipeline[dst], 0.0)
    np.add.at(want.day_node_in, dst, load.sum(axis=1))
    got = _Stub(stock, pipeline)
    _unloading(got, dst, load)(None)
    for a in ("stock", "pipeline", "day_node_in"):
        assert same_floats(getattr(got, a), getattr(want, a)), a


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 5), st.integers(1, 12), st.data())
def test_links_not_in_use_split_as_if_left_out(n, rows, data):
    """split_orders over every link with ``in_use`` gives the links in use the floats it gives them alone."""
    from twin.policies.flows import split_orders
    src = data.draw(arrays(np.int64, rows, elements=st.integers(0, n - 1)))
    dst = data.draw(arrays(np.int64, rows, elements=st.integers(0, n - 1)))
    planned = data.draw(arrays(float, (rows, 2), elements=st.floats(0.0, 1.0)))
    weight = data.draw(arrays(float, rows, elements=st.floats(0.0, 10.0)))
    need = data.draw(arrays(float, (rows, 2), elements=st.floats(0.0, 1e4)))
    stock = data.draw(arrays(float, (n, 2), elements=st.floats(0.0, 1e4)))
    cap = data.draw(arrays(float, n, elements=st.floats(0.0, 1e4)))
    use = data.draw(arrays(bool, rows))
    want = split_orders(src[use], dst[use], planned[use], weight[use], need[use], stock, cap, n)
    got = split_orders(src, dst, planned, weight, need, stock, cap, n, in_use=use)
    assert same_floats(got[use], want)
    assert not got[~use].any()


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 6), st.integers(1, 5), st.data())
def test_fill_by_priority_is_the_cumsum_formula(rows, c, data):
    """Class by class, fill_by_priority gives the floats of its whole-array formula (np.cumsum over classes)."""
    from twin.policies.flows import fill_by_priority
    kg = data.draw(arrays(float, (rows, c), elements=st.floats(0.0, 1e6)))
    budget = data.draw(arrays(float, rows, elements=st.one_of(st.floats(0.0, 1e6), st.just(np.inf))))
    priority = data.draw(arrays(np.int64, c, elements=st.integers(0, 3)))
    cost = data.draw(st.one_of(st.none(), arrays(float, (rows, c), elements=st.floats(0.0, 100.0))))
    levels, cls = np.unique(priority, return_inverse=True)
    spend = (kg if cost is None else kg * cost) @ np.eye(len(levels))[cls]
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        left = budget[:, None] - (np.cumsum(spend, axis=1) - spend)
        scale = np.where(spend > left, np.maximum(left, 0.0) / np.where(spend > 0, spend, 1.0), 1.0)
    assert same_floats(fill_by_priority(kg, budget, priority, cost), kg * scale[:, cls])


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 40), st.integers(1, 9), st.data())
def test_row_sums_are_numpys(rows, width, data):
    """The recorder's column-by-column row sums give numpy's floats (narrow rows: left to right)."""
    from twin.recording.recorder import row_sums
    a = data.draw(arrays(float, (rows, width), elements=special))
    with np.errstate(invalid="ignore", over="ignore"):
        assert same_floats(row_sums(a), a.sum(axis=1))


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 30), st.sampled_from([8, 9, 10, 15, 16, 17, 31, 127, 128, 129]), st.data())
def test_row_sums_of_wide_rows_are_numpys(rows, width, data):
    """Rows of 8 to 128 values (the nodes' categories): compiled pairwise sums, numpy's floats."""
    from twin.recording.recorder import row_sums
    a = data.draw(arrays(float, (rows, width), elements=special))
    with np.errstate(invalid="ignore", over="ignore"):
        assert same_floats(row_sums(a), a.sum(axis=1))


def test_row_sums_on_a_city_sized_array():
    from twin.recording.recorder import row_sums
    rng = np.random.default_rng(3)
    for width in (5, 10):   # compounds' groups, nodes' categories
        a = rng.lognormal(0.0, 3.0, (9_999, width)) * rng.choice([1.0, 0.0, -1.0], (9_999, width))
        assert same_floats(row_sums(a), a.sum(axis=1))


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 6), st.integers(1, 6), st.integers(1, 20), st.data())
def test_household_sums_are_numpys_einsums(k, g, c, data):
    from twin.recording.recorder import household_sums
    hh = data.draw(arrays(float, (k, g, c), elements=special))
    with np.errstate(invalid="ignore", over="ignore"):
        held, by_c = household_sums(hh)
        assert same_floats(held, np.einsum("kgc->kg", hh)) and same_floats(by_c, np.einsum("kgc->c", hh))


def test_household_sums_on_a_city_sized_stock():
    from twin.recording.recorder import household_sums
    rng = np.random.default_rng(4)
    hh = rng.lognormal(0.0, 3.0, (9_999, 5, 10)) * rng.choice([1.0, 0.0], (9_999, 5, 10))
    held, by_c = household_sums(hh)
    assert same_floats(held, np.einsum("kgc->kg", hh)) and same_floats(by_c, np.einsum("kgc->c", hh))


@settings(max_examples=60, deadline=None)
@given(arrays(np.int64, 12, elements=st.sampled_from([0, 0, 1, 3, 40, 2_000])),
       arrays(float, 12, elements=st.sampled_from([0.0, 0.0, 1e-6, 0.3, 0.8, 1.0])))
def test_workforce_draws_skip_empty_pools_without_moving_the_streams(n, p):
    """Pools with no one or no chance are not drawn; every draw, and the streams after, are numpy's."""
    from twin.processes.workforce import KindStreams
    kind = np.array([0, 0, 3, -1, 3, 0, 5, 5, -1, 0, 3, 5])
    streams = KindStreams(9, kind)
    got = [streams.binomial(n, p), streams.binomial(n, 0.5)]
    plain = KindStreams(9, kind)
    want = []
    for q in (p, np.full(12, 0.5)):
        out = np.zeros(12, dtype=np.int64)
        for idx, rng in plain.groups:
            out[idx] = rng.binomial(n[idx], q[idx])
        want.append(out)
    assert all(np.array_equal(a, b) for a, b in zip(got, want))


@given(arrays(float, (3, 4), elements=special), arrays(float, (3, 4), elements=special))
def test_cut_share_is_the_where_formula(part, whole):
    from twin.policies.flows import _cut_share
    cut = part < whole
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        want = np.where(cut, part / np.where(whole > 0, whole, 1.0), 1.0)
        got = _cut_share(cut, part, whole)
    assert same_floats(got, want)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 5), st.data())
def test_no_stock_limit_rations_as_infinite_stock(n, data):
    from twin.policies.flows import fill_rate
    wanted = data.draw(arrays(float, (n, 3), elements=st.floats(0.0, 1e5)))
    cap = data.draw(arrays(float, n, elements=st.one_of(st.floats(0.0, 1e5), st.just(np.inf))))
    for priority in (None, np.array([1, 0, 1])):
        assert same_floats(fill_rate(wanted, None, cap, priority), fill_rate(wanted, np.full((n, 3), np.inf), cap, priority))


@pytest.mark.parametrize("tier", [0, 2, 3])
def test_a_wave_resplits_only_the_destinations_of_links_not_in_use(tier):
    """The wave's kept first split, patched where links are out of use, is the whole split's floats."""
    from twin.policies.flows import first_split
    from twin.processes.transport import Wave
    net = build_network(load_scenario("scenarios/tiny/small_city.toml"))
    wave = Wave(net, tier)
    if not len(wave.links):
        pytest.skip("no links out of this tier")
    rng = np.random.default_rng(tier)
    for _ in range(5):
        use = rng.random(len(wave.links)) < 0.7
        want = first_split(wave.dst, wave.share, wave.weight, net.n_nodes, use)
        assert same_floats(wave.first_split(net.n_nodes, use), want)
    assert same_floats(wave.first_split(net.n_nodes, None), first_split(wave.dst, wave.share, wave.weight, net.n_nodes))


def _round_reference(q, cols, cap, day_lead, day_idx, n_days):
    """The couriers' round in numpy (as it was before its kernel): _served, then the updates and sums."""
    from twin.queues import _served
    served = _served(q[:, cols], cap)
    q[:, cols] -= served
    oldest = len(cols) - 1
    day_lead[:, oldest::-1] += served
    parts = np.stack([served[:, day_idx == i].sum(axis=1) for i in range(n_days)]) if n_days else np.zeros((0, len(q)))
    return served.sum(axis=1), parts


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6), st.integers(1, 9), st.data())
def test_couriers_round_kernel_is_the_numpy_round(f, b, data):
    """Serving, the queue's and the lead-time tallies' updates and the per-cohort sums: numpy's floats."""
    kg = st.one_of(st.floats(0.0, 1e6), st.sampled_from([0.0, -0.0, 1e-300, 5.0]))
    _check_round(data, f, b, kg, st.one_of(kg, st.sampled_from([np.inf, np.nan])), st.floats(0.0, 1e6))


def _check_round(data, f, b, kg, cap_kg, lead_kg):
    """The couriers' round kernel against :func:`_round_reference` on a drawn queue (``kg``), couriers'
    capacity (``cap_kg``) and lead-time tallies (``lead_kg``): the same floats everywhere."""
    from twin.queues import _serve_round
    h = b + data.draw(st.integers(0, 4))
    q = data.draw(arrays(float, (f, h), elements=kg))
    cap = data.draw(arrays(float, f, elements=cap_kg))
    start = data.draw(st.integers(0, h - 1))
    cols = (start + np.arange(b)) % h
    steps = data.draw(arrays(bool, b - 1))
    day_idx = np.r_[0, np.cumsum(steps)].astype(np.int64)
    n_days = int(day_idx[-1]) + 1
    lead = data.draw(arrays(float, (f, b + 2), elements=lead_kg))
    want_q, want_lead = q.copy(), lead.copy()
    with np.errstate(all="ignore"):
        want = _round_reference(want_q, cols, cap, want_lead[:, :b], day_idx, n_days)
        got_q, got_lead = q.copy(), lead.copy()
        got = _serve_round(got_q, cols, cap, got_lead, day_idx, n_days)
    for a, w in ((got_q, want_q), (got_lead, want_lead), (got[0], want[0]), (got[1], want[1])):
        assert same_floats(a, w)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 5), st.sampled_from([(), (1,), (3,), (2, 4)]), st.data())
def test_times_rows_is_the_product_by_rows(k, tail, data):
    from twin.queues import _times_rows
    a = data.draw(arrays(float, (k, *tail), elements=special))
    g = data.draw(arrays(float, k, elements=special))
    t = data.draw(arrays(float, (k, *tail), elements=special))
    gb = g.reshape(k, *([1] * len(tail)))
    with np.errstate(all="ignore"):
        assert same_floats(_times_rows(None, a, g), a * gb)
        assert same_floats(_times_rows(t.copy(), a, g), t + a * gb)
        assert same_floats(_times_rows(t.copy(), a, g, add=False), a * gb)
    with pytest.raises(ValueError, match="C-ordered"):
        _times_rows(np.asfortranarray(np.zeros((3, 2))), np.ones((3, 2)), np.ones(3))


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 7), st.integers(1, 7), st.data())
def test_a_tally_is_recorded_as_row_sums_and_single_precision_rows(k, g, data):
    from twin.recording.recorder import _take_tally, row_sums
    a = data.draw(arrays(float, (k, g), elements=special))
    sums, flat = np.empty(k), np.empty(k * g, dtype=np.float32)
    want_sums, want_flat = row_sums(a), a.ravel().astype(np.float32)
    _take_tally(a, sums, flat)
    assert same_floats(sums, want_sums) and same_floats(flat, want_flat)
    assert not a.any() and not np.signbit(a).any()


def close_floats(a: np.ndarray, b: np.ndarray, rel: float = 1e-12) -> bool:
    """:func:`same_floats`, or within ``rel`` where a class's spend is summed in another order than
    the BLAS product of the reference (exact on this machine's OpenBLAS for two or more classes)."""
    if same_floats(a, b):
        return True
    nan = np.isnan(a)
    if not np.array_equal(nan, np.isnan(b)):
        return False
    x, y = a[~nan], b[~nan]
    return bool(np.all((x == y) | (np.abs(x - y) <= rel * np.maximum(np.abs(x), np.abs(y)))))


kg_or_odd = st.one_of(st.floats(0.0, 1e6), st.sampled_from([0.0, -0.0, 1e-300, 3.0]))


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 8), st.integers(1, 6), st.data())
def test_fill_by_priority_kernel_is_the_numpy_reference(rows, c, data):
    from twin.policies.flows import _fill_by_priority, fill_by_priority
    kg = data.draw(arrays(float, (rows, c), elements=kg_or_odd))
    budget = data.draw(arrays(float, rows, elements=st.one_of(kg_or_odd, st.just(np.inf))))
    priority = data.draw(arrays(np.int64, c, elements=st.integers(0, 3)))
    cost = data.draw(st.one_of(st.none(), arrays(float, (rows, c), elements=st.floats(0.0, 100.0)),
                               arrays(float, c, elements=st.floats(0.0, 100.0))))
    with np.errstate(all="ignore"):
        assert close_floats(fill_by_priority(kg, budget, priority, cost), _fill_by_priority(kg, budget, priority, cost))


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 8), st.integers(1, 6), st.data())
def test_fill_rate_kernel_is_the_numpy_reference(rows, c, data):
    from twin.policies.flows import _fill_rate, fill_rate
    wanted = data.draw(arrays(float, (rows, c), elements=kg_or_odd))
    stock = data.draw(st.one_of(st.none(), arrays(float, (rows, c), elements=st.one_of(kg_or_odd, st.just(np.inf)))))
    cap = data.draw(arrays(float, rows, elements=st.one_of(kg_or_odd, st.just(np.inf))))
    priority = data.draw(st.one_of(st.none(), arrays(np.int64, c, elements=st.integers(0, 2))))
    with np.errstate(all="ignore"):
        assert close_floats(fill_rate(wanted, stock, cap, priority), _fill_rate(wanted, stock, cap, priority))


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 5), st.integers(0, 9), st.integers(1, 4), st.data())
def test_prorata_fill_gathers_rates_as_take(n, rows, c, data):
    from twin.policies.flows import _times_row_of
    request = data.draw(arrays(float, (rows, c), elements=special))
    rate = data.draw(arrays(float, (n, c), elements=special))
    node = data.draw(arrays(np.int64, rows, elements=st.integers(-n, n - 1)))
    with np.errstate(all="ignore"):
        assert same_floats(_times_row_of(request, rate, node), request * np.take(rate, node, axis=0))
    if rows:
        with pytest.raises(IndexError):
            _times_row_of(request, rate, np.full(rows, n))


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 6), st.integers(1, 5), st.integers(2, 4), st.data())
def test_households_spoil_as_the_numpy_reference(k, g, c, data):
    """(One category: einsum sums in another order, and spoilage keeps the reference.)"""
    from twin.processes.supply import _spoil
    hh = data.draw(arrays(float, (k, g, c), elements=kg_or_odd))
    rate = data.draw(arrays(float, c, elements=st.floats(0.0, 1.0)))
    lost = hh * rate[None, None, :]
    want_hh, want = hh - lost, np.einsum("kgc->c", lost)
    got = _spoil(hh, rate)
    assert same_floats(hh, want_hh) and same_floats(got, want)


def test_households_spoil_as_the_reference_on_a_city_sized_stock():
    from twin.processes.supply import _spoil
    rng = np.random.default_rng(3)
    hh = rng.lognormal(0.0, 3.0, (9999, 5, 10)) * rng.choice([1.0, 0.0], (9999, 5, 10))
    rate = rng.random(10) * 0.1
    lost = hh * rate[None, None, :]
    want_hh, want = hh - lost, np.einsum("kgc->c", lost)
    assert same_floats(_spoil(hh, rate), want) and same_floats(hh, want_hh)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 40), st.data())
def test_row_sum_kernel_is_numpys_sum(n, data):
    from twin.policies.flows import _row_sum
    a = data.draw(arrays(float, n, elements=special))
    with np.errstate(all="ignore"):
        assert same_floats(np.array([_row_sum(a, n)]), np.array([a.sum()]))


def test_row_sum_kernel_is_numpys_sum_on_many_rows():
    from twin.policies.flows import _row_sum
    rng = np.random.default_rng(11)
    for width in (1, 7, 8, 9, 10, 16, 17, 31, 128):
        rows = rng.lognormal(0.0, 4.0, (300, width)) * rng.choice([1.0, -1.0], (300, width))
        assert same_floats(np.array([_row_sum(r, width) for r in rows]), rows.sum(axis=1))


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 8), st.integers(1, 10), st.data())
def test_fill_rate_without_priority_is_the_numpy_reference_exactly(rows, c, data):
    from twin.policies.flows import _fill_rate, fill_rate
    wanted = data.draw(arrays(float, (rows, c), elements=kg_or_odd))
    stock = data.draw(st.one_of(st.none(), arrays(float, (rows, c), elements=st.one_of(kg_or_odd, st.just(np.inf)))))
    cap = data.draw(arrays(float, rows, elements=st.one_of(kg_or_odd, st.just(np.inf))))
    with np.errstate(all="ignore"):
        assert same_floats(fill_rate(wanted, stock, cap), _fill_rate(wanted, stock, cap))


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 5), st.integers(1, 12), st.integers(1, 9), st.data())
def test_split_orders_kernel_is_the_numpy_reference(n, rows, c, data):
    from twin.policies.flows import _split_orders, first_split, split_orders
    src = data.draw(arrays(np.int64, rows, elements=st.integers(0, n - 1)))
    dst = data.draw(arrays(np.int64, rows, elements=st.integers(0, n - 1)))
    planned = data.draw(arrays(float, (rows, c), elements=st.floats(0.0, 1.0)))
    weight = data.draw(arrays(float, rows, elements=st.floats(0.0, 10.0)))
    need = data.draw(arrays(float, (rows, c), elements=kg_or_odd))
    stock = data.draw(arrays(float, (n, c), elements=kg_or_odd))
    cap = data.draw(arrays(float, n, elements=st.one_of(kg_or_odd, st.just(np.inf))))
    use = data.draw(st.one_of(st.none(), arrays(bool, rows)))
    first = first_split(dst, planned, weight, n, use)
    with np.errstate(all="ignore"):
        assert same_floats(split_orders(src, dst, planned, weight, need, stock, cap, n, in_use=use, first=first),
                           _split_orders(src, dst, need, first, stock, cap, n, use))


class _Books:
    """The World arrays a dispatch's bookkeeping touches."""

    def __init__(self, rng_arrays):
        (self.backlog, self.day_node_unfilled, self.stock, self.pipeline, self.day_node_out, self.day_node_shipped,
         self.day_trucks) = (a.copy() for a in rng_arrays)

    def arrays(self):
        return (self.backlog, self.day_node_unfilled, self.stock, self.pipeline, self.day_node_out,
                self.day_node_shipped, self.day_trucks)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 5), st.integers(0, 10), st.integers(1, 10), st.data())
def test_dispatch_bookkeeping_kernel_is_the_numpy_reference(n, rows, c, data):
    from twin.processes.transport import _book, _book_reference
    src = data.draw(arrays(np.int64, rows, elements=st.integers(0, n - 1)))
    dst = data.draw(arrays(np.int64, rows, elements=st.integers(0, n - 1)))
    orders = data.draw(arrays(float, (rows, c), elements=kg_or_odd))
    sent = np.minimum(orders, data.draw(arrays(float, (rows, c), elements=kg_or_odd)))
    movable = np.minimum(orders, data.draw(arrays(float, (rows, c), elements=kg_or_odd)))
    truck = data.draw(arrays(float, rows, elements=st.floats(1.0, 1e5)))
    state = [data.draw(arrays(float, shape, elements=st.one_of(st.floats(-1.0, 1e6), st.just(-0.0))))
             for shape in ((n, c), n, (n, c), (n, c), n, n, n)]
    want, got = _Books(state), _Books(state)
    want_loaded = _book_reference(want, src, dst, orders, sent, movable, truck, n)
    got_loaded = _book(src, dst, orders, sent, movable, truck, n, *got.arrays())
    assert same_floats(got_loaded, want_loaded)
    for a, b in zip(got.arrays(), want.arrays()):
        assert same_floats(a, b)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6), st.integers(0, 10), st.integers(1, 4), st.booleans(), st.data())
def test_replenish_kernel_is_order_up_to_the_order_level(n, rows, c, zero_dormant, data):
    """World.replenish's kernel against its numpy formula (order_level + backlog, order_up_to, rows)."""
    from twin.policies.flows import order_up_to
    from twin.world import _replenish_rows
    nodes = data.draw(arrays(np.int64, data.draw(st.integers(1, 4)), elements=st.integers(0, n - 1)))
    pick = data.draw(arrays(np.int64, rows, elements=st.integers(0, len(nodes) - 1)))
    kg = st.one_of(st.floats(0.0, 1e6), st.sampled_from([0.0, -0.0, np.nan, 2.0]))
    ld, cov, fc, back, stock, pipe = (data.draw(arrays(float, (n, c), elements=kg)) for _ in range(6))
    dormant = data.draw(arrays(bool, n))
    surge = data.draw(st.floats(0.0, 3.0))
    level = ld[nodes] * np.maximum(cov[nodes] * surge, fc[nodes])
    if zero_dormant:
        level[dormant[nodes]] = 0.0
    with np.errstate(all="ignore"):
        want = order_up_to(level + back[nodes], stock[nodes], pipe[nodes])[pick]
        got = _replenish_rows(nodes[pick], ld, cov, surge, fc, dormant, zero_dormant, back, stock, pipe)
    assert same_floats(got, want)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 12), st.data())
def test_pools_at_work_kernel_is_the_numpy_formula(p, data):
    from twin.pools import _active
    s, e, i, r = (data.draw(arrays(np.int64, p, elements=st.integers(0, 10**6))) for _ in range(4))
    share, extra, avail = (data.draw(arrays(float, p, elements=st.floats(0.0, 1.0))) for _ in range(3))
    want = ((s + e + i + r) * (1.0 - share) + extra) * avail
    assert same_floats(_active(s, e, i, r, share, extra, avail), want)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 4), st.integers(1, 5), st.integers(1, 30), st.data())
def test_group_figures_sums_are_bincounts(ng, nk, rows, data):
    """(A chunk read has rows: an empty one is skipped before its sums.)"""
    from twin.metrics.fairness import _SUM_KEYS, _chunk_sums
    g = data.draw(arrays(np.int8, rows, elements=st.integers(0, ng - 1)))
    k = data.draw(arrays(np.int32, rows, elements=st.integers(0, nk - 1)))
    cell = k.astype(np.int64) * ng + g
    f32 = st.floats(0.0, 1e6, width=32)
    pop, need, eaten, spent, base = (data.draw(arrays(np.float32, rows, elements=f32)) for _ in range(5))
    below = data.draw(arrays(bool, rows))
    hit = pop * (eaten < 0.9 * need)
    got = dict(zip(_SUM_KEYS, _chunk_sums(g, cell, ng, nk * ng, pop, hit, need, eaten, spent, base, below)))
    for key, idx, w, n in (("person_days", g, pop, ng), ("hit", g, hit, ng), ("need", g, need, ng), ("eaten", g, eaten, ng),
                           ("cell_spent", cell, spent, nk * ng), ("cell_base", cell, base, nk * ng),
                           ("cell_below", cell, below, nk * ng), ("cell_pop", cell, pop, nk * ng), ("cell_days", cell, None, nk * ng)):
        want = np.bincount(idx, weights=None if w is None else w.astype(float), minlength=n)
        assert got[key].dtype == want.dtype and same_floats(got[key], want), key


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 5), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.data())
def test_goods_go_into_stock_as_their_sum_added(k, g, c, cohorts, data):
    """A hand-over's goods added to households' stock in one pass: ``hh + (c1 * g1 + c2 * g2 + ...)``."""
    from twin.queues import OrderBook
    book = OrderBook.__new__(OrderBook)
    book._goods = None
    hh = data.draw(arrays(float, (k, g, c), elements=kg_or_odd))
    goods = [(data.draw(arrays(float, (k, g, c), elements=kg_or_odd)), data.draw(arrays(float, k, elements=st.floats(0.0, 1.0))))
             for _ in range(cohorts)]
    total = goods[0][0] * goods[0][1][:, None, None]
    for comp, share in goods[1:]:
        total = total + comp * share[:, None, None]
    want = hh + total
    book._stock_goods(hh, goods)
    assert same_floats(hh, want)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 8), st.data())
def test_scaled_capacity_kernel_is_the_where_formula(n, data):
    from twin.world import _scaled
    workers = data.draw(arrays(float, n, elements=st.one_of(st.floats(0.0, 1e4), st.just(np.inf))))
    mult = data.draw(arrays(float, n, elements=st.one_of(st.floats(0.0, 2.0), st.sampled_from([0.0, -0.0, np.nan]))))
    for kg in (3.5, data.draw(arrays(float, n, elements=st.floats(0.0, 1e4)))):
        with np.errstate(invalid="ignore"):
            want = np.where(mult == 0, 0.0, np.where(np.isinf(workers), np.inf, workers * kg * mult))
        assert same_floats(_scaled(workers, kg, mult), want)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6), st.integers(1, 3), st.data())
def test_demand_forecast_kernel_is_the_numpy_update(n, c, data):
    from twin.world import _observe
    forecast = data.draw(arrays(float, (n, c), elements=kg_or_odd))
    coverage = data.draw(arrays(float, (n, c), elements=kg_or_odd))
    nodes = np.array(data.draw(st.lists(st.integers(0, n - 1), max_size=n, unique=True)), dtype=np.int64)
    requested = data.draw(arrays(float, (len(nodes), c), elements=st.one_of(kg_or_odd, st.just(np.nan))))
    a, factor = data.draw(st.floats(0.0, 1.0)), data.draw(st.floats(1.0, 5.0))
    want = forecast.copy()
    want[nodes] = np.minimum((1 - a) * forecast[nodes] + a * requested, factor * coverage[nodes])
    got = forecast.copy()
    assert _observe(got, coverage, nodes, requested, a, factor)
    assert same_floats(got, want)
    if len(nodes):   # a repeated node: left to numpy, untouched here
        again = forecast.copy()
        assert not _observe(again, coverage, np.r_[nodes, nodes[:1]], np.r_[requested, requested[:1]], a, factor)
        assert same_floats(again, forecast)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 8), st.integers(0, 20), st.sampled_from([np.int64, np.int32]), st.data())
def test_following_links_kernel_is_the_numpy_expression(nn, links, dtype, data):
    from twin.recording.cascade import _following
    failed, follows = data.draw(arrays(bool, nn)), data.draw(arrays(bool, nn))
    onset = data.draw(arrays(float, nn, elements=st.one_of(st.integers(0, 5).map(float), st.just(np.inf))))
    src = data.draw(arrays(dtype, links, elements=st.integers(0, nn - 1)))
    dst = data.draw(arrays(dtype, links, elements=st.integers(0, nn - 1)))
    want = failed[src] & failed[dst] & follows[dst] & (onset[dst] >= onset[src])
    assert np.array_equal(_following(failed, follows, onset, src, dst), want)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6), st.integers(1, 5), st.integers(0, 12), st.data())
def test_cascade_compounds_kernel_is_the_numpy_reference(nn, nk, pairs, data):
    from twin.recording.cascade import _through, _through_reference
    failed, comm_failed = data.draw(arrays(bool, nn)), data.draw(arrays(bool, nk))
    node_onset = data.draw(arrays(float, nn, elements=st.one_of(st.integers(0, 5).map(float), st.just(np.inf))))
    comm_onset = data.draw(arrays(float, nk, elements=st.one_of(st.integers(0, 5).map(float), st.just(np.inf))))
    n = data.draw(arrays(np.int64, pairs, elements=st.integers(0, nn - 1)))
    k = data.draw(arrays(np.int64, pairs, elements=st.integers(0, nk - 1)))
    depth = data.draw(arrays(np.int64, nn, elements=st.integers(-1, 4)))
    tiers = data.draw(arrays(np.int64, nn, elements=st.integers(0, 63)))
    args = (failed, comm_failed, comm_onset, node_onset, n, k, depth, tiers, nk, 6)
    (a, x), (b, y) = _through(*args), _through_reference(*args)
    assert a == b and same_floats(x, y)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 8), st.integers(1, 3), st.integers(1, 3), st.data())
def test_workforce_snapshot_kernel_sums_the_pools_as_group_sum(p, q, n, data):
    from twin.recording.recorder import WORK_COLUMNS, _pool_sums
    ints = lambda: data.draw(arrays(np.int64, p, elements=st.integers(0, 10**5)))
    head, s, e, i, r, new_i, new_d = (ints() for _ in range(7))
    qi, qs = (data.draw(arrays(np.int64, (q, p), elements=st.integers(0, 100))) for _ in range(2))
    extra, share, avail = (data.draw(arrays(float, p, elements=st.floats(0.0, 50.0))) for _ in range(3))
    g = data.draw(arrays(np.int64, p, elements=st.integers(0, n - 1)))
    free = s + e + i + r
    cols = {"headcount": head + extra, "susceptible": s + extra, "exposed": e, "infectious": i,
            "quarantined": qi.sum(axis=0) + qs.sum(axis=0), "confined": free * share, "recovered": r,
            "active": (free * (1.0 - share) + extra) * avail, "new_infected": new_i, "new_detected": new_d}
    assert tuple(cols) == WORK_COLUMNS
    got = _pool_sums(g, n, head, s, e, i, r, qi, qs, extra, share, avail, new_i, new_d)
    for j, key in enumerate(WORK_COLUMNS):
        assert same_floats(got[:, j], group_sum(g, np.asarray(cols[key], dtype=float), n)), key


def test_numba_loads_at_the_first_kernel_call_and_every_twin_module_then_holds_dispatchers():
    """A process that only validates never imports numba; the first kernel call loads it and swaps
    each waiting kernel, in every twin module that holds it by name (a kernel calling a kernel
    imported from another module compiles), for its dispatcher."""
    import subprocess
    import sys

    code = (
        "import sys, twin\n"
        "from twin.scenario import load_scenario\n"
        "load_scenario('scenarios/tiny/one_of_each.toml')\n"
        "print('numba' in sys.modules)\n"
        "twin.run('scenarios/tiny/one_of_each.toml', days=3)\n"
        "from numba.core.registry import CPUDispatcher\n"
        "import twin.policies.flows as f, twin.processes.transport as t, twin.jit as j\n"
        "print('numba' in sys.modules, isinstance(f._row_sum, CPUDispatcher), t._row_sum is f._row_sum,"
        " not j._waiting)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=str(__import__("tests.conftest", fromlist=["ROOT"]).ROOT)).stdout.split("\n")
    assert out[0] == "False"
    assert out[1] == "True True True True"


@settings(max_examples=60, deadline=None)
@given(st.sampled_from([np.int32, np.int64, np.uint8]), st.integers(0, 30), st.integers(0, 40), st.data())
def test_unique_codes_are_numpys_unique(dtype, rows, spread, data):
    from twin.metrics.cascade import _unique_codes
    values = data.draw(arrays(dtype, rows, elements=st.integers(0, spread)))
    got, want = _unique_codes(values), np.unique(values, return_inverse=True)
    assert got[0].dtype == want[0].dtype and np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
    wide = np.array([0, 10**12, 5], dtype=np.int64)   # a wide range: sorted by np.unique
    assert all(np.array_equal(a, b) for a, b in zip(_unique_codes(wide), np.unique(wide, return_inverse=True)))


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 40), st.data())
def test_surge_stats_peak_is_the_groupby_count(rows, data):
    import pandas as pd
    from twin.metrics.surge import surge_stats
    nodes = pd.DataFrame({"t_day": np.sort(data.draw(arrays(np.int32, rows, elements=st.integers(0, 5)))),
                          "overtime_h": 1.0, "overtime_cny": 2.0, "surge_left_days": 3.0,
                          "surge_used": data.draw(arrays(float, rows, elements=st.sampled_from([0.0, 0.5, np.nan])))})
    want = nodes.groupby("t_day", observed=True)["surge_used"].apply(lambda s: int((s > 0).sum())).max()
    assert surge_stats(nodes)["peak_surge_nodes"] == want


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 40), st.data())
def test_peak_status_counts_are_the_groupby_sizes(rows, data):
    import pandas as pd
    from twin.metrics.summary import _peak_status_counts
    from twin.recording.recorder import STATUSES
    nodes = pd.DataFrame({"t_day": np.sort(data.draw(arrays(np.int32, rows, elements=st.integers(0, 5)))),
                          "status": pd.Categorical(data.draw(st.lists(st.sampled_from(STATUSES), min_size=rows,
                                                                      max_size=rows)), categories=STATUSES)})
    status = nodes.groupby(["t_day", "status"], observed=False).size().unstack(fill_value=0)
    assert _peak_status_counts(nodes, ("closed", "starved")) == {s: int(status[s].max()) for s in ("closed", "starved")}


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 30), st.integers(1, 4), st.integers(0, 9), st.data())
def test_unique_rows_are_numpys_unique_rows(rows, width, top, data):
    from twin.recording.recorder import unique_rows
    keys = data.draw(arrays(np.int64, (rows, width), elements=st.integers(-1 if top == 9 else 0, top)))
    (u, i), (want_u, want_i) = unique_rows(keys), np.unique(keys, axis=0, return_inverse=True)
    assert np.array_equal(u, want_u) and np.array_equal(i.ravel(), want_i.ravel())


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 12), st.integers(0, 4), st.integers(1, 6), st.data())
def test_dispatch_bookkeeping_leaves_the_other_nodes_as_numpy_does(n, rows, c, data):
    """_book keeps its group sums for the wave's suppliers and destinations only: every other node
    gets numpy's + 0.0 (or stock's - 0.0 and clip), -0.0, NaN, inf and negative values included."""
    from twin.processes.transport import _book, _book_reference
    src = data.draw(arrays(np.int64, rows, elements=st.integers(0, n - 1)))
    dst = data.draw(arrays(np.int64, rows, elements=st.integers(0, n - 1)))
    orders = data.draw(arrays(float, (rows, c), elements=st.one_of(kg_or_odd, st.sampled_from([0.0, -0.0]))))
    sent = np.minimum(orders, data.draw(arrays(float, (rows, c), elements=kg_or_odd)))
    movable = np.minimum(orders, data.draw(arrays(float, (rows, c), elements=special)))
    truck = data.draw(arrays(float, rows, elements=st.floats(1.0, 1e5)))
    state = [data.draw(arrays(float, shape, elements=special)) for shape in ((n, c), n, (n, c), (n, c), n, n, n)]
    want, got = _Books(state), _Books(state)
    with np.errstate(all="ignore"):
        want_loaded = _book_reference(want, src, dst, orders, sent, movable, truck, n)
        got_loaded = _book(src, dst, orders, sent, movable, truck, n, *got.arrays())
    assert same_floats(got_loaded, want_loaded)
    for a, b in zip(got.arrays(), want.arrays()):
        assert same_floats(a, b)
        assert np.array_equal(np.signbit(a), np.signbit(b))   # zeros' signs too (NaN's: the same arithmetic)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 6), st.integers(1, 9), st.data())
def test_couriers_round_kernel_books_odd_values_as_numpy(f, b, data):
    """The round's kernel books each batch as it serves it: numpy's floats with -0.0, NaN and inf in the
    queue, NaN and inf in the tallies too."""
    # (the tallies hold no -0.0: they start at 0.0, and a store that serves nothing is skipped)
    kg = st.one_of(st.floats(0.0, 1e6), st.sampled_from([0.0, -0.0, 1e-300, 5.0, np.inf, np.nan]))
    _check_round(data, f, b, kg, st.one_of(kg, st.sampled_from([np.inf, np.nan, -1.0])),
                 st.one_of(st.floats(0.0, 1e6), st.sampled_from([np.inf, np.nan])))


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6), st.integers(1, 8), st.data())
def test_fill_rate_by_priority_kernel_is_its_row_formula(rows, c, data):
    """The priority fill rate's kernel (its helpers compiled into it) gives ``by_stock x (handed x scale
    / handed)`` (1 where nothing is handed out) exactly: -0.0, NaN and inf asked, in stock or as capacity."""
    from twin.policies.flows import _class_scales, _classes, _cut_share, fill_rate
    odd = st.one_of(kg_or_odd, st.sampled_from([np.inf, np.nan, -0.0]))
    wanted = data.draw(arrays(float, (rows, c), elements=odd))
    stock = data.draw(arrays(float, (rows, c), elements=odd))
    cap = data.draw(arrays(float, rows, elements=st.one_of(odd, st.just(np.inf))))
    priority = data.draw(arrays(np.int64, c, elements=st.integers(0, 2)))
    cls, n_levels = _classes(priority)
    if n_levels < 2:
        return
    with np.errstate(all="ignore"):
        by_stock = _cut_share(wanted > stock, stock, wanted)
        handed = wanted * by_stock
        spend = np.zeros((rows, n_levels))
        for j in range(c):   # each class's spend in category order, from 0.0
            spend[:, cls[j]] += handed[:, j]
        scale = _class_scales(spend, cap)[cls].T
        want = by_stock * np.where(handed > 0, handed * scale / handed, 1.0)
        assert same_floats(fill_rate(wanted, stock, cap, priority), want)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 12), st.integers(1, 8), st.integers(1, 6), st.data())
def test_split_orders_kernel_moves_odd_values_as_numpy(n, rows, c, data):
    """The resplit's kernel keeps its sums for the links' destinations only and divides each link's
    ``first x rate`` once: numpy's floats with -0.0, NaN and inf needs, stocks and capacities."""
    from twin.policies.flows import _split_orders, first_split, split_orders
    src = data.draw(arrays(np.int64, rows, elements=st.integers(0, n - 1)))
    dst = data.draw(arrays(np.int64, rows, elements=st.integers(0, n - 1)))
    planned = data.draw(arrays(float, (rows, c), elements=st.sampled_from([0.0, 0.25, 0.5, 1.0])))
    weight = data.draw(arrays(float, rows, elements=st.sampled_from([0.0, 1.0, 3.0])))
    odd = st.one_of(kg_or_odd, st.sampled_from([np.inf, np.nan, -0.0]))
    need = data.draw(arrays(float, (rows, c), elements=odd))
    stock = data.draw(arrays(float, (n, c), elements=odd))
    cap = data.draw(arrays(float, n, elements=odd))
    use = data.draw(st.one_of(st.none(), arrays(bool, rows)))
    first = first_split(dst, planned, weight, n, use)
    with np.errstate(all="ignore"):
        assert same_floats(split_orders(src, dst, planned, weight, need, stock, cap, n, in_use=use, first=first),
                           _split_orders(src, dst, need, first, stock, cap, n, use))


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 6), st.integers(0, 10), st.integers(1, 4), st.booleans(), st.data())
def test_replenish_computes_a_node_once_for_its_links(n, rows, c, zero_dormant, data):
    """A wave's replenishment computes each node's order once and copies it to each of its links:
    the floats of the kernel run on every link's row (NaN, inf, -0.0 included; nodes repeated)."""
    from twin.world import _replenish_linked, _replenish_rows
    nodes = data.draw(arrays(np.int64, data.draw(st.integers(1, 4)), elements=st.integers(0, n - 1)))
    pick = data.draw(arrays(np.intp, rows, elements=st.integers(-len(nodes), len(nodes) - 1)))
    ld, cov, fc, back, stock, pipe = (data.draw(arrays(float, (n, c), elements=special)) for _ in range(6))
    dormant = data.draw(arrays(bool, n))
    surge = data.draw(st.sampled_from([0.0, 1.0, 2.5, np.inf]))
    with np.errstate(all="ignore"):
        want = _replenish_rows(nodes[pick], ld, cov, surge, fc, dormant, zero_dormant, back, stock, pipe)
        got = _replenish_linked(nodes, pick, ld, cov, surge, fc, dormant, zero_dormant, back, stock, pipe)
    assert same_floats(got, want) and np.array_equal(np.signbit(got), np.signbit(want))
    with pytest.raises(IndexError, match="outside the nodes"):
        _replenish_linked(nodes, np.array([len(nodes)], dtype=np.intp), ld, cov, surge, fc, dormant, zero_dormant, back,
                          stock, pipe)
