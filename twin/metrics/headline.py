"""The headline figures of a run, as ``twin compare`` and the report show them: one list, with a
label, a unit, a format and which way is better, so that both say the same thing the same way.

Numbers are readable: shares with three decimals, person-days and kg in k / M, days as whole days
and ``never`` for a day that never came (null in ``summary.parquet``).
"""

from __future__ import annotations

import math
from typing import NamedTuple

from twin.metrics.summary import NEVER_KEYS
from twin.metrics.uncertainty import Difference, Spread

__all__ = ["HEADLINE", "Figure", "better_or_worse", "format_difference", "format_spread", "format_value",
           "headline_keys"]


class Figure(NamedTuple):
    """One headline figure: summary key, label, unit, format (``share``, ``pct``, ``big``, ``day``,
    ``count``, ``index``, ``signed``), direction (+1 higher is better, -1 lower is better, 0 neither)."""

    key: str
    label: str
    unit: str
    kind: str
    direction: int


_TIER = {0: "bases", 1: "transfer stations", 2: "hubs and reserves", 3: "sorting centres", 4: "outlets"}

HEADLINE: list[Figure] = [
    Figure("fill_of_need", "Fill of need over the run (consumed / need)", "share of need", "share", +1),
    Figure("min_fill_of_need", "Worst day's fill of need", "share of need", "share", +1),
    Figure("min_fill_day", "Worst day", "day", "count", 0),
    Figure("shortfall_person_days", "Food missing: shortfall / need per person per day", "person-days", "big", -1),
    Figure("food_insecure_person_days", "Person-days eating under 90% of need", "person-days", "big", -1),
    Figure("shock_start_day", "Shock starts (first scheduled shock or lockdown)", "day", "day", 0),
    Figure("pre_shock_fill_of_need", "Pre-shock fill of need", "share of need", "share", 0),
    Figure("time_to_failure_days", "Shock to failure (fill under 95% of pre-shock)", "days", "day", +1),
    Figure("recovery_days", "Shock to lasting recovery (95% of pre-shock)", "days", "day", -1),
    Figure("resilience_loss_person_days", "Resilience-triangle loss (food missing below pre-shock level)",
           "person-days", "big", -1),
    Figure("market_service_level", "Market service level, secondary (delivered / demand)", "share of demand",
           "share", +1),
    Figure("min_market_service_level", "Worst day's market service level", "share of demand", "share", +1),
    Figure("peak_cascade_depth", "Peak cascade depth (links in the longest chain of failures)", "links", "count", -1),
    *[Figure(f"peak_cut_off_share_tier{k}", f"Peak share of compounds cut off through tier {k} ({name})",
             "share of compounds", "pct", -1) for k, name in _TIER.items()],
    *[Figure(f"peak_failed_nodes_tier{k}", f"Peak failed {name} (tier {k})", "nodes", "count", -1)
      for k, name in _TIER.items()],
    Figure("peak_closed_nodes", "Peak closed nodes", "nodes", "count", -1),
    Figure("peak_starved_nodes", "Peak starved nodes", "nodes", "count", -1),
    Figure("tier_down_days", "Days any tier had half its nodes failed", "days", "count", -1),
    Figure("gini_fill_of_need", "Gini of fill of need across compounds (0 = all alike)", "Gini", "share", -1),
    Figure("min_district_fill_of_need", "Worst district-day fill of need", "share of need", "share", +1),
    Figure("n_shock_episodes", "Shock episodes", "episodes", "count", 0),
    Figure("second_shock_loss_person_days", "Loss in the second shock", "person-days", "big", -1),
    Figure("second_shock_loss_without_learning_person_days", "Loss in the second shock without learning",
           "person-days", "big", 0),
    Figure("second_shock_loss_avoided_person_days", "Loss avoided in the second shock by learning", "person-days",
           "big", +1),
    Figure("evolvability", "Evolvability (1 - loss with / without learning, 2nd shock)", "share of loss", "signed", +1),
    Figure("n_switches", "Regime switches and policy changes", "switches", "count", 0),
    Figure("first_switch_delay_days", "Shock to first switch", "days", "day", -1),
    Figure("switch_gain_level", "Fill of need gained after switches (mean, 7 days)", "share of need", "signed", +1),
    Figure("days_emergency", "Days in emergency regime", "days", "count", 0),
    Figure("days_extreme", "Days in extreme regime", "days", "count", 0),
    Figure("peak_price_index", "Peak price index", "x baseline", "index", -1),
    Figure("peak_price_paid_index", "Peak price paid index", "x baseline", "index", -1),
    Figure("share_paid_up_40pct", "Residents who paid over 40% more", "share of residents", "pct", -1),
    Figure("share_paid_up_100pct", "Residents who paid over twice as much", "share of residents", "pct", -1),
    Figure("mode_share_market", "Delivered by the market", "share of kg", "pct", 0),
    Figure("mode_share_group_buying", "Delivered by group buying", "share of kg", "pct", 0),
    Figure("mode_share_unified", "Delivered by unified supply", "share of kg", "pct", 0),
    Figure("mode_share_safety_net", "Delivered by the safety net", "share of kg", "pct", 0),
    Figure("response_time_p50_h", "Safety-net response, median", "hours", "index", -1),
    Figure("response_time_p95_h", "Safety-net response, 95th percentile", "hours", "index", -1),
    Figure("orders_lead_time_p50_h", "Online orders: median lead time, placement to door", "hours", "index", -1),
    Figure("orders_lead_time_p95_h_worst_day", "Online orders: worst day's 95th percentile lead time", "hours",
           "index", -1),
    Figure("orders_cancelled_share", "Online orders cancelled after waiting the patience", "share of orders", "pct",
           -1),
    Figure("backlog_days_max", "Peak online backlog at a day's end, in days of normal orders", "days", "index", -1),
    Figure("abandoned_requests", "Abandoned safety-net requests", "requests", "big", -1),
    Figure("dropped_requests", "Dropped safety-net requests", "requests", "big", -1),
    Figure("min_supply_workers_active_share", "Lowest share of supply workers at work", "share of supply workers",
           "share", +1),
    Figure("min_volunteers_active_share", "Lowest share of compound volunteers at work", "share of volunteers",
           "share", +1),
    Figure("min_active_workforce_share", "Lowest share of workers at work", "share of workers", "share", +1),
    Figure("peak_infectious", "Peak infectious workers", "workers", "big", -1),
    Figure("peak_quarantined", "Peak quarantined workers", "workers", "big", -1),
]
_BY_KEY = {f.key: f for f in HEADLINE}


def headline_keys(rows) -> list[Figure]:
    """The headline figures present in any of ``rows`` (dicts of summary figures), in order."""
    return [f for f in HEADLINE if any(f.key in r for r in rows)]


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_value(key: str, value) -> str:
    """One figure as text: ``never`` for a day that never came, ``-`` for a figure not there.

    >>> format_value("recovery_days", None), format_value("recovery_days", 12.0), format_value("fill_of_need", 0.51234)
    ('never', '12', '0.512')
    >>> format_value("shortfall_person_days", 88_651_551.0), format_value("shortfall_person_days", 154_321.0)
    ('88.7 M', '154 k')
    >>> format_value("shock_start_day", float("nan")), format_value("mode_share_market", 0.9924)
    ('no shock', '99.2%')
    """
    fig = _BY_KEY.get(key)
    if _missing(value) or (isinstance(value, float) and math.isinf(value) and key in NEVER_KEYS):
        if key in NEVER_KEYS:
            return "no shock" if key == "shock_start_day" else "never"
        return "-"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    kind = fig.kind if fig else "index"
    return _number(float(value), kind)


def _number(v: float, kind: str) -> str:
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if kind == "share":
        return f"{v:.3f}"
    if kind == "signed":
        return f"{v:+.3f}"
    if kind == "pct":
        return f"{v:.1%}"
    if kind in ("day", "count"):
        return f"{v:,.0f}"
    if kind == "big":
        a = abs(v)
        if a >= 1e9:
            return f"{v / 1e9:.2f} G"
        if a >= 1e6:
            return f"{v / 1e6:.1f} M"
        if a >= 1e4:
            return f"{v / 1e3:.0f} k"
        return f"{v:,.0f}"
    return f"{v:.2f}"


def format_spread(key: str, s: Spread) -> str:
    """A figure over seeds: the mean and its 95% band, and how many seeds never got there.

    >>> from twin.metrics.uncertainty import spread
    >>> format_spread("fill_of_need", spread([0.5, 0.6, 0.7])), format_spread("fill_of_need", spread([0.5]))
    ('0.600 [0.352, 0.848]', '0.500')
    >>> format_spread("recovery_days", spread([10.0, float("nan"), float("nan")]))
    '10 (1 of 3 seeds; never in 2)'
    >>> format_spread("recovery_days", spread([float("nan")] * 2))
    'never (2 seeds)'
    """
    total = s.n + s.never
    if s.n == 0:
        word = format_value(key, None)
        return word if total <= 1 or word == "-" else f"{word} ({total} seeds)"
    mean = format_value(key, s.mean)
    if s.never:
        return f"{mean} ({s.n} of {total} seeds; never in {s.never})"
    if s.n == 1:
        return mean
    lo, hi = s.lo, s.hi
    fig = _BY_KEY.get(key)
    if fig is not None and fig.kind in ("share", "pct", "count", "big", "day", "index") and s.mean >= 0:
        lo = max(lo, 0.0)                       # the band of a figure that cannot be negative
    if fig is not None and fig.unit.startswith("share") and s.mean <= 1:
        hi = min(hi, 1.0)                       # nor can a share exceed 1
    return f"{mean} [{format_value(key, lo)}, {format_value(key, hi)}]"


def better_or_worse(key: str, diff: float) -> str:
    """``better``, ``worse`` or ``-`` for a change of ``diff`` in figure ``key`` (``""`` if neither way is better).

    >>> better_or_worse("fill_of_need", 0.1), better_or_worse("recovery_days", 3.0), better_or_worse("n_switches", 1)
    ('better', 'worse', '')
    """
    fig = _BY_KEY.get(key)
    if fig is None or fig.direction == 0 or _missing(diff) or diff == 0:
        return "" if fig is None or fig.direction == 0 else "same"
    return "better" if diff * fig.direction > 0 else "worse"


def format_difference(key: str, d: Difference) -> str:
    """``+0.086 share of need, better`` with ``(within noise)`` or ``(beyond noise, +/- 0.020)``.

    >>> format_difference("fill_of_need", Difference(0.086, 0.02, False))
    '+0.086 share of need, better (beyond noise: +/- 0.020)'
    >>> format_difference("shortfall_person_days", Difference(1.5e6, 4e6, True))
    '+1.5 M person-days, worse (within noise: +/- 4.0 M)'
    >>> format_difference("fill_of_need", Difference(-0.01, float("nan"), None))
    '-0.010 share of need, worse (one seed: noise unknown)'
    """
    fig = _BY_KEY.get(key)
    if _missing(d.diff):
        return "-"
    kind = fig.kind if fig else "index"
    kind = {"share": "signed", "day": "count"}.get(kind, kind)
    text = _number(d.diff, kind)
    if kind == "count" and abs(d.diff - round(d.diff)) > 1e-9:
        text = f"{d.diff:,.1f}"                 # half a day is not 0
    if kind != "signed" and d.diff > 0:
        text = "+" + text
    unit = fig.unit if fig else ""
    verdict = better_or_worse(key, d.diff)
    out = f"{text} {unit}".strip() + (f", {verdict}" if verdict else "")
    if d.within_noise is None:
        return out + " (one seed: noise unknown)"
    band = _number(d.half_width, fig.kind if fig and fig.kind != "signed" else "share")
    return out + (f" (within noise: +/- {band})" if d.within_noise else f" (beyond noise: +/- {band})")
