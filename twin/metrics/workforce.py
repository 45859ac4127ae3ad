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


def workforce_stats(workforce: pd.DataFrame | None) -> dict[str, float]:
    """``min_active_workforce_share = min_t sum active / sum headcount`` and its day; peaks of the
    infectious and quarantined counts. Empty dict without a workforce table.

    >>> w = pd.DataFrame({"t_day": [0, 0, 1, 1], "headcount": [10, 10, 10, 10], "active": [10, 10, 5, 9],
    ...                   "infectious": [0, 0, 3, 1]})
    >>> workforce_stats(w)
    {'min_active_workforce_share': 0.7, 'min_active_workforce_day': 1, 'peak_infectious': 4.0}
    """
    if workforce is None or workforce.empty or "active" not in workforce:
        return {}
    g = workforce.groupby("t_day", observed=True)[
        [c for c in ("headcount", *COMPARTMENTS) if c in workforce]].sum()
    out: dict[str, float] = {}
    if "headcount" in g:
        share = pd.Series(ratio(g["active"], g["headcount"]), index=g.index)
        out.update(min_active_workforce_share=float(share.min()), min_active_workforce_day=int(share.idxmin()))
    for col in ("infectious", "quarantined"):
        if col in g:
            out[f"peak_{col}"] = float(g[col].max())
    return out
