"""Workforce by compartment (``workforce.parquet``): who is at work, sick, quarantined or confined."""

from __future__ import annotations

import pandas as pd

from twin.metrics._common import ratio

__all__ = ["COMPARTMENTS", "workforce_curve", "workforce_stats"]

COMPARTMENTS = ("susceptible", "exposed", "infectious", "quarantined", "confined", "recovered", "active")


def workforce_curve(workforce: pd.DataFrame) -> pd.DataFrame:
    """Workers per compartment per day over all pools, ``W_x(t) = sum_pool x_pool(t)`` (``t_day x compartment``)."""
    cols = [c for c in COMPARTMENTS if c in workforce]
    return workforce.groupby("t_day", observed=True)[cols].sum()


def _min_share(frame: pd.DataFrame, name: str) -> dict[str, float]:
    g = frame.groupby("t_day", observed=True)[["headcount", "active"]].sum()
    if g.empty:
        return {}
    share = pd.Series(ratio(g["active"], g["headcount"]), index=g.index)
    return {f"min_{name}_share": float(share.min()), f"min_{name}_day": int(share.idxmin())}


def workforce_stats(workforce: pd.DataFrame | None) -> dict[str, float]:
    """Lowest share at work and its day, ``min_t sum active / sum headcount``: for supply workers
    (crews of nodes) and for compound volunteers apart when the table has a ``role`` column
    (``min_supply_workers_active_share``, ``min_volunteers_active_share``), else over all pools
    (``min_active_workforce_share``); peaks of the infectious and quarantined counts. Empty dict
    without a workforce table.

    >>> w = pd.DataFrame({"t_day": [0, 0, 1, 1], "headcount": [10, 10, 10, 10], "active": [10, 10, 5, 9],
    ...                   "infectious": [0, 0, 3, 1]})
    >>> workforce_stats(w)
    {'min_active_workforce_share': 0.7, 'min_active_workforce_day': 1, 'peak_infectious': 4.0}
    >>> workforce_stats(w.assign(role=["couriers", "volunteers"] * 2))  # doctest: +NORMALIZE_WHITESPACE
    {'min_supply_workers_active_share': 0.5, 'min_supply_workers_active_day': 1,
     'min_volunteers_active_share': 0.9, 'min_volunteers_active_day': 1, 'peak_infectious': 4.0}
    """
    if workforce is None or workforce.empty or "active" not in workforce:
        return {}
    out: dict[str, float] = {}
    if "headcount" in workforce:
        if "role" in workforce:
            volunteers = (workforce["role"].astype(str) == "volunteers").to_numpy()
            out.update(_min_share(workforce[~volunteers], "supply_workers_active"))
            out.update(_min_share(workforce[volunteers], "volunteers_active"))
        else:
            out.update(_min_share(workforce, "active_workforce"))
    g = workforce.groupby("t_day", observed=True)[[c for c in COMPARTMENTS if c in workforce]].sum()
    for col in ("infectious", "quarantined"):
        if col in g:
            out[f"peak_{col}"] = float(g[col].max())
    return out
