"""The raw topology of a city, before planning: who exists, who links to whom.

Both the generator and hand-written scenarios produce a :class:`Topology`; the builder then
plans flows and sizes staff from it. Staff, drivers and couriers use two special values:
``nan`` means "size from planned flow" (generated cities) and ``inf`` means "unlimited".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin.scenario.schema import Scenario

__all__ = ["Topology", "explicit_topology"]


@dataclass
class Topology:
    """Column arrays describing nodes, links, communities and shopping edges."""

    districts: list[str]
    node_ids: list[str]
    kind: list[str]
    node_district: np.ndarray
    staff: np.ndarray
    drivers: np.ndarray
    couriers: np.ndarray
    production_kg_day: np.ndarray   # [N, C]
    stock_days: np.ndarray
    link_src: np.ndarray
    link_dst: np.ndarray
    travel_h: np.ndarray
    truck_kg: np.ndarray
    link_weight: np.ndarray
    standby: np.ndarray
    community_ids: list[str]
    comm_district: np.ndarray
    population: np.ndarray
    elderly_share: np.ndarray
    offline_share: np.ndarray
    low_income_share: np.ndarray
    hh_stock_days: np.ndarray
    edge_comm: np.ndarray
    edge_outlet: np.ndarray
    edge_weight: np.ndarray
    comm_fw: np.ndarray
    generated: bool = False


def explicit_topology(sc: Scenario) -> Topology:
    """Topology from hand-written ``network.nodes``, ``network.links`` and ``city.communities``."""
    net, city = sc.network, sc.city
    cats = [c.name for c in sc.categories]
    need = np.array([c.need_kg_per_person_day for c in sc.categories])
    districts = [d.name for d in city.districts] or sorted(
        {c.district for c in city.communities} | {n.district for n in net.nodes if n.district})
    d_index = {d: i for i, d in enumerate(districts)}
    ids = [n.id for n in net.nodes]
    n_index = {n: i for i, n in enumerate(ids)}

    def unlimited(v: float | None) -> float:
        return np.inf if v is None else float(v)

    prod = np.zeros((len(ids), len(cats)))
    for i, n in enumerate(net.nodes):
        if n.production_kg_per_day > 0:
            mask = np.array([n.produces is None or c in n.produces for c in cats], dtype=float)
            weights = need * mask
            if weights.sum() > 0:
                prod[i] = n.production_kg_per_day * weights / weights.sum()
    comms = city.communities
    edges = [(k, n_index[o]) for k, c in enumerate(comms) for o in c.outlets]
    return Topology(
        districts=districts,
        node_ids=ids,
        kind=[n.kind for n in net.nodes],
        node_district=np.array([d_index.get(n.district, -1) if n.district else -1 for n in net.nodes], dtype=np.int32),
        staff=np.array([unlimited(n.staff) for n in net.nodes]),
        drivers=np.array([unlimited(n.drivers) for n in net.nodes]),
        couriers=np.array([unlimited(n.couriers) for n in net.nodes]),
        production_kg_day=prod,
        stock_days=np.array([net.stock_days.get(n.kind, 0.0) if n.stock_days is None else n.stock_days
                             for n in net.nodes]),
        link_src=np.array([n_index[lk.src] for lk in net.links], dtype=np.int32),
        link_dst=np.array([n_index[lk.dst] for lk in net.links], dtype=np.int32),
        travel_h=np.array([lk.travel_h for lk in net.links], dtype=float),
        truck_kg=np.array([lk.truck_capacity_kg for lk in net.links], dtype=float),
        link_weight=np.array([lk.weight for lk in net.links], dtype=float),
        standby=np.array([lk.standby for lk in net.links], dtype=bool),
        community_ids=[c.id for c in comms],
        comm_district=np.array([d_index[c.district] for c in comms], dtype=np.int32),
        population=np.array([c.population for c in comms], dtype=float),
        elderly_share=np.array([c.elderly_share for c in comms]),
        offline_share=np.array([c.offline_share for c in comms]),
        low_income_share=np.array([c.low_income_share for c in comms]),
        hh_stock_days=np.array([c.household_stock_days for c in comms]),
        edge_comm=np.array([e[0] for e in edges], dtype=np.int32),
        edge_outlet=np.array([e[1] for e in edges], dtype=np.int32),
        edge_weight=np.ones(len(edges)),
        comm_fw=np.array([n_index[c.front_warehouse] if c.front_warehouse else -1 for c in comms], dtype=np.int32),
    )
