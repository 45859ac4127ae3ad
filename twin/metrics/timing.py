"""When things happened: shock start, shock intervals and episodes, regime switches.

A *shock* is something that happens to the city from outside the model: a scheduled shock (an
event named ``<kind>_start``, ended by ``<kind>_end`` of the same ``shock``; except the levers of
:data:`LEVER_KINDS`, which help rather than harm), a lockdown (``lockdown_<level>_start``), or a
regime forced on schedule into emergency or extreme (``regime_decision`` with reason ``schedule``,
until the next switch back to normal). Model consequences are not shocks: a closure on a detected
case (``closure`` without a ``*_start``) is listed with ``scheduled = False`` and starts nothing.
A shock is active on ``start_day <= t < end_day``.
An *episode* is a maximal run of overlapping or back-to-back shocks: the second shock of an
evolvability scenario starts a second episode once every shock of the first has ended. The shock
start ``t0`` is the start of the first episode.
A *switch* is an event named ``regime_switch`` or ``policy_change`` (or any name ending in
``_switch``), the start of a lever (``reserve_release_start``, ``reinforcement_start``), or a day
on which ``city.regime`` differs from the day before.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["LEVER_KINDS", "episodes", "infer_shock_start_day", "regime_days", "shock_intervals", "shock_start_day",
           "switch_days"]

_SWITCH_NAMES = ("regime_switch", "policy_change")
#: shock kinds that are levers of the response, not disturbances: their start is a policy change
LEVER_KINDS = ("reserve_release", "reinforcement", "price_cap", "fair_price", "subsidy", "anti_hoarding")
_LEVER_STARTS = tuple(f"{k}_start" for k in LEVER_KINDS)


def _event_names(events: pd.DataFrame | None) -> pd.Series:
    if events is None or events.empty or "event" not in events:
        return pd.Series([], dtype=object)
    return events["event"].astype(str)


def _is_shock_start(names: pd.Series) -> pd.Series:
    return names.str.endswith("_start") & ~names.isin(_LEVER_STARTS)


def _is_forcing(events: pd.DataFrame, names: pd.Series) -> pd.Series:
    """Scheduled decisions to go into the emergency or extreme regime."""
    if "shock" not in events or "target" not in events:
        return pd.Series(False, index=names.index)
    why, target = events["shock"].astype(str), events["target"].astype(str)
    return (names == "regime_decision") & (why == "schedule") & ~target.str.endswith("->normal")


def shock_start_day(events: pd.DataFrame | None) -> float | None:
    """Day of the first shock: the first scheduled shock, lockdown or forced regime (never a closure on
    a detected case or a lever); None if none.

    >>> shock_start_day(pd.DataFrame({"t_day": [0, 3, 5, 9], "event": ["closure", "regime_switch", "supply_cut_start",
    ...                                                                  "lockdown_static_start"]}))
    5.0
    """
    names = _event_names(events)
    if names.empty:
        return None
    hit = _is_shock_start(names) | _is_forcing(events, names)
    return float(events.loc[hit.to_numpy(), "t_day"].min()) if hit.any() else None


def infer_shock_start_day(nodes: pd.DataFrame | None) -> float | None:
    """Without events: the first day any node is closed or degraded (None if never).

    Sees closures and capacity cuts only; supply cuts and demand surges leave no trace in ``nodes``.
    """
    if nodes is None or nodes.empty or "status" not in nodes:
        return None
    hit = nodes["status"].astype(str).isin(["closed", "degraded"]).to_numpy()
    return float(nodes.loc[hit, "t_day"].min()) if hit.any() else None


def shock_intervals(events: pd.DataFrame | None, last_day: float) -> pd.DataFrame:
    """One row per shock: ``shock``, ``kind``, ``start_day``, ``end_day`` (``last_day + 1`` if it never
    ends) and ``scheduled`` (True for ``<kind>_start`` events; False for closures logged without
    one, such as closures on a detected case).

    >>> ev = pd.DataFrame({"t_day": [2, 4, 6], "shock": ["cut", "cut", "x"],
    ...                    "event": ["supply_cut_start", "supply_cut_end", "capacity_start"]})
    >>> shock_intervals(ev, last_day=9).to_dict("records")  # doctest: +NORMALIZE_WHITESPACE
    [{'shock': 'cut', 'kind': 'supply_cut', 'start_day': 2.0, 'end_day': 4.0, 'scheduled': True},
     {'shock': 'x', 'kind': 'capacity', 'start_day': 6.0, 'end_day': 10.0, 'scheduled': True}]
    """
    cols = ["shock", "kind", "start_day", "end_day", "scheduled"]
    names = _event_names(events)
    if names.empty:
        return pd.DataFrame(columns=cols)
    ev = events.assign(_name=names.to_numpy(),
                       _shock=events["shock"].astype(str).to_numpy() if "shock" in events else names.to_numpy())
    starts = ev[_is_shock_start(ev["_name"]).to_numpy()]
    lone = ev[(ev["_name"] == "closure") & ~ev["_shock"].isin(starts["_shock"])]  # closures without a *_start
    forced = ev[_is_forcing(ev, ev["_name"]).to_numpy()].assign(_shock="regime_forced", _name="regime_forced_start")
    starts = pd.concat([starts.assign(_scheduled=True), forced.assign(_scheduled=True),
                        lone.assign(_name="closure_start", _scheduled=False)])
    rows = []
    for (shock, name, scheduled), grp in starts.groupby(["_shock", "_name", "_scheduled"], sort=False):
        kind = name[: -len("_start")]
        end_names = [f"{kind}_end", "reopening"] if kind == "closure" else [f"{kind}_end"]
        if kind == "regime_forced":   # until the city is switched back to normal
            ends = ev.loc[(ev["_name"] == "regime_switch") & ev.get("target", pd.Series("", index=ev.index)).astype(str)
                          .str.endswith("->normal"), "t_day"]
        else:
            ends = ev.loc[(ev["_shock"] == shock) & ev["_name"].isin(end_names), "t_day"]
        for start in np.sort(grp["t_day"].unique()):
            later = ends[ends >= start]
            end = float(later.min()) if len(later) else float(last_day) + 1.0
            rows.append({"shock": shock, "kind": kind, "start_day": float(start), "end_day": end,
                         "scheduled": bool(scheduled)})
    return pd.DataFrame(rows, columns=cols).sort_values(["start_day", "shock"], ignore_index=True)


def episodes(intervals: pd.DataFrame) -> list[tuple[float, float]]:
    """Merge the scheduled shock intervals that overlap or touch into episodes ``[(start, end), ...]``
    (closures on detected cases, ``scheduled = False``, are consequences and never make an episode).

    >>> episodes(pd.DataFrame({"start_day": [10, 14, 30, 2], "end_day": [24, 21, 35, 4],
    ...                        "scheduled": [True, True, True, False]}))
    [(10.0, 24.0), (30.0, 35.0)]
    """
    if "scheduled" in intervals:
        intervals = intervals[intervals["scheduled"].astype(bool)]
    out: list[list[float]] = []
    for start, end in sorted(zip(intervals["start_day"], intervals["end_day"])):
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], float(end))
        else:
            out.append([float(start), float(end)])
    return [(a, b) for a, b in out]


def switch_days(events: pd.DataFrame | None, city: pd.DataFrame | None = None) -> list[float]:
    """Days of regime switches and policy changes, from events and from changes of ``city.regime``.

    >>> switch_days(None, pd.DataFrame({"t_day": [0, 1, 2, 3], "regime": ["normal", "emergency", "emergency", "normal"]}))
    [1.0, 3.0]
    """
    days: set[float] = set()
    names = _event_names(events)
    hit = names.isin(_SWITCH_NAMES + _LEVER_STARTS) | names.str.endswith("_switch")
    if hit.any():
        days.update(float(d) for d in events.loc[hit.to_numpy(), "t_day"])
    if city is not None and "regime" in city and len(city) > 1:
        reg = city.sort_values("t_day")
        changed = reg["regime"].astype(str).ne(reg["regime"].astype(str).shift()).to_numpy().copy()
        changed[0] = False
        days.update(float(d) for d in reg.loc[changed, "t_day"])
    return sorted(days)


def regime_days(city: pd.DataFrame | None) -> dict[str, int]:
    """Days spent in the emergency and extreme regimes (``city.regime``); empty without it.

    >>> regime_days(pd.DataFrame({"regime": ["normal", "emergency", "extreme", "extreme"]}))
    {'days_emergency': 1, 'days_extreme': 2}
    """
    if city is None or "regime" not in city:
        return {}
    reg = city["regime"].astype(str)
    return {"days_emergency": int((reg == "emergency").sum()), "days_extreme": int((reg == "extreme").sum())}
