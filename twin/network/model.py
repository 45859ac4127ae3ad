"""The network as plain data: numpy arrays indexed by node, link, community and category.

Built once per run by :func:`twin.network.build.build_network`; the simulation never changes it
(mutable state lives in :class:`twin.world.World`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from twin.jit import kernel
from twin.scenario.schema import NODE_KINDS

__all__ = ["KIND_CODE", "KIND_TIER", "OUTLET_KINDS", "BASE_KINDS", "Network", "group_sum"]

KIND_CODE = {k: i for i, k in enumerate(NODE_KINDS)}

#: Tier of each node kind: 0 production, 1 edge transfer, 2 city hubs, 3 sorting, 4 outlets.
#: Communities are tier 5. A supplier tier dispatches in its own wave of the day.
KIND_TIER = {
    "out_of_province_base": 0, "suburban_base": 0, "transfer_station": 1,
    "transit_warehouse": 2, "wholesale_market": 2, "reserve_warehouse": 2,
    "sorting_centre": 3, "front_warehouse": 4, "supermarket": 4, "wet_market": 4,
    "community_supply_point": 4,
}
BASE_KINDS = ("out_of_province_base", "suburban_base")
OUTLET_KINDS = ("supermarket", "wet_market")  # where residents shop in person


def group_sum(index: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Sum rows of ``values`` by ``index`` into ``n`` groups (a sparse matrix product).

    One compiled pass over the rows (:func:`_group_rows`): every group sums its rows in row
    order, as a bincount does (the same floats), without a bincount's per-column passes nor a
    sparse product's per-call overhead. An index outside ``0 .. n - 1`` is an error.

    >>> group_sum(np.array([0, 2, 0]), np.array([1.0, 2.0, 3.0]), 3).tolist()
    [4.0, 0.0, 2.0]
    """
    index = np.asarray(index)
    if index.dtype.kind not in "iu":
        index = index.astype(np.intp)
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        return _group_values(index, values, n)
    return _group_rows(index, values, n)


@kernel
def _group_values(index, values, n):   # pragma: no cover (compiled)
    """:func:`group_sum` of a vector ``values`` [R]: ``np.bincount(index, values, n)``."""
    out = np.zeros(n)
    for r in range(values.shape[0]):
        g = index[r]
        if g < 0 or g >= n:
            raise ValueError("group_sum: an index is outside 0 .. n - 1")
        out[g] += values[r]
    return out


@kernel
def _group_rows(index, values, n):   # pragma: no cover (compiled)
    """:func:`group_sum` of rows ``values`` [R, W]: each group's rows added in row order."""
    w = values.shape[1]
    out = np.zeros((n, w))
    for r in range(values.shape[0]):
        g = index[r]
        if g < 0 or g >= n:
            raise ValueError("group_sum: an index is outside 0 .. n - 1")
        for j in range(w):
            out[g, j] += values[r, j]
    return out


@dataclass(frozen=True, eq=False)
class Network:
    """A city's supply network and population, as arrays (N nodes, L links, K communities, C categories)."""

    categories: tuple[str, ...]
    need_kg_pp: np.ndarray          # [C] kg/person/day
    spoilage_per_day: np.ndarray    # [C]
    price_per_kg: np.ndarray        # [C] baseline
    districts: tuple[str, ...]
    node_ids: tuple[str, ...]
    kind: np.ndarray                # [N] int8 code into NODE_KINDS
    tier: np.ndarray                # [N] int8
    node_district: np.ndarray       # [N] int32, -1 if none
    staff: np.ndarray               # [N] headcount (inf = unlimited)
    drivers: np.ndarray             # [N]
    couriers: np.ndarray            # [N]
    handling_kg_per_worker: np.ndarray  # [N] kg/worker/day for the node's kind
    fleet_kg_per_driver: np.ndarray     # [N] kg/driver/day (trips x truck payload)
    courier_kg_per_day: float           # kg one courier delivers a day
    production_kg_day: np.ndarray   # [N, C] capacity of bases
    stock_days: np.ndarray          # [N, C] target stock in days of the flow served
    coverage_kg_day: np.ndarray     # [N, C] the daily flow a node's target stock is sized on
    link_src: np.ndarray            # [L] int32
    link_dst: np.ndarray            # [L] int32
    travel_h: np.ndarray            # [L] hours, multiple of 0.25
    truck_kg: np.ndarray            # [L]
    link_weight: np.ndarray         # [L]
    standby: np.ndarray             # [L] bool: used only when released (reserves)
    link_share: np.ndarray          # [L, C] planned share of dst's orders on the link (normal times)
    community_ids: tuple[str, ...]
    comm_district: np.ndarray       # [K] int32
    population: np.ndarray          # [K] residents
    elderly_share: np.ndarray       # [K]
    offline_share: np.ndarray       # [K]
    low_income_share: np.ndarray    # [K]
    elasticity: np.ndarray          # [C] own-price elasticity (absolute)
    hh_stock_days: np.ndarray       # [K]
    edge_comm: np.ndarray           # [E] community of a shopping edge
    edge_outlet: np.ndarray         # [E] outlet node of that edge
    edge_weight: np.ndarray         # [E]
    comm_fw: np.ndarray             # [K] front warehouse node, -1 if none

    def __post_init__(self) -> None:
        # the simulation never changes the network (its state lives in World): its arrays are
        # read-only, which lets a sweep share one network
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray):
                value.setflags(write=False)

    @property
    def n_nodes(self) -> int:
        return len(self.node_ids)

    @property
    def n_communities(self) -> int:
        return len(self.community_ids)

    @property
    def n_categories(self) -> int:
        return len(self.categories)

    def kind_name(self, i: int) -> str:
        return NODE_KINDS[int(self.kind[i])]

    def nodes_of(self, *kinds: str) -> np.ndarray:
        """Indices of nodes of the given kinds."""
        codes = [KIND_CODE[k] for k in kinds]
        return np.flatnonzero(np.isin(self.kind, codes))

    def is_kind(self, *kinds: str) -> np.ndarray:
        """Boolean mask [N] of nodes of the given kinds."""
        return np.isin(self.kind, [KIND_CODE[k] for k in kinds])
