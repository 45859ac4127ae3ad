"""Community group buying (团购): a step of the households' day, while the mode is in force.

Group leaders collect orders of their compound; distributors buy from the city's hubs
(wholesale markets and transit warehouses) and deliver to the compound gate; volunteers carry
the last 100 metres under static management.
"""

from __future__ import annotations

import numpy as np

from twin.network.model import group_sum
from twin.policies.flows import fit_rows
from twin.policies.modes import group_orders, groups_formed, participation
from twin.pools import VOLUNTEERS
from twin.rng import stream
from twin.world import World

__all__ = ["GroupBuying"]


class GroupBuying:
    """Leaders, bans and fatigue of group buying over one run."""

    def __init__(self, world: World, seed):
        self.world = world
        self.spec = world.sc.group_buying
        self.rng = stream(seed, "group_buying")
        net = world.net
        self.has_leader = self.rng.random(net.n_communities) < self.spec.leader_share
        self.banned_until = np.full(net.n_communities, -np.inf)
        self.hubs = np.flatnonzero(net.is_kind("wholesale_market", "transit_warehouse"))
        pop_d = group_sum(net.comm_district, net.population, len(net.districts))
        self.capacity_d = self.spec.distributor_kg_per_1000_day * pop_d / 1000.0
        self.perishable = np.array([c.max_stock_days is not None for c in world.sc.categories])
        vols = np.flatnonzero(world.pools.role == VOLUNTEERS)
        self.vol_pool = np.full(net.n_communities, -1)
        self.vol_pool[world.pools.comm[vols]] = vols

    def buy(self, day: int, demand: np.ndarray, paid_index: np.ndarray) -> np.ndarray:
        """Serve today's group orders; return what each compound asked through its group [K, C]."""
        w, s, net = self.world, self.spec, self.world.net
        asked = np.zeros_like(demand)
        since = w.mode_since.get("group_buying")
        if since is None or day < since + s.review_delay_days or not len(self.hubs):
            return asked
        pools = w.pools
        vol = self.vol_pool
        active = np.where(vol >= 0, pools.active()[np.maximum(vol, 0)] / np.maximum(pools.headcount[np.maximum(vol, 0)], 1), 1.0)
        leader_free = self.rng.random(net.n_communities) < np.clip(active, 0.0, 1.0)
        if s.ban_on_infection:
            found = np.where(vol >= 0, pools.new_detected[np.maximum(vol, 0)], 0) > 0
            self.banned_until = np.where(found, day + s.ban_days, self.banned_until)
        share = participation(s.participation, s.fatigue_per_day, day - since - s.review_delay_days)
        orders = group_orders(net.population, net.offline_share, s.household_size, share)
        formed = groups_formed(orders, s.min_orders, self.has_leader, leader_free, self.banned_until > day)
        purchase = w.policy_value("group_purchase_share", s.purchase_share)
        asked = demand * ((1.0 - net.offline_share) * share * purchase * formed)[:, None]
        asked = self._gate(asked)
        got = self._supply(asked)
        self._hand_over(got, paid_index)
        return asked

    def _gate(self, asked: np.ndarray) -> np.ndarray:
        """Under static management, volunteers carry at most the gate's room left today."""
        return fit_rows(asked, self.world.gate_left)

    def _supply(self, asked: np.ndarray) -> np.ndarray:
        """Hubs' stock rationed per category; distributors' capacity per district."""
        net = self.world.net
        offered = self._available().sum(axis=0)
        wanted = asked.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            fill = np.where(wanted > offered, offered / np.where(wanted > 0, wanted, 1.0), 1.0)
        got = asked * fill[None, :]
        per_d = group_sum(net.comm_district, got.sum(axis=1), len(net.districts))
        with np.errstate(invalid="ignore", divide="ignore"):
            cap = np.where(per_d > self.capacity_d, self.capacity_d / np.where(per_d > 0, per_d, 1.0), 1.0)
        return got * cap[net.comm_district][:, None]

    def _available(self) -> np.ndarray:
        """What each hub can hand to distributors today [H, C]: stock on offer, within the
        handling capacity its staff have left (open hubs only)."""
        w = self.world
        return fit_rows(w.offered()[self.hubs] * ~w.closed[self.hubs, None], w.handling_left()[self.hubs])

    def _hand_over(self, got: np.ndarray, paid_index: np.ndarray) -> None:
        """Take from hubs pro rata to their stock; weak quality control spoils a share of perishables
        on the way; residents pay the market price plus the group's markup."""
        w, net = self.world, self.world.net
        total = got.sum(axis=0)
        if total.sum() <= 0:
            return
        offered = self._available()
        held = offered.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(held > 0, offered / np.where(held > 0, held, 1.0), 0.0)   # [H, C]
        lost = got * (self.spec.qc_loss_share * self.perishable)[None, :]
        kept = got - lost
        spoiled = share * lost.sum(axis=0)[None, :]
        w.stock[self.hubs] -= spoiled
        w.cum_spoiled += spoiled.sum(axis=0)
        w.day_node_spoiled[self.hubs] += spoiled.sum(axis=1)
        spent = (kept * net.price_per_kg[None, :] * paid_index * (1.0 + self.spec.markup)).sum(axis=1)
        w.hand_over(self.hubs, share * kept.sum(axis=0)[None, :], kept, "group", spent_cny=spent)
        w.gate_left -= kept.sum(axis=1)
