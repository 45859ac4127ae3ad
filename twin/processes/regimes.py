"""Regimes: the city's normal, emergency and extreme states and the switches between them.

Each regime has a policy package (modes in force, lockdown level, levers). A switch is decided
on a trigger (a threshold on a figure of the day just ended) or on schedule, and takes effect
``switch_delay_days`` later: the city's agility. Every decision and switch is an event.
"""

from __future__ import annotations

import numpy as np

from twin.policies.epidemic import city_incidence
from twin.policies.modes import trigger_fires
from twin.recording.cascade import FAILED_FILL
from twin.scenario.modes import REGIMES
from twin.world import Urgent, World

__all__ = ["RegimeController", "day_figures"]


def day_figures(world: World) -> dict[str, float]:
    """The figures of the day just ended that triggers can watch."""
    t = world.day_comm
    delivered = sum(v for k, v in t.items() if k.startswith("delivered_")).sum()
    demand, need, eaten = t["demand_kg"].sum(), t["need_kg"].sum(), t["consumed_kg"].sum()
    day = int(world.env.now // 24)
    fill = np.where(t["need_kg"] > 0, t["consumed_kg"] / np.where(t["need_kg"] > 0, t["need_kg"], 1.0), 1.0)
    return {
        "infection_per_100k": city_incidence(world.epi, day),
        "fill_of_need": float(eaten / need) if need > 0 else 1.0,
        "market_service_level": float(delivered / demand) if demand > 0 else 1.0,
        "closed_share": float(world.closed.mean()) if len(world.closed) else 0.0,
        "failed_communities_share": float((fill < FAILED_FILL).mean()) if len(fill) else 0.0,
        "price_index": float(world.price_index.mean()) if world.price_index.size else 1.0,
    }


class RegimeController:
    """Watches the triggers and the schedule; applies policy packages."""

    def __init__(self, world: World, refresh_levers):
        self.world = world
        self.spec = world.sc.regimes
        self.refresh = refresh_levers      # re-applies shocks, lockdowns and the package's levers
        self.pending: str | None = None
        self.last_switch = 0.0

    def process(self, env, hour: float):
        """Decide daily at ``hour`` (before the recorder clears the day's tallies)."""
        for s in self.spec.schedule:
            env.process(self._scheduled(env, s.day, s.to))
        yield env.timeout(hour)
        while True:
            self._check_triggers(env)
            yield env.timeout(24.0)

    def _check_triggers(self, env) -> None:
        w = self.world
        if self.pending is not None or env.now / 24.0 - self.last_switch < self.spec.min_days_in_regime:
            return
        figures = day_figures(w)
        for trig in self.spec.triggers:
            if trig.to == w.regime or (trig.when_in and w.regime not in trig.when_in):
                continue
            if trigger_fires(figures[trig.metric], trig.above, trig.below):
                side = f">{trig.above:g}" if trig.above is not None else f"<{trig.below:g}"
                self._decide(env, trig.to, f"{trig.metric}{side}", figures[trig.metric])
                return

    def _scheduled(self, env, day: float, to: str):
        yield Urgent(env, day * 24.0)
        if to != self.world.regime and self.pending is None:
            self._decide(env, to, "schedule", None)

    def _decide(self, env, to: str, why: str, value) -> None:
        self.pending = to
        self.world.log("regime_decision", f"{self.world.regime}->{to}", why, value)
        env.process(self._switch_later(env, to))

    def _switch_later(self, env, to: str):
        yield Urgent(env, self.spec.switch_delay_days * 24.0)
        self.switch(to)

    def switch(self, to: str) -> None:
        """Put the package of regime ``to`` in force now."""
        w = self.world
        before = w.regime
        package = getattr(self.spec, to)
        day = w.env.now / 24.0
        for mode in set(package.modes) - w.modes:
            w.mode_since[mode] = day
        w.regime, w.policy, w.modes = to, package, set(package.modes)
        self.pending, self.last_switch = None, day
        self.refresh(f"regime_{to}")
        w.log("regime_switch", f"{before}->{to}", f"regime_{to}", float(REGIMES.index(to)))
