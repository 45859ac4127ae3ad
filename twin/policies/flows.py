"""Pure rules that decide how much moves: order-up-to replenishment and pro-rata rationing.

No simulation here: every function maps arrays to arrays, so each can be tested alone.
"""

from __future__ import annotations

import numpy as np

from twin.jit import kernel
from twin.network.model import group_sum

__all__ = ["cover_days", "fill_by_priority", "fill_rate", "first_split", "fit_rows", "household_demand", "missed_cycles", "online_share",
           "order_up_to", "prorata_fill", "split_by_weight", "split_orders", "sum_rows"]


def order_up_to(level: np.ndarray, stock: np.ndarray, pipeline: np.ndarray) -> np.ndarray:
    """Order what brings stock plus goods on the way up to ``level`` (never negative).

    >>> order_up_to(np.array([10.0, 10.0]), np.array([4.0, 12.0]), np.array([1.0, 0.0])).tolist()
    [5.0, 0.0]
    """
    return np.maximum(level - stock - pipeline, 0.0)


def missed_cycles(dispatch_h: np.ndarray, travel_h: np.ndarray, own_h: np.ndarray) -> np.ndarray:
    """How many of the receiving node's own daily times (selling or dispatch) an order misses.

    An order leaves its supplier at ``dispatch_h`` (hour of day) and is on the receiver's shelf
    ``travel_h`` hours later; the receiver uses its stock once a day at ``own_h``. The order
    misses every own time in ``[dispatch, dispatch + trip)``: one due at the very hour of arrival
    is served (arrivals are unloaded before any phase at the same instant).

    >>> missed_cycles(np.array([5.0]), np.array([20.0]), np.array([10.0])).tolist()  # 01:00, after 10:00
    [1.0]
    >>> missed_cycles(np.array([7.0, 7.0, 1.0]), np.array([3.0, 2.0, 12.0]), np.array([10.0, 10.0, 3.0])).tolist()
    [0.0, 0.0, 1.0]
    >>> missed_cycles(np.array([1.0, 1.0]), np.array([50.0, 51.0]), np.array([3.0, 3.0])).tolist()  # 2 days away
    [2.0, 3.0]
    """
    wait = np.mod(np.asarray(own_h, dtype=float) - dispatch_h, 24.0)   # until the first own time
    return np.maximum(np.ceil((np.asarray(travel_h, dtype=float) - wait) / 24.0), 0.0)


def cover_days(stock_days: np.ndarray, missed: np.ndarray, link_dst: np.ndarray, link_weight: np.ndarray) -> np.ndarray:
    """Order-up-to cover [N, C] in days of demand: target stock + one review day + the own cycles
    an order misses on its way (``missed`` per in-link, averaged over a node's in-links by
    ``link_weight``; pass weight 0 for links that should not count). A node without weighted
    in-links (a base) misses none.

    The weighted mean is exact in steady state when a node splits its orders by those weights:
    the stock it holds for each link's slower deliveries is that link's share of demand.

    >>> cover_days(np.array([[0.0], [2.0], [1.0]]), np.array([1.0, 0.0, 1.0]), np.array([1, 2, 2]),
    ...            np.array([1.0, 1.0, 3.0])).tolist()
    [[1.0], [4.0], [2.75]]
    """
    n = stock_days.shape[0]
    total = np.bincount(link_dst, weights=link_weight, minlength=n)
    lag = np.bincount(link_dst, weights=link_weight * missed, minlength=n) / np.where(total > 0, total, 1.0)
    return stock_days + 1.0 + lag[:, None]


def prorata_fill(request: np.ndarray, node: np.ndarray, stock: np.ndarray, capacity_kg: np.ndarray,
                 priority: np.ndarray | None = None, wanted: np.ndarray | None = None) -> np.ndarray:
    """Serve requests [R, C] at supplier ``node[r]`` from ``stock`` [N, C] within ``capacity_kg`` [N].

    Each supplier first rations every category in proportion to the requests for it when its
    stock runs short, then scales all it hands out down to its handling capacity (kg/day); with
    ``priority`` [C] (lower first), the capacity goes to the categories in priority order
    (:func:`fill_by_priority`). Returns the served quantities [R, C]: never more than requested,
    and the sum served by a supplier never exceeds its stock (per category) nor its capacity
    (over categories). ``wanted``: the requests summed by supplier [N, C], if already known.
    ``stock`` None: no stock limit (what capacity alone would let through).

    >>> prorata_fill(np.array([[6.0], [2.0]]), np.array([0, 0]), np.array([[4.0]]), np.array([100.0])).tolist()
    [[3.0], [1.0]]
    >>> prorata_fill(np.array([[2.0, 2.0]]), np.array([0]), np.array([[9.0, 9.0]]), np.array([3.0]),
    ...              priority=np.array([1, 0])).tolist()
    [[1.0, 2.0]]
    """
    if wanted is None:
        wanted = group_sum(node, request, len(capacity_kg) if stock is None else stock.shape[0])
    return _times_row_of(request, fill_rate(wanted, stock, capacity_kg, priority), np.asarray(node))


def _times_row_of(request: np.ndarray, rate: np.ndarray, node: np.ndarray) -> np.ndarray:
    """``request * rate[node]`` ([R, C], a row of ``rate`` [N, C] for each request), in one compiled pass."""
    if request.ndim != 2 or rate.shape[1:] != request.shape[1:] or request.dtype != float or rate.dtype != float:
        return request * np.take(rate, node, axis=0)
    return _times_row_of_kernel(request, rate, node)


@kernel
def _times_row_of_kernel(request, rate, node):   # pragma: no cover (compiled)
    out = np.empty(request.shape)
    n = rate.shape[0]
    for r in range(request.shape[0]):
        i = node[r]
        if i < 0:
            i += n   # numpy's negative index
        if i < 0 or i >= n:
            raise IndexError("prorata_fill: a request's node is outside the suppliers")
        for c in range(request.shape[1]):
            out[r, c] = request[r, c] * rate[i, c]
    return out


def fill_rate(wanted: np.ndarray, stock: np.ndarray, capacity_kg: np.ndarray,
              priority: np.ndarray | None = None) -> np.ndarray:
    """Share [N, C] of what each supplier is asked (``wanted`` [N, C]) that it serves under
    :func:`prorata_fill`: stock rationed per category, then everything scaled to capacity (in
    ``priority`` order, lower first, when given). ``stock`` None: no stock limit (capacity alone).

    >>> fill_rate(np.array([[8.0, 2.0]]), np.array([[4.0, 9.0]]), np.array([3.0])).tolist()
    [[0.25, 0.5]]
    """
    if priority is not None:
        cls, n_levels = _classes(priority)
        if n_levels > 1 and wanted.ndim == 2 and wanted.dtype == float:   # one level: numpy's (a matrix-vector product sums otherwise)
            return _fill_rate_by_priority(wanted, np.empty((0, 0)) if stock is None else _shaped(stock, wanted.shape),
                                          _shaped(np.asarray(capacity_kg, dtype=float), wanted.shape[:1]),
                                          cls, n_levels, stock is not None)
    elif wanted.ndim == 2 and wanted.dtype == float and wanted.shape[1] <= _ROW_SUM_MAX:
        return _fill_rate_plain(wanted, np.empty((0, 0)) if stock is None else _shaped(stock, wanted.shape),
                                _shaped(np.asarray(capacity_kg, dtype=float), wanted.shape[:1]), stock is not None)
    return _fill_rate(wanted, stock, capacity_kg, priority)


def _shaped(a, shape: tuple[int, ...]) -> np.ndarray:
    """``np.broadcast_to(a, shape)``, or ``a`` itself where it is an array of that shape already
    (the kernels read the same values; a broadcast costs some microseconds a call)."""
    return a if isinstance(a, np.ndarray) and a.shape == shape else np.broadcast_to(a, shape)


_ROW_SUM_MAX = 128   # rows this wide or narrower are summed by :func:`_row_sum` as numpy sums them


@kernel(inline=True)
def pairwise_sum(x):   # pragma: no cover (compiled)
    """``x`` [n] (n <= 128) summed as ``x.sum()`` sums a contiguous run: from 0.0, in order below 8
    terms; else eight running sums, added as a tree, then the rest in order."""
    n = x.shape[0]
    if n < 8:
        res = 0.0
        for i in range(n):
            res += x[i]
        return 0.0 + res
    r0, r1, r2, r3, r4, r5, r6, r7 = x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7]
    i = 8
    while i < n - n % 8:
        r0 += x[i]
        r1 += x[i + 1]
        r2 += x[i + 2]
        r3 += x[i + 3]
        r4 += x[i + 4]
        r5 += x[i + 5]
        r6 += x[i + 6]
        r7 += x[i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += x[i]
        i += 1
    return 0.0 + res


def sum_rows(a: np.ndarray) -> np.ndarray:
    """``a.sum(axis=1)`` [R] of ``a`` [R, W]: numpy's floats, in one compiled pass over a C-ordered
    float ``a`` with W <= 128 (each row summed as numpy sums it, :func:`pairwise_sum`; numpy's own
    reduction over short rows costs a loop set-up per row); numpy's sum otherwise.

    >>> sum_rows(np.array([[1.0, 2.0], [3.0, 4.0]])).tolist()
    [3.0, 7.0]
    """
    if a.ndim == 2 and a.dtype == float and a.flags.c_contiguous and 0 < a.shape[1] <= _ROW_SUM_MAX:
        return _sum_rows_kernel(a)
    return a.sum(axis=1)


@kernel
def _sum_rows_kernel(a):   # pragma: no cover (compiled)
    out = np.empty(a.shape[0])
    for r in range(a.shape[0]):
        out[r] = pairwise_sum(a[r])
    return out


@kernel(inline=True)
def _row_sum(a, n):   # pragma: no cover (compiled)
    """``a[:n].sum()`` as numpy sums a contiguous row of ``n`` <= 128 values (:func:`pairwise_sum`)."""
    return pairwise_sum(a[:n])


@kernel(inline=True)
def _stock_row(wanted, stock, r, has_stock, by_stock, handed):   # pragma: no cover (compiled)
    """Row ``r`` of :func:`_fill_rate`'s stock share (:func:`_cut_share`) into ``by_stock`` [C],
    and what it hands out (``wanted x by_stock``) into ``handed`` [C]."""
    for c in range(wanted.shape[1]):
        w = wanted[r, c]
        b = 1.0
        if has_stock:
            b = _cut_one(w > stock[r, c], stock[r, c], w)
        by_stock[c] = b
        handed[c] = w * b


@kernel
def _fill_rate_plain(wanted, stock, capacity, has_stock):   # pragma: no cover (compiled)
    """:func:`_fill_rate` without a priority, row by row (rows of at most 128 categories)."""
    r_n, c_n = wanted.shape
    out = np.empty((r_n, c_n))
    by_stock = np.empty(c_n)
    handed = np.empty(c_n)
    for r in range(r_n):
        _stock_row(wanted, stock, r, has_stock, by_stock, handed)
        h = _row_sum(handed, c_n)
        cap = capacity[r]
        by_cap = cap / (h if h > 0.0 else 1.0) if h > cap else 1.0
        for c in range(c_n):
            out[r, c] = by_stock[c] * by_cap
    return out


def _fill_rate(wanted: np.ndarray, stock: np.ndarray, capacity_kg: np.ndarray,
               priority: np.ndarray | None = None) -> np.ndarray:
    """:func:`fill_rate` in numpy (the reference of its kernel, :func:`_fill_rate_by_priority`)."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        by_stock = np.ones(wanted.shape) if stock is None else _cut_share(wanted > stock, stock, wanted)
        if priority is not None:
            handed = wanted * by_stock
            return by_stock * ratio_of(_fill_by_priority(handed, capacity_kg, priority), handed)
        handed = (wanted * by_stock).sum(axis=1)
        by_capacity = np.where(handed > capacity_kg, capacity_kg / np.where(handed > 0, handed, 1.0), 1.0)
    return by_stock * by_capacity[:, None]


@kernel
def _fill_rate_by_priority(wanted, stock, capacity, cls, n_levels, has_stock):   # pragma: no cover (compiled)
    """:func:`_fill_rate` with a priority of ``n_levels`` classes (``cls`` [C]: each category's),
    row by row: the stock's share, the classes' spend, their scales (:func:`_class_scales`), the rate."""
    r_n, c_n = wanted.shape
    out = np.empty((r_n, c_n))
    by_stock = np.empty(c_n)
    handed = np.empty(c_n)
    spend = np.empty(n_levels)
    scale = np.empty(n_levels)
    for r in range(r_n):
        _stock_row(wanted, stock, r, has_stock, by_stock, handed)
        _scales_of(handed, cls, capacity[r], spend, scale)
        for c in range(c_n):
            h = handed[c]
            ratio = h * scale[cls[c]] / h if h > 0.0 else 1.0
            out[r, c] = by_stock[c] * ratio
    return out


@kernel(inline=True)
def _cut_one(cut, part, whole):   # pragma: no cover (compiled)
    """:func:`_cut_share` of one value."""
    if not cut:
        return 1.0
    return part / whole if whole > 0.0 else part


@kernel(inline=True)
def _scales_of(kg, cls, budget, spend, scale):   # pragma: no cover (compiled)
    """One row of :func:`_class_scales`: each class's spend (``kg`` [C] summed into ``spend``
    by ``cls``, in category order from 0.0, as the matrix product sums), then its share that
    ``budget`` pays for, into ``scale``."""
    for l in range(len(spend)):
        spend[l] = 0.0
    for c in range(len(kg)):
        spend[cls[c]] += kg[c]
    _class_scale_row(budget, spend, scale)


@kernel(inline=True)
def _class_scale_row(budget, spend, scale):   # pragma: no cover (compiled)
    """Each class's share (its ``spend`` [L], classes in order) that ``budget`` pays for, into ``scale``."""
    running = 0.0
    for l in range(len(spend)):
        s = spend[l]
        running = s if l == 0 else running + s
        left = budget - (running - s)
        floor = left if (left > 0.0 or np.isnan(left)) else 0.0   # np.maximum(left, 0.0)
        scale[l] = _cut_one(s > left, floor, s)


def split_orders(src: np.ndarray, dst: np.ndarray, planned: np.ndarray, weight: np.ndarray, need: np.ndarray,
                 stock: np.ndarray, capacity_kg: np.ndarray, n: int, in_use: np.ndarray | None = None,
                 first: np.ndarray | None = None) -> np.ndarray:
    """Share [L, C] of each destination's order ``need`` [L, C] placed on each of its open in-links
    (``src`` [L]: the supplier's row of ``stock`` [S, C] and ``capacity_kg`` [S]; ``dst`` [L]: the
    destination, one of ``n``).

    First as planned (``planned`` [L, C], renormalised over the links in use; by ``weight`` [L]
    where no link in use has a planned share); then each share is multiplied by the supplier's
    fill rate on those orders (:func:`fill_rate`) and renormalised, so orders move away from
    suppliers short of stock or of handling and fleet capacity towards those that can serve
    them. Where every supplier of a destination would serve nothing, the first split stands.
    ``in_use`` [L] (default: every link): links not in use get no share, as if left out.
    ``first``: the first split (:func:`first_split`), if known.

    Two suppliers planned half and half; the first can fill only a quarter of its orders, so it
    gets 0.25 / (0.25 + 1) = 20% of them:

    >>> split_orders(np.array([0, 1]), np.array([2, 2]), np.array([[0.5], [0.5]]), np.ones(2),
    ...              np.array([[8.0], [8.0]]), np.array([[1.0], [100.0], [0.0]]), np.full(3, 100.0), 3).round(2).tolist()
    [[0.2], [0.8]]
    """
    if first is None:
        first = first_split(dst, planned, weight, n, in_use)
    if need.ndim == 2 and need.shape[1] <= _ROW_SUM_MAX and need.dtype == float and stock.dtype == float:
        moved, out = _resplit(np.asarray(src), np.asarray(dst), need, first, stock, np.asarray(capacity_kg, dtype=float), n,
                              np.ones(0, dtype=bool) if in_use is None else in_use, in_use is not None)
        return out if moved else first
    return _split_orders(src, dst, need, first, stock, capacity_kg, n, in_use)


def _split_orders(src, dst, need, first, stock, capacity_kg, n, in_use):
    """:func:`split_orders` after the first split, in numpy (the reference of :func:`_resplit`)."""
    rate = fill_rate(group_sum(src, need * first, len(stock)), stock, capacity_kg)[src]
    short = (rate < 1.0).any(axis=1)
    if in_use is not None:
        short &= in_use
    if not short.any():
        return first
    # only destinations with a supplier short of something need their split moved; the sums
    # run over every row (the others' totals are not used)
    moved = np.zeros(n, dtype=bool)
    moved[dst[short]] = True
    rows = moved[dst]
    out = first.copy()
    out[rows] = _normalise(dst, first * rate, first, n)[rows]
    return out


@kernel
def _resplit(src, dst, need, first, stock, capacity, n, in_use, has_in_use):   # pragma: no cover (compiled)
    """:func:`_split_orders` in one compiled pass: ``(False, empty)`` where no supplier in use is
    short (the first split stands), else ``(True, the moved split)``. Group sums add rows in row
    order from 0.0, as :func:`~twin.network.model.group_sum` does, kept for the links' destinations
    only (:func:`_slots`); each link's ``first x rate`` is computed once, then divided by its
    destination's sum."""
    l_n, c_n = need.shape
    wanted = np.zeros((stock.shape[0], c_n))
    for l in range(l_n):
        for c in range(c_n):
            wanted[src[l], c] += need[l, c] * first[l, c]
    rate = _fill_rate_plain(wanted, stock, capacity, True)   # per supplier: a link's is its source's
    d_slot, d_n = _slots(dst, n)
    moved = np.zeros(d_n, dtype=np.bool_)
    short = False
    for l in range(l_n):
        if has_in_use and not in_use[l]:
            continue
        for c in range(c_n):
            if rate[src[l], c] < 1.0:
                moved[d_slot[dst[l]]] = True
                short = True
                break
    if not short:
        return False, np.empty((0, c_n))
    total = np.zeros((d_n, c_n))
    out = np.empty((l_n, c_n))
    for l in range(l_n):
        d, i = d_slot[dst[l]], src[l]
        for c in range(c_n):
            p = first[l, c] * rate[i, c]
            total[d, c] += p
            out[l, c] = p
    for l in range(l_n):
        d = d_slot[dst[l]]
        if moved[d]:
            for c in range(c_n):
                t = total[d, c]
                out[l, c] = out[l, c] / t if t > 0.0 else first[l, c]
        else:
            for c in range(c_n):
                out[l, c] = first[l, c]
    return True, out


@kernel(inline=True)
def _slots(index, n):   # pragma: no cover (compiled)
    """Each node's slot [n] among the distinct values of ``index`` (in order of first appearance;
    -1: not in ``index``), and their number."""
    slot = np.full(n, -1, dtype=np.intp)
    m = 0
    for r in range(len(index)):
        i = index[r]
        if slot[i] < 0:
            slot[i] = m
            m += 1
    return slot, m


def first_split(dst: np.ndarray, planned: np.ndarray, weight: np.ndarray, n: int,
                in_use: np.ndarray | None = None) -> np.ndarray:
    """The planned split [L, C] of each destination's orders over its in-links in use: ``planned``
    renormalised over them, by ``weight`` where none has a planned share (:func:`split_orders`
    before suppliers' fill rates move it). Links not in use get no share.

    >>> first_split(np.array([0, 0]), np.array([[0.2], [0.6]]), np.ones(2), 1).round(2).tolist()
    [[0.25], [0.75]]
    """
    if in_use is not None:   # zero shares add nothing to a destination's sums: the shares in use are those without them
        planned, weight = planned * in_use[:, None], weight * in_use
    by_weight = _normalise(dst, weight, weight, n)[:, None]
    return _normalise(dst, planned, by_weight, n)


def _normalise(dst: np.ndarray, raw: np.ndarray, plain: np.ndarray, n: int) -> np.ndarray:
    """``raw`` [L] or [L, C] as shares within each destination; ``plain`` where it sums to 0."""
    total = group_sum(dst, raw, n)[dst]
    out = np.empty(raw.shape)
    out[...] = plain
    # the quotients are np.where(total > 0, raw / total, plain)'s, without its temporaries
    return np.divide(raw, total, out=out, where=total > 0)


def ratio_of(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """``part / whole`` elementwise, 1 where ``whole`` is 0 (nothing asked: nothing cut).

    >>> ratio_of(np.array([1.0, 0.0]), np.array([4.0, 0.0])).tolist()
    [0.25, 1.0]
    """
    part, whole = np.asarray(part), np.asarray(whole)
    if part.shape == whole.shape and part.dtype == float and whole.dtype == float and 1 <= part.ndim <= 2:
        return _ratio_1d(part, whole) if part.ndim == 1 else _ratio_2d(part, whole)   # compiled, one pass
    out = np.ones(np.broadcast_shapes(part.shape, whole.shape), np.result_type(part, whole, 1.0))
    # the quotients are np.where(whole > 0, part / whole, 1)'s, without its three temporaries
    return np.divide(part, whole, out=out, where=whole > 0)


@kernel
def _ratio_1d(part, whole):   # pragma: no cover (compiled)
    """:func:`ratio_of` of two vectors of one shape."""
    out = np.empty(part.shape)
    for i in range(part.shape[0]):
        w = whole[i]
        out[i] = part[i] / w if w > 0.0 else 1.0
    return out


@kernel
def _ratio_2d(part, whole):   # pragma: no cover (compiled)
    """:func:`ratio_of` of two matrices of one shape."""
    out = np.empty(part.shape)
    for i in range(part.shape[0]):
        for j in range(part.shape[1]):
            w = whole[i, j]
            out[i, j] = part[i, j] / w if w > 0.0 else 1.0
    return out


def fill_by_priority(kg: np.ndarray, budget: np.ndarray, priority: np.ndarray,
                     cost: np.ndarray | None = None) -> np.ndarray:
    """Fit each row of ``kg`` [R, C] into its ``budget`` [R], priority class by class (lower first).

    A class is served in full while the budget lasts; the class that exhausts it is scaled down
    uniformly; later classes get nothing. ``cost`` [R, C] (or [C]) prices a kg in budget units
    (default 1: the budget is in kg, e.g. a courier's capacity; CNY: a household's food budget).

    >>> fill_by_priority(np.array([[2.0, 2.0, 2.0]]), np.array([3.0]), np.array([1, 0, 1])).tolist()
    [[0.5, 2.0, 0.5]]
    """
    kg = np.asarray(kg, dtype=float)
    cls, n_levels = _classes(priority)
    if n_levels > 1 and kg.ndim == 2:   # one level: numpy's (a matrix-vector product sums otherwise)
        budget = _shaped(np.asarray(budget, dtype=float), kg.shape[:1])
        if cost is None:
            return _fill_by_priority_kernel(kg, budget, cls, n_levels, kg, False)
        return _fill_by_priority_kernel(kg, budget, cls, n_levels, _shaped(cost, kg.shape), True)
    return _fill_by_priority(kg, budget, priority, cost)


def _classes(priority: np.ndarray) -> tuple[np.ndarray, int]:
    """Each category's priority class (0: first) and the number of classes, kept per priority (a
    day's rationing asks again and again for the same few; the kernels reading it never write it)."""
    priority = np.asarray(priority)
    key = (priority.dtype.str, priority.shape, priority.tobytes())
    out = _CLASSES.get(key)
    if out is None:
        levels, cls = np.unique(priority, return_inverse=True)
        cls = cls.ravel().astype(np.int64)
        if len(_CLASSES) >= 64:
            _CLASSES.clear()
        out = _CLASSES[key] = (cls, len(levels))
    return out


_CLASSES: dict[tuple, tuple[np.ndarray, int]] = {}   # _classes' answers by priority (dtype, shape, values)


def _fill_by_priority(kg: np.ndarray, budget: np.ndarray, priority: np.ndarray,
                      cost: np.ndarray | None = None) -> np.ndarray:
    """:func:`fill_by_priority` in numpy (the reference of its kernel)."""
    kg = np.asarray(kg, dtype=float)
    levels, cls = np.unique(np.asarray(priority), return_inverse=True)
    cls = cls.ravel()
    onehot = np.eye(len(levels))[cls]                                   # [C, L]
    spend = (kg if cost is None else kg * cost) @ onehot                # [R, L] per class
    scale = _class_scales(spend, np.asarray(budget, dtype=float))       # [L, R]
    return kg * scale[cls].T


@kernel
def _fill_by_priority_kernel(kg, budget, cls, n_levels, cost, has_cost):   # pragma: no cover (compiled)
    """:func:`_fill_by_priority` row by row (``cost`` read where ``has_cost``): each class's spend
    summed straight from ``kg`` (x ``cost``), no row of products kept in between."""
    r_n, c_n = kg.shape
    out = np.empty((r_n, c_n))
    spend = np.empty(n_levels)
    scale = np.empty(n_levels)
    for r in range(r_n):
        b = budget[r]
        if b == np.inf:   # pays for every class whatever it costs (_scales_of gives 1: s > inf or NaN is False)
            for l in range(n_levels):
                scale[l] = 1.0
        else:
            for l in range(n_levels):
                spend[l] = 0.0
            if has_cost:
                for c in range(c_n):
                    spend[cls[c]] += kg[r, c] * cost[r, c]
            else:
                for c in range(c_n):
                    spend[cls[c]] += kg[r, c]
            _class_scale_row(b, spend, scale)
        for c in range(c_n):
            out[r, c] = kg[r, c] * scale[cls[c]]
    return out


def _class_scales(spend: np.ndarray, budget: np.ndarray) -> np.ndarray:
    """Share [L, R] of each class's ``spend`` [R, L] that ``budget`` [R] pays for, classes in order:
    what the earlier classes spent comes off first. One class (a row of the transposed spend) at a
    time: the running sum is ``np.cumsum(spend, axis=1)``'s, without its slow short-axis loop."""
    out = np.empty(spend.shape[::-1])
    running = None
    with np.errstate(invalid="ignore", divide="ignore"):
        for l, s in enumerate(np.ascontiguousarray(spend.T)):
            running = s if running is None else running + s
            left = budget - (running - s)
            out[l] = _cut_share(s > left, np.maximum(left, 0.0), s)
    return out


def _cut_share(cut: np.ndarray, part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """``np.where(cut, part / np.where(whole > 0, whole, 1.0), 1.0)`` (float64, ``part`` and
    ``whole`` shaped as ``cut``), without its temporaries nor its slow pick on a mixed mask: the
    quotient only where ``cut``; ``part`` itself where ``cut`` and ``whole`` is not above 0."""
    part = np.broadcast_to(part, cut.shape)
    out = np.ones(cut.shape)
    above = whole > 0
    np.divide(part, whole, out=out, where=cut & above)
    odd = cut & ~above
    if odd.any():
        out[odd] = part[odd]
    return out


def split_by_weight(owner: np.ndarray, weight: np.ndarray, n_owners: int) -> np.ndarray:
    """Normalise ``weight`` within each owner (edges of a community); owners with no weight get 0.

    >>> split_by_weight(np.array([0, 0, 1]), np.array([1.0, 3.0, 0.0]), 2).tolist()
    [0.25, 0.75, 0.0]
    """
    total = group_sum(owner, weight, n_owners)[owner]
    return np.where(total > 0, weight / np.where(total > 0, total, 1.0), 0.0)


def household_demand(need: np.ndarray, stock: np.ndarray, target_days: np.ndarray) -> np.ndarray:
    """What households try to buy today: today's need plus the gap to their stock target
    (``target_days`` per row [R], or per row and category like ``need``).

    >>> household_demand(np.array([[2.0]]), np.array([[1.0]]), np.array([3.0])).tolist()
    [[7.0]]
    """
    target = np.asarray(target_days)
    if target.ndim < np.ndim(need):
        target = target[..., None]
    return np.maximum(need * (1.0 + target) - stock, 0.0)


def online_share(offline_share: np.ndarray, front_warehouse: np.ndarray, habit: float) -> np.ndarray:
    """Share of a community's purchases ordered online: residents who can, times the habit.

    Compounds with no front warehouse (``-1``) order nothing online.

    >>> online_share(np.array([0.1, 0.1]), np.array([3, -1]), 0.5).tolist()
    [0.45, 0.0]
    """
    return np.where(front_warehouse >= 0, (1.0 - offline_share) * habit, 0.0)


def fit_rows(kg: np.ndarray, budget_kg: np.ndarray, priority: np.ndarray | None = None) -> np.ndarray:
    """Scale each row of ``kg`` [R, C] down, keeping its mix, so its total fits ``budget_kg`` [R]
    (with ``priority`` [C]: class by class, :func:`fill_by_priority`).

    >>> fit_rows(np.array([[6.0, 2.0], [1.0, 1.0]]), np.array([4.0, np.inf])).tolist()
    [[3.0, 1.0], [1.0, 1.0]]
    """
    if priority is not None:
        return fill_by_priority(kg, budget_kg, priority)
    total = kg.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(total > budget_kg, budget_kg / np.where(total > 0, total, 1.0), 1.0)
    return kg * scale[:, None]
