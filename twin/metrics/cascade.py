"""Cascade failure through the supply layers: tiers 0-4 of ``nodes`` and the communities below them.

A node has *failed* on a day when its status is ``starved`` or ``closed``; a community has failed
when its residents ate less than ``community_fail_below`` (0.95) of their need that day,
``consumed / need``. Both are the definitions of ``city.parquet`` (``failed_nodes_tier<k>``,
``failed_communities``), which these functions reproduce from the tables.

The cascade depth is measured along the network (links are not in the result tables, so the
recorder computes it each day, :mod:`twin.recording.cascade`): the number of links in the longest
chain of supplier -> customer failures in which each failure follows its supplier's, with
``cut_off_share_tier<k>``, the share of communities failed through a chain passing through tier ``k``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from twin.metrics._common import COMMUNITY_LAYER, FAILED_STATUSES, ratio

__all__ = ["cascade_depth", "cascade_stats", "cut_off_shares", "failed_nodes_by_tier", "layer_failed_share",
           "stock_by_tier", "tier_down_days"]


def failed_nodes_by_tier(nodes: pd.DataFrame) -> pd.DataFrame:
    """``F_k(t)`` = number of failed nodes of tier ``k`` on day ``t`` (frame ``t_day x tier``).

    >>> n = pd.DataFrame({"t_day": [0, 0, 1, 1], "tier": [3, 4, 3, 4], "status": ["closed", "open", "closed", "starved"]})
    >>> failed_nodes_by_tier(n).to_dict("index")
    {0: {3: 1, 4: 0}, 1: {3: 1, 4: 1}}
    """
    failed = nodes["status"].isin(FAILED_STATUSES).to_numpy()
    days, d = _unique_codes(nodes["t_day"].to_numpy())
    tiers, k = _unique_codes(nodes["tier"].to_numpy().astype(int))
    counts = np.bincount((d * len(tiers) + k)[failed], minlength=len(days) * len(tiers))
    return pd.DataFrame(counts.reshape(len(days), len(tiers)), index=pd.Index(days, name="t_day"),
                        columns=pd.Index(tiers, name="tier"))


def _unique_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)``; integers within a small range (days, tiers) are
    looked up in a table of the values present instead of sorted.

    >>> [a.tolist() for a in _unique_codes(np.array([7, 3, 7, 5]))]
    [[3, 5, 7], [2, 0, 2, 1]]
    """
    if values.dtype.kind in "iu" and len(values):
        lo, hi = int(values.min()), int(values.max())
        if hi - lo <= 4 * len(values):
            present = np.bincount(values - lo) > 0
            code = np.cumsum(present) - 1
            return (np.flatnonzero(present) + lo).astype(values.dtype), code[values - lo]
    return np.unique(values, return_inverse=True)


def stock_by_tier(nodes: pd.DataFrame) -> pd.DataFrame:
    """Stock held per tier per day, ``sum_{n in tier k} stock_kg_n(t)`` (frame ``t_day x tier``)."""
    out = nodes.assign(tier=nodes["tier"].astype(int)).pivot_table(
        index="t_day", columns="tier", values="stock_kg", aggfunc="sum", fill_value=0.0)
    out.columns.name = "tier"
    return out


def layer_failed_share(nodes: pd.DataFrame, communities: pd.DataFrame | None = None,
                       community_fail_below: float = 0.95, failed: pd.DataFrame | None = None) -> pd.DataFrame:
    """Share of each layer's members that failed each day (``t_day x layer``), layers 0-4 being
    the tiers present in ``nodes`` and 5 the communities::

        share_k(t) = F_k(t) / N_k,   share_5(t) = #{c : consumed_c(t) / need_c(t) < community_fail_below} / N_5

    ``failed``: ``failed_nodes_by_tier(nodes)``, if the caller has it already.
    """
    share = pd.DataFrame(index=pd.Index([], name="t_day"))
    if nodes is not None and not nodes.empty:
        counts = failed_nodes_by_tier(nodes) if failed is None else failed
        first = nodes[nodes["t_day"] == nodes["t_day"].min()]
        sizes = first.groupby(first["tier"].astype(int)).size().reindex(counts.columns)
        share = counts / sizes.to_numpy()
    if communities is not None and not communities.empty:
        s = ratio(communities["consumed_kg"], communities["need_kg"])
        comm = pd.Series(s < community_fail_below).groupby(communities["t_day"].to_numpy()).mean()
        share = share.join(comm.rename(COMMUNITY_LAYER), how="outer").fillna(0.0)
    share.columns.name = "layer"
    return share.astype(float)


def cascade_depth(city: pd.DataFrame | None) -> pd.Series:
    """Cascade depth per day (``city.cascade_depth``): links in the longest chain of failures along the
    network; empty without a city table.

    >>> cascade_depth(pd.DataFrame({"t_day": [0, 1], "cascade_depth": [0, 2]})).tolist()
    [0, 2]
    """
    if city is None or "cascade_depth" not in city:
        return pd.Series(dtype=int, name="cascade_depth")
    return city.set_index("t_day")["cascade_depth"].astype(int)


def cut_off_shares(city: pd.DataFrame | None) -> pd.DataFrame:
    """Share of communities cut off through each tier per day (``t_day x tier``), from ``city``."""
    cols = [c for c in (city.columns if city is not None else []) if c.startswith("cut_off_share_tier")]
    if not cols:
        return pd.DataFrame()
    out = city.set_index("t_day")[cols].astype(float)
    out.columns = [int(c[len("cut_off_share_tier"):]) for c in cols]
    return out


def cascade_stats(city: pd.DataFrame | None) -> dict[str, float]:
    """``peak_cascade_depth = max_t depth(t)`` and ``peak_cut_off_share_tier<k> = max_t`` of the share
    of communities cut off through tier ``k``; empty without a city table.

    >>> cascade_stats(pd.DataFrame({"t_day": [0, 1], "cascade_depth": [1, 3], "cut_off_share_tier3": [0.0, 0.25]}))
    {'peak_cascade_depth': 3, 'peak_cut_off_share_tier3': 0.25}
    """
    depth = cascade_depth(city)
    if depth.empty:
        return {}
    shares = cut_off_shares(city)
    return {"peak_cascade_depth": int(depth.max()),
            **{f"peak_cut_off_share_tier{k}": float(shares[k].max()) for k in shares.columns}}


def tier_down_days(failed_share: pd.DataFrame, down_share: float = 0.5) -> int:
    """Days on which any node tier (0-4) was down: ``#{t : max_k share_k(t) >= down_share}``.

    >>> tier_down_days(pd.DataFrame({3: [0.0, 1.0, 0.5], 4: [0.1, 0.0, 0.2], 5: [0.9, 0.9, 0.9]}))
    2
    """
    tiers = failed_share[[c for c in failed_share.columns if c != COMMUNITY_LAYER]]
    return int((tiers >= down_share).any(axis=1).sum()) if tiers.shape[1] else 0
