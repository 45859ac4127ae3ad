"""Prices: the city price index by category and its peak (from ``prices.parquet``).

``price_index = price_per_kg / baseline_price_per_kg`` per (day, category, district), as recorded.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from twin.metrics._common import delivered_kg

__all__ = ["city_price_index", "paid_price_shares", "price_index_by_category", "price_stats"]


def price_index_by_category(prices: pd.DataFrame) -> pd.DataFrame:
    """``I_k(t) = mean_d price_index_{k,d}(t)`` over districts (frame ``t_day x category``)."""
    out = prices.pivot_table(index="t_day", columns="category", values="price_index", aggfunc="mean",
                             observed=True)
    out.columns = out.columns.astype(str)
    return out


def city_price_index(prices: pd.DataFrame) -> pd.Series:
    """City price index ``I(t) = mean_{k,d} price_index_{k,d}(t)`` (categories and districts weigh alike).

    >>> p = pd.DataFrame({"t_day": [0, 0, 1, 1], "price_index": [1.0, 1.0, 1.5, 2.5]})
    >>> city_price_index(p).tolist()
    [1.0, 2.0]
    """
    return prices.groupby("t_day", observed=True)["price_index"].mean().rename("price_index")


def price_stats(prices: pd.DataFrame | None, communities: pd.DataFrame | None = None) -> dict[str, float]:
    """Peaks of the price index: ``peak_price_index = max_t I(t)`` and its day,
    ``max_category_price_index = max_{t,k,d} price_index``; with ``communities.price_paid_index``,
    ``peak_price_paid_index = max_t sum_c delivered_c price_paid_index_c / sum_c delivered_c``."""
    out: dict[str, float] = {}
    if prices is not None and not prices.empty and "price_index" in prices:
        city = city_price_index(prices)
        out.update(peak_price_index=float(city.max()), peak_price_day=int(city.idxmax()),
                   max_category_price_index=float(prices["price_index"].max()))
        for name, peak in price_index_by_category(prices).max().items():
            out[f"peak_price_index_{name}"] = float(peak)
    if communities is not None and "spent_cny" in communities and not communities.empty:
        out.update(paid_price_shares(communities))
    if communities is not None and "price_paid_index" in communities and not communities.empty:
        d = delivered_kg(communities).to_numpy()
        paid = (communities["price_paid_index"].to_numpy() * d)
        g = pd.DataFrame({"paid": np.nan_to_num(paid), "d": d}).groupby(communities["t_day"].to_numpy()).sum()
        daily = g["paid"][g["d"] > 0] / g["d"][g["d"] > 0]
        out["peak_price_paid_index"] = float(daily.max()) if len(daily) else 1.0
    return out


def paid_price_shares(communities: pd.DataFrame) -> dict[str, float]:
    """Who paid more: per compound, ``r = sum_t spent_cny / sum_t baseline_cost_cny`` over the run;
    then the population shares with ``r > 1.4`` (``share_paid_up_40pct``), ``r > 2``
    (``share_paid_up_100pct``) and ``|r - 1| <= 0.05`` (``share_paid_within_5pct``) -- the
    questions of city B's survey (41.7%, 16.7%, 12.5%); and ``low_stock_person_days`` =
    sum over compound-days of residents whose household stock ended below one day of need.

    >>> c = pd.DataFrame({"community_id": ["a", "a", "b"], "population": [10.0, 10.0, 30.0],
    ...                   "spent_cny": [10.0, 20.0, 3.0], "baseline_cost_cny": [10.0, 10.0, 3.0]})
    >>> paid_price_shares(c)["share_paid_up_40pct"]
    0.25
    """
    g = communities.groupby("community_id", observed=True).agg(
        spent=("spent_cny", "sum"), base=("baseline_cost_cny", "sum"), population=("population", "first"))
    g = g[g["base"] > 0]
    out: dict[str, float] = {}
    if len(g):
        r = g["spent"] / g["base"]
        w = g["population"] / g["population"].sum()
        out = {"share_paid_up_40pct": float(w[r > 1.4].sum()), "share_paid_up_100pct": float(w[r > 2.0].sum()),
               "share_paid_within_5pct": float(w[(r - 1.0).abs() <= 0.05].sum())}
    if "stock_below_one_day" in communities:
        low = communities["stock_below_one_day"].astype(bool)
        out["low_stock_person_days"] = float(communities.loc[low, "population"].sum())
    return out
