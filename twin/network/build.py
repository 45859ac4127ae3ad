"""Scenario -> :class:`Network`: topology, planned flows, staff sizing, checks."""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from contextlib import contextmanager

import numpy as np

from twin.network.generate import generate_topology
from twin.network.model import KIND_CODE, KIND_TIER, Network, group_sum
from twin.network.topology import Topology, explicit_topology
from twin.policies.flows import online_share
from twin.scenario.loading import ScenarioError
from twin.scenario.schema import Scenario

__all__ = ["NETWORK_PARTS", "build_network", "keep_networks", "network_key", "plan_flows", "planned_shares",
           "topological_order"]

_REGIONAL = ("out_of_province_base",)
HOUSEHOLD_SPOILAGE_FACTOR = 0.5  # households lose this share of a shop's spoilage rate (fridges; assumption)
_HANDLERS = {  # which productivity applies to a node's handling staff
    "supermarket": "store_staff_kg_per_day", "wet_market": "store_staff_kg_per_day",
    "community_supply_point": "store_staff_kg_per_day", "front_warehouse": "picker_kg_per_day",
}


#: the scenario parts the network is built from (and ``households.online_share``): nothing else
#: reaches :func:`build_network` (tests/test_fast_paths.py watches what it reads); the run seed
#: never does (a generated city draws from ``city.layout_seed``)
NETWORK_PARTS = ("categories", "city", "network", "workforce")
_KEPT: OrderedDict[str, Network] = OrderedDict()
_keep = 0   # networks kept while inside keep_networks


def network_key(sc: Scenario) -> str:
    """A SHA-256 of the scenario parts :func:`build_network` reads: equal keys, equal networks."""
    parts = {name: getattr(sc, name) for name in NETWORK_PARTS}
    data = {name: [v.model_dump(mode="json") for v in part] if isinstance(part, (list, tuple))
            else part.model_dump(mode="json") for name, part in parts.items()}
    data["households.online_share"] = sc.households.online_share
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


@contextmanager
def keep_networks(n: int = 2):
    """Within: :func:`build_network` keeps the last ``n`` networks it built and returns the one of
    an equal :func:`network_key` instead of building it again (sweep tasks: runs that vary no
    network field share one network, about 2% of a full-city run). Safe to share: a network's
    arrays are read-only and the simulation keeps its state in :class:`twin.world.World`."""
    global _keep
    before, _keep = _keep, max(_keep, n)
    try:
        yield
    finally:
        _keep = before
        while len(_KEPT) > _keep:
            _KEPT.popitem(last=False)


def build_network(sc: Scenario, source: str = "<scenario>") -> Network:
    """Build the network of a scenario: explicit nodes if given, else the generated city (inside
    :func:`keep_networks`, the network built before for an equal :func:`network_key`)."""
    if not _keep:
        return _build(sc, source)
    key = network_key(sc)
    net = _KEPT.get(key)
    if net is None:
        net = _KEPT[key] = _build(sc, source)
        while len(_KEPT) > _keep:
            _KEPT.popitem(last=False)
    _KEPT.move_to_end(key)
    return net


def _build(sc: Scenario, source: str) -> Network:
    topo = explicit_topology(sc) if sc.network.nodes else generate_topology(sc)
    if not topo.community_ids:
        raise ScenarioError(source, "city.communities", "the city has no residents: give communities or a population")
    order = topological_order(topo, source)
    need_pp = np.array([c.need_kg_per_person_day for c in sc.categories])
    online = online_share(topo.offline_share, topo.comm_fw, sc.households.online_share)
    spoil = np.array([c.spoilage_per_day for c in sc.categories])
    days = target_days(topo, sc)
    link_share = planned_shares(topo)
    flow = plan_flows(topo, need_pp, online, order, spoil, days, link_share)
    if topo.generated:  # bases are built to supply what the city plans to buy from them, with a margin
        bases = np.isin(np.array(topo.kind), ("out_of_province_base", "suburban_base"))
        topo.production_kg_day[bases] = sc.network.supply_factor * flow[bases]
    coverage = _coverage(topo, need_pp, flow, sc.network.supply_point_need_share)
    wf = sc.workforce
    kinds = topo.kind
    handling = np.array([getattr(wf, _HANDLERS.get(k, "sorter_kg_per_day")) for k in kinds])
    fleet = _fleet_kg_per_driver(topo, sc)
    courier_kg = wf.parcels_per_courier_day * wf.kg_per_parcel
    online_flow = np.zeros(len(kinds))
    has_fw = topo.comm_fw >= 0
    online_flow += group_sum(topo.comm_fw[has_fw],
                             (topo.population * online)[has_fw] * need_pp.sum(), len(kinds))
    f = sc.network.capacity_factor
    total_flow = flow.sum(axis=1)
    reserve = np.array([k == "reserve_warehouse" for k in kinds])
    point = np.array([k == "community_supply_point" for k in kinds])
    # a reserve must be able to release a quarter of the need it covers each day (assumption);
    # a supply point handles the need it is stocked for once active
    handled = np.where(reserve, coverage.sum(axis=1) * 0.25, np.where(point, coverage.sum(axis=1), total_flow))
    has_out = np.bincount(topo.link_src, minlength=len(kinds)) > 0
    shipped = np.where(reserve, handled, np.where(has_out, total_flow, 0.0))
    need = {"staff": f * handled / handling,
            "drivers": np.where(fleet > 0, f * shipped / np.where(fleet > 0, fleet, 1.0), 0.0),
            "couriers": f * online_flow / courier_kg}
    if topo.generated and wf.crews == "per_10k":
        pop = float(topo.population.sum())
        need = {role: crews_per_10k(kinds, wf.crews_per_10k, role, pop, planned) for role, planned in need.items()}
    staff = _size(topo.staff, need["staff"])
    drivers = _size(topo.drivers, need["drivers"])
    couriers = _size(topo.couriers, need["couriers"])
    return Network(
        categories=tuple(c.name for c in sc.categories),
        need_kg_pp=need_pp,
        spoilage_per_day=np.array([c.spoilage_per_day for c in sc.categories]),
        price_per_kg=np.array([c.baseline_price_per_kg for c in sc.categories]),
        districts=tuple(topo.districts),
        node_ids=tuple(topo.node_ids),
        kind=np.array([KIND_CODE[k] for k in kinds], dtype=np.int8),
        tier=np.array([KIND_TIER[k] for k in kinds], dtype=np.int8),
        node_district=topo.node_district,
        staff=staff, drivers=drivers, couriers=couriers,
        handling_kg_per_worker=handling, fleet_kg_per_driver=fleet, courier_kg_per_day=courier_kg,
        production_kg_day=topo.production_kg_day,
        stock_days=days,
        coverage_kg_day=coverage,
        link_src=topo.link_src, link_dst=topo.link_dst,
        travel_h=np.maximum(0.25, np.ceil(topo.travel_h * 4) / 4),
        truck_kg=topo.truck_kg, link_weight=topo.link_weight, standby=topo.standby, link_share=link_share,
        community_ids=tuple(topo.community_ids), comm_district=topo.comm_district,
        population=topo.population, elderly_share=topo.elderly_share, offline_share=topo.offline_share,
        low_income_share=topo.low_income_share, elasticity=np.array([c.elasticity for c in sc.categories]),
        hh_stock_days=topo.hh_stock_days,
        edge_comm=topo.edge_comm, edge_outlet=topo.edge_outlet, edge_weight=topo.edge_weight,
        comm_fw=topo.comm_fw,
    )


def topological_order(topo: Topology, source: str) -> np.ndarray:
    """Nodes ordered so every active link runs forward; a cycle is a scenario error."""
    n = len(topo.node_ids)
    active = ~topo.standby
    src, dst = topo.link_src[active], topo.link_dst[active]
    indeg = np.bincount(dst, minlength=n)
    children: list[list[int]] = [[] for _ in range(n)]
    for s, d in zip(src.tolist(), dst.tolist()):
        children[s].append(d)
    ready = [i for i in range(n) if indeg[i] == 0]
    order: list[int] = []
    while ready:
        i = ready.pop()
        order.append(i)
        for c in children[i]:
            indeg[c] -= 1
            if indeg[c] == 0:
                ready.append(c)
    if len(order) < n:
        stuck = next(i for i in range(n) if indeg[i] > 0)
        raise ScenarioError(source, "network.links", f"the links form a cycle through {topo.node_ids[stuck]!r}; "
                                                     "goods must flow one way")
    return np.array(order, dtype=np.int64)


def target_days(topo: Topology, sc: Scenario) -> np.ndarray:
    """Target stock [N, C] in days: the node's own, capped for perishables."""
    cap = np.array([np.inf if c.max_stock_days is None else c.max_stock_days for c in sc.categories])
    return np.minimum(topo.stock_days[:, None], cap[None, :])


def plan_flows(topo: Topology, need_pp: np.ndarray, online: np.ndarray, order: np.ndarray,
               spoil: np.ndarray | None = None, days: np.ndarray | None = None,
               share: np.ndarray | None = None) -> np.ndarray:
    """Planned daily outflow [N, C] of every node in normal times.

    Outlets sell the offline need of the compounds that shop there (split by edge weight);
    front warehouses the online need; every other node ships what its children order, split
    over the child's active in-links by :func:`planned_shares` (``share`` if given).
    With ``spoil`` and ``days``, a node also orders what spoils in its stock (about
    ``days + 1/2`` days of flow on hand) and households what spoils in theirs.
    """
    n, c = len(topo.node_ids), len(need_pp)
    spoil = np.zeros(c) if spoil is None else spoil
    days = np.zeros((n, c)) if days is None else days
    hh_spoil = 1.0 + HOUSEHOLD_SPOILAGE_FACTOR * spoil[None, :] * topo.hh_stock_days[:, None]
    need = topo.population[:, None] * need_pp[None, :] * hh_spoil
    flow = np.zeros((n, c))
    w = topo.edge_weight / np.maximum(group_sum(topo.edge_comm, topo.edge_weight, len(online))[topo.edge_comm], 1e-300)
    offline_part = need * (1.0 - online)[:, None]
    flow += group_sum(topo.edge_outlet, offline_part[topo.edge_comm] * w[:, None], n)
    has_fw = topo.comm_fw >= 0
    flow += group_sum(topo.comm_fw[has_fw], (need * online[:, None])[has_fw], n)
    active = ~topo.standby
    share = (planned_shares(topo) if share is None else share)[active]
    src, dst = topo.link_src[active], topo.link_dst[active]
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    # walk links from the bottom of the network up: a child's flow is complete before it is passed on
    gross = 1.0 + spoil[None, :] * (days + 0.5)
    for link in np.argsort(-rank[dst], kind="stable"):
        flow[src[link]] += flow[dst[link]] * gross[dst[link]] * share[link]
    return flow


def link_shares(src: np.ndarray, dst: np.ndarray, weight: np.ndarray, key: np.ndarray, n: int) -> np.ndarray:
    """Share [L, C] of a destination's orders placed on each of its in-links.

    Proportional to ``weight x key[src]``; where every in-link of a destination has key 0 for a
    category, proportional to ``weight`` alone.
    """
    raw = weight[:, None] * key[src]
    total = group_sum(dst, raw, n)[dst]
    plain = weight[:, None] / group_sum(dst, weight, n)[dst][:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, raw / np.where(total > 0, total, 1.0), plain)


def planned_shares(topo: Topology) -> np.ndarray:
    """Share [L, C] of a destination's orders planned on each in-link in normal times.

    Active links: :func:`link_shares` keyed on what each supplier can offer each customer
    (:func:`_supply_key`). Standby links (reserves) count as one more supplier of the link's
    weight (share weight / the weights of the destination's active in-links), used while released.
    """
    n = len(topo.node_ids)
    active = ~topo.standby
    share = np.zeros((len(topo.link_src), topo.production_kg_day.shape[1]))
    share[active] = link_shares(topo.link_src[active], topo.link_dst[active], topo.link_weight[active],
                                _supply_key(topo), n)
    dst = topo.link_dst[~active]
    active_w = np.bincount(topo.link_dst[active], weights=topo.link_weight[active], minlength=n)[dst]
    standby_w = np.bincount(dst, weights=topo.link_weight[~active], minlength=n)[dst]
    share[~active] = (topo.link_weight[~active] / np.where(active_w > 0, active_w, standby_w))[:, None]
    return share


def _supply_key(topo: Topology) -> np.ndarray:
    """What each supplier can offer each of its customers [N, C]: a base its production, any other
    node what reaches it from its suppliers, split equally over its active out-links.

    Keying on the production behind a supplier (not on the supplier alone) lets a destination
    mix suppliers of different tiers, e.g. a hub fed by a transfer station and by suburban bases,
    and get each category in proportion to where it is produced.
    """
    n = len(topo.node_ids)
    active = ~topo.standby
    src, dst = topo.link_src[active], topo.link_dst[active]
    is_base = np.isin(np.array(topo.kind), ("out_of_province_base", "suburban_base"))
    reach = np.where(is_base[:, None], topo.production_kg_day, 0.0)
    out = np.maximum(np.bincount(src, minlength=n), 1)[:, None]
    depth = _depth(src, dst, n)
    # a supplier's reach is complete once the links into it, all from shallower nodes, are added
    for d in np.unique(depth[src]):
        sel = (depth[src] == d) & ~is_base[dst]
        reach += group_sum(dst[sel], reach[src[sel]] / out[src[sel]], n)
    return reach / out


def _depth(src: np.ndarray, dst: np.ndarray, n: int) -> np.ndarray:
    """Longest path [N] from a node with no in-links, along the links (which form no cycle)."""
    depth = np.zeros(n, dtype=np.int64)
    for _ in range(n + 1):
        new = np.zeros(n, dtype=np.int64)
        np.maximum.at(new, dst, depth[src] + 1)
        if np.array_equal(new, depth):
            break
        depth = new
    return depth


def _coverage(topo: Topology, need_pp: np.ndarray, flow: np.ndarray, point_share: float = 0.0) -> np.ndarray:
    """The daily flow a node's target stock is sized on: its planned outflow, except reserves and
    community supply points.

    A reserve warehouse holds days of its district's need (of the whole city if it has no district);
    a district's supply points share ``point_share`` of its need (once active).
    """
    cov = flow.copy()
    need = topo.population[:, None] * need_pp[None, :]
    district_need = group_sum(topo.comm_district, need, max(len(topo.districts), 1))
    kinds = np.array(topo.kind)
    points = np.flatnonzero(kinds == "community_supply_point")
    if len(points):
        d = np.asarray(topo.node_district)[points]
        count = np.bincount(np.maximum(d, 0), minlength=max(len(topo.districts), 1))
        per = np.where(d[:, None] >= 0, district_need[np.maximum(d, 0)] / np.maximum(count[np.maximum(d, 0)], 1)[:, None],
                       need.sum(axis=0)[None, :] / len(points))
        cov[points] = point_share * per
    reserves = [i for i, k in enumerate(topo.kind) if k == "reserve_warehouse"]
    for i in reserves:
        d = topo.node_district[i]
        cov[i] = district_need[d] if d >= 0 else need.sum(axis=0) / len(reserves)
    return cov


def _fleet_kg_per_driver(topo: Topology, sc: Scenario) -> np.ndarray:
    """Kg a driver moves per day: trips per day x mean payload of the node's out-links."""
    wf = sc.workforce
    n = len(topo.node_ids)
    count = np.bincount(topo.link_src, minlength=n)
    payload = np.bincount(topo.link_src, weights=topo.truck_kg, minlength=n) / np.maximum(count, 1)
    regional = np.array([k in _REGIONAL for k in topo.kind])
    trips = np.where(regional, wf.regional_trips_per_driver_day, wf.truck_trips_per_driver_day)
    return trips * payload


def crews_per_10k(kinds: list[str], per_10k: dict[str, dict[str, float]], role: str, population: float,
                  planned: np.ndarray) -> np.ndarray:
    """Headcount [N] of ``role``: each kind's workers per 10k residents, spread over its nodes in
    proportion to ``planned`` (the flow-sized crew); kinds without a figure keep ``planned``.

    >>> crews_per_10k(["a", "a", "b"], {"a": {"staff": 3.0}}, "staff", 20_000, np.array([1.0, 3.0, 7.0])).tolist()
    [1.5, 4.5, 7.0]
    """
    kinds_arr = np.asarray(kinds)
    out = planned.astype(float).copy()
    for kind, roles in per_10k.items():
        if role not in roles:
            continue
        sel = kinds_arr == kind
        if not sel.any():
            continue
        w = planned[sel]
        if w.sum() <= 0:   # nothing planned for this role here (e.g. outlets have no drivers)
            continue
        out[sel] = roles[role] * population / 1e4 * w / w.sum()
    return out


def _size(given: np.ndarray, needed: np.ndarray) -> np.ndarray:
    """Headcount: as given; ``nan`` -> sized to the need (whole workers, at least one if any work)."""
    sized = np.ceil(np.maximum(needed, 0.0))
    return np.where(np.isnan(given), sized, given)
