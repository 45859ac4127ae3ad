"""Shared pieces of the metrics: settings, safe ratios, the channel columns, the layer names."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["FAILED_STATUSES", "LAYER_NAMES", "COMMUNITY_LAYER", "MetricSettings", "channel_columns", "channel_name",
           "delivered_kg", "ratio"]

#: node statuses that count as a failed node (degraded nodes still work, at reduced capacity)
FAILED_STATUSES = ("starved", "closed")
#: the supply layers, upstream to downstream; communities are the layer below tier 4
COMMUNITY_LAYER = 5
LAYER_NAMES = {0: "bases", 1: "transfer stations", 2: "hubs and reserves", 3: "sorting centres",
               4: "outlets and front warehouses", COMMUNITY_LAYER: "communities"}

_CHANNEL = re.compile(r"^delivered_(.+)_kg$")


@dataclass(frozen=True)
class MetricSettings:
    """Parameters of the resilience metrics (every one an assumption of the analyst, not the model).

    - ``warmup_days``: days at the start left out of the pre-shock level (initial stocks settle);
    - ``threshold``: the system is *failed* while service < ``threshold`` x pre-shock level and
      *recovered* once it is back at or above it (the 95% of the issue);
    - ``hold_days``: consecutive days at or above the threshold that count as recovered;
    - ``community_fail_below``: a community has failed on a day its residents eat less than this
      share of their need (``consumed / need``; the 0.95 of ``city.parquet``);
    - ``tier_down_share``: a tier is *down* on a day when at least this share of its nodes failed;
    - ``insecure_below``: a community-day is food-insecure when consumed / need is below this;
    - ``switch_window_days``: days before and after a regime switch that its effect is read over;
    - ``shock_start_day``: the shock day to use instead of the one found in the events.
    """

    warmup_days: int = 3
    threshold: float = 0.95
    hold_days: int = 1
    community_fail_below: float = 0.95
    tier_down_share: float = 0.5
    insecure_below: float = 0.9
    switch_window_days: int = 7
    shock_start_day: float | None = None


def ratio(a, b):
    """``a / b``, with 1.0 where ``b`` is 0 (nothing asked, nothing missing).

    >>> ratio(3.0, 4.0), ratio(0.0, 0.0)
    (0.75, 1.0)
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(b > 0, a / np.where(b > 0, b, 1.0), 1.0)
    return r if r.ndim else float(r)


def channel_columns(frame: pd.DataFrame) -> list[str]:
    """Delivery channels of a communities table: every ``delivered_<channel>_kg`` column.

    >>> channel_columns(pd.DataFrame(columns=["need_kg", "delivered_offline_kg", "delivered_group_kg"]))
    ['delivered_offline_kg', 'delivered_group_kg']
    """
    return [c for c in frame.columns if _CHANNEL.match(c)]


def channel_name(column: str) -> str:
    """``delivered_safety_net_kg`` -> ``safety_net``."""
    m = _CHANNEL.match(column)
    return m.group(1) if m else column


def delivered_kg(communities: pd.DataFrame) -> pd.Series:
    """Row-wise kg delivered over all channels: ``delivered = sum_ch delivered_ch``."""
    cols = channel_columns(communities)
    return communities[cols].sum(axis=1) if cols else pd.Series(0.0, index=communities.index)
