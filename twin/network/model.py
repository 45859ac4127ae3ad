"""The network as plain data: numpy arrays indexed by node, link, community and category.

Built once per run by :func:`twin.network.build.build_network`; the simulation never changes it
(mutable state lives in :class:`twin.world.World`).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, fields

import numpy as np

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

    A read-only ``index`` (the network's arrays, e.g. ``edge_comm``) is taken as fixed: its
    sparse matrix is built once and reused (:func:`_grouping`), several times faster than a
    bincount on the city's [E, C] arrays. Every group sums its rows in row order either way, so
    the floats are the same.

    >>> group_sum(np.array([0, 2, 0]), np.array([1.0, 2.0, 3.0]), 3).tolist()
    [4.0, 0.0, 2.0]
    """
    if values.ndim == 1:
        return np.bincount(index, weights=values, minlength=n).astype(float, copy=False)
    if values.size >= _GROUPING_MIN_CELLS and isinstance(index, np.ndarray) and not index.flags.writeable:
        return _grouping(index, n) @ values.astype(float, copy=False)
    # one bincount over (row, column) cells: each cell still sums its rows in row order, as one
    # bincount per column would (same floats), and beats both that and np.add.at
    c = values.shape[1]
    cells = (np.asarray(index, dtype=np.intp)[:, None] * c + np.arange(c)).ravel()
    return np.bincount(cells, weights=values.ravel(), minlength=n * c).reshape(n, c)


_GROUPING_MIN_CELLS = 20_000   # below this a bincount is as fast as the matrix product
_GROUPINGS: OrderedDict[tuple[int, int], tuple[np.ndarray, object]] = OrderedDict()
_GROUPINGS_KEPT = 64


def _grouping(index: np.ndarray, n: int):
    """The [n, len(index)] 0/1 matrix of a read-only ``index`` (CSR, columns in row order), kept
    for the last :data:`_GROUPINGS_KEPT` indexes used. An entry holds its index array, so the id
    it is found by cannot pass to another array while it is kept; a read-only array cannot
    change (the network's arrays are read-only, :class:`Network`)."""
    key = (id(index), n)
    hit = _GROUPINGS.get(key)
    if hit is not None and hit[0] is index:
        _GROUPINGS.move_to_end(key)
        return hit[1]
    from scipy.sparse import csr_array
    rows = np.asarray(index, dtype=np.int64)
    order = np.argsort(rows, kind="stable")   # within a group, rows in their order: the bincount's sums
    counts = np.bincount(rows, minlength=n)
    matrix = csr_array((np.ones(len(rows)), order, np.r_[0, np.cumsum(counts)]), shape=(n, len(rows)))
    _GROUPINGS[key] = (index, matrix)
    if len(_GROUPINGS) > _GROUPINGS_KEPT:
        _GROUPINGS.popitem(last=False)
    return matrix


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
        # read-only, which lets group_sum keep a matrix per index array and a sweep share one network
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
