"""The simulated world's mutable state: stocks, goods on the way, shock levers, daily tallies.

Only processes (``twin.processes``) change it. All quantities are kg unless named otherwise.
"""

from __future__ import annotations

import numpy as np
import simpy

from twin.network.model import BASE_KINDS, Network
from twin.policies.flows import online_share
from twin.scenario.schema import Scenario

__all__ = ["World", "Urgent"]


class Urgent(simpy.Event):
    """An event that fires after ``delay`` hours ahead of normal events at the same instant.

    Deliveries and shock changes use it, so that at a tie they are booked before any daily
    phase (production, dispatch, shopping, spoilage, recording) looks at the world.
    """

    def __init__(self, env: simpy.Environment, delay: float, value: object = None):
        super().__init__(env)
        self._ok = True
        self._value = value
        env.schedule(self, simpy.core.URGENT, delay)


class World:
    """State of one run. Arrays are [N nodes, C categories] or [K communities, C categories]."""

    def __init__(self, env: simpy.Environment, net: Network, sc: Scenario):
        self.env, self.net, self.sc = env, net, sc
        n, k, c = net.n_nodes, net.n_communities, net.n_categories
        inbound = np.bincount(net.link_dst, weights=net.travel_h, minlength=n)
        inbound /= np.maximum(np.bincount(net.link_dst, minlength=n), 1)
        #: order-up-to level in days of coverage: target + one day's review + the inbound trip
        self.level_days = net.stock_days + 1.0 + inbound[:, None] / 24.0
        self.stock = self.level_days * net.coverage_kg_day
        self.pipeline = np.zeros((n, c))          # ordered, on a truck, not yet arrived
        self.need_base = net.population[:, None] * net.need_kg_pp[None, :]   # [K, C] kg/day
        self.hh_stock = net.hh_stock_days[:, None] * self.need_base
        self.online_share = online_share(net.offline_share, net.comm_fw, sc.households.online_share)
        self.is_base = net.is_kind(*BASE_KINDS)
        self.is_oop = net.is_kind("out_of_province_base")
        # levers set by shocks (recomputed from the active set, never patched by hand)
        self.closed = np.zeros(n, dtype=bool)
        self.capacity_mult = np.ones(n)
        self.supply_mult = np.ones(n)
        self.surge = np.ones(k)
        self.released = np.zeros(n, dtype=bool)
        # cumulative flows per category
        self.cum_inflow = self.stock.sum(axis=0) + self.hh_stock.sum(axis=0)  # initial stock enters at t=0
        self.cum_consumed = np.zeros(c)
        self.cum_spoiled = np.zeros(c)
        # per-day tallies, zeroed by the recorder
        self.day_node_in = np.zeros(n)
        self.day_node_out = np.zeros(n)
        self.day_node_spoiled = np.zeros(n)
        self.day_trucks = np.zeros(n)
        self.day_comm = {key: np.zeros(k) for key in
                         ("need_kg", "demand_kg", "delivered_offline_kg", "delivered_online_kg", "consumed_kg")}

    # -- capacities (kg/day), all scaled by the node's capacity multiplier ----------------------
    def handling_kg(self) -> np.ndarray:
        """What a node's handling staff can process today."""
        return _scaled(self.net.staff, self.net.handling_kg_per_worker, self.capacity_mult)

    def fleet_kg(self) -> np.ndarray:
        """What a node's drivers can carry today."""
        return _scaled(self.net.drivers, self.net.fleet_kg_per_driver, self.capacity_mult)

    def courier_kg(self) -> np.ndarray:
        """What a front warehouse's couriers can deliver today."""
        return _scaled(self.net.couriers, self.net.courier_kg_per_day, self.capacity_mult)

    def active_staff(self) -> np.ndarray:
        """Workers at work over a node's pools (inf where a pool is unlimited)."""
        total = self.net.staff + self.net.drivers + self.net.couriers
        return np.where(self.closed, 0.0, total)

    def order_level(self) -> np.ndarray:
        """Order-up-to level [N, C]: coverage x days, scaled by the city's population-weighted surge."""
        surge = float(np.average(self.surge, weights=self.net.population))
        return self.level_days * self.net.coverage_kg_day * surge


def _scaled(workers: np.ndarray, kg_per_worker, mult: np.ndarray) -> np.ndarray:
    """workers x productivity x multiplier, where an unlimited pool (inf) stays unlimited unless cut to 0."""
    with np.errstate(invalid="ignore"):
        cap = workers * kg_per_worker * mult
    return np.where(mult == 0, 0.0, np.where(np.isinf(workers), np.inf, cap))
