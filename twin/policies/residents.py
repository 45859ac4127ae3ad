"""Pure rules of the resident groups inside compounds: who they are, how purchases are shared
among them, what they can afford, what they eat instead, and the crises that make them call.

Arrays carry a group axis: [K compounds, G groups] or [K, G, C categories]. No simulation here.
"""

from __future__ import annotations

import numpy as np

from twin.policies.flows import fill_by_priority, ratio_of
from twin.scenario.residents import CRISES

__all__ = ["CRISES", "by_compound", "by_group", "crisis_flags", "eat_with_substitutes", "group_members", "share_out",
           "shift_by", "shift_to_substitutes", "substitution_shares", "stock_weights", "within_budget"]



def group_members(elderly: np.ndarray, offline: np.ndarray, low_income: np.ndarray, elderly_alone_share: float,
                  lost_income_share: float) -> np.ndarray:
    """Shares [K, G] of a compound's residents in the groups elderly alone, offline, low-income,
    lost income, others (rows sum to 1), assigned in that order.

    >>> group_members(np.array([0.5]), np.array([0.2]), np.array([0.25]), 0.2, 0.5).round(4).tolist()
    [[0.1, 0.1, 0.2, 0.3, 0.3]]
    """
    alone = np.clip(elderly * elderly_alone_share, 0.0, 1.0)
    off = np.clip(offline - alone, 0.0, 1.0 - alone)
    rest = 1.0 - alone - off
    poor = np.clip(low_income, 0.0, 1.0) * rest
    lost = lost_income_share * (rest - poor)
    return np.stack([alone, off, poor, lost, rest - poor - lost], axis=1)


def stock_weights(members: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """Per-group multipliers [K, G] of the compound's stock days, normalised so the members'
    average is 1 (a compound keeps its household stock days).

    >>> stock_weights(np.array([[0.5, 0.5]]), np.array([1.0, 0.5])).round(4).tolist()
    [[1.3333, 0.6667]]
    """
    mean = (members * factor[None, :]).sum(axis=1, keepdims=True)
    return np.where(mean > 0, factor[None, :] / np.where(mean > 0, mean, 1.0), 1.0)


def by_compound(a: np.ndarray) -> np.ndarray:
    """[K, G, C] summed over groups: [K, C] (einsum: numpy's reduction over a short middle axis is slow)."""
    return np.einsum("kgc->kc", a)


def by_group(a: np.ndarray) -> np.ndarray:
    """[K, G, C] summed over categories: [K, G]."""
    return np.einsum("kgc->kg", a)


def share_out(served: np.ndarray, asked: np.ndarray, asked_total: np.ndarray | None = None) -> np.ndarray:
    """Split what a compound got [K, C] over its groups in proportion to what each asked [K, G, C]
    (``asked_total``: ``asked`` summed over groups, if known).

    >>> share_out(np.array([[3.0]]), np.array([[[4.0], [2.0]]])).tolist()
    [[[2.0], [1.0]]]
    """
    total = by_compound(asked) if asked_total is None else asked_total
    return asked * ratio_of(served, total)[:, None, :]


def within_budget(demand: np.ndarray, unit_cny: np.ndarray, budget_cny: np.ndarray, priority: np.ndarray) -> np.ndarray:
    """Cut demand [R, C] to what a budget [R] in CNY pays for at ``unit_cny`` [R, C] per kg, priority
    class by class (medicine first, then staples ...); an infinite budget cuts nothing.

    >>> within_budget(np.array([[1.0, 1.0]]), np.array([[10.0, 5.0]]), np.array([7.5]), np.array([1, 0])).tolist()
    [[0.25, 1.0]]
    """
    return fill_by_priority(demand, budget_cny, priority, cost=unit_cny)


def shift_to_substitutes(demand: np.ndarray, price: np.ndarray, substitute: np.ndarray, share: np.ndarray,
                         inplace: bool = False) -> np.ndarray:
    """Move demand [..., C] from a category to its substitute as its price [..., C] runs above the
    substitute's: ``moved = share x demand x (1 - p_sub / p)`` when ``p > p_sub`` (kg for kg).
    ``substitute`` [C] is the index of each category's substitute, -1 for none; ``inplace``
    overwrites ``demand``.

    >>> shift_to_substitutes(np.array([[10.0, 10.0]]), np.array([[2.0, 1.0]]), np.array([1, -1]),
    ...                      np.array([0.8, 0.0])).tolist()
    [[6.0, 14.0]]
    """
    dear = substitution_shares(price, substitute, share)
    return demand if dear is None else shift_by(demand, dear, substitute, inplace)


def substitution_shares(price: np.ndarray, substitute: np.ndarray, share: np.ndarray) -> np.ndarray | None:
    """Share [..., C] of each category's demand that moves to its substitute at ``price`` [..., C]
    (:func:`shift_to_substitutes`); None where no category has a substitute."""
    has = (substitute >= 0) & (share > 0)
    if not has.any():
        return None
    p_sub = np.take(price, np.where(has, substitute, 0), axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.clip(1.0 - p_sub / np.where(price > 0, price, 1.0), 0.0, 1.0) * np.where(has, share, 0.0)


def shift_by(demand: np.ndarray, dear: np.ndarray, substitute: np.ndarray, inplace: bool = False,
             work: np.ndarray | None = None) -> np.ndarray:
    """Move the share ``dear`` (:func:`substitution_shares`, broadcast to ``demand``) of each
    category's demand [..., C] to its substitute (kg for kg); ``inplace`` overwrites ``demand``;
    ``work``: an array like ``demand`` to use (overwritten)."""
    cats = np.flatnonzero(dear.reshape(-1, dear.shape[-1]).max(axis=0) > 0)
    if not len(cats):
        return demand
    moved = np.multiply(demand, dear, out=work)
    out = demand - moved if not inplace else np.subtract(demand, moved, out=demand)
    for c in cats:   # one strided add per category beats a fancy-indexed add over all of them
        out[..., substitute[c]] += moved[..., c]
    return out


def eat_with_substitutes(stock: np.ndarray, need: np.ndarray, substitute: np.ndarray, share: np.ndarray,
                         out: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """What households eat [..., C] from ``stock`` against ``need``: each category's own stock
    first; then up to ``share`` of a category's missing need from what its substitute holds beyond
    its own need (claims on one substitute shared pro rata). Returns (eaten per category of stock,
    need covered per category of need); both sum to the same kg. ``out``: three arrays like
    ``stock``, to write covered and eaten to and to work in (then eaten, covered come back in them;
    without ``out`` one array may come back as both).

    >>> eaten, covered = eat_with_substitutes(np.array([1.0, 5.0]), np.array([3.0, 2.0]), np.array([1, -1]),
    ...                                       np.array([0.5, 0.0]))
    >>> eaten.tolist(), covered.tolist()
    ([1.0, 3.0], [2.0, 2.0])
    """
    own = np.minimum(stock, need, out=None if out is None else out[0])
    has = np.flatnonzero((substitute >= 0) & (share > 0))
    short = {}
    if len(has):
        gap = np.subtract(need, own, out=None if out is None else out[2])   # need own stock leaves missing
        short = {c: share[c] * gap[..., c] for c in has}
        short = {c: v for c, v in short.items() if v.max(initial=0.0) > 0}
    if not short:
        if out is None:
            return own, own
        np.copyto(out[1], own)
        return out[1], own
    spare = np.subtract(stock, own, out=gap)   # stock beyond its own need (gap is read no more)
    claims: dict[int, np.ndarray] = {}
    for c, v in short.items():
        s = int(substitute[c])
        claims[s] = claims[s] + v if s in claims else v
    scale = {s: np.minimum(ratio_of(spare[..., s], v), 1.0) for s, v in claims.items()}
    if out is None:
        covered, eaten = own.copy(), own.copy()
    else:   # own is not read once covered changes
        covered, eaten = own, out[1]
        np.copyto(eaten, own)
    for c, v in short.items():
        s = int(substitute[c])
        extra = v * scale[s]
        covered[..., c] += extra
        eaten[..., s] += extra
    return eaten, covered


def crisis_flags(shops_closed: np.ndarray, stock_days: np.ndarray, income_lost: np.ndarray,
                 medicine_days: np.ndarray) -> np.ndarray:
    """The crises [K, G, len(CRISES)] (0 or 1) a group is in at the end of its day: its compound's
    shops are closed to it, its stock is below a day of need, it has lost its income, its
    medicine covers less than a day.

    >>> crisis_flags(np.array([True]), np.array([[0.5, 2.0]]), np.array([[False, True]]),
    ...              np.array([[3.0, 0.5]])).tolist()
    [[[1.0, 1.0, 0.0, 0.0], [1.0, 0.0, 1.0, 1.0]]]
    """
    closed = np.broadcast_to(shops_closed[:, None], stock_days.shape)
    return np.stack([closed, stock_days < 1.0, income_lost, medicine_days < 1.0], axis=-1).astype(float)
