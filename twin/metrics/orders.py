"""Online orders at front warehouses (the city's daily order figures in ``city.parquet``): lead times,
cancellations and backlogs over a run."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["ORDER_KEYS", "order_stats"]

ORDER_KEYS = ("orders_placed", "orders_delivered", "orders_cancelled", "orders_cancelled_share",
              "orders_lead_time_p50_h", "orders_lead_time_p95_h_worst_day", "backlog_orders_max", "backlog_days_max")


def order_stats(city: pd.DataFrame | None) -> dict[str, float]:
    """Run figures of online orders from the city's daily columns (NaN where a run has none).

    >>> city = pd.DataFrame({"orders_placed": [10.0, 10.0], "orders_delivered": [8.0, 9.0],
    ...                      "orders_cancelled": [0.0, 1.0], "backlog_orders": [2.0, 2.0],
    ...                      "orders_lead_time_p50_h": [2.0, 4.0], "orders_lead_time_p95_h": [5.0, 9.0]})
    >>> s = order_stats(city)
    >>> s["orders_cancelled_share"], s["orders_lead_time_p50_h"], s["backlog_days_max"]
    (0.05555555555555555, 4.0, 0.2)
    """
    out = dict.fromkeys(ORDER_KEYS, float("nan"))
    if city is None or "orders_placed" not in city or city.empty:
        return out
    placed, delivered = city["orders_placed"].to_numpy(float), city["orders_delivered"].to_numpy(float)
    cancelled = city["orders_cancelled"].to_numpy(float)
    out["orders_placed"], out["orders_delivered"] = float(placed.sum()), float(delivered.sum())
    out["orders_cancelled"] = float(cancelled.sum())
    settled = delivered.sum() + cancelled.sum()
    out["orders_cancelled_share"] = float(cancelled.sum() / settled) if settled > 0 else float("nan")
    p50 = city["orders_lead_time_p50_h"].to_numpy(float)
    ok = np.isfinite(p50) & (delivered > 0)
    if ok.any():
        order = np.argsort(p50[ok], kind="stable")
        cum = np.cumsum(delivered[ok][order])
        out["orders_lead_time_p50_h"] = float(p50[ok][order][np.searchsorted(cum, 0.5 * cum[-1])])
    p95 = city["orders_lead_time_p95_h"].to_numpy(float)
    if np.isfinite(p95).any():
        out["orders_lead_time_p95_h_worst_day"] = float(np.nanmax(p95))
    backlog = city["backlog_orders"].to_numpy(float)
    out["backlog_orders_max"] = float(backlog.max())
    out["backlog_days_max"] = float(backlog.max() / placed[0]) if placed[0] > 0 else float("nan")
    return out
