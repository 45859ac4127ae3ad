"""Surge capacity (``nodes.parquet``): how much overtime crews worked and what it cost."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["surge_stats"]


def surge_stats(nodes: pd.DataFrame | None) -> dict[str, float]:
    """``overtime_h`` and ``overtime_cny``: surge worker-hours and their pay over all nodes and days;
    ``peak_surge_nodes``: most nodes working a surge (``surge_used > 0``) on one day;
    ``exhausted_node_days``: node-days ending with under one day of full surge left
    (``surge_left_days < 1``: the next day's surge is cut). Empty dict without the columns.

    >>> n = pd.DataFrame({"t_day": [0, 0, 1, 1], "overtime_h": [2.0, 0.0, 3.0, 1.0],
    ...                   "overtime_cny": [105.0, 0.0, 157.5, 52.5], "surge_used": [0.2, 0.0, 0.3, 0.1],
    ...                   "surge_left_days": [0.5, 14.0, 0.2, 13.9]})
    >>> surge_stats(n)
    {'overtime_h': 6.0, 'overtime_cny': 315.0, 'peak_surge_nodes': 2, 'exhausted_node_days': 2}
    """
    if nodes is None or nodes.empty or "overtime_h" not in nodes:
        return {}
    surging = nodes["t_day"].to_numpy()[(nodes["surge_used"] > 0).to_numpy()]   # a day per node surging
    per_day = np.unique(surging, return_counts=True)[1]
    return {"overtime_h": float(nodes["overtime_h"].sum()), "overtime_cny": float(nodes["overtime_cny"].sum()),
            "peak_surge_nodes": int(per_day.max(initial=0)),
            "exhausted_node_days": int((nodes["surge_left_days"] < 1).sum())}
