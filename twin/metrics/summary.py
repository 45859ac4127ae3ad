"""The one-row summary of a run and the full set of resilience figures.

:func:`summary_row` is what ``twin run`` writes to ``summary.parquet``; :func:`resilience` is the
same with the analyst's settings; :func:`comparison` reads one run against another.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from twin.metrics._common import MetricSettings, channel_columns, ratio
from twin.metrics.adaptation import adaptability, episode_table, evolvability, switch_gains
from twin.metrics.cascade import _unique_codes, cascade_stats, failed_nodes_by_tier, layer_failed_share, tier_down_days
from twin.metrics.curves import daily_service, fill_curve, need_persons_curve, population_curve, service_curve
from twin.metrics.fairness import food_insecure_person_days, fulfilment, gini, group_figures
from twin.metrics.orders import order_stats
from twin.metrics.prices import price_stats
from twin.metrics.robustness import pre_shock_level
from twin.metrics.safety_net import request_stats
from twin.metrics.surge import surge_stats
from twin.metrics.timing import (episodes, infer_shock_start_day, regime_days, shock_intervals, shock_start_day,
                                 switch_days)
from twin.metrics.workforce import workforce_stats

__all__ = ["NEVER_KEYS", "balance_error", "comparison", "evolvability_of", "find_shock_start_day", "never_to_null",
           "resilience", "run_episodes", "shock_episodes", "summary_row"]

NODE_TIERS = (0, 1, 2, 3, 4)
#: summary figures that are days until something happens: null in ``summary.parquet`` means "never"
#: (no shock, no failure, not recovered by the end of the run, no switch after the shock)
NEVER_KEYS = ("shock_start_day", "time_to_failure_days", "recovery_days", "first_switch_delay_days")


def balance_error(balance: pd.DataFrame) -> float:
    """Largest relative gap of ``inflow - (consumed + spoiled + stock + in_transit)`` over all rows."""
    if balance.empty:
        return 0.0
    out = balance["cum_consumed_kg"] + balance["cum_spoiled_kg"] + balance["stock_kg"] + balance["in_transit_kg"]
    scale = np.maximum(balance["cum_inflow_kg"].abs(), 1.0)
    return float(((balance["cum_inflow_kg"] - out).abs() / scale).max())


def summary_row(tables: dict[str, pd.DataFrame], need_kg_per_person_day: float) -> dict[str, float]:
    """The one-row summary of a run (``summary.parquet``), with the default :class:`MetricSettings`.

    Volumes: ``fill_of_need`` = consumed / need (food on the table, the primary figure);
    ``market_service_level`` = delivered / demand over the run (purchases served, every channel);
    ``shortfall_person_days`` = sum of (need - consumed) / kg a person needs a day; ``min_fill_of_need``
    and ``min_fill_day``: the worst day; ``peak_closed_nodes``, ``peak_starved_nodes``: most nodes
    closed / starved on one day; ``delivered_<channel>_kg`` per channel. Then every figure of
    :func:`resilience`, with the days of :data:`NEVER_KEYS` null where they never came.
    """
    return never_to_null(resilience(tables, need_kg_per_person_day))


def never_to_null(row: dict[str, float]) -> dict[str, float]:
    """``inf`` days of :data:`NEVER_KEYS` as NaN (written as null, shown as "never").

    >>> never_to_null({"recovery_days": math.inf, "fill_of_need": 0.9})
    {'recovery_days': nan, 'fill_of_need': 0.9}
    """
    return {k: (math.nan if k in NEVER_KEYS and isinstance(v, float) and math.isinf(v) else v) for k, v in row.items()}


def resilience(tables: dict[str, pd.DataFrame], need_kg_per_person_day: float | None = None,
               settings: MetricSettings = MetricSettings()) -> dict[str, float]:
    """Every headline figure of one run (see ``docs/report.md`` for the formulas).

    Always: volumes (:func:`summary_row`), robustness and recovery, cascade, fairness. When their
    inputs exist: a second shock episode, switches (regime switches or policy changes), regimes
    (``city``), prices, safety-net requests, workforce. Days that never came are ``inf`` here.
    Robustness and recovery are read on the fill-of-need curve, episode by episode
    (:func:`run_episodes`): ``time_to_failure_days`` and ``recovery_days`` are the first episode's,
    ``resilience_loss_person_days`` the sum over all episodes.
    """
    comm, nodes, events = tables["communities"], tables.get("nodes"), tables.get("events")
    row = _volume_row(comm, nodes, tables.get("balance"), need_kg_per_person_day)
    curve = fill_curve(comm)
    t0, level, eps, table = run_episodes(tables, need_kg_per_person_day, settings, curve)
    first = table.iloc[0] if len(table) else None
    row.update({
        "shock_start_day": math.inf if t0 is None else float(t0),
        "pre_shock_fill_of_need": level,
        "time_to_failure_days": float(first["time_to_failure_days"]) if first is not None else math.inf,
        "recovery_days": float(first["recovery_days"]) if first is not None else 0.0,
        "resilience_loss_person_days": float(table["loss_person_days"].sum()) if len(table) else 0.0,
    })
    row.update(_cascade_row(nodes, comm, tables.get("city"), settings))
    row.update(_fairness_row(comm, t0, settings))
    row["n_shock_episodes"] = len(eps)
    if len(table) >= 2:
        first_loss, second_loss = (float(x) for x in table["loss_person_days"].iloc[:2])
        row["second_shock_loss_person_days"] = second_loss
        row["second_over_first_loss_ratio"] = (second_loss / first_loss if first_loss > 0
                                               else (math.inf if second_loss > 0 else math.nan))
    row.update(_switch_row(curve, switch_days(events, tables.get("city")), t0, settings))
    row.update(regime_days(tables.get("city")))
    row.update(price_stats(tables.get("prices"), comm))
    # by resident group; the survey's price shares asked of every resident over the shock period
    # (these replace the per-compound, whole-run shares of price_stats when residents are recorded)
    row.update(group_figures(tables.get("residents"), _survey_window(t0, eps, comm, settings)))
    row.update(request_stats(tables.get("requests")))
    row.update(order_stats(tables.get("city")))
    row.update(workforce_stats(tables.get("workforce")))
    row.update(surge_stats(nodes))
    return row


def run_episodes(tables: dict[str, pd.DataFrame], need_kg_per_person_day: float | None = None,
                 settings: MetricSettings = MetricSettings(), curve: pd.Series | None = None):
    """``(t0, L, episodes, episode_table)`` of a run: the one reading of shock, failure and recovery
    that the summary, ``twin compare`` and the report share (``curve``: the run's
    :func:`~twin.metrics.curves.fill_curve`, if already read)."""
    comm = tables["communities"]
    curve = fill_curve(comm) if curve is None else curve
    t0 = find_shock_start_day(tables, settings)
    level = pre_shock_level(curve, t0, settings.warmup_days)
    eps = shock_episodes(tables, t0)
    table = episode_table(curve, need_persons_curve(comm, need_kg_per_person_day), eps, level, settings)
    return t0, level, eps, table


def evolvability_of(tables: dict[str, pd.DataFrame], counterfactual: dict[str, pd.DataFrame],
                    need_kg_per_person_day: float | None = None,
                    settings: MetricSettings = MetricSettings()) -> dict[str, float]:
    """Evolvability of a run with learning against the same scenario and seed without it
    (:func:`twin.metrics.adaptation.evolvability`); both read against the learning run's ``L``."""
    t0, level, _eps, table = run_episodes(tables, need_kg_per_person_day, settings)
    comm = counterfactual["communities"]
    eps = shock_episodes(counterfactual, find_shock_start_day(counterfactual, settings))
    other = episode_table(fill_curve(comm), need_persons_curve(comm, need_kg_per_person_day), eps, level, settings)
    return evolvability(table, other)


def find_shock_start_day(tables: dict[str, pd.DataFrame], settings: MetricSettings = MetricSettings()) -> float | None:
    """``t0``: ``settings.shock_start_day`` if set, else the first scheduled shock, lockdown or forced
    regime in the events, else (tables without events) the first day a node was closed or degraded;
    None when there was no shock."""
    if settings.shock_start_day is not None:
        return float(settings.shock_start_day)
    events = tables.get("events")
    if events is not None:
        return shock_start_day(events)
    return infer_shock_start_day(tables.get("nodes"))


def shock_episodes(tables: dict[str, pd.DataFrame], t0: float | None) -> list[tuple[float, float]]:
    """Shock episodes from the events, the first starting at ``t0`` when ``t0`` was set by hand; one
    open episode from ``t0`` when the events name none."""
    last = float(tables["communities"]["t_day"].max()) if len(tables["communities"]) else 0.0
    eps = episodes(shock_intervals(tables.get("events"), last))
    if t0 is not None:
        eps = [(a, b) for a, b in eps if b > t0]
        if not eps:
            eps = [(t0, last + 1.0)]
        elif eps[0][0] != t0:
            eps[0] = (t0, max(eps[0][1], t0))
    return eps


def _volume_row(comm: pd.DataFrame, nodes: pd.DataFrame | None, bal: pd.DataFrame | None,
                need_pp: float | None) -> dict[str, float]:
    channels = channel_columns(comm)
    tot = comm[["need_kg", "demand_kg", "unmet_kg", "consumed_kg", "shortfall_kg", *channels]].sum()
    delivered = float(tot[channels].sum())
    daily = daily_service(comm)
    peak = _peak_status_counts(nodes, ("closed", "starved"))
    last = bal[bal["t_day"] == bal["t_day"].max()] if bal is not None and len(bal) else None
    row = {
        "days": int(comm["t_day"].nunique()),
        "population": float(comm.loc[comm["t_day"] == comm["t_day"].min(), "population"].sum()),
        "need_kg": float(tot["need_kg"]), "demand_kg": float(tot["demand_kg"]), "delivered_kg": delivered,
        **{c: float(tot[c]) for c in channels},
        "unmet_kg": float(tot["unmet_kg"]), "consumed_kg": float(tot["consumed_kg"]),
        "shortfall_kg": float(tot["shortfall_kg"]),
        "fill_of_need": float(ratio(tot["consumed_kg"], tot["need_kg"])),
        "min_fill_of_need": float(daily["fill_of_need"].min()) if len(daily) else 1.0,
        "min_fill_day": int(daily["fill_of_need"].idxmin()) if len(daily) else 0,
        "market_service_level": float(ratio(delivered, tot["demand_kg"])),
        "min_market_service_level": float(daily["market_service_level"].min()) if len(daily) else 1.0,
        "shortfall_person_days": float(tot["shortfall_kg"] / need_pp) if need_pp else 0.0,
        "spoiled_kg": float(last["cum_spoiled_kg"].sum()) if last is not None else 0.0,
        "peak_closed_nodes": peak["closed"], "peak_starved_nodes": peak["starved"],
        "max_balance_error_rel": balance_error(bal) if bal is not None else 0.0,
    }
    row.update(mode_shares({c: float(tot[c]) for c in channels}))
    return row


def _peak_status_counts(nodes: pd.DataFrame | None, statuses: tuple[str, ...]) -> dict[str, int]:
    """Most nodes in each of ``statuses`` on one day (0 if never, or without nodes).

    >>> _peak_status_counts(pd.DataFrame({"t_day": [0, 0, 1, 1], "status": ["closed", "closed", "closed", "open"]}),
    ...                     ("closed", "starved"))
    {'closed': 2, 'starved': 0}
    """
    if nodes is None or nodes.empty:
        return dict.fromkeys(statuses, 0)
    _, day = _unique_codes(nodes["t_day"].to_numpy())
    status = nodes["status"]
    return {s: int(np.bincount(day[(status == s).to_numpy()]).max(initial=0)) for s in statuses}


#: allocation modes and the channels they deliver through
MODE_CHANNELS = {"market": ("delivered_offline_kg", "delivered_online_kg", "delivered_gate_kg"), "group_buying": ("delivered_group_kg",),
                 "unified": ("delivered_unified_kg",), "safety_net": ("delivered_safety_net_kg",)}


def mode_shares(delivered_by_channel: dict[str, float]) -> dict[str, float]:
    """Share of all delivered kg per allocation mode: ``mode_share_<mode> = sum of its channels / total``.

    >>> mode_shares({"delivered_offline_kg": 6.0, "delivered_online_kg": 2.0, "delivered_unified_kg": 2.0})
    {'mode_share_market': 0.8, 'mode_share_group_buying': 0.0, 'mode_share_unified': 0.2, 'mode_share_safety_net': 0.0}
    """
    total = sum(delivered_by_channel.values())
    return {f"mode_share_{mode}": (sum(delivered_by_channel.get(c, 0.0) for c in cols) / total if total > 0 else 0.0)
            for mode, cols in MODE_CHANNELS.items()}


def _cascade_row(nodes: pd.DataFrame | None, comm: pd.DataFrame, city: pd.DataFrame | None,
                 settings: MetricSettings) -> dict[str, float]:
    failed = failed_nodes_by_tier(nodes) if nodes is not None and len(nodes) else pd.DataFrame()
    share = layer_failed_share(nodes, comm, settings.community_fail_below, failed if len(failed) else None)
    return {
        **{f"peak_failed_nodes_tier{k}": int(failed[k].max()) if k in failed else 0 for k in NODE_TIERS},
        **cascade_stats(city),
        "tier_down_days": tier_down_days(share, settings.tier_down_share),
    }


def _fairness_row(comm: pd.DataFrame, t0: float | None, settings: MetricSettings) -> dict[str, float]:
    f = fulfilment(comm, t0 if t0 is not None else settings.warmup_days)
    districts = fill_curve(comm, "district") if "district" in comm else pd.DataFrame()
    return {
        "min_district_fill_of_need": float(districts.min().min()) if districts.size else 1.0,
        "gini_fill_of_need": gini(f["fulfilment"], f["population"]) if len(f) else 0.0,
        "food_insecure_person_days": food_insecure_person_days(comm, settings.insecure_below),
    }


def _survey_window(t0: float | None, eps: list[tuple[float, float]], comm: pd.DataFrame,
                   settings: MetricSettings) -> tuple[float, float]:
    """Days residents are asked about (the survey's window): the shock period, from ``t0`` to the
    end of the last shock episode; without a shock, the run after the warm-up."""
    last = float(comm["t_day"].max()) + 1.0 if len(comm) else 0.0
    if t0 is None:
        return float(settings.warmup_days), last
    return float(t0), max([e for _, e in eps] + [float(t0) + 1.0])


def _switch_row(service: pd.Series, switches: list[float], t0: float | None,
                settings: MetricSettings) -> dict[str, float]:
    if not switches:
        return {}
    gains = switch_gains(service, switches, settings.switch_window_days)["gain_level"]
    after = [d for d in switches if t0 is not None and d >= t0]
    return {"n_switches": len(switches),
            "first_switch_delay_days": (after[0] - t0) if after else math.inf,
            "switch_gain_level": float(gains.mean()) if gains.notna().any() else math.nan}


def comparison(tables: dict[str, pd.DataFrame], baseline: dict[str, pd.DataFrame],
               settings: MetricSettings = MetricSettings(),
               need_kg_per_person_day: float | None = None) -> pd.DataFrame:
    """Adaptability of a run against a comparison run (same shock, no switch): one row per switch of
    ``tables`` (see :func:`twin.metrics.adaptation.adaptability`) on the fill-of-need curve, the
    pre-shock level being this run's."""
    curve, other = fill_curve(tables["communities"]), fill_curve(baseline["communities"])
    t0 = find_shock_start_day(tables, settings)
    level = pre_shock_level(curve, t0, settings.warmup_days)
    switches = switch_days(tables.get("events"), tables.get("city"))
    return adaptability(curve, other, switches, level,
                        need_persons_curve(tables["communities"], need_kg_per_person_day), settings.switch_window_days)
