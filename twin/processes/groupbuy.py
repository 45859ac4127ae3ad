"""Community group buying (团购): a step of the households' day, while the mode is in force.

Group leaders collect orders of their compound; distributors buy in bulk from the district's
outlets, dark stores and supply points, then from the city's hubs and producers
(``group_buying.source_kinds``), and truck the orders to the compound gate; volunteers carry
the last 100 metres under static management.
"""

from __future__ import annotations

import numpy as np

from twin.network.model import group_sum
from twin.policies.flows import fit_rows
from twin.policies.modes import group_orders, groups_formed, participation
from twin.policies.residents import share_out
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
        self.sources = np.flatnonzero(net.is_kind(*self.spec.source_kinds))
        self.src_district = net.node_district[self.sources].astype(np.int64)
        pop_d = group_sum(net.comm_district, net.population, len(net.districts))
        self.capacity_d = self.spec.distributor_kg_per_1000_day * pop_d / 1000.0
        self.perishable = np.array([c.max_stock_days is not None for c in world.sc.categories])
        # the markup's cut of group orders per resident group and category [G, C]
        self.markup_cut = (1.0 + self.spec.markup) ** -world.elasticity_g
        vols = np.flatnonzero(world.pools.role == VOLUNTEERS)
        self.vol_pool = np.full(net.n_communities, -1)
        self.vol_pool[world.pools.comm[vols]] = vols

    def buy(self, day: int, demand: np.ndarray, paid_index: np.ndarray) -> np.ndarray:
        """Serve today's group orders of ``demand`` [K, G, C] at the market index ``paid_index`` [K, C];
        return what each resident group asked through its compound's group [K, G, C].

        Only groups that order online take part; members compare the group's price (market x
        (1 + markup)) with the market's, so the markup cuts what they order through the group by
        ``(1 + markup)^-e`` (their own elasticity ``e``); the rest goes to the market."""
        w, s, net = self.world, self.spec, self.world.net
        asked = np.zeros_like(demand)
        since = w.mode_since.get("group_buying")
        if since is None or day < since + s.review_delay_days or not len(self.sources):
            return asked
        pools = w.pools
        vol = self.vol_pool
        active = np.where(vol >= 0, pools.active()[np.maximum(vol, 0)] / np.maximum(pools.headcount[np.maximum(vol, 0)], 1), 1.0)
        leader_free = self.rng.random(net.n_communities) < np.clip(active, 0.0, 1.0)
        if s.ban_on_infection:
            found = np.where(vol >= 0, pools.new_detected[np.maximum(vol, 0)], 0) > 0
            self.banned_until = np.where(found, day + s.ban_days, self.banned_until)
        share = participation(s.participation, s.fatigue_per_day, day - since - s.review_delay_days)
        offline = (w.members * ~w.group_online[None, :]).sum(axis=1)
        orders = group_orders(net.population, offline, s.household_size, share)
        formed = groups_formed(orders, s.min_orders, self.has_leader, leader_free, self.banned_until > day)
        purchase = w.policy_value("group_purchase_share", s.purchase_share)
        joins = w.group_online[None, :, None] * self.markup_cut[None, :, :]          # [1, G, C]
        asked = demand * joins * (share * purchase * formed)[:, None, None]
        wanted = self._gate(self._serve(self._supply(asked))[0])
        asked = share_out(wanted, asked)
        self._hand_over(wanted, asked, paid_index)
        return asked

    def _gate(self, wanted: np.ndarray) -> np.ndarray:
        """Under static management, volunteers carry at most the gate's room left today (priority
        categories first) of what the distributors can bring [K, C]: the group orders what its
        distributors have (their lists), and the rest of its members' demand goes to the market."""
        w = self.world
        return fit_rows(wanted, w.gate_left, w.priority)

    def _supply(self, asked: np.ndarray) -> np.ndarray:
        """Distributors' capacity per district: what they can take of the compounds' orders [K, C]."""
        net = self.world.net
        wanted = asked.sum(axis=1)
        per_d = group_sum(net.comm_district, wanted.sum(axis=1), len(net.districts))
        with np.errstate(invalid="ignore", divide="ignore"):
            cap = np.where(per_d > self.capacity_d, self.capacity_d / np.where(per_d > 0, per_d, 1.0), 1.0)
        return wanted * cap[net.comm_district][:, None]

    def _available(self) -> np.ndarray:
        """What each source can hand to distributors today [S, C]: stock on offer, within the
        handling capacity its staff have left (sources not shut; shops closed to shoppers sell)."""
        w, src = self.world, self.sources
        return fit_rows(w.offered()[src] * ~w.shut[src, None], w.handling_left()[src])

    def _serve(self, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """What the sources can serve of ``wanted`` [K, C]: the district's sources first, then the
        city-wide ones, pro rata to what they offer. Returns (got [K, C], taken [S, C]); changes
        nothing."""
        net = self.world.net
        got = np.zeros_like(wanted)
        if wanted.sum() <= 0 or not len(self.sources):
            return got, np.zeros((len(self.sources), wanted.shape[1]))
        avail = self._available()
        taken = np.zeros_like(avail)
        nd = len(net.districts)
        local = self.src_district >= 0
        for sel, key, comm_key, groups in ((local, np.maximum(self.src_district, 0), net.comm_district, nd),
                                           (~local, np.zeros(len(self.sources), dtype=np.int64),
                                            np.zeros(net.n_communities, dtype=np.int64), 1)):
            if not sel.any():
                continue
            offer = np.where(sel[:, None], avail - taken, 0.0)
            served, used = serve_from_pools(wanted - got, offer, key, comm_key, groups)
            got += served
            taken += used
        return got, taken

    def _hand_over(self, wanted: np.ndarray, asked: np.ndarray, paid_index: np.ndarray) -> np.ndarray:
        """Serve ``wanted`` [K, C] from the district's sources, then the city-wide ones, pro rata to
        what they offer; weak quality control spoils a share of perishables on the way; residents
        pay the market price plus the group's markup; each resident group gets its share of what
        it ``asked`` [K, G, C]. Returns what reached the gates [K, C]."""
        w, net = self.world, self.world.net
        if wanted.sum() <= 0 or not len(self.sources):
            return np.zeros_like(wanted)
        got, taken = self._serve(wanted)
        lost_share = self.spec.qc_loss_share * self.perishable
        spoiled = taken * lost_share[None, :]
        w.stock[self.sources] -= spoiled
        w.cum_spoiled += spoiled.sum(axis=0)
        w.day_node_spoiled[self.sources] += spoiled.sum(axis=1)
        kept = got * (1.0 - lost_share)[None, :]
        kept_g = share_out(kept, asked)
        unit = net.price_per_kg[None, None, :] * paid_index[:, None, :] * (1.0 + self.spec.markup)
        w.hand_over(self.sources, taken - spoiled, kept_g, "group", spent_cny=(kept_g * unit).sum(axis=2))
        w.gate_left -= kept.sum(axis=1)
        return kept


def serve_from_pools(wanted: np.ndarray, offer: np.ndarray, src_key: np.ndarray, comm_key: np.ndarray,
                     n_keys: int) -> tuple[np.ndarray, np.ndarray]:
    """Serve requests ``wanted`` [K, C] from sources ``offer`` [S, C] pooled by key (a district):
    each key's requests get the same share per category, and each source gives the same share of
    what it offers. Returns (served [K, C], taken [S, C]); both hold the same kg per key.

    >>> served, taken = serve_from_pools(np.array([[4.0], [4.0]]), np.array([[2.0], [4.0]]),
    ...                                  np.array([0, 0]), np.array([0, 0]), 1)
    >>> served.tolist(), taken.tolist()
    ([[3.0], [3.0]], [[2.0], [4.0]])
    """
    offered = group_sum(src_key, offer, n_keys)
    asked = group_sum(comm_key, wanted, n_keys)
    with np.errstate(invalid="ignore", divide="ignore"):
        fill = np.where(asked > offered, offered / np.where(asked > 0, asked, 1.0), 1.0)
        served = wanted * fill[comm_key]
        given = group_sum(comm_key, served, n_keys)
        use = np.where(offered > 0, given / np.where(offered > 0, offered, 1.0), 0.0)
    return served, offer * use[src_key]
