"""The households' day in compiled loops (:func:`twin.jit.kernel`): the rules of
:mod:`twin.policies.residents` and of ``twin.processes.households``, one pass over the
[K compounds, G groups, C categories] arrays instead of a numpy pass per operation (those
rules stay the readable reference; tests/test_residents_fast.py holds each kernel to them).

Each kernel gives the floats of the numpy code it stands for: the same operations in the same
order, numpy's ``maximum``/``minimum`` (NaN-propagating) included; where a kernel skips adding a
zero (a category not dear, nothing short), only a zero's sign can differ. Sums follow numpy's
orders: :func:`einsum_sum` is ``np.einsum("kgc->kg")``'s (numpy sums a short contiguous run in
two SIMD lanes, eight at a time), :func:`pairwise_sum` is ``a.sum(axis=-1)``'s,
``np.einsum("kgc->kc")`` and ``("kgc->c")`` add in row order (with one category numpy sums
the groups as a run: :func:`_one_category`; the city's ``("kgc->c")`` then differs in the last
bits, in the balance table's ``cum_consumed_kg`` only), and a class's spend in
:func:`budget_cut` adds its categories in order, as BLAS's gemm does in ``fill_by_priority``.
Where numpy sums through BLAS with real weights (``need @ price``), numpy's result is passed in.
"""

from __future__ import annotations

import numpy as np

from twin.jit import kernel
from twin.policies.flows import pairwise_sum

__all__ = ["add_on_order", "add_times_rate", "add_two_on_order", "budget_cut", "channel_split", "crisis_day", "demand_day",
           "eat_day", "einsum_cost", "einsum_dot", "einsum_sum", "group_sums", "move_turned", "pairwise_sum", "spill_over",
           "still_missing", "times_rate_by_group", "turned_back"]


def _inlined(fn):
    """``fn`` compiled into the kernels that call it (numba inlines it): a call to a compiled
    function taking an array view costs a reference count per call, more than its work here."""
    return kernel(fn, inline=True)


@_inlined
def _max(a, b):
    """``np.maximum(a, b)`` of two floats (``a`` where it is NaN)."""
    return a if (a >= b or a != a) else b


@_inlined
def _min(a, b):
    """``np.minimum(a, b)`` of two floats (``a`` where it is NaN)."""
    return a if (a <= b or a != a) else b


@_inlined
def einsum_sum(x):
    """``x`` [n] summed as ``np.einsum`` sums a contiguous run: two lanes, blocks of eight pairwise
    (``(x0 + x2) + (x4 + x6)`` in lane 0), the tail pair by pair, then lane 0 + lane 1."""
    n = x.shape[0]
    v0 = 0.0
    v1 = 0.0
    i = 0
    while n - i >= 8:
        v0 = ((x[i] + x[i + 2]) + (x[i + 4] + x[i + 6])) + v0
        v1 = ((x[i + 1] + x[i + 3]) + (x[i + 5] + x[i + 7])) + v1
        i += 8
    while i < n:
        v0 = x[i] + v0
        v1 = (x[i + 1] if i + 1 < n else 0.0) + v1
        i += 2
    return 0.0 + (v0 + v1)


@_inlined
def _one_category(out_kc, a, k):
    """``by_compound``'s sum of compound ``k`` of ``a`` [K, G, C] where there is one category:
    numpy then sums the groups as one contiguous run (:func:`einsum_sum`), not row by row."""
    if a.shape[2] == 1:
        out_kc[k, 0] = einsum_sum(a[k, :, 0])


@kernel
def group_sums(a, out_g, out_kc):
    """``by_group(a)`` [K, G] and ``by_compound(a)`` [K, C] of ``a`` [K, G, C] in one pass, written
    to ``out_g`` and ``out_kc``."""
    k_, g_, c_ = a.shape
    for k in range(k_):
        for c in range(c_):
            out_kc[k, c] = 0.0
        for g in range(g_):
            out_g[k, g] = einsum_sum(a[k, g])
            for c in range(c_):
                out_kc[k, c] += a[k, g, c]
        _one_category(out_kc, a, k)


@kernel
def add_on_order(total, comp, left, first):
    """What is on order [K, G, C]: ``total = comp x left`` (``first``) or ``total += comp x left``,
    ``left`` [K] the share of a cohort's orders ``comp`` not yet received
    (``twin.queues.OrderBook.on_order_parts``, summed part by part)."""
    k_, g_, c_ = comp.shape
    for k in range(k_):
        lk = left[k]
        for g in range(g_):
            for c in range(c_):
                if first:
                    total[k, g, c] = comp[k, g, c] * lk
                else:
                    total[k, g, c] += comp[k, g, c] * lk


@kernel
def add_two_on_order(total, comp_a, left_a, comp_b, left_b):
    """:func:`add_on_order` of two cohorts in one pass: ``total = comp_a x left_a + comp_b x left_b``
    (the floats of the first written, then the second added)."""
    k_, g_, c_ = comp_a.shape
    for k in range(k_):
        la, lb = left_a[k], left_b[k]
        for g in range(g_):
            for c in range(c_):
                total[k, g, c] = comp_a[k, g, c] * la + comp_b[k, g, c] * lb


@kernel
def move_turned(online, offline, turned, outside, on_kc):
    """Online requests that were turned away before go to the shops instead, in place:
    ``move = min(online, turned) x outside[k]`` (numpy's minimum), ``online -= move``,
    ``offline += move``; writes ``by_compound(online)`` to ``on_kc``."""
    k_, g_, c_ = online.shape
    for k in range(k_):
        out_k = outside[k]
        for c in range(c_):
            on_kc[k, c] = 0.0
        for g in range(g_):
            for c in range(c_):
                a, b = online[k, g, c], turned[k, g, c]
                m = (a if (a < b or a != a) else b) * out_k   # np.minimum: of equal values, the second
                a = a - m
                online[k, g, c] = a
                offline[k, g, c] += m
                on_kc[k, c] += a
        _one_category(on_kc, online, k)


@kernel
def demand_day(need_base, factor, days, stock, ahead, on_order, has_on_order, dear, has_dear, substitute, powers,
               district, subsistence, need, demand, need_g, need_kc):
    """The households' need and demand of the day [K, G, C] (``households`` step 1-2, before the budget):

    - ``need = need_base x factor[k]``;
    - ``wanted = max(need x days - stock + need x ahead[k, g] - on_order, 0)`` (household_demand,
      a day more of what goes online, less what is on order where ``has_on_order``);
    - where ``has_dear``: :func:`twin.policies.residents.shift_by` of ``dear[district[k]]``;
    - ``demand = max(powers[district[k], g] x wanted, min(wanted, need x subsistence))``
      (:func:`twin.policies.pricing.demand_response` per group, at its district's price).

    Also writes ``by_group(need)`` [K, G] and ``by_compound(need)`` [K, C]. A compound's [G, C]
    block is worked in flat passes (as :func:`eat_day`'s); the arrays but ``powers`` are C-ordered."""
    k_, g_, c_ = need_base.shape
    gc = g_ * c_
    nb = need_base.reshape(k_ * gc)
    dy = days.reshape(k_ * gc)
    sk = stock.reshape(k_ * gc)
    oo = on_order.reshape(on_order.size)
    nd = need.reshape(k_ * gc)
    dm = demand.reshape(k_ * gc)
    d_n = powers.shape[0]
    pw = np.empty(d_n * gc)   # powers [D, G, C], C-ordered
    for d in range(d_n):
        for g in range(g_):
            for c in range(c_):
                pw[(d * g_ + g) * c_ + c] = powers[d, g, c]
    n_blk = np.empty(gc)
    w_blk = np.empty(gc)
    a_blk = np.empty(gc)
    moved = np.empty(c_)
    cats = np.empty(c_, dtype=np.int64)
    to = np.empty(c_, dtype=np.int64)
    fac = np.empty(c_)
    n_dear = np.zeros(dear.shape[0], dtype=np.int64)   # the categories dear in each district, in order
    dear_cats = np.empty(dear.shape, dtype=np.int64)
    for d in range(dear.shape[0]):
        for c in range(c_):
            if dear[d, c] > 0:
                dear_cats[d, n_dear[d]] = c
                n_dear[d] += 1
    for k in range(k_):
        d = district[k]
        f = factor[k]
        base = k * gc
        for g in range(g_):
            a = ahead[k, g]
            for c in range(c_):
                a_blk[g * c_ + c] = a
        if has_on_order:
            for j in range(gc):
                n = nb[base + j] * f
                n_blk[j] = n
                nd[base + j] = n
                w = n * dy[base + j]
                w = w - sk[base + j]
                w = w + n * a_blk[j]
                w = w - oo[base + j]
                w_blk[j] = _max(w, 0.0)
        else:
            for j in range(gc):
                n = nb[base + j] * f
                n_blk[j] = n
                nd[base + j] = n
                w = n * dy[base + j]
                w = w - sk[base + j]
                w = w + n * a_blk[j]
                w_blk[j] = _max(w, 0.0)
        for c in range(c_):
            acc = 0.0
            for g in range(g_):
                acc += n_blk[g * c_ + c]
            need_kc[k, c] = acc
        _one_category(need_kc, need, k)
        for g in range(g_):
            o = g * c_
            need_g[k, g] = einsum_sum(n_blk[o:o + c_])
        if has_dear:   # (a category not dear moves nothing: w - w x 0 is w)
            nj = n_dear[d]
            for j in range(nj):
                c = dear_cats[d, j]
                cats[j] = c
                fac[j] = dear[d, c]
                to[j] = substitute[c]
            for g in range(g_):
                o = g * c_
                for j in range(nj):
                    x = w_blk[o + cats[j]]
                    m = x * fac[j]
                    moved[j] = m
                    w_blk[o + cats[j]] = x - m
                for j in range(nj):   # in category order, as shift_by adds them
                    w_blk[o + to[j]] += moved[j]
        pb = d * gc
        for j in range(gc):
            w = w_blk[j]
            floor = _min(w, n_blk[j] * subsistence)
            dm[base + j] = _max(pw[pb + j] * w, floor)


@kernel
def budget_cut(demand, rows, budget, index, price, cls, n_levels):
    """``households._within_budget``: each (compound, group) row ``rows[i]`` of ``demand`` [K x G, C]
    (cut in place) whose cost at ``price x index[row // G]`` exceeds ``budget[i]`` is fitted into it
    priority class by class (``cls`` [C]: the class of each category, 0 first;
    :func:`twin.policies.flows.fill_by_priority`). ``G`` is ``demand`` rows / ``index`` rows.
    A class's spend adds its categories in order from a list made once; a row's compound is the
    last row's, or the next, where the rows go in order (else ``row // G``)."""
    c_ = demand.shape[1]
    g_ = demand.shape[0] // index.shape[0]
    cost = np.empty(c_)
    scale = np.empty(n_levels)
    # each class's categories, in order
    n_in = np.zeros(n_levels, dtype=np.int64)
    cats = np.empty((n_levels, c_), dtype=np.int64)
    for c in range(c_):
        l = cls[c]
        cats[l, n_in[l]] = c
        n_in[l] += 1
    k = 0
    first = 0   # the first row of compound k
    for i in range(rows.shape[0]):
        r = rows[i]
        if r < first or r >= first + g_:   # (rows in order: mostly the same compound, or the next)
            if r >= first + g_ and r < first + 2 * g_:
                k += 1
                first += g_
            else:
                k = r // g_
                first = k * g_
        for c in range(c_):
            cost[c] = demand[r, c] * (price[c] * index[k, c])
        b = budget[i]
        if not (pairwise_sum(cost) > b):
            continue
        running = 0.0
        for l in range(n_levels):
            s = 0.0
            for j in range(n_in[l]):
                s += cost[cats[l, j]]
            running = s if l == 0 else running + s
            left = b - (running - s)
            if s > left:
                part = _max(left, 0.0)
                scale[l] = part / s if s > 0 else part
            else:
                scale[l] = 1.0
        for c in range(c_):
            demand[r, c] = demand[r, c] * scale[cls[c]]


@kernel
def channel_split(demand, need, share, outside, paced_rate, limited, online, offline, on_kc, sums, demand_g,
                  demand_kc):
    """``households._channel_requests``: ``online = demand x share[k, g]``; where ``outside``
    (households may go out): ``offline = paced x ((1 - share) x outside[k])``, ``paced`` the
    demand whose stock gap is refilled at ``paced_rate[k]`` (``min(demand, need + max(demand -
    need, 0) x rate)``) where ``limited``, else the demand. Also writes ``by_compound(online)``,
    and where ``sums``, ``by_group(demand)`` and ``by_compound(demand)`` (:func:`group_sums`).
    Each output is written by a loop of its own (a loop writing one array runs in the CPU's vector
    lanes; one writing four, with its branches, does not), the compound sums into a local row."""
    k_, g_, c_ = demand.shape
    row = np.empty(c_)
    for k in range(k_):
        rate = paced_rate[k]
        out_k = outside[k]
        for g in range(g_):
            s = share[k, g]
            for c in range(c_):
                online[k, g, c] = demand[k, g, c] * s
            rest = (1.0 - s) * out_k
            if limited:
                for c in range(c_):
                    d = demand[k, g, c]
                    n = need[k, g, c]
                    p = _max(d - n, 0.0) * rate
                    p = _min(d, n + p)
                    offline[k, g, c] = p * rest
            else:
                for c in range(c_):
                    offline[k, g, c] = demand[k, g, c] * rest
        for c in range(c_):
            row[c] = 0.0
        for g in range(g_):
            for c in range(c_):
                row[c] += online[k, g, c]
        for c in range(c_):
            on_kc[k, c] = row[c]
        _one_category(on_kc, online, k)
        if sums:
            for c in range(c_):
                row[c] = 0.0
            for g in range(g_):
                demand_g[k, g] = einsum_sum(demand[k, g])
                for c in range(c_):
                    row[c] += demand[k, g, c]
            for c in range(c_):
                demand_kc[k, c] = row[c]
            _one_category(demand_kc, demand, k)


@_inlined
def _eat_cell(j, s, n, share_t, s_blk, covered, eaten, spare, short):
    """:func:`eat_day`'s first pass at cell ``j`` of a compound's block: ``s`` the stock (with the
    day's purchases), ``n`` the need; what is eaten from the stock, what is left and the shortfall
    that claims on a substitute (``share_t[j]`` of it)."""
    own = _min(s, n)
    s_blk[j] = s
    covered[j] = own
    eaten[j] = own
    spare[j] = s - own
    short[j] = share_t[j] * (n - own)


@kernel
def eat_day(stock, got, has_got, need, substitute, share, covered_g, stock_g, eaten_c, got_kc):
    """The day's purchases ``got`` join the ``stock`` (where ``has_got``), the day's ``need`` is eaten
    from it (:func:`twin.policies.residents.eat_with_substitutes`), then ``stock`` (in place) loses
    what was eaten (never below 0). Writes ``by_group(covered)`` [K, G], ``by_group`` of the stock
    left [K, G], ``np.einsum("kgc->c", eaten)`` [C] and ``by_compound(got)`` [K, C].

    A compound's [G, C] block is worked in flat passes over local arrays (a pass of ten cells a
    group costs more in the compiler's alias checks than its work), each output written once; the
    substitutes' claims are summed target by target (each target's claimants in category order,
    as the numpy rule adds them), and where a target has one claimant its claims are that
    claimant's shortfall (``0.0 + x`` is ``x`` but for a zero's sign, and a claim is divided by
    only where it is above 0). ``stock``, ``got`` and ``need`` are C-ordered."""
    k_, g_, c_ = stock.shape
    gc = g_ * c_
    st = stock.reshape(k_ * gc)
    nd = need.reshape(k_ * gc)
    gt = got.reshape(got.size)
    s_blk = np.empty(gc)
    covered = np.empty(gc)
    eaten = np.empty(gc)
    spare = np.empty(gc)
    short = np.empty(gc)
    left = np.empty(gc)
    share_t = np.empty(gc)
    for g in range(g_):
        for c in range(c_):
            share_t[g * c_ + c] = share[c]
    total_eaten = np.zeros(c_)
    n_subs = 0
    subs = np.empty(c_, dtype=np.int64)
    sub_of = np.empty(c_, dtype=np.int64)
    slot_of = np.empty(c_, dtype=np.int64)
    n_targets = 0
    targets = np.empty(c_, dtype=np.int64)
    n_claimants = np.zeros(c_, dtype=np.int64)
    for c in range(c_):
        if substitute[c] >= 0 and share[c] > 0:
            t = substitute[c]
            j = 0
            while j < n_targets and targets[j] != t:
                j += 1
            if j == n_targets:
                targets[j] = t
                n_targets += 1
            n_claimants[j] += 1
            subs[n_subs] = c
            sub_of[n_subs] = t
            slot_of[n_subs] = j
            n_subs += 1
    one_each = True
    for j in range(n_targets):
        if n_claimants[j] != 1:
            one_each = False
    claims = np.empty(max(n_targets, 1))
    for k in range(k_):
        base = k * gc
        if has_got:
            for j in range(gc):
                _eat_cell(j, st[base + j] + gt[base + j], nd[base + j], share_t, s_blk, covered, eaten, spare, short)
            for c in range(c_):
                acc = 0.0
                for g in range(g_):
                    acc += got[k, g, c]
                got_kc[k, c] = acc
            _one_category(got_kc, got, k)
        else:
            for j in range(gc):
                _eat_cell(j, st[base + j], nd[base + j], share_t, s_blk, covered, eaten, spare, short)
            for c in range(c_):
                got_kc[k, c] = 0.0
        for g in range(g_):
            o = g * c_
            if one_each:
                for i in range(n_subs):
                    c = o + subs[i]
                    x = short[c]
                    if x > 0:
                        sc = o + sub_of[i]
                        extra = x * _min(spare[sc] / x, 1.0)
                        covered[c] += extra
                        eaten[sc] += extra
            else:
                for j in range(n_targets):
                    claims[j] = 0.0
                for i in range(n_subs):
                    claims[slot_of[i]] += short[o + subs[i]]
                for i in range(n_subs):
                    c = o + subs[i]
                    x = short[c]
                    if x > 0:
                        sc = o + sub_of[i]
                        cl = claims[slot_of[i]]
                        q = spare[sc] / cl if cl > 0 else 1.0
                        extra = x * _min(q, 1.0)
                        covered[c] += extra
                        eaten[sc] += extra
            covered_g[k, g] = einsum_sum(covered[o:o + c_])
        for j in range(gc):
            s = _max(s_blk[j] - eaten[j], 0.0)
            st[base + j] = s
            left[j] = s
        for g in range(g_):
            o = g * c_
            for c in range(c_):
                total_eaten[c] += eaten[o + c]
            stock_g[k, g] = einsum_sum(left[o:o + c_])
    for c in range(c_):
        eaten_c[c] = total_eaten[c]


@_inlined
def einsum_dot(x, y):
    """``x`` [n] and ``y`` [n] multiplied and summed as ``np.einsum("kgc,kc->kg")`` sums a row:
    two lanes, in blocks of four pairs added from the last pair to the first onto the running
    lanes (numpy's sum of products of two contiguous runs, a multiply then an add: no fused
    multiply-add), the tail pair by pair, then lane 0 + lane 1 added to the output's 0.0."""
    n = x.shape[0]
    v0 = 0.0
    v1 = 0.0
    i = 0
    while n - i >= 8:
        v0 = x[i] * y[i] + (x[i + 2] * y[i + 2] + (x[i + 4] * y[i + 4] + (x[i + 6] * y[i + 6] + v0)))
        v1 = x[i + 1] * y[i + 1] + (x[i + 3] * y[i + 3] + (x[i + 5] * y[i + 5] + (x[i + 7] * y[i + 7] + v1)))
        i += 8
    while i < n:
        v0 = x[i] * y[i] + v0
        v1 = (x[i + 1] * y[i + 1] if i + 1 < n else 0.0) + v1
        i += 2
    return 0.0 + (v0 + v1)


@kernel
def einsum_cost(a, cost, out):
    """``np.einsum("kgc,kc->kg", a, cost)`` [K, G] written to ``out`` (:func:`einsum_dot`; the model
    takes these sums inside :func:`times_rate_by_group`: this pass alone holds the order to numpy's)."""
    for k in range(a.shape[0]):
        for g in range(a.shape[1]):
            out[k, g] = einsum_dot(a[k, g], cost[k])


@kernel
def times_rate_by_group(a, rate, out, out_g, out_kc, kc, cost, out_cost, costs):
    """``out = a x rate[k, c]`` [K, G, C] (``out`` may be ``a``) and ``out_g = by_group(out)`` [K, G];
    where ``kc``, ``out_kc = by_compound(out)`` [K, C] (:func:`group_sums` of ``out``); where
    ``costs``, ``out_cost = np.einsum("kgc,kc->kg", out, cost)`` [K, G] (:func:`einsum_dot`); in the one pass."""
    k_, g_, c_ = a.shape
    for k in range(k_):
        if kc:
            for c in range(c_):
                out_kc[k, c] = 0.0
        for g in range(g_):
            for c in range(c_):
                x = a[k, g, c] * rate[k, c]
                out[k, g, c] = x
                if kc:
                    out_kc[k, c] += x
            out_g[k, g] = einsum_sum(out[k, g])
            if costs:
                out_cost[k, g] = einsum_dot(out[k, g], cost[k])
        if kc:
            _one_category(out_kc, out, k)


@kernel
def spill_over(online, spill, offline, out, out_kc):
    """What goes to the shops [K, G, C]: ``out = online x spill[k, c] + offline`` (orders the
    couriers cannot bring, and the shoppers'); ``out_kc = by_compound(out)``. The sums are taken
    in a loop of their own, into a local row (:func:`channel_split`)."""
    k_, g_, c_ = online.shape
    row = np.empty(c_)
    for k in range(k_):
        for g in range(g_):
            for c in range(c_):
                out[k, g, c] = online[k, g, c] * spill[k, c] + offline[k, g, c]
        for c in range(c_):
            row[c] = 0.0
        for g in range(g_):
            for c in range(c_):
                row[c] += out[k, g, c]
        for c in range(c_):
            out_kc[k, c] = row[c]
        _one_category(out_kc, out, k)


@kernel
def turned_back(offline, failed, can_order, out, out_kc):
    """What the shops failed to sell, for those who can order [K, G, C]: ``out = offline x
    failed[k, c] x can_order[g]``; ``out_kc = by_compound(out)``."""
    k_, g_, c_ = offline.shape
    for k in range(k_):
        for c in range(c_):
            out_kc[k, c] = 0.0
        for g in range(g_):
            co = can_order[g]
            for c in range(c_):
                x = (offline[k, g, c] * failed[k, c]) * co
                out[k, g, c] = x
                out_kc[k, c] += x
        _one_category(out_kc, out, k)


@kernel
def add_times_rate(total, a, rate):
    """``total += a x rate[k, c]`` [K, G, C]."""
    k_, g_, c_ = a.shape
    for k in range(k_):
        for g in range(g_):
            for c in range(c_):
                total[k, g, c] += a[k, g, c] * rate[k, c]


@kernel
def still_missing(demand, got, weight, out, out_kc):
    """What is still missing [K, G, C]: ``out = max(demand - got, 0) x weight[k, g]``;
    ``out_kc = by_compound(out)``. The sums are taken in a loop of their own, into a local row
    (:func:`channel_split`)."""
    k_, g_, c_ = demand.shape
    row = np.empty(c_)
    for k in range(k_):
        for g in range(g_):
            w = weight[k, g]
            for c in range(c_):
                out[k, g, c] = _max(demand[k, g, c] - got[k, g, c], 0.0) * w
        for c in range(c_):
            row[c] = 0.0
        for g in range(g_):
            for c in range(c_):
                row[c] += out[k, g, c]
        for c in range(c_):
            out_kc[k, c] = row[c]
        _one_category(out_kc, out, k)


@kernel
def crisis_day(shops_closed, stock_g, normal, has_normal, stock, medicine, med_need, has_med, lost, out):
    """:func:`twin.policies.residents.crisis_flags` [K, G, 4] written to ``out``: the compound's shops
    closed, the stock (``stock_g`` [K, G] kg) below a day of ``normal`` need (where
    ``has_normal``), income lost, the ``medicine`` stock (category; -1: none) below a day of
    ``med_need`` (where ``has_med``)."""
    k_, g_ = stock_g.shape
    for k in range(k_):
        closed = 1.0 if shops_closed[k] else 0.0
        for g in range(g_):
            out[k, g, 0] = closed
            out[k, g, 1] = 1.0 if (has_normal[k, g] and stock_g[k, g] / normal[k, g] < 1.0) else 0.0
            out[k, g, 2] = 1.0 if lost[k, g] else 0.0
            short = medicine >= 0 and has_med[k, g] and stock[k, g, medicine] / med_need[k, g] < 1.0
            out[k, g, 3] = 1.0 if short else 0.0
