"""Safety-net requests (``requests.parquet``): response time and what was never served.

Response time of a served request: ``served_h - created_h`` (hours from the call to the door).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = ["OUTCOMES", "request_stats", "requests_by_group", "response_times_h"]

OUTCOMES = ("served", "pending", "abandoned", "dropped")


def response_times_h(requests: pd.DataFrame) -> np.ndarray:
    """Hours from request to service, for the served requests only."""
    served = requests["outcome"].astype(str).eq("served").to_numpy()
    if "served_h" in requests and "created_h" in requests:
        t = (requests["served_h"] - requests["created_h"]).to_numpy(dtype=float)
    else:
        t = requests["wait_h"].to_numpy(dtype=float)
    t = t[served]
    return t[~np.isnan(t)]


def request_stats(requests: pd.DataFrame | None) -> dict[str, float]:
    """Counts by outcome and the response time quantiles::

        response_time_p50_h, response_time_p95_h = quantiles 0.5, 0.95 of served_h - created_h
        served_request_share = served / all requests

    Quantiles are NaN when nothing was served; empty dict without a requests table.

    >>> r = pd.DataFrame({"outcome": ["served", "served", "abandoned", "dropped"],
    ...                   "created_h": [0.0, 0.0, 0.0, 0.0], "served_h": [2.0, 4.0, float("nan"), float("nan")]})
    >>> s = request_stats(r); s["response_time_p50_h"], s["abandoned_requests"], s["served_request_share"]
    (3.0, 1, 0.5)
    """
    if requests is None or "outcome" not in requests:
        return {}
    counts = requests["outcome"].astype(str).value_counts()
    t = response_times_h(requests)
    out: dict[str, float] = {"n_requests": int(len(requests))}
    out.update({f"{o}_requests": int(counts.get(o, 0)) for o in OUTCOMES})
    out["served_request_share"] = float(counts.get("served", 0) / len(requests)) if len(requests) else math.nan
    out["response_time_p50_h"] = float(np.quantile(t, 0.5)) if len(t) else math.nan
    out["response_time_p95_h"] = float(np.quantile(t, 0.95)) if len(t) else math.nan
    return out


def requests_by_group(requests: pd.DataFrame) -> pd.DataFrame:
    """Per request group: count, served share, abandoned, P50 and P95 response time (hours)."""
    rows = []
    for group, r in requests.groupby("group", observed=True):
        s = request_stats(r)
        rows.append({"group": str(group), "requests": s["n_requests"], "served_share": s["served_request_share"],
                     "abandoned": s["abandoned_requests"], "dropped": s["dropped_requests"],
                     "p50_h": s["response_time_p50_h"], "p95_h": s["response_time_p95_h"]})
    return pd.DataFrame(rows)
