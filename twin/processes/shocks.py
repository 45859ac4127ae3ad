"""Scheduled shocks: closures, capacity and transport multipliers, supply cuts, demand surges,
panic buying, reserve releases, worker confinement and reinforcement, price levers.

The levers on the world are recomputed from the set of active shocks whenever it changes, so
overlapping shocks combine (closures OR, multipliers multiply) and ending one never undoes
another.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin.network.model import Network
from twin.scenario.loading import ScenarioError
from twin.scenario.response import ROLES
from twin.scenario.schema import Scenario, Shock
from twin.world import Urgent, World

__all__ = ["ShockPlan", "apply_levers", "panic_target_days", "pool_mask", "resolve_shocks", "shock"]


@dataclass(frozen=True)
class ShockPlan:
    """A shock with its targets resolved to node and community indices."""

    index: int
    spec: Shock
    nodes: np.ndarray
    communities: np.ndarray
    districts: np.ndarray      # district indices (all if the shock names none)
    categories: np.ndarray     # bool mask over categories (all if the shock names none)

    @property
    def label(self) -> str:
        return self.spec.name or f"shock_{self.index}"


def resolve_shocks(sc: Scenario, net: Network, source: str = "<scenario>") -> list[ShockPlan]:
    """Resolve every shock's filters; unknown node ids or districts are scenario errors."""
    ids = {nid: i for i, nid in enumerate(net.node_ids)}
    districts = {d: i for i, d in enumerate(net.districts)}
    plans = []
    for i, s in enumerate(sc.shocks):
        for nid in s.nodes:
            if nid not in ids:
                raise ScenarioError(source, f"shocks[{i}].nodes", f"no node named {nid!r} "
                                    f"(ids look like {net.node_ids[0]!r}; see nodes.parquet)")
        for d in s.districts:
            if d not in districts:
                raise ScenarioError(source, f"shocks[{i}].districts",
                                    f"no district named {d!r} (allowed: {', '.join(net.districts)})")
        mask = np.ones(net.n_nodes, dtype=bool)
        if s.nodes:
            mask &= np.isin(np.arange(net.n_nodes), [ids[x] for x in s.nodes])
        if s.kinds:
            mask &= net.is_kind(*s.kinds)
        elif s.kind == "supply_cut" and not s.nodes:
            mask &= net.is_kind("out_of_province_base")
        elif s.kind == "reserve_release" and not s.nodes:
            mask &= net.is_kind("reserve_warehouse")
        if s.districts:
            mask &= np.isin(net.node_district, [districts[d] for d in s.districts])
        nodes = np.flatnonzero(mask)
        if s.count is not None:
            nodes = nodes[:s.count]
        comms = (np.flatnonzero(np.isin(net.comm_district, [districts[d] for d in s.districts]))
                 if s.districts else np.arange(net.n_communities))
        d_idx = np.array([districts[d] for d in s.districts]) if s.districts else np.arange(len(net.districts))
        cats = np.isin(net.categories, s.categories) if s.categories else np.ones(net.n_categories, dtype=bool)
        plans.append(ShockPlan(i, s, nodes, comms, d_idx.astype(np.int64), cats))
    return plans


def apply_levers(world: World, plans: list[ShockPlan], active: set[int], reason: str = "") -> None:
    """Set the world's levers from the active shocks (``reason`` names the shock that changed)."""
    closed = np.zeros(world.net.n_nodes, dtype=bool)
    world.capacity_mult[:] = 1.0
    world.fleet_mult[:] = 1.0
    world.courier_mult[:] = 1.0
    world.panic_target[:] = 0.0
    world.supply_mult[:] = 1.0
    world.surge[:] = 1.0
    world.released[:] = False
    kept = np.ones(len(world.pools))       # share of each pool not confined by shocks
    world.reinforce[:] = 0.0
    world.price_cap[:] = np.inf
    world.fair_share[:] = 0.0
    world.subsidy[:] = 0.0
    world.anti_hoarding[:] = False
    for p in plans:
        if p.index not in active:
            continue
        kind, f = p.spec.kind, p.spec.factor
        if kind == "closure":
            closed[p.nodes] = True
        elif kind == "capacity":
            world.capacity_mult[p.nodes] *= f
        elif kind == "transport":
            roles = p.spec.roles or ("drivers", "couriers")
            if "drivers" in roles:
                world.fleet_mult[p.nodes] *= f
            if "couriers" in roles:
                world.courier_mult[p.nodes] *= f
        elif kind == "panic_buying":
            world.panic_target[p.communities] = np.maximum(world.panic_target[p.communities],
                                                           panic_target_days(world, p.spec)[p.communities])
        elif kind == "supply_cut":
            world.supply_mult[p.nodes] *= max(f, world.supply_floor)   # contingency contracts hold a floor
        elif kind == "demand_surge":
            world.surge[p.communities] *= f
        elif kind == "reserve_release":
            world.released[p.nodes] = True
        elif kind == "confinement":
            kept[pool_mask(world, p)] *= 1.0 - min(f, 1.0)
        elif kind == "reinforcement":
            world.reinforce[pool_mask(world, p)] += f
        elif kind == "price_cap":
            cell = np.ix_(p.districts, np.flatnonzero(p.categories))
            world.price_cap[cell] = np.minimum(world.price_cap[cell], max(f, 1e-9))
        elif kind == "fair_price":
            cell = np.ix_(p.districts, np.flatnonzero(p.categories))
            world.fair_share[cell] = np.maximum(world.fair_share[cell], min(f, 1.0))
        elif kind == "subsidy":
            cell = np.ix_(p.districts, np.flatnonzero(p.categories))
            world.subsidy[cell] = np.maximum(world.subsidy[cell], min(f, 1.0))
        elif kind == "anti_hoarding":
            world.anti_hoarding[p.districts] = True
    _apply_policy(world)
    world.shock_confined = 1.0 - kept
    world.set_closed("shock", closed, reason)


def panic_target_days(world: World, spec: Shock) -> np.ndarray:
    """Stock target [K] in days of need of compounds hit by a panic-buying shock: a share of
    households aims at the panic target, the rest keep their own (never below their own)."""
    h, own = world.sc.households, world.net.hh_stock_days
    share = h.panic_share if spec.panic_share is None else spec.panic_share
    days = h.panic_stock_days if spec.panic_stock_days is None else spec.panic_stock_days
    return np.maximum(own * (1.0 - share) + days * share, own)


def _apply_policy(world: World) -> None:
    """Levers of the regime's policy package, on top of the shocks'."""
    policy = world.policy
    if policy.price_cap_index is not None:
        world.price_cap = np.minimum(world.price_cap, policy.price_cap_index)
    if policy.anti_hoarding:
        world.anti_hoarding[:] = True
    if policy.reserve_release:
        world.released[world.net.is_kind("reserve_warehouse")] = True


def pool_mask(world: World, plan: ShockPlan) -> np.ndarray:
    """Pools a shock targets: crews of its nodes, or volunteers of its communities, in its roles."""
    pools, roles = world.pools, plan.spec.roles or list(ROLES)
    codes = [ROLES.index(r) for r in roles]
    crews = np.isin(pools.node, plan.nodes) & (pools.node >= 0)
    vols = (pools.comm >= 0) & np.isin(pools.comm, plan.communities) & (not plan.spec.nodes) & (not plan.spec.kinds)
    return (crews | vols) & np.isin(pools.role, codes)


def shock(env, world: World, plan: ShockPlan, plans: list[ShockPlan], active: set[int]):
    """Switch one shock on at ``start_day`` and off at ``end_day`` (00:00 of those days).

    Reinforcements arrive ``epidemic.reinforcement_lead_days`` after they are called in.
    """
    s = plan.spec
    lead = world.epi.reinforcement_lead_days if s.kind == "reinforcement" else 0.0
    start = min(s.start_day + lead, s.end_day)
    yield Urgent(env, start * 24.0)
    active.add(plan.index)
    apply_levers(world, plans, active, plan.label)
    world.log(f"{s.kind}_start", _target_text(plan), plan.label, s.factor)
    yield Urgent(env, (s.end_day - start) * 24.0)
    active.discard(plan.index)
    apply_levers(world, plans, active, plan.label)
    world.log(f"{s.kind}_end", _target_text(plan), plan.label, s.factor)


def _target_text(plan: ShockPlan) -> str:
    s = plan.spec
    parts = s.nodes + s.kinds + s.districts + s.roles
    return ",".join(parts) if parts else f"{len(plan.nodes)} nodes"
