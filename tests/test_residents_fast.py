"""The households' kernels (twin.policies.residents_fast) give the floats of the numpy rules they
replace (issue 17): residents' shift_by, eat_with_substitutes and within_budget, households'
_price_response and channel split, and numpy's einsum sums."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from twin.policies import residents_fast as fast
from twin.policies.residents import by_compound, by_group, eat_with_substitutes, shift_by, within_budget

kg = st.one_of(st.just(0.0), st.floats(0.0, 1e4), st.floats(1e-9, 1e-3), st.sampled_from([1.0, 2.5, 1e6]))
share = st.one_of(st.just(0.0), st.floats(0.0, 1.0))
OUTBREAK_SUBSTITUTES = np.array([1, 0, -1, 4, 3, 6, 5, -1, -1, -1]), np.array([.8, .8, 0, .3, .3, .5, .5, 0, 0, 0])


def same(a, b) -> bool:
    """The same values (a zero's sign aside: the kernels skip adding a zero the numpy code adds)."""
    return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True))


def shapes(draw, c_max=12):
    return draw(st.integers(1, 7)), draw(st.integers(1, 5)), draw(st.integers(1, c_max))


def substitutes(draw, c):
    sub = draw(arrays(np.int64, c, elements=st.integers(-1, c - 1)))
    sub = np.where(sub == np.arange(c), -1, sub)   # no category is its own substitute
    return sub, np.where(sub >= 0, draw(arrays(float, c, elements=share)), 0.0)


def _price_response(wanted, powers, district, floor):
    """The numpy price response the kernel fuses: :func:`twin.policies.pricing.demand_response` of
    every group [K, G, C] at its district's price (``powers`` [D, G, C]); ``floor`` (overwritten)
    is the least each group buys."""
    priced = np.take(powers, district, axis=0) * wanted
    np.minimum(wanted, floor, out=floor)
    return np.maximum(priced, floor, out=priced)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_group_sums_are_numpys_einsums(data):
    k, g, c = shapes(data.draw, 40)
    a = data.draw(arrays(float, (k, g, c), elements=st.one_of(kg, st.floats(-1e6, 1e6))))
    out_g, out_kc = np.empty((k, g)), np.empty((k, c))
    fast.group_sums(a, out_g, out_kc)
    assert same(out_g, by_group(a)) and same(out_kc, by_compound(a))


def test_group_sums_on_a_city_sized_array():
    a = np.random.default_rng(2).lognormal(0.0, 3.0, (9_999, 5, 10))
    out_g, out_kc = np.empty((9_999, 5)), np.empty((9_999, 10))
    fast.group_sums(a, out_g, out_kc)
    assert same(out_g, by_group(a)) and same(out_kc, by_compound(a))
    assert same(np.array([fast.pairwise_sum(row) for row in a[:50].reshape(-1, 10)]), a[:50].reshape(-1, 10).sum(axis=1))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 128), st.data())
def test_pairwise_sum_is_numpys_row_sum(n, data):
    x = data.draw(arrays(float, (3, n), elements=st.floats(-1e6, 1e6)))
    assert same(np.array([fast.pairwise_sum(r) for r in x]), x.sum(axis=1))


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_demand_day_is_the_numpy_passes(data):
    """need, household_demand (plus a day online, less what is on order), shift_by and _price_response."""
    k, g, c = shapes(data.draw)
    d = data.draw(st.integers(1, 3))
    draw = lambda shape, el=kg: data.draw(arrays(float, shape, elements=el))   # noqa: E731
    need_base, days, stock = draw((k, g, c)), draw((k, g, c), st.floats(1.0, 30.0)), draw((k, g, c))
    factor, ahead = draw(k, st.floats(0.0, 3.0)), draw((k, g), share)
    parts = [(draw((k, g, c)), draw(k, share)) for _ in range(data.draw(st.integers(0, 3)))]
    sub, _ = substitutes(data.draw, c)
    dear = np.where(sub >= 0, draw((d, c), share), 0.0) if data.draw(st.booleans()) else None
    powers, district = draw((d, g, c), st.floats(0.05, 20.0)), data.draw(arrays(np.int64, k, elements=st.integers(0, d - 1)))
    subsistence = data.draw(share)

    need = need_base * factor[:, None, None]
    wanted = need * days
    wanted -= stock
    wanted += need * ahead[:, :, None]
    if parts:
        total = parts[0][0] * parts[0][1][:, None, None]
        for comp, left in parts[1:]:
            total += comp * left[:, None, None]
        wanted -= total
    np.maximum(wanted, 0.0, out=wanted)
    if dear is not None:
        shift_by(wanted, dear[district][:, None, :], sub, inplace=True)
    want = _price_response(wanted, powers, district, need * subsistence)

    on_order = np.empty((k, g, c))
    for i, (comp, left) in enumerate(parts):
        fast.add_on_order(on_order, comp, left, i == 0)
    got, got_need = np.empty((k, g, c)), np.empty((k, g, c))
    need_g, need_kc = np.empty((k, g)), np.empty((k, c))
    fast.demand_day(need_base, factor, days, stock, ahead, on_order, bool(parts), np.zeros((d, c)) if dear is None else dear,
                    dear is not None, sub, powers, district, subsistence, got_need, got, need_g, need_kc)
    assert same(got_need, need) and same(got, want)
    assert same(need_g, by_group(need)) and same(need_kc, by_compound(need))


def test_demand_day_on_a_city_sized_array_is_the_numpy_passes():
    """As the model calls it: 16 districts, three categories dear in each, the price powers a
    strided view ([D, G, C] picked from [D, R, C]), two cohorts on order."""
    rng = np.random.default_rng(7)
    k, g, c, d = 9_999, 5, 10, 16
    sub, _ = OUTBREAK_SUBSTITUTES
    need_base, stock, on_order = (rng.lognormal(-1.0, 1.5, (k, g, c)) * rng.integers(0, 2, (k, g, c)) for _ in range(3))
    days, factor, ahead = rng.uniform(1.0, 20.0, (k, g, c)), rng.uniform(0.5, 2.0, k), rng.uniform(0.0, 1.0, (k, g))
    dear = np.zeros((d, c))
    dear[:, [1, 3, 5]] = rng.uniform(0.0, 0.2, (d, 3))
    powers = rng.uniform(0.5, 2.0, (d, 2, c))[:, [0, 1, 1, 0, 1], :]
    powers = np.stack([powers[:, i] for i in range(g)], axis=0).transpose(1, 0, 2)   # (strided, as _price_powers')
    assert not powers.flags.c_contiguous
    district = rng.integers(0, d, k).astype(np.int32)

    need = need_base * factor[:, None, None]
    wanted = need * days
    wanted -= stock
    wanted += need * ahead[:, :, None]
    wanted -= on_order
    np.maximum(wanted, 0.0, out=wanted)
    shift_by(wanted, dear[district][:, None, :], sub, inplace=True)
    want = _price_response(wanted, powers, district, need * 0.8)
    got, got_need, need_g, need_kc = np.empty((k, g, c)), np.empty((k, g, c)), np.empty((k, g)), np.empty((k, c))
    fast.demand_day(need_base, factor, days, stock, ahead, on_order, True, dear, True, sub, powers, district, 0.8,
                    got_need, got, need_g, need_kc)
    assert same(got_need, need) and same(got, want)
    assert same(need_g, by_group(need)) and same(need_kc, by_compound(need))


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_budget_cut_is_within_budget_on_the_rows_over_it(data):
    """Each row over its budget is cut as within_budget cuts it, the others are left alone."""
    k, g, c = shapes(data.draw)
    demand = data.draw(arrays(float, (k, g, c), elements=kg))
    index = data.draw(arrays(float, (k, c), elements=st.floats(0.0, 5.0)))
    price = data.draw(arrays(float, c, elements=st.floats(0.0, 100.0)))
    priority = data.draw(arrays(np.int64, c, elements=st.integers(0, 3)))
    rows = np.flatnonzero(data.draw(arrays(bool, k * g)))
    budget = data.draw(arrays(float, len(rows), elements=st.one_of(st.floats(0.0, 1e6), st.just(np.inf))))

    want = demand.reshape(-1, c).copy()
    unit = price[None, :] * np.take(index, rows // g, axis=0)
    taken = np.take(want, rows, axis=0)
    over = (taken * unit).sum(axis=1) > budget
    if over.any():
        want[rows[over]] = within_budget(taken[over], unit[over], budget[over], priority)
    levels, cls = np.unique(priority, return_inverse=True)
    got = demand.reshape(-1, c).copy()
    fast.budget_cut(got, rows, budget, index, price, cls.ravel(), len(levels))
    if over.sum() >= 2 and len(levels) >= 2:   # numpy sums the classes' spend in category order (BLAS's gemm)
        assert same(got, want)
    else:                                      # (one row or one class: gemv, in an order of its own)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=0.0)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_budget_cut_finds_each_rows_compound_whatever_the_rows_order(data):
    """budget_cut follows the rows' compound from one row to the next where the rows go in order:
    rows in any order (repeated, back and forth, skipping compounds) are cut as each row alone
    (its compound ``row // G``), NaN, inf and zeros of either sign included."""
    k, g, c = shapes(data.draw)
    el = st.one_of(kg, st.sampled_from([0.0, -0.0, np.nan, np.inf]))
    demand = data.draw(arrays(float, (k * g, c), elements=el))
    index = data.draw(arrays(float, (k, c), elements=st.one_of(st.floats(0.0, 5.0), st.just(np.inf))))
    price = data.draw(arrays(float, c, elements=st.floats(0.0, 100.0)))
    levels, cls = np.unique(data.draw(arrays(np.int64, c, elements=st.integers(0, 3))), return_inverse=True)
    rows = np.array(data.draw(st.lists(st.integers(0, k * g - 1), max_size=3 * k * g)), dtype=np.int64)
    budget = data.draw(arrays(float, len(rows), elements=st.one_of(st.floats(0.0, 1e4), st.just(np.inf), st.just(np.nan))))
    got, want = demand.copy(), demand.copy()
    fast.budget_cut(got, rows, budget, index, price, cls.ravel(), len(levels))
    for i, r in enumerate(rows):
        fast.budget_cut(want, rows[i:i + 1], budget[i:i + 1], index, price, cls.ravel(), len(levels))
    assert bits(got, want)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_channel_split_is_the_numpy_split(data):
    k, g, c = shapes(data.draw)
    demand, need = data.draw(arrays(float, (k, g, c), elements=kg)), data.draw(arrays(float, (k, g, c), elements=kg))
    on_share = data.draw(arrays(float, (k, g), elements=share))
    level = data.draw(arrays(np.int8, k, elements=st.integers(0, 2)))
    trips = data.draw(arrays(float, k, elements=st.floats(1.0, 7.0)))

    online = demand * on_share[:, :, None]
    outside, limited = level != 2, level == 1
    paced = demand
    if limited.any():
        pace = np.where(limited, 1.0 / trips, 1.0)[:, None, None]
        paced = np.minimum(demand, need + np.maximum(demand - need, 0.0) * pace)
    offline = paced * ((1.0 - on_share[:, :, None]) * outside[:, None, None])
    got_on, got_off, on_kc = np.empty((k, g, c)), np.empty((k, g, c)), np.empty((k, c))
    sums = data.draw(st.booleans())
    demand_g, demand_kc = np.full((k, g), -1.0), np.full((k, c), -1.0)
    fast.channel_split(demand, need, on_share, outside.astype(float), np.where(limited, 1.0 / trips, 1.0),
                       bool(limited.any()), got_on, got_off, on_kc, sums, demand_g, demand_kc)
    assert same(got_on, online) and same(got_off, offline) and same(on_kc, by_compound(online))
    if sums:   # group_sums of the demand, in the same pass
        assert same(demand_g, by_group(demand)) and same(demand_kc, by_compound(demand))
    else:
        assert (demand_g == -1.0).all() and (demand_kc == -1.0).all()


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_eat_day_is_eat_with_substitutes(data):
    """Purchases join the stock, the need is eaten (substitutes too), the stock loses what was eaten."""
    k, g, c = shapes(data.draw)
    stock, need = data.draw(arrays(float, (k, g, c), elements=kg)), data.draw(arrays(float, (k, g, c), elements=kg))
    bought = data.draw(st.one_of(st.none(), arrays(float, (k, g, c), elements=kg)))
    sub, sub_share = substitutes(data.draw, c)

    want = stock.copy()
    if bought is not None:
        want += bought
    eaten, covered = eat_with_substitutes(want, need, sub, sub_share)
    want = np.maximum(want - eaten, 0.0)
    got = stock.copy()
    covered_g, stock_g, eaten_c, got_kc = np.empty((k, g)), np.empty((k, g)), np.empty(c), np.empty((k, c))
    fast.eat_day(got, np.zeros(0).reshape(0, 0, 0) if bought is None else bought, bought is not None, need, sub,
                 sub_share, covered_g, stock_g, eaten_c, got_kc)
    assert same(got, want)
    assert same(covered_g, by_group(covered)) and same(stock_g, by_group(want))
    if c > 1:
        assert same(eaten_c, np.einsum("kgc->c", eaten))
    else:   # one category: numpy sums the whole column as a run
        np.testing.assert_allclose(eaten_c, np.einsum("kgc->c", eaten), rtol=1e-12, atol=0.0)
    assert same(got_kc, np.zeros((k, c)) if bought is None else by_compound(bought))


odd = st.sampled_from([0.0, -0.0, np.nan, np.inf, 1e-300, 1.0])


def bits(a, b) -> bool:
    """The same floats, a zero's sign too (a NaN's payload aside: the compiler may swap an addition's operands)."""
    na, nb = np.isnan(a), np.isnan(b)
    return a.shape == b.shape and bool((na == nb).all()) and a[~na].tobytes() == b[~nb].tobytes()


def _eat(stock, bought, need, sub, sub_share):
    """eat_day's outputs (the stock left, covered_g, stock_g, eaten_c, got_kc) on copies."""
    k, g, c = stock.shape
    got, out = stock.copy(), (np.empty((k, g)), np.empty((k, g)), np.empty(c), np.empty((k, c)))
    fast.eat_day(got, np.zeros((0, 0, 0)) if bought is None else bought, bought is not None, need, sub, sub_share, *out)
    return (got,) + out


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_eat_day_substitutes_in_pairs_as_the_general_claims(data):
    """Where every substitute has one claimant (the outbreak's pairs) eat_day takes a claimant's
    shortfall as the claims on its substitute; the general pass (claims summed) gives the same bits,
    NaN, inf and zeros of either sign included: a claimant with no shortfall added on one
    substitute sends eat_day through the general pass and changes nothing."""
    k, g, c = shapes(data.draw)
    c = max(c, 2)
    if c == 10 and data.draw(st.booleans()):
        sub, sub_share = OUTBREAK_SUBSTITUTES
    else:
        perm = data.draw(st.permutations(range(c)))
        sub = np.full(c, -1)
        for i in range(0, c - 1, 2):
            sub[perm[i]], sub[perm[i + 1]] = perm[i + 1], perm[i]
        sub_share = np.where(sub >= 0, data.draw(arrays(float, c, elements=st.floats(0.01, 1.0))), 0.0)
    el = st.one_of(kg, odd)
    stock, need = (data.draw(arrays(float, (k, g, c), elements=el)) for _ in range(2))
    bought = data.draw(st.one_of(st.none(), arrays(float, (k, g, c), elements=el)))
    pairs = _eat(stock, bought, need, sub, sub_share)
    # one more category, empty and needing nothing, claiming on the first substitute
    pad = lambda a: np.concatenate([a, np.zeros(a.shape[:-1] + (1,))], axis=-1)   # noqa: E731
    general = _eat(pad(stock), None if bought is None else pad(bought), pad(need),
                   np.append(sub, sub[sub >= 0][0]), np.append(sub_share, 0.5))
    assert bits(pairs[0], np.ascontiguousarray(general[0][..., :c]))
    assert bits(pairs[3], general[3][:c]) and bits(pairs[4], np.ascontiguousarray(general[4][:, :c]))
    if (c + 1) % 8:   # (a row of c + 1 sums its pairs as a row of c does, the zero added last)
        assert bits(pairs[1], general[1]) and bits(pairs[2], general[2])


def test_eat_day_on_a_city_sized_array_is_eat_with_substitutes():
    rng = np.random.default_rng(5)
    stock, need, bought = (rng.lognormal(0.0, 2.0, (9_999, 5, 10)) * rng.integers(0, 2, (9_999, 5, 10)) for _ in range(3))
    sub, sub_share = OUTBREAK_SUBSTITUTES
    want = stock + bought
    eaten, covered = eat_with_substitutes(want, need, sub, sub_share)
    want = np.maximum(want - eaten, 0.0)
    got, covered_g, stock_g, eaten_c, got_kc = _eat(stock, bought, need, sub, sub_share)
    assert same(got, want) and same(covered_g, by_group(covered)) and same(stock_g, by_group(want))
    assert same(eaten_c, np.einsum("kgc->c", eaten)) and same(got_kc, by_compound(bought))


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_market_passes_are_the_numpy_passes(data):
    """_market's passes: shared rates, orders spilling to the shops, the shops' failures ordered
    online, what is still missing at the gate."""
    k, g, c = shapes(data.draw)
    a, b, d = (data.draw(arrays(float, (k, g, c), elements=kg)) for _ in range(3))
    rate = data.draw(arrays(float, (k, c), elements=share))
    weight = data.draw(arrays(float, (k, g), elements=share))
    can_order = data.draw(arrays(float, g, elements=share))
    out, out_kc = np.empty((k, g, c)), np.empty((k, c))

    want = np.multiply(a, rate[:, None, :])
    want += b
    fast.spill_over(a, rate, b, out, out_kc)
    assert same(out, want) and same(out_kc, by_compound(want))
    want = np.multiply(a, rate[:, None, :])
    want *= can_order[None, :, None]
    fast.turned_back(a, rate, can_order, out, out_kc)
    assert same(out, want) and same(out_kc, by_compound(want))
    want = d.copy()
    want += b * rate[:, None, :]
    fast.add_times_rate(d, b, rate)
    assert same(d, want)
    want = np.maximum(a - b, 0.0)
    want *= weight[:, :, None]
    fast.still_missing(a, b, weight, out, out_kc)
    assert same(out, want) and same(out_kc, by_compound(want))


@settings(max_examples=40, deadline=None)
@given(st.data(), st.booleans())
def test_crisis_day_is_crisis_flags(data, has_medicine):
    from twin.policies.residents import crisis_flags
    k, g, c = shapes(data.draw)
    stock = data.draw(arrays(float, (k, g, c), elements=kg))
    normal, med_need = (data.draw(arrays(float, (k, g), elements=st.floats(0.0, 10.0))) for _ in range(2))
    closed, lost = data.draw(arrays(bool, k)), data.draw(arrays(bool, (k, g)))
    medicine = data.draw(st.integers(0, c - 1)) if has_medicine else None
    has_normal, has_med = normal > 0, med_need > 0
    normal, med_need = np.where(has_normal, normal, 1.0), np.where(has_med, med_need, 1.0)
    with np.errstate(over="ignore"):
        days = np.where(has_normal, by_group(stock) / normal, np.inf)
        med = np.full(days.shape, np.inf) if medicine is None else np.where(has_med, stock[:, :, medicine] / med_need, np.inf)
    out = np.empty((k, g, 4))
    fast.crisis_day(closed, by_group(stock), normal, has_normal, stock, -1 if medicine is None else medicine, med_need,
                    has_med, lost, out)
    assert same(out, crisis_flags(closed, days, lost, med))
