"""Prices: the city price index by category and its peak (from ``prices.parquet``).

``price_index = price_per_kg / baseline_price_per_kg`` per (day, category, district), as recorded.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from twin.metrics._common import delivered_kg

__all__ = ["city_price_index", "price_index_by_category", "price_stats"]


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
    if communities is not None and "price_paid_index" in communities and not communities.empty:
        d = delivered_kg(communities).to_numpy()
        paid = (communities["price_paid_index"].to_numpy() * d)
        g = pd.DataFrame({"paid": np.nan_to_num(paid), "d": d}).groupby(communities["t_day"].to_numpy()).sum()
        daily = g["paid"][g["d"] > 0] / g["d"][g["d"] > 0]
        out["peak_price_paid_index"] = float(daily.max()) if len(daily) else 1.0
    return out
