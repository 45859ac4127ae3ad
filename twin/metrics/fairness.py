"""Who went without: fulfilment per community, its Gini, food-insecure person-days.

Fulfilment of community ``c`` over the days ``T`` (from the shock on, or the whole run) is its fill
of need, what its residents ate against what they needed::

    f_c = sum_{t in T} consumed_c(t) / sum_{t in T} need_c(t)        (1 when need is 0)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from twin.metrics._common import ratio
from twin.metrics.curves import add_groups

__all__ = ["food_insecure_person_days", "fulfilment", "gini", "group_fulfilment", "lorenz"]


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
