"""Who went without: fulfilment per community, its Gini, food-insecure person-days, and the
figures by resident group inside compounds (``residents.parquet``: :func:`group_figures`).

Fulfilment of community ``c`` over the days ``T`` (from the shock on, or the whole run) is its fill
of need, what its residents ate against what they needed::

    f_c = sum_{t in T} consumed_c(t) / sum_{t in T} need_c(t)        (1 when need is 0)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from twin.jit import kernel
from twin.metrics._common import ratio
from twin.metrics.curves import add_groups

__all__ = ["VULNERABLE", "food_insecure_person_days", "fulfilment", "gini", "group_figures", "group_fulfilment",
           "lorenz", "odds_ratio", "weighted_quantile"]


def fulfilment(communities: pd.DataFrame, from_day: float | None = None) -> pd.DataFrame:
    """``f_c`` and the population of every community (``community_id`` index) over days ``>= from_day``."""
    keep = np.ones(len(communities), bool) if from_day is None else (communities["t_day"] >= from_day).to_numpy()
    c = pd.DataFrame({"community_id": communities["community_id"].array[keep],
                      "consumed_kg": communities["consumed_kg"].to_numpy()[keep],
                      "need_kg": communities["need_kg"].to_numpy()[keep],
                      "population": communities["population"].to_numpy()[keep]})
    g = c.groupby("community_id", observed=True).agg(
        consumed_kg=("consumed_kg", "sum"), need_kg=("need_kg", "sum"), population=("population", "mean"))
    return pd.DataFrame({"fulfilment": ratio(g["consumed_kg"], g["need_kg"]), "population": g["population"]},
                        index=g.index)


def group_fulfilment(communities: pd.DataFrame, by: str, from_day: float | None = None) -> pd.Series:
    """Fulfilment of each group ``G`` (e.g. ``size_class``, ``district``): ``sum_{c in G} consumed / sum need``."""
    c = communities if from_day is None else communities[communities["t_day"] >= from_day]
    if by not in c:
        c = add_groups(c)
    g = c.groupby(by, observed=True)[["consumed_kg", "need_kg"]].sum()
    return pd.Series(ratio(g["consumed_kg"], g["need_kg"]), index=g.index, name="fulfilment")


def lorenz(values, weights=None) -> tuple[np.ndarray, np.ndarray]:
    """Lorenz curve: cumulative population share ``X_i`` against cumulative share ``Y_i`` of the
    total (values sorted ascending), both starting at 0.

    >>> [a.tolist() for a in lorenz([1.0, 0.0])]
    [[0.0, 0.5, 1.0], [0.0, 0.0, 1.0]]
    """
    x = np.asarray(values, dtype=float)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    cum_w, cum_xw = np.cumsum(w), np.cumsum(x * w)
    X = np.concatenate([[0.0], cum_w / cum_w[-1]]) if len(x) else np.array([0.0, 1.0])
    Y = (np.concatenate([[0.0], cum_xw / cum_xw[-1]]) if len(x) and cum_xw[-1] > 0
         else np.linspace(0.0, 1.0, len(X)))
    return X, Y


def gini(values, weights=None) -> float:
    """Population-weighted Gini coefficient, one minus twice the area under the Lorenz curve::

        G = 1 - sum_i (X_i - X_{i-1}) (Y_i + Y_{i-1})  =  sum_ij p_i p_j |x_i - x_j| / (2 P^2 mean)

    0: everyone equally served; towards 1: a few got everything. 0 when nobody got anything.

    >>> gini([1.0, 1.0, 1.0]), gini([0.0, 1.0]), round(gini([0.0, 1.0], [3, 1]), 4)
    (0.0, 0.5, 0.75)
    """
    X, Y = lorenz(values, weights)
    return float(max(0.0, 1.0 - np.sum(np.diff(X) * (Y[1:] + Y[:-1]))))


def food_insecure_person_days(communities: pd.DataFrame, below: float = 0.9) -> float:
    """Person-days spent eating less than ``below`` of need::

        sum_{c,t} P_c(t) * 1[ consumed_c(t) < below * need_c(t) ]

    >>> c = pd.DataFrame({"population": [100, 50], "need_kg": [200.0, 100.0], "consumed_kg": [150.0, 100.0]})
    >>> food_insecure_person_days(c)
    100.0
    """
    hit = communities["consumed_kg"].to_numpy() < below * communities["need_kg"].to_numpy()
    return float(communities["population"].to_numpy(dtype=float)[hit].sum())


#: resident groups compared with everyone else (``others``) in the odds ratio of food insecurity
VULNERABLE = ("elderly_alone", "offline", "low_income", "lost_income")
_RES_COLUMNS = ("t_day", "group", "population", "need_kg", "consumed_kg", "spent_cny", "baseline_cost_cny",
                "stock_below_one_day", "community_id")
_CHUNK_ROWS = 250_000   # rows read at a time: a 60-day run of a 25-million city has 3 million


#: what :func:`_chunk_sums` returns: by group, then by cell (compound x group)
_SUM_KEYS = ("person_days", "hit", "need", "eaten", "cell_spent", "cell_base", "cell_below", "cell_pop", "cell_days")


@kernel
def _chunk_sums(g, cell, ng, n_cells, pop, hit, need, eaten, spent, base, below):   # pragma: no cover (compiled)
    """``np.bincount(g, w.astype(float), minlength=ng)`` of ``pop``, ``hit``, ``need``, ``eaten``, then
    ``np.bincount(cell, w.astype(float), minlength=n_cells)`` of ``spent``, ``base``, ``below`` and
    ``pop``, and the rows per cell (int64): each bin adds its rows in order from 0.0, as a bincount."""
    by_g = np.zeros((4, ng))
    by_cell = np.zeros((4, n_cells))
    days = np.zeros(n_cells, dtype=np.int64)
    for i in range(len(g)):
        a, b = g[i], cell[i]
        if a < 0 or a >= ng or b < 0 or b >= n_cells:
            raise ValueError("group_figures: a group or compound code outside the labels")
        by_g[0, a] += np.float64(pop[i])
        by_g[1, a] += np.float64(hit[i])
        by_g[2, a] += np.float64(need[i])
        by_g[3, a] += np.float64(eaten[i])
        by_cell[0, b] += np.float64(spent[i])
        by_cell[1, b] += np.float64(base[i])
        by_cell[2, b] += np.float64(below[i])
        by_cell[3, b] += np.float64(pop[i])
        days[b] += 1
    return by_g[0], by_g[1], by_g[2], by_g[3], by_cell[0], by_cell[1], by_cell[2], by_cell[3], days


def _chunks(residents, names):
    """Slices of a residents table (Arrow table or DataFrame): numpy columns (ids as codes) and the
    id labels, ``_CHUNK_ROWS`` rows at a time (bounded memory)."""
    for lo in range(0, len(residents), _CHUNK_ROWS):
        frame = isinstance(residents, pd.DataFrame)
        part = residents.iloc[lo:lo + _CHUNK_ROWS] if frame else residents.slice(lo, _CHUNK_ROWS)
        out, labels = {}, {}
        for name in names:
            if frame:
                col = part[name]
                if isinstance(col.dtype, pd.CategoricalDtype):
                    out[name], labels[name] = np.asarray(col.cat.codes), [str(c) for c in col.cat.categories]
                else:
                    out[name] = col.to_numpy()
            else:
                col = part.column(name)
                col = col.chunk(0) if col.num_chunks == 1 else col.combine_chunks()   # one chunk: no copy
                if hasattr(col, "dictionary"):
                    out[name] = col.indices.to_numpy(zero_copy_only=False)
                    labels[name] = col.dictionary.to_pylist()
                else:
                    out[name] = col.to_numpy(zero_copy_only=False)
        yield out, labels


def odds_ratio(hit_a: float, total_a: float, hit_b: float, total_b: float) -> float:
    """Odds ratio of an outcome in group a against group b from weighted counts, with Haldane's
    correction (0.5 added to every cell) so that a group never hit still gives a finite ratio::

        OR = ((h_a + 0.5) / (n_a - h_a + 0.5)) / ((h_b + 0.5) / (n_b - h_b + 0.5))

    >>> round(odds_ratio(50.0, 100.0, 10.0, 100.0), 2)
    8.62
    """
    return float(((hit_a + 0.5) / (total_a - hit_a + 0.5)) / ((hit_b + 0.5) / (total_b - hit_b + 0.5)))


def group_figures(residents, window: tuple[float, float] | None = None, insecure_below: float = 0.9) -> dict[str, float]:
    """Who went without, by resident group, over the days ``window = (first, end)`` (end excluded;
    default: the whole run), from ``residents.parquet`` (an Arrow table or a DataFrame), read in
    slices of a quarter of a million rows.

    Per group ``g`` (members ``P_kg`` of compound ``k``, days ``t`` in the window):

    - ``fill_of_need_<g> = sum consumed / sum need``;
    - ``food_insecure_person_days_<g> = sum P_kg(t) 1[consumed_kg(t) < 0.9 need_kg(t)]``;
    - ``ever_below_one_day_share_<g>``: share of the group's members whose household stock ended
      at least one day of the window below one day of need;
    - ``insecurity_odds_ratio_<g>``: odds of a food-insecure person-day of the group against
      ``others`` (:func:`odds_ratio`), for the vulnerable groups;
    - ``price_paid_index_<g> = sum spent / sum baseline cost``.

    Then the city B survey's questions asked of every resident over the window: per compound and
    group ``r = sum spent / sum baseline cost``; the shares of residents with ``r > 1.4``
    (``share_paid_up_40pct``), ``r > 2`` (``share_paid_up_100pct``), ``|r - 1| <= 0.05``
    (``share_paid_within_5pct``), and the spread of prices residents faced:
    ``paid_index_p10``, ``paid_index_p50``, ``paid_index_p90`` (weighted by residents).

    >>> r = pd.DataFrame({"t_day": [0, 0], "group": pd.Categorical(["offline", "others"]),
    ...                   "community_id": pd.Categorical(["c", "c"]), "population": [10.0, 30.0],
    ...                   "need_kg": [20.0, 60.0], "consumed_kg": [10.0, 60.0], "spent_cny": [30.0, 60.0],
    ...                   "baseline_cost_cny": [10.0, 60.0], "stock_below_one_day": [True, False]})
    >>> f = group_figures(r)
    >>> f["fill_of_need_offline"], f["ever_below_one_day_share_offline"], f["share_paid_up_100pct"]
    (0.5, 1.0, 0.25)
    """
    if residents is None or len(residents) == 0:
        return {}
    acc: dict[str, np.ndarray] = {}
    labels: list[str] = []
    n_cells = ng = 0
    for c, names in _chunks(residents, _RES_COLUMNS):
        if not labels:
            labels = names["group"]
            ng, n_cells = len(labels), len(names["community_id"]) * len(names["group"])
        keep = np.ones(len(c["t_day"]), bool)
        if window is not None:
            keep = (c["t_day"] >= window[0]) & (c["t_day"] < window[1])
        if not keep.any():
            continue
        if not keep.all():   # a slice within the window is read as it is
            c = {name: col[keep] for name, col in c.items()}
        g = c["group"].astype(np.int64)
        cell = c["community_id"].astype(np.int64) * ng + g
        pop = c["population"]
        need, eaten = c["need_kg"], c["consumed_kg"]
        hit = pop * (eaten < insecure_below * need)
        # the bincounts of each key's weights (as float64) by group or by cell, in one compiled pass
        parts = _chunk_sums(g, cell, ng, n_cells, pop, hit, need, eaten, c["spent_cny"], c["baseline_cost_cny"],
                            c["stock_below_one_day"])
        for key, part in zip(_SUM_KEYS, parts):
            acc[key] = acc[key] + part if key in acc else part
    if not acc:
        return {}
    out: dict[str, float] = {}
    cell_pop = acc["cell_pop"] / np.maximum(acc["cell_days"], 1)       # members of each compound's group
    ever = acc["cell_below"] > 0
    cell_g = np.arange(n_cells) % ng
    spent_g = np.bincount(cell_g, weights=acc["cell_spent"], minlength=ng)
    base_g = np.bincount(cell_g, weights=acc["cell_base"], minlength=ng)
    other = labels.index("others") if "others" in labels else None
    for i, name in enumerate(labels):
        mine = cell_g == i
        members = cell_pop[mine].sum()
        out[f"fill_of_need_{name}"] = float(ratio(acc["eaten"][i], acc["need"][i]))
        out[f"food_insecure_person_days_{name}"] = float(acc["hit"][i])
        out[f"ever_below_one_day_share_{name}"] = float(cell_pop[mine & ever].sum() / members) if members > 0 else 0.0
        out[f"price_paid_index_{name}"] = float(ratio(spent_g[i], base_g[i]))
        if name in VULNERABLE and other is not None:
            out[f"insecurity_odds_ratio_{name}"] = odds_ratio(acc["hit"][i], acc["person_days"][i],
                                                              acc["hit"][other], acc["person_days"][other])
    bought = acc["cell_base"] > 0
    w = cell_pop * bought
    if w.sum() > 0:
        r = ratio(acc["cell_spent"], acc["cell_base"])
        share = lambda sel: float(w[sel].sum() / w.sum())   # noqa: E731
        out.update(share_paid_up_40pct=share(r > 1.4), share_paid_up_100pct=share(r > 2.0),
                   share_paid_within_5pct=share(np.abs(r - 1.0) <= 0.05))
        for q in (10, 50, 90):
            out[f"paid_index_p{q}"] = weighted_quantile(r[bought], w[bought], q / 100.0)
    return out


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The smallest value at or above which a share ``q`` of the weight lies below or at it.

    >>> weighted_quantile(np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 2.0]), 0.5)
    2.0
    """
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order])
    return float(values[order][min(int(np.searchsorted(cum, q * cum[-1], side="left")), len(values) - 1)])
