"""Evolvability as a mechanism: after each shock episode the city keeps some adaptations.

The episodes are those the metrics read (:func:`twin.metrics.timing.episodes`: scheduled shocks,
lockdowns and regimes forced on schedule that overlap or touch), known from the scenario. When one
ends (plus ``learning.delay_days``) the levers of ``[learning]`` take effect and stay:

- reserves refilled to a higher level: reserve warehouses' order-up-to level x ``reserve_stock_factor``;
- household stockpiles: ``household_stock_days_added`` more days of need in every household's habit;
- passes and bubbles made standing practice: the highest pass share and every bubble kind of the
  regimes the city went through during the episode apply in every regime that leaves them unset;
- contingency contracts: a later supply cut leaves at least ``contract_supply_floor`` of supply.

Each is set, not compounded, so a third shock meets the same adapted city. Every adaptation is
logged as an ``adaptation_kept`` event.
"""

from __future__ import annotations

import pandas as pd

from twin.metrics.timing import LEVER_KINDS, episodes
from twin.scenario.schema import Scenario
from twin.world import Urgent, World

__all__ = ["learning", "scenario_episodes"]


def scenario_episodes(sc: Scenario, days: int) -> list[tuple[float, float]]:
    """The shock episodes a scenario schedules (the metrics' definition, read from the scenario).

    >>> from twin.scenario.schema import Scenario
    >>> sc = Scenario.model_validate({"shocks": [
    ...     {"name": "a", "kind": "supply_cut", "factor": 0.5, "start_day": 5, "end_day": 10},
    ...     {"name": "v", "kind": "subsidy", "factor": 0.2, "start_day": 12, "end_day": 30},
    ...     {"name": "b", "kind": "supply_cut", "factor": 0.5, "start_day": 20, "end_day": 25}]})
    >>> scenario_episodes(sc, 40)
    [(5.0, 10.0), (20.0, 25.0)]
    """
    rows = [(s.start_day, s.end_day) for s in sc.shocks if s.kind not in LEVER_KINDS]
    rows += [(lk.start_day, lk.end_day) for lk in sc.lockdowns]
    schedule = sorted(sc.regimes.schedule, key=lambda s: s.day)
    for i, s in enumerate(schedule):
        if s.to != "normal":
            back = [t.day for t in schedule[i + 1:] if t.to == "normal"]
            rows.append((s.day, back[0] if back else days))
    frame = pd.DataFrame(rows, columns=["start_day", "end_day"], dtype=float)
    return episodes(frame.assign(end_day=frame["end_day"].clip(upper=days)))


def learning(env, world: World, days: int):
    """Keep the adaptations of ``[learning]`` from the end of each shock episode on."""
    spec = world.sc.learning
    if not spec.enabled:
        return
    seen: set[str] = set()
    old_levels = world.level_days.copy()         # the old normal the reserves are refilled above
    for start, end in scenario_episodes(world.sc, days):
        while env.now < end * 24.0:              # the regimes the city goes through in the episode
            if env.now >= start * 24.0:
                seen.add(world.regime)
            yield Urgent(env, min(24.0, end * 24.0 - env.now))
        seen.add(world.regime)
        yield Urgent(env, spec.delay_days * 24.0)
        _keep(world, spec, seen, old_levels)


def _keep(world: World, spec, regimes: set[str], old_levels) -> None:
    net = world.net
    if spec.reserve_stock_factor > 1.0:
        reserves = net.is_kind("reserve_warehouse")
        world.level_days[reserves] = old_levels[reserves] * spec.reserve_stock_factor
        world.log("adaptation_kept", "reserve_warehouse", "reserves_refilled_higher", spec.reserve_stock_factor)
    if spec.household_stock_days_added > 0:
        world.hh_stock_extra_days = spec.household_stock_days_added
        world.log("adaptation_kept", "households", "household_stockpiles", spec.household_stock_days_added)
    if spec.standing_passes_and_bubbles:
        packages = [getattr(world.sc.regimes, r) for r in sorted(regimes)]
        passes = [p.pass_share for p in packages if p.pass_share is not None]
        kinds = sorted({k for p in packages for k in (p.bubble_kinds or [])})
        if passes:
            world.standing["pass_share"] = max(passes)
            world.log("adaptation_kept", "supply_workers", "standing_passes", max(passes))
        if kinds:
            world.standing["bubble_kinds"] = kinds
            world.log("adaptation_kept", ",".join(kinds), "standing_bubbles", float(len(kinds)))
    if spec.contract_supply_floor > 0:
        world.supply_floor = spec.contract_supply_floor
        world.log("adaptation_kept", "out_of_province_base", "contingency_contracts", spec.contract_supply_floor)
