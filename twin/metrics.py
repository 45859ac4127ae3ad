"""Headline figures computed from result tables: pure functions, no simulation state.

Each function takes DataFrames as written to the run folder and returns numbers or frames.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["balance_error", "daily_service", "summary_row"]


def daily_service(communities: pd.DataFrame) -> pd.DataFrame:
    """City-wide service per day: ``service_level = delivered / demand`` and ``fill_of_need = consumed / need``."""
    g = communities.groupby("t_day", observed=True)[
        ["need_kg", "demand_kg", "delivered_offline_kg", "delivered_online_kg", "consumed_kg"]].sum()
    delivered = g["delivered_offline_kg"] + g["delivered_online_kg"]
    return pd.DataFrame({
        "service_level": _ratio(delivered, g["demand_kg"]),
        "fill_of_need": _ratio(g["consumed_kg"], g["need_kg"]),
    }, index=g.index)


def balance_error(balance: pd.DataFrame) -> float:
    """Largest relative gap of ``inflow - (consumed + spoiled + stock + in_transit)`` over all rows."""
    if balance.empty:
        return 0.0
    out = balance["cum_consumed_kg"] + balance["cum_spoiled_kg"] + balance["stock_kg"] + balance["in_transit_kg"]
    scale = np.maximum(balance["cum_inflow_kg"].abs(), 1.0)
    return float(((balance["cum_inflow_kg"] - out).abs() / scale).max())


def summary_row(tables: dict[str, pd.DataFrame], need_kg_per_person_day: float) -> dict[str, float]:
    """The one-row summary of a run.

    - ``service_level``: delivered / demand over the run (purchases served);
    - ``fill_of_need``: consumed / need (food on the table);
    - ``shortfall_person_days``: sum of (need - consumed) / kg a person needs a day;
    - ``min_service_level`` and ``min_service_day``: the worst day;
    - ``peak_closed_nodes``, ``peak_starved_nodes``: most nodes closed / starved on one day.
    """
    comm, nodes, bal = tables["communities"], tables["nodes"], tables["balance"]
    tot = comm[["need_kg", "demand_kg", "delivered_offline_kg", "delivered_online_kg",
                "unmet_kg", "consumed_kg", "shortfall_kg"]].sum()
    delivered = tot["delivered_offline_kg"] + tot["delivered_online_kg"]
    daily = daily_service(comm)
    status = nodes.groupby(["t_day", "status"], observed=False).size().unstack(fill_value=0)
    last = bal[bal["t_day"] == bal["t_day"].max()] if len(bal) else bal
    return {
        "days": int(comm["t_day"].nunique()),
        "population": float(comm.loc[comm["t_day"] == comm["t_day"].min(), "population"].sum()),
        "need_kg": float(tot["need_kg"]),
        "demand_kg": float(tot["demand_kg"]),
        "delivered_kg": float(delivered),
        "delivered_offline_kg": float(tot["delivered_offline_kg"]),
        "delivered_online_kg": float(tot["delivered_online_kg"]),
        "unmet_kg": float(tot["unmet_kg"]),
        "consumed_kg": float(tot["consumed_kg"]),
        "shortfall_kg": float(tot["shortfall_kg"]),
        "service_level": float(_ratio(delivered, tot["demand_kg"])),
        "fill_of_need": float(_ratio(tot["consumed_kg"], tot["need_kg"])),
        "min_service_level": float(daily["service_level"].min()) if len(daily) else 1.0,
        "min_service_day": int(daily["service_level"].idxmin()) if len(daily) else 0,
        "shortfall_person_days": float(tot["shortfall_kg"] / need_kg_per_person_day) if need_kg_per_person_day else 0.0,
        "spoiled_kg": float(last["cum_spoiled_kg"].sum()),
        "peak_closed_nodes": int(status["closed"].max()) if "closed" in status else 0,
        "peak_starved_nodes": int(status["starved"].max()) if "starved" in status else 0,
        "max_balance_error_rel": balance_error(bal),
    }


def _ratio(a, b):
    """a / b, with 1.0 where b is 0 (nothing asked, nothing missing)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(b > 0, a / np.where(b > 0, b, 1.0), 1.0)
    return r if r.ndim else float(r)
