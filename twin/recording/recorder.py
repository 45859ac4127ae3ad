"""The daily snapshot: one process copies the day's state into column buffers, then resets tallies."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from twin.recording.tables import categorical, make_table
from twin.scenario.schema import NODE_KINDS
from twin.world import World

__all__ = ["Recorder", "STATUSES", "node_status"]

STATUSES = ("open", "degraded", "starved", "closed")
STARVED_BELOW = 0.10  # share of target stock under which an open node counts as starved (assumption)


def node_status(closed: np.ndarray, degraded: np.ndarray, stock_kg: np.ndarray, target_kg: np.ndarray) -> np.ndarray:
    """Status code per node (index into :data:`STATUSES`); closed beats starved beats degraded.

    >>> node_status(np.array([0, 0, 0, 1], bool), np.array([0, 1, 0, 0], bool),
    ...             np.array([5.0, 5.0, 0.5, 5.0]), np.array([10.0, 10.0, 10.0, 10.0])).tolist()
    [0, 1, 2, 3]
    """
    code = np.zeros(len(closed), dtype=np.int8)
    code[degraded] = 1
    code[(target_kg > 0) & (stock_kg < STARVED_BELOW * target_kg)] = 2
    code[closed] = 3
    return code


class Recorder:
    """Collects daily columns; :meth:`tables` turns them into Arrow tables."""

    def __init__(self, world: World):
        self.world = world
        self.days: list[int] = []
        self.balance: list[np.ndarray] = []
        self.nodes: dict[str, list[np.ndarray]] = {k: [] for k in (
            "status", "stock_kg", "inflow_kg", "outflow_kg", "spoiled_kg", "trucks", "staff_active",
            "capacity_kg_per_day")}
        self.comms: dict[str, list[np.ndarray]] = {k: [] for k in (
            "need_kg", "demand_kg", "delivered_offline_kg", "delivered_online_kg", "consumed_kg", "hh_stock_days")}
        self.target_kg = (world.net.stock_days * world.net.coverage_kg_day).sum(axis=1)

    def process(self, env, hour: float):
        """Every day at ``hour``: snapshot, then zero the day's tallies."""
        yield env.timeout(hour)
        while True:
            self.snapshot(int(env.now // 24))
            yield env.timeout(24.0)

    def snapshot(self, day: int) -> None:
        w, net = self.world, self.world.net
        self.days.append(day)
        stock = w.stock.sum(axis=0) + w.hh_stock.sum(axis=0)
        self.balance.append(np.stack([w.cum_inflow, w.cum_consumed, w.cum_spoiled, stock, w.pipeline.sum(axis=0)]))
        node_stock = w.stock.sum(axis=1)
        degraded = w.capacity_mult < 1.0
        rec = self.nodes
        rec["status"].append(node_status(w.closed, degraded, node_stock, self.target_kg))
        rec["stock_kg"].append(node_stock)
        rec["inflow_kg"].append(w.day_node_in.copy())
        rec["outflow_kg"].append(w.day_node_out.copy())
        rec["spoiled_kg"].append(w.day_node_spoiled.copy())
        rec["trucks"].append(w.day_trucks.copy())
        rec["staff_active"].append(w.active_staff())
        rec["capacity_kg_per_day"].append(np.where(w.closed, 0.0, w.handling_kg()))  # inf = unlimited
        for key in ("need_kg", "demand_kg", "delivered_offline_kg", "delivered_online_kg", "consumed_kg"):
            self.comms[key].append(w.day_comm[key].copy())
            w.day_comm[key][:] = 0.0
        normal_need = w.need_base.sum(axis=1)
        self.comms["hh_stock_days"].append(w.hh_stock.sum(axis=1) / np.where(normal_need > 0, normal_need, 1.0))
        for arr in (w.day_node_in, w.day_node_out, w.day_node_spoiled, w.day_trucks):
            arr[:] = 0.0

    def tables(self, events: list[dict], meta: dict) -> dict[str, pa.Table]:
        """Balance, nodes, communities and events tables (summary is computed from these)."""
        net = self.world.net
        days = np.array(self.days, dtype=np.int32)
        nd, c, n, k = len(days), net.n_categories, net.n_nodes, net.n_communities
        bal = np.stack(self.balance) if self.balance else np.zeros((0, 5, c))
        balance = make_table({
            "t_day": np.repeat(days, c),
            "category": categorical(np.tile(np.arange(c), nd), net.categories),
            "cum_inflow_kg": bal[:, 0, :].ravel(), "cum_consumed_kg": bal[:, 1, :].ravel(),
            "cum_spoiled_kg": bal[:, 2, :].ravel(), "stock_kg": bal[:, 3, :].ravel(),
            "in_transit_kg": bal[:, 4, :].ravel(),
        }, meta)
        districts = list(net.districts) + ["(city)"]
        node_d = np.where(net.node_district >= 0, net.node_district, len(net.districts))
        cols = {k_: np.concatenate(v) if v else np.zeros(0) for k_, v in self.nodes.items()}
        nodes = make_table({
            "t_day": np.repeat(days, n),
            "node_id": categorical(np.tile(np.arange(n), nd), net.node_ids),
            "kind": categorical(np.tile(net.kind, nd), NODE_KINDS),
            "tier": np.tile(net.tier, nd),
            "district": categorical(np.tile(node_d, nd), districts),
            "status": categorical(cols.pop("status").astype(np.int32), STATUSES),
            **cols,
        }, meta)
        cc = {k_: np.concatenate(v) if v else np.zeros(0) for k_, v in self.comms.items()}
        delivered = cc["delivered_offline_kg"] + cc["delivered_online_kg"]
        communities = make_table({
            "t_day": np.repeat(days, k),
            "community_id": categorical(np.tile(np.arange(k), nd), net.community_ids),
            "district": categorical(np.tile(net.comm_district, nd), net.districts),
            "population": np.tile(net.population, nd),
            "need_kg": cc["need_kg"], "demand_kg": cc["demand_kg"],
            "delivered_offline_kg": cc["delivered_offline_kg"], "delivered_online_kg": cc["delivered_online_kg"],
            "unmet_kg": np.maximum(cc["demand_kg"] - delivered, 0.0),
            "consumed_kg": cc["consumed_kg"],
            "shortfall_kg": np.maximum(cc["need_kg"] - cc["consumed_kg"], 0.0),
            "hh_stock_days": cc["hh_stock_days"],
        }, meta)
        ev = {key: [e[key] for e in events] for key in ("t_h", "t_day", "event", "shock", "target", "factor")}
        events_t = make_table({
            "t_h": pa.array(ev["t_h"], pa.float64()), "t_day": pa.array(ev["t_day"], pa.int32()),
            "event": pa.array(ev["event"], pa.string()).dictionary_encode(),
            "shock": pa.array(ev["shock"], pa.string()).dictionary_encode(),
            "target": pa.array(ev["target"], pa.string()), "factor": pa.array(ev["factor"], pa.float64()),
        }, meta)
        return {"balance": balance, "nodes": nodes, "communities": communities, "events": events_t}
