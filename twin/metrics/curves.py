"""Performance curves of the city, of each district and of each group.

The primary curve is the **fill of need**, what people eat against what they need, on day ``t``
over a set ``C`` of communities::

    f_C(t) = sum_{c in C} consumed_c(t) / sum_{c in C} need_c(t)          (1 when need is 0)

The secondary **market service level** is what the shops and channels served against what
households asked for (demand shrinks as prices rise, so it is not a measure of who ate)::

    s_C(t) = sum_{c in C} delivered_c(t) / sum_{c in C} demand_c(t)      (1 when demand is 0)

with ``delivered`` summed over every ``delivered_<channel>_kg`` column.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from twin.metrics._common import channel_columns, channel_name, delivered_kg, ratio

__all__ = ["GROUPINGS", "add_groups", "channel_curve", "daily_service", "fill_curve", "need_persons_curve",
           "population_curve", "service_curve"]

#: derived community groups :func:`add_groups` can add (the source column each needs)
GROUPINGS = {"size_class": "population", "elderly_class": "elderly_share", "offline_class": "offline_share"}


def daily_service(communities: pd.DataFrame) -> pd.DataFrame:
    """City-wide curves per day: ``fill_of_need = consumed / need`` (primary) and
    ``market_service_level = delivered / demand`` (secondary).

    >>> c = pd.DataFrame({"t_day": [0, 0, 1], "need_kg": [2.0, 2.0, 2.0], "demand_kg": [2.0, 2.0, 4.0],
    ...                   "delivered_offline_kg": [1.0, 2.0, 1.0], "delivered_online_kg": [0.0, 0.0, 1.0],
    ...                   "consumed_kg": [2.0, 2.0, 1.0]})
    >>> daily_service(c)  # doctest: +NORMALIZE_WHITESPACE
           fill_of_need  market_service_level
    t_day
    0               1.0                  0.75
    1               0.5                  0.50
    """
    g = communities.assign(_delivered=delivered_kg(communities)).groupby("t_day", observed=True)[
        ["need_kg", "demand_kg", "_delivered", "consumed_kg"]].sum()
    return pd.DataFrame({
        "fill_of_need": ratio(g["consumed_kg"], g["need_kg"]),
        "market_service_level": ratio(g["_delivered"], g["demand_kg"]),
    }, index=g.index)


def fill_curve(communities: pd.DataFrame, by: str | None = None) -> pd.Series | pd.DataFrame:
    """Daily fill of need ``f_C(t)`` of the city (``by=None``: a Series by ``t_day``) or of every
    value of the column ``by`` (a frame ``t_day x group``): the primary performance curve.

    >>> c = pd.DataFrame({"t_day": [0, 0, 1, 1], "district": ["a", "b", "a", "b"], "need_kg": [2.0, 2.0, 2.0, 2.0],
    ...                   "consumed_kg": [2.0, 1.0, 2.0, 2.0]})
    >>> fill_curve(c).tolist(), fill_curve(c, "district").to_dict("list")
    ([0.75, 1.0], {'a': [1.0, 1.0], 'b': [0.5, 1.0]})
    """
    if by is not None and by not in communities.columns and by in GROUPINGS:
        communities = add_groups(communities)
    keys = ["t_day"] if by is None else ["t_day", by]
    g = communities.groupby(keys, observed=True)[["consumed_kg", "need_kg"]].sum()
    s = pd.Series(ratio(g["consumed_kg"], g["need_kg"]), index=g.index, name="fill_of_need")
    return s if by is None else s.unstack(by)


def need_persons_curve(communities: pd.DataFrame, need_kg_per_person_day: float | None = None) -> pd.Series:
    """Persons' worth of need per day, ``need(t) / n`` (``n`` kg a person needs a day): the weight that
    turns a shortfall of the fill-of-need curve into person-days. Residents ``P(t)`` when ``n`` is unknown.

    >>> c = pd.DataFrame({"t_day": [0, 1], "need_kg": [20.0, 40.0], "population": [10, 10]})
    >>> need_persons_curve(c, 2.0).tolist(), need_persons_curve(c).tolist()
    ([10.0, 20.0], [10.0, 10.0])
    """
    if not need_kg_per_person_day:
        return population_curve(communities)
    return (communities.groupby("t_day", observed=True)["need_kg"].sum() / float(need_kg_per_person_day)).astype(float)


def service_curve(communities: pd.DataFrame, by: str | None = None) -> pd.Series | pd.DataFrame:
    """Daily market service level ``s_C(t)`` (delivered / demand, secondary) of the city (``by=None``: a Series by ``t_day``) or of every
    value of the column ``by`` (a frame ``t_day x group``), e.g. ``"district"`` or a group of
    :func:`add_groups` (added on the fly when missing).

    >>> c = pd.DataFrame({"t_day": [0, 0], "district": ["a", "b"], "demand_kg": [2.0, 4.0],
    ...                   "delivered_offline_kg": [1.0, 4.0]})
    >>> service_curve(c, "district").round(2).to_dict("records")
    [{'a': 0.5, 'b': 1.0}]
    """
    if by is not None and by not in communities.columns and by in GROUPINGS:
        communities = add_groups(communities)
    keys = ["t_day"] if by is None else ["t_day", by]
    g = communities.assign(_delivered=delivered_kg(communities)).groupby(keys, observed=True)[
        ["_delivered", "demand_kg"]].sum()
    s = pd.Series(ratio(g["_delivered"], g["demand_kg"]), index=g.index, name="market_service_level")
    return s if by is None else s.unstack(by)


def population_curve(communities: pd.DataFrame) -> pd.Series:
    """Residents per day, ``P(t) = sum_c population_c(t)``."""
    return communities.groupby("t_day", observed=True)["population"].sum().astype(float)


def channel_curve(communities: pd.DataFrame) -> pd.DataFrame:
    """Kg delivered per day by channel (``t_day x channel``), one column per ``delivered_*_kg``."""
    cols = channel_columns(communities)
    g = communities.groupby("t_day", observed=True)[cols].sum()
    return g.rename(columns=channel_name)


def add_groups(communities: pd.DataFrame) -> pd.DataFrame:
    """A copy with group columns for the fairness and group curves (those whose source exists):

    - ``size_class``: small, medium, large = population percentile rank in (0, 1/3], (1/3, 2/3], (2/3, 1]
      among the city's compounds (who goes without: small compounds cannot reach group-buy minimums);
    - ``elderly_class`` and ``offline_class``: ``high`` when the share is above the city's
      population-weighted mean, else ``low``.
    """
    out = communities.copy()
    first = communities.drop_duplicates("community_id").set_index("community_id")
    if "population" in first:
        rank = first["population"].rank(pct=True, method="average")
        size = pd.cut(rank, [0.0, 1 / 3, 2 / 3, 1.0], labels=["small", "medium", "large"], include_lowest=True)
        out["size_class"] = out["community_id"].map(size).astype(size.dtype)
    for col, source in (("elderly_class", "elderly_share"), ("offline_class", "offline_share")):
        if source in first and "population" in first:
            mean = np.average(first[source], weights=np.maximum(first["population"], 1e-12))
            cls = pd.Categorical(np.where(first[source] > mean, "high", "low"), categories=["low", "high"])
            out[col] = out["community_id"].map(pd.Series(cls, index=first.index)).astype(cls.dtype)
    return out
