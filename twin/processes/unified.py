"""Unified government supply (统一保供): packages per head from reserve warehouses.

While the mode is in force: joint inter-provincial supply flows into the reserves after its
lead time; after the administrative delay, every compound receives a standard package each
``interval_days`` (staggered), sorted and packed at its district's reserve warehouse and
community supply points (few item types: ``packing_speedup``), carried by the reserve's drivers and requisitioned vehicles, and
taken the last 100 metres by volunteers where the compound is under static management.
When stock or capacity is short, every compound due gets the same share of its package.
"""

from __future__ import annotations

import numpy as np

from twin.network.model import group_sum
from twin.policies.flows import fit_rows
from twin.policies.modes import package_due, per_head_allocation
from twin.world import World

__all__ = ["UnifiedSupply"]


class UnifiedSupply:
    """The state firms' distribution of one run."""

    def __init__(self, world: World):
        self.world = world
        sc, net = world.sc, world.net
        self.spec = sc.unified
        self.reserves = net.nodes_of("reserve_warehouse")
        self.points = net.nodes_of("community_supply_point")
        names = list(net.categories)
        self.package = np.zeros(net.n_categories)
        for name, kg in self.spec.package_kg_per_person.items():
            if name in names:   # the default package names categories a custom scenario may lack
                self.package[names.index(name)] = kg
        nd = len(net.districts)
        pop_d = group_sum(net.comm_district, net.population, nd)
        # each district is served by its own reserves (or by every reserve if it has none) and its own
        # community supply points, where the city has set them up
        self.serving = [self.reserves[net.node_district[self.reserves] == d] for d in range(nd)]
        self.serving = [np.concatenate([r if len(r) else self.reserves, self.points[net.node_district[self.points] == d]])
                        for d, r in enumerate(self.serving)]
        self.is_point = net.is_kind("community_supply_point")
        self.requisitioned = np.zeros(net.n_nodes)
        for d, r in enumerate(self.serving):
            r = r[~self.is_point[r]]   # vehicles go to the reserves; supply points need none
            if len(r):
                self.requisitioned[r] += self.spec.requisitioned_kg_per_1000_day * pop_d[d] / 1000.0 / len(r)
        share = self.package / self.package.sum() if self.package.sum() > 0 else self.package
        joint = self.spec.joint_supply_kg_per_day_per_1000 * net.population.sum() / 1000.0
        weight = np.array([pop_d[net.node_district[r]] if net.node_district[r] >= 0 else pop_d.mean()
                           for r in self.reserves]) if len(self.reserves) else np.zeros(0)
        self.joint = (weight / weight.sum())[:, None] * joint * share[None, :] if len(self.reserves) else None

    def process(self, env, hour: float):
        """Every day at ``hour``: joint supply arrives, packages go out."""
        w = self.world
        yield env.timeout(hour)
        while True:
            day = int(env.now // 24)
            on = w.mode_on("unified") and len(self.reserves) > 0
            w.packing_mult[self.reserves] = self.spec.packing_speedup if on else 1.0
            w.packing_mult[self.points] = self.spec.packing_speedup if on else 1.0
            if on:
                since = w.mode_since["unified"]
                if day >= since + self.spec.joint_supply_lead_days:
                    self._joint_supply()
                first = since + self.spec.admin_delay_days
                due = package_due(day, first, self.spec.interval_days, w.net.n_communities)
                if due.any():
                    self._packages(due)
            yield env.timeout(24.0)

    def _joint_supply(self) -> None:
        w = self.world
        w.stock[self.reserves] += self.joint
        w.cum_inflow += self.joint.sum(axis=0)
        w.day_node_in[self.reserves] += self.joint.sum(axis=1)

    def _packages(self, due: np.ndarray) -> None:
        w, net = self.world, self.world.net
        wanted = np.where(due[:, None], net.population[:, None] * self.package[None, :], 0.0)
        wanted = fit_rows(wanted, w.gate_left)
        for d, reserves in enumerate(self.serving):
            comms = np.flatnonzero((net.comm_district == d) & due)
            if not len(comms):
                continue
            got = np.ascontiguousarray(per_head_allocation(wanted[comms], self._available(reserves)))
            if got.sum() <= 0:
                continue
            held = w.stock[reserves]
            with np.errstate(invalid="ignore", divide="ignore"):
                share = np.where(held.sum(axis=0) > 0, held / np.where(held.sum(axis=0) > 0, held.sum(axis=0), 1.0), 0.0)
            taken = share * got.sum(axis=0)[None, :]
            spent = (got * net.price_per_kg[None, :]).sum(axis=1) * self.spec.price_index
            w.hand_over(reserves, taken, got, "unified", pushed=True, spent_cny=spent, rows=comms)
            w.gate_left[comms] -= got.sum(axis=1)

    def _available(self, reserves: np.ndarray) -> np.ndarray:
        """Kg per category the sources can pack and carry today: stock within packing and
        transport capacity (reserves: own drivers plus requisitioned vehicles; supply points sit
        within the compounds' walking distance and need no trucks)."""
        w = self.world
        stock = w.stock[reserves] * ~w.shut[reserves, None]
        truck = np.where(self.is_point[reserves], np.inf, w.fleet_kg()[reserves] + self.requisitioned[reserves])
        cap = np.minimum(w.handling_left()[reserves], truck)
        return fit_rows(stock, cap).sum(axis=0)
