"""Safety-net requests (``requests.parquet``): response time and what was never served.

Response time of a served request: ``served_h - created_h`` (hours from the call to the door).
A row may stand for several identical requests (``n_requests``, 1 when the column is absent):
counts and quantiles are over requests, not rows.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa

__all__ = ["OUTCOMES", "request_stats", "requests_by_group", "response_times_h"]

OUTCOMES = ("served", "pending", "abandoned", "dropped")


def _weights(requests: pd.DataFrame) -> np.ndarray:
    if "n_requests" in requests:
        return requests["n_requests"].to_numpy(dtype=np.int64)
    return np.ones(len(requests), dtype=np.int64)


def _is(requests: pd.DataFrame, outcome: str) -> np.ndarray:
    col = requests["outcome"]
    if isinstance(col.dtype, pd.CategoricalDtype):   # compare codes: no string conversion of a long column
        cats = list(col.cat.categories.astype(str))
        return col.cat.codes.to_numpy() == cats.index(outcome) if outcome in cats else np.zeros(len(col), bool)
    return col.astype(str).eq(outcome).to_numpy()


def response_times_h(requests: pd.DataFrame) -> np.ndarray:
    """Hours from request to service, one value per served request (a row of ``n`` identical
    requests counts ``n`` times)."""
    served = _is(requests, "served")
    if "served_h" in requests and "created_h" in requests:
        t = (requests["served_h"] - requests["created_h"]).to_numpy(dtype=float)
    else:
        t = requests["wait_h"].to_numpy(dtype=float)
    t, n = t[served], _weights(requests)[served]
    keep = ~np.isnan(t)
    return np.repeat(t[keep], n[keep])


def _from_arrow(requests: pa.Table) -> tuple[int, dict[str, int], np.ndarray]:
    """Requests by outcome and the response time of each served request (a row of ``n`` counts
    ``n`` times) of an Arrow requests table, without converting the table to pandas."""
    names = requests.column_names
    n = (requests["n_requests"].to_numpy() if "n_requests" in names
         else np.ones(requests.num_rows, dtype=np.int64))
    col = requests["outcome"].combine_chunks()
    if pa.types.is_dictionary(col.type):
        cats = [str(c) for c in col.dictionary.to_pylist()]
        codes = col.indices.to_numpy(zero_copy_only=False)
    else:
        cats, codes = np.unique(np.asarray(col.to_pylist(), dtype=object).astype(str), return_inverse=True)
        cats = list(cats)
    counts = {o: int(n[codes == cats.index(o)].sum(dtype=np.int64)) if o in cats else 0 for o in OUTCOMES}
    rows = pa.array(np.flatnonzero(codes == cats.index("served")) if "served" in cats else np.zeros(0, np.int64))
    if "served_h" in names and "created_h" in names:
        t = (requests["served_h"].take(rows).to_numpy().astype(float)
             - requests["created_h"].take(rows).to_numpy().astype(float))
    else:
        t = requests["wait_h"].take(rows).to_numpy().astype(float)
    w = n[rows.to_numpy()]
    keep = ~np.isnan(t)
    return int(n.sum(dtype=np.int64)), counts, np.repeat(t[keep], w[keep])


def request_stats(requests: pd.DataFrame | pa.Table | None) -> dict[str, float]:
    """Counts by outcome and the response time quantiles::

        response_time_p50_h, response_time_p95_h = quantiles 0.5, 0.95 of served_h - created_h
        served_request_share = served / all requests

    Counts are requests (``n_requests`` per row when present). Quantiles are NaN when nothing was
    served; empty dict without a requests table or without any request (the safety net never ran).

    >>> r = pd.DataFrame({"outcome": ["served", "served", "abandoned", "dropped"],
    ...                   "created_h": [0.0, 0.0, 0.0, 0.0], "served_h": [2.0, 4.0, float("nan"), float("nan")]})
    >>> s = request_stats(r); s["response_time_p50_h"], s["abandoned_requests"], s["served_request_share"]
    (3.0, 1, 0.5)
    >>> s = request_stats(r.assign(n_requests=[3, 1, 2, 2])); s["n_requests"], s["response_time_p50_h"]
    (8, 2.0)
    >>> request_stats(pa.Table.from_pandas(r.assign(n_requests=[3, 1, 2, 2]))) == s   # an Arrow table: the same
    True
    """
    if isinstance(requests, pa.Table):
        if "outcome" not in requests.column_names or not requests.num_rows:
            return {}
        total, counts, t = _from_arrow(requests)
    else:
        if requests is None or "outcome" not in requests or not len(requests):
            return {}
        n = _weights(requests)
        counts = {o: int(n[_is(requests, o)].sum()) for o in OUTCOMES}
        t = response_times_h(requests)
        total = int(n.sum())
    out: dict[str, float] = {"n_requests": total}
    out.update({f"{o}_requests": counts[o] for o in OUTCOMES})
    out["served_request_share"] = float(counts["served"] / total) if total else math.nan
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
