"""A synthetic city from a few numbers (population, districts, outlets per 10k residents ...).

Geometry is a disc of radius ``city_radius_km``: districts are scattered over it, compounds and
outlets around their district's centre, hubs and bases towards the edge. Residents shop at the
``outlets_per_community`` nearest outlets of their district and order online from the nearest
front warehouse. All draws come from the ``layout`` stream of ``city.layout_seed``, so the same
scenario always builds the same city whatever the run seed.
"""

from __future__ import annotations

import numpy as np

from twin.network.topology import Topology
from twin.rng import stream
from twin.scenario.schema import Scenario

__all__ = ["generate_topology"]


def generate_topology(sc: Scenario) -> Topology:
    """Build the topology of a generated city (explicit ``city.districts`` are respected)."""
    rng = stream(sc.city.layout_seed, "layout")
    net = sc.network
    R = net.city_radius_km
    d_names, d_pop, d_overrides = _districts(sc, rng)
    nd = len(d_names)
    d_xy = _disc(rng, nd, R * 0.75)
    d_xy[0] = 0.0  # the largest district sits in the centre
    spread = R / np.sqrt(nd) / 2

    comm = _communities(sc, rng, d_pop, d_overrides, d_xy, spread)
    b = _NodeBuilder(len(sc.categories))
    for d in range(nd):
        pop = d_pop[d]
        for kind, per in (("supermarket", net.supermarkets_per_10k / 1e4),
                          ("wet_market", net.wet_markets_per_10k / 1e4),
                          ("front_warehouse", net.front_warehouses_per_100k / 1e5),
                          ("community_supply_point", net.community_supply_points_per_10k / 1e4)):
            n = int(round(pop * per))
            if kind == "supermarket":
                n = max(n, 1)  # every district has somewhere to shop
            b.add(kind, n, d, d_xy[d] + rng.normal(0, spread, (n, 2)))
    sc_d = _spread_over(rng, d_pop, net.n_sorting_centres)
    for d in range(nd):
        b.add("sorting_centre", sc_d[d], d, d_xy[d] + rng.normal(0, spread / 2, (sc_d[d], 2)))
    if net.reserve_warehouse_per_district:
        for d in range(nd):
            b.add("reserve_warehouse", 1, d, d_xy[d] + rng.normal(0, spread / 2, (1, 2)))
    for kind, n in (("transit_warehouse", net.n_transit_warehouses),
                    ("wholesale_market", net.n_wholesale_markets)):
        b.add(kind, n, -1, _ring(rng, n, 0.6 * R, 0.9 * R))
    if net.use_transfer_stations:
        # a lever: placed from a stream of its own, so switching it on moves no other node
        stations = stream(sc.city.layout_seed, "layout/transfer_stations")
        b.add("transfer_station", net.transfer_stations, -1, _ring(stations, net.transfer_stations, R, R))
    b.add("suburban_base", net.n_suburban_bases, -1, _ring(rng, net.n_suburban_bases, 1.1 * R, 1.5 * R))
    b.add("out_of_province_base", net.n_out_of_province_bases, -1,
          _ring(rng, net.n_out_of_province_bases, 10 * R, 10 * R))

    xy, kind = np.array(b.xy), np.array(b.kind)
    links = _links(sc, rng, xy, kind)
    prod = _production(sc, kind)
    edge_comm, edge_outlet, edge_weight, comm_fw = _shopping(sc, comm, xy, kind, np.array(b.district))
    stock_days = np.array([net.stock_days.get(k, 0.0) for k in kind])
    n = len(kind)
    return Topology(
        districts=d_names, node_ids=b.ids, kind=list(kind), node_district=np.array(b.district, dtype=np.int32),
        staff=np.full(n, np.nan), drivers=np.full(n, np.nan), couriers=np.full(n, np.nan),
        production_kg_day=prod, stock_days=stock_days, **links,
        community_ids=comm["ids"], comm_district=comm["district"], population=comm["pop"],
        elderly_share=comm["elderly"], offline_share=comm["offline"], hh_stock_days=comm["stock_days"],
        low_income_share=comm["low_income"],
        edge_comm=edge_comm, edge_outlet=edge_outlet, edge_weight=edge_weight, comm_fw=comm_fw,
        generated=True,
    )


class _NodeBuilder:
    def __init__(self, n_cat: int):
        self.ids: list[str] = []
        self.kind: list[str] = []
        self.district: list[int] = []
        self.xy: list[np.ndarray] = []
        self._count: dict[str, int] = {}

    def add(self, kind: str, n: int, district: int, xy: np.ndarray) -> None:
        for i in range(n):
            k = self._count.get(kind, 0) + 1
            self._count[kind] = k
            self.ids.append(f"{kind}_{k:03d}")
            self.kind.append(kind)
            self.district.append(district)
            self.xy.append(np.asarray(xy[i], dtype=float))


def _districts(sc: Scenario, rng: np.random.Generator):
    city = sc.city
    if city.districts:
        names = [d.name for d in city.districts]
        pops = np.array([d.population for d in city.districts], dtype=float)
        return names, pops, {i: d for i, d in enumerate(city.districts)}
    nd = city.n_districts
    sizes = np.sort(rng.lognormal(0.0, 0.5, nd))[::-1]
    pops = _integerise(city.population * sizes / sizes.sum())
    return [f"district_{i + 1:02d}" for i in range(nd)], pops.astype(float), {}


def _communities(sc, rng, d_pop, d_overrides, d_xy, spread):
    city = sc.city
    ids, district, pop, elderly, offline, days, xy, poor = [], [], [], [], [], [], [], []
    for d, p in enumerate(d_pop):
        o = d_overrides.get(d)
        e_mean = o.elderly_share if o is not None and o.elderly_share is not None else city.elderly_share
        off_mean = o.offline_share if o is not None and o.offline_share is not None else city.offline_share
        days_mean = (o.household_stock_days if o is not None and o.household_stock_days is not None
                     else city.household_stock_days)
        n = max(1, int(round(p / city.mean_compound_size)))
        sizes = rng.lognormal(0.0, 0.6, n)
        cp = _integerise(p * sizes / sizes.sum())
        cp = np.maximum(cp, 1)
        e = _beta_around(rng, e_mean, n)
        # offline residents are mostly the elderly: the share follows a compound's age mix
        off = np.clip(off_mean * e / max(e_mean, 1e-9), 0.0, 1.0) if e_mean > 0 else np.full(n, off_mean)
        ids += [f"c{d + 1:02d}_{i + 1:04d}" for i in range(n)]
        district += [d] * n
        pop.append(cp)
        elderly.append(e)
        offline.append(off)
        days.append(days_mean * rng.lognormal(0.0, 0.3, n) if days_mean > 0 else np.zeros(n))
        xy.append(d_xy[d] + rng.normal(0, spread, (n, 2)))
        poor.append(_beta_around(rng, city.low_income_share, n))
    return {"ids": ids, "district": np.array(district, dtype=np.int32), "pop": np.concatenate(pop).astype(float),
            "elderly": np.concatenate(elderly), "offline": np.concatenate(offline),
            "stock_days": np.concatenate(days), "xy": np.concatenate(xy), "low_income": np.concatenate(poor)}


def _links(sc: Scenario, rng, xy: np.ndarray, kind: np.ndarray) -> dict[str, np.ndarray]:
    net = sc.network
    src: list[int] = []
    dst: list[int] = []
    regional: list[bool] = []
    standby: list[bool] = []

    def idx(*kinds: str) -> np.ndarray:
        return np.flatnonzero(np.isin(kind, kinds))

    def connect(children: np.ndarray, parents: np.ndarray, k: int, *, is_regional=False, is_standby=False):
        if len(parents) == 0 or len(children) == 0:
            return
        k = min(k, len(parents))
        d = np.linalg.norm(xy[children, None, :] - xy[None, parents, :], axis=2)
        near = np.argsort(d, axis=1, kind="stable")[:, :k]
        src.extend(parents[near].ravel().tolist())      # each child's k nearest parents, nearest first
        dst.extend(np.repeat(children, k).tolist())
        regional.extend([is_regional] * (len(children) * k))
        standby.extend([is_standby] * (len(children) * k))

    oop, sub = idx("out_of_province_base"), idx("suburban_base")
    hubs, wholesale = idx("transit_warehouse", "wholesale_market"), idx("wholesale_market")
    transfer, reserves, sorting = idx("transfer_station"), idx("reserve_warehouse"), idx("sorting_centre")
    if len(transfer):
        connect(transfer, oop, len(oop), is_regional=True)     # long-haul trucks unload at the edge
        connect(hubs, transfer, 1)                             # city trucks carry on
    else:
        connect(hubs, oop, len(oop), is_regional=True)
    connect(hubs, sub, len(sub))   # the short chain: suburban bases sell to every hub, as distant ones do
    connect(reserves, idx("transit_warehouse") if len(idx("transit_warehouse")) else hubs, 1)
    connect(sorting, idx("transit_warehouse") if len(idx("transit_warehouse")) else hubs, 2)
    # reserves feed sorting centres only when released: each sorting centre from its nearest
    # reserve, and every reserve to at least its nearest sorting centre
    connect(sorting, reserves, 1, is_standby=True)
    linked = set(src[-len(sorting):]) if len(reserves) else set()
    for r in reserves:
        if int(r) not in linked and len(sorting):
            nearest = sorting[np.argmin(np.linalg.norm(xy[sorting] - xy[r], axis=1))]
            src.append(int(r)); dst.append(int(nearest)); regional.append(False); standby.append(True)
    # several upstream suppliers each: orders move to the others when one closes or runs short
    connect(idx("supermarket", "front_warehouse", "community_supply_point"), sorting, net.sorting_centres_per_outlet)
    connect(idx("wet_market"), wholesale if len(wholesale) else sorting, net.sorting_centres_per_outlet)

    s, t = np.array(src, dtype=np.int32), np.array(dst, dtype=np.int32)
    reg = np.array(regional, dtype=bool)
    km = np.linalg.norm(xy[s] - xy[t], axis=1) if len(s) else np.zeros(0)
    travel = np.where(reg, net.out_of_province_travel_h * rng.lognormal(0.0, 0.3, len(s)),
                      0.25 + km / net.truck_speed_kmh)
    travel = travel + np.where(np.isin(s, transfer), net.transfer_handling_h, 0.0)  # no-contact handover
    return {"link_src": s, "link_dst": t, "travel_h": travel,
            "truck_kg": np.where(reg, net.regional_truck_capacity_kg, net.truck_capacity_kg),
            "link_weight": np.ones(len(s)), "standby": np.array(standby, dtype=bool)}


def _production(sc: Scenario, kind: np.ndarray) -> np.ndarray:
    """Capacity of bases per category: ``supply_factor`` x city need, split suburban / out-of-province
    by each category's ``suburban_share`` (or ``network.suburban_share`` for all)."""
    need = np.array([c.need_kg_per_person_day for c in sc.categories]) * sc.city.population
    if sc.city.districts:
        need = need / sc.city.population * sum(d.population for d in sc.city.districts)
    lever = sc.network.suburban_share
    sub_share = np.array([c.suburban_share if lever is None else lever for c in sc.categories])
    prod = np.zeros((len(kind), len(need)))
    for k, share in (("suburban_base", sub_share), ("out_of_province_base", 1 - sub_share)):
        rows = np.flatnonzero(kind == k)
        if len(rows):
            prod[rows] = sc.network.supply_factor * need * share / len(rows)
    if not np.any(kind == "suburban_base"):  # nobody nearby: everything comes from afar
        rows = np.flatnonzero(kind == "out_of_province_base")
        if len(rows):
            prod[rows] = sc.network.supply_factor * need / len(rows)
    return prod


def _distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distances [R, M] from points ``a`` [R, 2] to points ``b`` [M, 2]: the floats of
    ``np.linalg.norm(a[:, None] - b[None], axis=2)`` without its [R, M, 2] temporaries.

    >>> _distances(np.array([[0.0, 0.0]]), np.array([[3.0, 4.0], [0.0, 1.0]])).tolist()
    [[5.0, 1.0]]
    """
    dx = a[:, 0, None] - b[None, :, 0]
    dy = a[:, 1, None] - b[None, :, 1]
    dx *= dx
    dy *= dy
    dx += dy
    return np.sqrt(dx, out=dx)


def _nearest(dist: np.ndarray, k: int) -> np.ndarray:
    """Columns of the ``k`` smallest values of each row of ``dist`` [R, M] in increasing order, ties
    by column: ``np.argsort(dist, axis=1, kind="stable")[:, :k]``, without sorting whole rows.

    >>> _nearest(np.array([[3.0, 1.0, 2.0, 1.0], [0.0, 5.0, 0.0, 0.0]]), 2).tolist()
    [[1, 3], [0, 2]]
    """
    if k <= 0 or dist.shape[0] == 0:
        return np.zeros((dist.shape[0], max(k, 0)), dtype=np.intp)
    kth = np.partition(dist, k - 1, axis=1)[:, k - 1:k]
    r, c = np.nonzero(dist <= kth)          # at least k candidates a row, by row then column
    order = np.lexsort((c, dist[r, c], r))  # by row, then distance, then column
    starts = np.concatenate([[0], np.cumsum(np.bincount(r, minlength=dist.shape[0]))[:-1]])
    return c[order[starts[:, None] + np.arange(k)]]


def _shopping(sc: Scenario, comm, xy, kind, node_district):
    """Each compound shops at its nearest outlets in its district and orders from its nearest dark store."""
    k_out = sc.network.outlets_per_community
    outlets = np.flatnonzero(np.isin(kind, ("supermarket", "wet_market")))
    fws = np.flatnonzero(kind == "front_warehouse")
    e_c, e_o, e_w = [], [], []
    comm_fw = np.full(len(comm["ids"]), -1, dtype=np.int32)
    for d in np.unique(comm["district"]):
        members = np.flatnonzero(comm["district"] == d)
        local = outlets[node_district[outlets] == d]
        if len(local) == 0:
            local = outlets
        dist = _distances(comm["xy"][members], xy[local])
        k = min(k_out, len(local))
        near = _nearest(dist, k)
        e_c.append(np.repeat(members, k))
        e_o.append(local[near].ravel())
        e_w.append((1.0 / (0.5 + np.take_along_axis(dist, near, axis=1))).ravel())
        local_fw = fws[node_district[fws] == d]
        if len(local_fw) == 0:
            local_fw = fws
        if len(local_fw):
            dfw = _distances(comm["xy"][members], xy[local_fw])
            comm_fw[members] = local_fw[np.argmin(dfw, axis=1)]
    cat = np.concatenate
    return (cat(e_c).astype(np.int32), cat(e_o).astype(np.int32), cat(e_w), comm_fw)


def _disc(rng, n: int, radius: float) -> np.ndarray:
    r = radius * np.sqrt(rng.uniform(0, 1, n))
    a = rng.uniform(0, 2 * np.pi, n)
    return np.column_stack([r * np.cos(a), r * np.sin(a)])


def _ring(rng, n: int, r_min: float, r_max: float) -> np.ndarray:
    r = rng.uniform(r_min, r_max, n)
    a = 2 * np.pi * (np.arange(n) + rng.uniform(0, 1, n)) / max(n, 1)
    return np.column_stack([r * np.cos(a), r * np.sin(a)])


def _spread_over(rng, weights: np.ndarray, n: int) -> np.ndarray:
    """Integer counts summing to ``n`` in proportion to ``weights`` (largest remainder)."""
    return _integerise(n * weights / weights.sum()).astype(int)


def _integerise(x: np.ndarray) -> np.ndarray:
    """Round to integers keeping the total (largest remainder)."""
    base = np.floor(x)
    short = int(round(x.sum() - base.sum()))
    if short > 0:
        base[np.argsort(-(x - base), kind="stable")[:short]] += 1
    return base


def _beta_around(rng, mean: float, n: int, concentration: float = 20.0) -> np.ndarray:
    if mean <= 0 or mean >= 1:
        return np.full(n, float(mean))
    return rng.beta(mean * concentration, (1 - mean) * concentration, n)
