"""The daily snapshot: one process copies the day's state into column buffers, then resets tallies."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from twin.jit import kernel
from twin.network.model import group_sum
from twin.policies.flows import sum_rows
from twin.policies.epidemic import city_incidence
from twin.policies.queue import hist_quantile
from twin.policies.residents_fast import einsum_sum
from twin.pools import VOLUNTEERS
from twin.recording.cascade import FAILED_FILL, CascadeState, failed_by_tier
from twin.recording.tables import categorical, make_table
from twin.scenario.modes import REGIMES
from twin.scenario.response import LOCKDOWN_LEVELS, ROLES
from twin.scenario.schema import NODE_KINDS
from twin.world import CHANNELS, GROUPS, TALLIES, World

__all__ = ["RESIDENT_COLUMNS", "Recorder", "STATUSES", "node_status"]

STATUSES = ("open", "degraded", "starved", "closed")
STARVED_BELOW = 0.10  # share of target stock under which an open node counts as starved (assumption)
DEGRADED_BELOW = 0.90  # share of its crew at work under which an open node counts as degraded (assumption)
N_TIERS = 5
CHANNEL_COLUMNS = tuple(f"delivered_{ch}_kg" for ch in CHANNELS)
#: cumulative safety-net request counts per day: created = served + pending + abandoned + dropped
REQUEST_COUNTS = ("requests_created", "requests_served", "requests_pending", "requests_abandoned",
                  "requests_dropped")
#: the price index residents paid per channel on a day (city): spent / baseline cost of what came that way
PAID_BY_CHANNEL = tuple(f"paid_index_{ch}" for ch in CHANNELS)
#: columns of ``orders.parquet`` (day x front warehouse) and the city's daily order figures
ORDER_COLUMNS = ("orders_placed", "orders_placed_kg", "orders_delivered", "orders_delivered_kg", "orders_cancelled",
                 "orders_cancelled_kg", "backlog_orders", "backlog_kg", "lead_time_p50_h", "lead_time_p95_h")
ORDER_CITY = ("orders_placed", "orders_delivered", "orders_cancelled", "backlog_orders", "orders_lead_time_p50_h",
              "orders_lead_time_p95_h")
#: columns of ``residents.parquet`` recorded each day per compound and resident group (single precision)
RESIDENT_COLUMNS = (*TALLIES, "hh_stock_days", "stock_below_one_day")


def node_status(closed: np.ndarray, degraded: np.ndarray, stock_kg: np.ndarray, target_kg: np.ndarray,
                unfilled_kg: np.ndarray) -> np.ndarray:
    """Status code per node (index into :data:`STATUSES`); closed beats starved beats degraded.

    Starved: open, holding under 10% of its target stock, and it turned requests away today.

    >>> node_status(np.array([0, 0, 0, 1, 0], bool), np.array([0, 1, 0, 0, 0], bool),
    ...             np.array([5.0, 5.0, 0.5, 5.0, 0.5]), np.full(5, 10.0), np.array([0, 0, 3.0, 0, 0])).tolist()
    [0, 1, 2, 3, 0]
    """
    code = np.zeros(len(closed), dtype=np.int8)
    code[degraded] = 1
    code[(target_kg > 0) & (stock_kg < STARVED_BELOW * target_kg) & (unfilled_kg > 1e-6)] = 2
    code[closed] = 3
    return code


class Recorder:
    """Collects daily columns; :meth:`tables` turns them into Arrow tables."""

    def __init__(self, world: World, days: int | None = None):
        self.world = world
        net = world.net
        self.days: list[int] = []
        self.balance: list[np.ndarray] = []
        # day x node and day x compound columns: rows written into kept buffers (no concatenation at the end)
        self.nodes: dict[str, DayRows] = {k: DayRows(net.n_nodes, np.int8 if k == "status" else float, days or 64)
                                          for k in (
            "status", "stock_kg", "inflow_kg", "outflow_kg", "unfilled_kg", "spoiled_kg", "trucks", "staff_active",
            "capacity_kg_per_day", "fleet_kg_per_day", "courier_kg_per_day", "surge_used", "surge_left_days",
            "overtime_h", "overtime_cny")}
        self.comms: dict[str, DayRows] = {k: DayRows(net.n_communities, bool if k == "stock_below_one_day" else float,
                                                     days or 64) for k in (
            "need_kg", "demand_kg", *CHANNEL_COLUMNS, "consumed_kg", "spent_cny",
            "baseline_cost_cny", "hh_stock_days", "stock_below_one_day")}
        self.prices: list[np.ndarray] = []
        self.work: dict[str, list[np.ndarray]] = {k: [] for k in (
            "headcount", "susceptible", "exposed", "infectious", "quarantined", "confined", "recovered",
            "active", "new_infected", "new_detected")}
        self.city: dict[str, list] = {k: [] for k in (
            "regime", "infection_per_100k", "static_share", "limited_share", "closed_nodes", "starved_nodes",
            *[f"failed_nodes_tier{t}" for t in range(N_TIERS)], "failed_communities", "cascade_depth",
            *[f"cut_off_share_tier{t}" for t in range(N_TIERS)],
            "supply_workers_active_share", "volunteers_active_share", *REQUEST_COUNTS, *PAID_BY_CHANNEL,
            *ORDER_CITY)}
        self.orders: dict[str, list[np.ndarray]] = {k: [] for k in ORDER_COLUMNS}
        kg = net.n_communities * len(GROUPS)
        self.res = {k: DayRows(kg, bool if k == "stock_below_one_day" else np.float32, days or 64)
                    for k in RESIDENT_COLUMNS}
        self.normal_g = world.normal_g   # [K, G] a day's normal need
        self.normal_need = world.need_base.sum(axis=1)   # [K] a compound's (fixed: the network's need)
        self.target_kg = (net.stock_days * net.coverage_kg_day).sum(axis=1)
        self.crew = np.nan_to_num(net.staff + net.drivers + net.couriers, posinf=0.0)
        self._groups, self.group_labels = _pool_groups(world)
        self._last_status = np.zeros(net.n_nodes, dtype=np.int8)
        self._levels: list[np.ndarray] = []
        self._cascade = CascadeState(net.link_src, net.link_dst, net.tier, N_TIERS, net.edge_comm, net.edge_outlet,
                                     net.comm_fw, net.n_communities)

    def process(self, env, hour: float):
        """Every day at ``hour``: snapshot, then zero the day's tallies."""
        yield env.timeout(hour)
        while True:
            self.snapshot(int(env.now // 24))
            yield env.timeout(24.0)

    def snapshot(self, day: int) -> None:
        """Copy the day's state into the buffers and zero the day's tallies."""
        w = self.world
        self.days.append(day)
        held, hh_c = household_sums(w.hh_stock)   # [K, G] and [C]
        stock = w.stock.sum(axis=0) + hh_c + w.orders.goods_kg()   # orders picked, not yet at the door
        self.balance.append(np.stack([w.cum_inflow, w.cum_consumed, w.cum_spoiled, stock, w.pipeline.sum(axis=0)]))
        status = self._snapshot_nodes()
        self._snapshot_communities(held)
        self._snapshot_workforce()
        self._snapshot_orders()
        self._snapshot_city(day, status)
        self._log_status_changes(status)
        for arr in (w.day_node_in, w.day_node_out, w.day_node_unfilled, w.day_node_spoiled, w.day_trucks,
                    w.day_node_shipped, w.day_overtime_h, w.day_courier_out):
            arr[:] = 0.0

    def _snapshot_nodes(self) -> np.ndarray:
        w = self.world
        node_stock = row_sums(w.stock)
        at_work = np.nan_to_num(w.staff_now + w.drivers_now + w.couriers_now, posinf=0.0)
        cut = (w.capacity_mult < 1.0) | ((w.fleet_mult < 1.0) & (w.net.drivers > 0)) | ((w.courier_mult < 1.0) & (w.net.couriers > 0))
        degraded = cut | (at_work < DEGRADED_BELOW * self.crew)
        status = node_status(w.closed, degraded, node_stock, self.target_kg, w.day_node_unfilled)
        rec = self.nodes
        rec["status"].append(status)
        rec["stock_kg"].append(node_stock)
        rec["inflow_kg"].append(w.day_node_in.copy())
        rec["outflow_kg"].append(w.day_node_out.copy())
        rec["unfilled_kg"].append(w.day_node_unfilled.copy())
        rec["spoiled_kg"].append(w.day_node_spoiled.copy())
        rec["trucks"].append(w.day_trucks.copy())
        rec["staff_active"].append(w.active_staff())
        rec["capacity_kg_per_day"].append(np.where(w.shut, 0.0, w.handling_kg()))  # inf = unlimited
        rec["fleet_kg_per_day"].append(np.where(w.shut, 0.0, w.fleet_kg()))
        rec["courier_kg_per_day"].append(np.where(w.shut, 0.0, w.courier_kg()))
        rec["surge_used"].append(w.surge_share.max(axis=0))          # of the full surge, its most-pressed crew
        rec["surge_left_days"].append(w.surge_left.min(axis=0))      # days of full surge left, least-rested crew
        rec["overtime_h"].append(w.day_overtime_h.copy())
        su = w.sc.surge
        rec["overtime_cny"].append(w.day_overtime_h * su.wage_cny_per_h * su.overtime_premium)
        return status

    def _snapshot_communities(self, held: np.ndarray) -> None:
        """The day's tallies per compound and resident group; ``held`` [K, G] households' stock."""
        w = self.world
        for key in TALLIES:   # the row sums per compound, the rows in single precision, then zeroed
            per_group = w.day_res[key]
            if per_group.flags.c_contiguous and per_group.shape[1] < 8:
                _take_tally(per_group, self.comms[key].next_row(), self.res[key].next_row())
            else:   # the reference
                self.comms[key].append(row_sums(per_group))
                self.res[key].append(per_group.ravel())
                per_group[:] = 0.0
        self._levels.append(w.comm_level.copy())
        normal_need = self.normal_need
        days_held = row_sums(held) / np.where(normal_need > 0, normal_need, 1.0)
        self.comms["hh_stock_days"].append(days_held)
        self.comms["stock_below_one_day"].append((days_held < 1.0) & (normal_need > 0))
        normal = self.normal_g
        days_g = held / np.where(normal > 0, normal, 1.0)
        self.res["hh_stock_days"].append(days_g.ravel())
        self.res["stock_below_one_day"].append(((days_g < 1.0) & (normal > 0)).ravel())
        self.prices.append(w.price_index.copy())

    def _snapshot_workforce(self) -> None:
        p, g, n = self.world.pools, self._groups, len(self.group_labels)
        counts, shares = (p.headcount, p.S, p.E, p.I, p.R, p.new_infected, p.new_detected), (p.extra, p.confined_share, p.available)
        if all(a.dtype == np.int64 and a.ndim == 1 for a in counts) and all(a.dtype == float and a.ndim == 1 for a in shares) \
                and p.Qi.dtype == np.int64 and p.Qs.dtype == np.int64:
            sums = _pool_sums(g, n, p.headcount, p.S, p.E, p.I, p.R, p.Qi, p.Qs, p.extra, p.confined_share, p.available,
                              p.new_infected, p.new_detected)
            for j, key in enumerate(WORK_COLUMNS):
                self.work[key].append(sums[:, j])
            return
        cols = {"headcount": p.headcount + p.extra, "susceptible": p.S + p.extra, "exposed": p.E,
                "infectious": p.I, "quarantined": p.quarantined, "confined": p.confined(), "recovered": p.R,
                "active": p.active(), "new_infected": p.new_infected, "new_detected": p.new_detected}
        sums = group_sum(g, np.stack([np.asarray(v, dtype=float) for v in cols.values()], axis=1), n)   # one pass, per column as apart
        for j, key in enumerate(cols):
            self.work[key].append(sums[:, j])

    def _snapshot_orders(self) -> None:
        """The day's online orders per front warehouse (``orders.parquet``) and for the city."""
        book = self.world.orders
        day = book.take_day()
        per = book.kg_per_order
        backlog = book.backlog_kg(int(self.world.env.now // 1))
        lead = day["lead"]
        kg = {"placed": day["placed"], "delivered": day["delivered"], "cancelled": day["cancelled"], "backlog": backlog}
        rec = self.orders
        for key, v in kg.items():
            name = "backlog" if key == "backlog" else f"orders_{key}"
            rec["backlog_orders" if key == "backlog" else name].append(v / per)
            rec[f"{name}_kg"].append(v)
        for q, name in ((0.5, "p50"), (0.95, "p95")):
            rec[f"lead_time_{name}_h"].append(hist_quantile(lead, book.lead_h, q))
        city = lead.sum(axis=0, keepdims=True)
        c = self.city
        c["backlog_orders"].append(float(backlog.sum() / per))
        c["orders_placed"].append(float(day["placed"].sum() / per))
        c["orders_delivered"].append(float(day["delivered"].sum() / per))
        c["orders_cancelled"].append(float(day["cancelled"].sum() / per))
        c["orders_lead_time_p50_h"].append(float(hist_quantile(city, book.lead_h, 0.5)[0]))
        c["orders_lead_time_p95_h"].append(float(hist_quantile(city, book.lead_h, 0.95)[0]))

    def _snapshot_city(self, day: int, status: np.ndarray) -> None:
        w, net, c = self.world, self.world.net, self.city
        epi = w.epi
        c["regime"].append(REGIMES.index(w.regime))
        c["infection_per_100k"].append(city_incidence(epi, day))
        pop = net.population
        c["static_share"].append(float(pop[w.comm_level == 2].sum() / pop.sum()))
        c["limited_share"].append(float(pop[w.comm_level == 1].sum() / pop.sum()))
        c["closed_nodes"].append(int((status == 3).sum()))
        c["starved_nodes"].append(int((status == 2).sum()))
        failed = (status == 2) | (status == 3)
        by_tier = failed_by_tier(net.tier, failed, N_TIERS)
        for t in range(N_TIERS):
            c[f"failed_nodes_tier{t}"].append(int(by_tier[t]))
        need = self.comms["need_kg"].last()
        fill = np.where(need > 0, self.comms["consumed_kg"].last() / np.where(need > 0, need, 1.0), 1.0)
        comm_failed = fill < FAILED_FILL
        c["failed_communities"].append(int(comm_failed.sum()))
        depth, cut_off = self._cascade.day(day, failed, status == 2, comm_failed)
        c["cascade_depth"].append(depth)
        for t in range(N_TIERS):
            c[f"cut_off_share_tier{t}"].append(float(cut_off[t]))
        p = w.pools
        head, active = p.headcount + p.extra, p.active()
        for key, sel in (("supply_workers_active_share", p.role != VOLUNTEERS),
                         ("volunteers_active_share", p.role == VOLUNTEERS)):
            h = float(head[sel].sum())
            c[key].append(float(active[sel].sum() / h) if h > 0 else 1.0)
        desk = getattr(w, "desk", None)
        counts = desk.daily_counts() if desk is not None else {}
        for key in REQUEST_COUNTS:
            c[key].append(int(counts.get(key, 0)))
        spent, base = w.day_spent_ch
        for key, s, b in zip(PAID_BY_CHANNEL, spent, base):
            c[key].append(float(s / b) if b > 0 else float("nan"))
        w.day_spent_ch[:] = 0.0

    def _log_status_changes(self, status: np.ndarray) -> None:
        w = self.world
        starved = (status == 2) & (self._last_status != 2)
        restocked = (status != 2) & (status != 3) & (self._last_status == 2)
        for i in np.flatnonzero(starved):
            w.log("starved", w.net.node_ids[i], "cascade")
        for i in np.flatnonzero(restocked):
            w.log("restocked", w.net.node_ids[i], "cascade")
        self._last_status = status

    def tables(self, meta: dict) -> dict[str, pa.Table]:
        """Balance, nodes, communities, workforce, city and events tables (summary comes from these)."""
        net = self.world.net
        days = np.array(self.days, dtype=np.int32)
        nd, c, n, k = len(days), net.n_categories, net.n_nodes, net.n_communities
        bal = np.stack(self.balance) if self.balance else np.zeros((0, 5, c))
        out = {"balance": make_table({
            "t_day": np.repeat(days, c),
            "category": categorical(np.tile(np.arange(c), nd), net.categories),
            "cum_inflow_kg": bal[:, 0, :].ravel(), "cum_consumed_kg": bal[:, 1, :].ravel(),
            "cum_spoiled_kg": bal[:, 2, :].ravel(), "stock_kg": bal[:, 3, :].ravel(),
            "in_transit_kg": bal[:, 4, :].ravel(),
        }, meta)}
        districts = list(net.districts) + ["(city)"]
        node_d = np.where(net.node_district >= 0, net.node_district, len(net.districts))
        cols = _stack(self.nodes)
        out["nodes"] = make_table({
            "t_day": np.repeat(days, n),
            "node_id": categorical(np.tile(np.arange(n), nd), net.node_ids),
            "kind": categorical(np.tile(net.kind, nd), NODE_KINDS),
            "tier": np.tile(net.tier, nd),
            "district": categorical(np.tile(node_d, nd), districts),
            "status": categorical(cols.pop("status").astype(np.int32), STATUSES),
            **cols,
        }, meta)
        cc = _stack(self.comms)
        delivered = 0 + cc[CHANNEL_COLUMNS[0]]   # sum(channels) from 0, added in place
        for col in CHANNEL_COLUMNS[1:]:
            delivered += cc[col]
        paid_per_kg = _quotient_or_nan(cc["spent_cny"], delivered)
        paid_index = _quotient_or_nan(cc["spent_cny"], cc["baseline_cost_cny"])
        out["communities"] = make_table({
            "t_day": np.repeat(days, k),
            "community_id": categorical(np.tile(np.arange(k), nd), net.community_ids),
            "district": categorical(np.tile(net.comm_district, nd), net.districts),
            "population": np.tile(net.population, nd),
            "elderly_share": np.tile(net.elderly_share, nd),
            "offline_share": np.tile(net.offline_share, nd),
            "low_income_share": np.tile(net.low_income_share, nd),
            "lockdown": categorical(np.concatenate(self._levels) if self._levels else np.zeros(0), LOCKDOWN_LEVELS),
            "need_kg": cc["need_kg"], "demand_kg": cc["demand_kg"],
            **{col: cc[col] for col in CHANNEL_COLUMNS},
            "unmet_kg": _gap(cc["demand_kg"], delivered),
            "consumed_kg": cc["consumed_kg"],
            "shortfall_kg": _gap(cc["need_kg"], cc["consumed_kg"]),
            "spent_cny": cc["spent_cny"], "baseline_cost_cny": cc["baseline_cost_cny"],
            "paid_per_kg": paid_per_kg, "price_paid_index": paid_index,
            "hh_stock_days": cc["hh_stock_days"],
            "stock_below_one_day": cc["stock_below_one_day"].astype(bool),
        }, meta)
        out["residents"] = self._residents_table(days, meta)
        out["prices"] = self._prices_table(days, meta)
        out["workforce"] = self._workforce_table(days, meta)
        city = {key: np.array(v) for key, v in self.city.items()}
        city["regime"] = categorical(city["regime"], REGIMES)
        out["city"] = make_table({"t_day": days, **city}, meta)
        out["events"] = _events_table(self.world.events, meta)
        out["orders"] = self._orders_table(days, meta)
        return out

    def _orders_table(self, days: np.ndarray, meta: dict) -> pa.Table:
        """``orders.parquet``: day x front warehouse."""
        w = self.world
        net, fw = w.net, w.orders.fw
        nd, f = len(days), len(fw)
        districts = list(net.districts) + ["(city)"]
        node_d = np.where(net.node_district[fw] >= 0, net.node_district[fw], len(net.districts))
        return make_table({
            "t_day": np.repeat(days, f),
            "node_id": categorical(np.tile(fw, nd), net.node_ids),
            "district": categorical(np.tile(node_d, nd), districts),
            **_stack(self.orders),
        }, meta)

    def _residents_table(self, days: np.ndarray, meta: dict) -> pa.Table:
        """``residents.parquet``: day x compound x resident group, single precision; the day's
        buffers become Arrow columns one at a time (the table is the largest of a run)."""
        net = self.world.net
        nd, k, g = len(days), net.n_communities, len(GROUPS)
        f4 = np.float32
        cols: dict[str, object] = {
            "t_day": pa.array(np.repeat(days, k * g)),   # codes built as int32, the dictionary's index type
            "community_id": categorical(np.tile(np.repeat(np.arange(k, dtype=np.int32), g), nd), net.community_ids),
            "group": categorical(np.tile(np.tile(np.arange(g, dtype=np.int32), k), nd), GROUPS),   # a day's, repeated
            "population": pa.array(np.tile(self.world.res_pop.ravel().astype(f4), nd)),
        }
        buf = self.res   # the columns are views of the day buffers (no copy)
        for key in ("need_kg", "demand_kg", *CHANNEL_COLUMNS, "consumed_kg"):
            cols[key] = pa.array(buf[key].rows())
        need, eaten = buf["need_kg"].rows(), buf["consumed_kg"].rows()
        cols["shortfall_kg"] = pa.array(_gap(need, eaten))
        spent, base = buf["spent_cny"].rows(), buf["baseline_cost_cny"].rows()
        paid = _quotient_or_nan(spent, base)
        cols["spent_cny"], cols["baseline_cost_cny"] = pa.array(spent), pa.array(base)
        cols["price_paid_index"] = pa.array(paid, from_pandas=True)
        del paid
        cols["hh_stock_days"] = pa.array(buf["hh_stock_days"].rows())
        cols["stock_below_one_day"] = pa.array(buf["stock_below_one_day"].rows())
        return make_table(cols, meta)

    def _prices_table(self, days: np.ndarray, meta: dict) -> pa.Table:
        net = self.world.net
        nd, d, c = len(days), len(net.districts), net.n_categories
        index = np.stack(self.prices) if self.prices else np.zeros((0, d, c))   # [day, district, category]
        base = np.tile(net.price_per_kg, nd * d)
        return make_table({
            "t_day": np.repeat(days, d * c),
            "category": categorical(np.tile(np.arange(c), nd * d), net.categories),
            "district": categorical(np.tile(np.repeat(np.arange(d), c), nd), net.districts),
            "price_per_kg": index.ravel() * base, "baseline_price_per_kg": base, "price_index": index.ravel(),
        }, meta)

    def _workforce_table(self, days: np.ndarray, meta: dict) -> pa.Table:
        labels = self.group_labels
        g, nd = len(labels), len(days)
        cols = _stack(self.work)
        kinds, districts, roles = zip(*labels) if labels else ((), (), ())
        kind_names = list(NODE_KINDS) + ["community"]
        dist_names = list(self.world.net.districts) + ["(city)"]
        return make_table({
            "t_day": np.repeat(days, g),
            "pool": categorical(np.tile(np.arange(g), nd), [f"{kind_names[a]}/{dist_names[b]}/{ROLES[c]}"
                                                             for a, b, c in labels]),
            "kind": categorical(np.tile(np.array(kinds, dtype=np.int32), nd), kind_names),
            "district": categorical(np.tile(np.array(districts, dtype=np.int32), nd), dist_names),
            "role": categorical(np.tile(np.array(roles, dtype=np.int32), nd), ROLES),
            **cols,
        }, meta)


class DayRows:
    """A growing [day, width] buffer of one column: a row appended per day, read back as one flat
    array (a view, no copy) of the days recorded."""

    def __init__(self, width: int, dtype, days: int):
        self.data = np.zeros((max(days, 1), width), dtype=dtype)
        self.n = 0

    def append(self, row: np.ndarray) -> None:
        self.next_row()[:] = row

    def next_row(self) -> np.ndarray:
        """The next day's row (a view, to be written in place), appended."""
        if self.n == len(self.data):
            self.data = np.concatenate([self.data, np.zeros_like(self.data)])
        self.n += 1
        return self.data[self.n - 1]

    def rows(self) -> np.ndarray:
        return self.data[:self.n].ravel()

    def last(self) -> np.ndarray:
        """The row appended last."""
        return self.data[self.n - 1]


def _gap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.maximum(a - b, 0)`` in the inputs' dtype, the difference clipped in place (no second array).

    >>> _gap(np.array([3.0, 1.0]), np.array([1.0, 2.0])).tolist()
    [2.0, 0.0]
    """
    out = a - b
    return np.maximum(out, out.dtype.type(0.0), out=out)


def _quotient_or_nan(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` where ``den > 0``, NaN elsewhere, in the inputs' dtype (the floats of
    ``np.where(den > 0, num / np.where(den > 0, den, 1), nan)`` without its pick over a mixed mask).

    >>> _quotient_or_nan(np.array([3.0, 1.0]), np.array([2.0, 0.0])).tolist()
    [1.5, nan]
    """
    out = np.full(np.shape(num), np.nan, dtype=np.result_type(num, den))
    np.divide(num, den, out=out, where=den > 0)
    return out


def row_sums(a: np.ndarray) -> np.ndarray:
    """``a.sum(axis=1)`` of a C-ordered [R, W] array, the same floats, faster for narrow rows.

    numpy sums a C-ordered row of fewer than 8 values left to right, one call per row (slow for
    city-sized R); here one column at a time, left to right. Rows of 8 to 128 float64 values (the
    nodes' categories): :func:`~twin.policies.flows.sum_rows` (numpy's pairwise sum of each row, compiled). Others:
    ``a.sum(axis=1)``.

    >>> row_sums(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])).tolist()
    [6.0, 15.0]
    """
    if a.ndim == 2 and 8 <= a.shape[1] <= 128 and a.dtype == np.float64 and a.flags.c_contiguous:
        return sum_rows(a)
    if a.ndim != 2 or not 1 < a.shape[1] < 8 or not a.flags.c_contiguous:
        return a.sum(axis=1)
    out = a[:, 0] + a[:, 1]
    for j in range(2, a.shape[1]):
        out += a[:, j]
    return out


def household_sums(hh: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(np.einsum("kgc->kg", hh), np.einsum("kgc->c", hh))`` of households' stock [K, G, C]: the
    stock per compound and group, and per category; one compiled pass over a C-ordered float64
    stock of several categories, with numpy's floats (each group's categories as einsum sums a
    run, :func:`~twin.policies.residents_fast.einsum_sum`; the categories' totals in row order)."""
    if hh.ndim == 3 and hh.shape[2] > 1 and hh.dtype == np.float64 and hh.flags.c_contiguous:
        return _household_sums(hh)
    return np.einsum("kgc->kg", hh), np.einsum("kgc->c", hh)


@kernel
def _household_sums(hh):   # pragma: no cover (compiled)
    """:func:`household_sums` of a C-ordered float64 [K, G, C], C > 1."""
    k_, g_, c_ = hh.shape
    held = np.empty((k_, g_))
    by_c = np.zeros(c_)
    for k in range(k_):
        for g in range(g_):
            held[k, g] = einsum_sum(hh[k, g])
            for c in range(c_):
                by_c[c] += hh[k, g, c]
    return held, by_c


@kernel
def _take_tally(per_group, sums, flat):   # pragma: no cover (compiled)
    """A day's tally [K, G] (G < 8) recorded and zeroed in one pass: ``sums[:] = row_sums(per_group)``
    (left to right), ``flat[:] = per_group.ravel()`` (cast to ``flat``'s dtype), ``per_group[:] = 0``."""
    g = per_group.shape[1]
    for k in range(per_group.shape[0]):
        s = per_group[k, 0] if g > 1 else 0.0 + per_group[k, 0]   # numpy's one-value sum starts at 0.0
        flat[k * g] = per_group[k, 0]
        per_group[k, 0] = 0.0
        for j in range(1, g):
            v = per_group[k, j]
            s += v
            flat[k * g + j] = v
            per_group[k, j] = 0.0
        sums[k] = s
    return


#: the workforce table's counts, in :meth:`Recorder._snapshot_workforce`'s order
WORK_COLUMNS = ("headcount", "susceptible", "exposed", "infectious", "quarantined", "confined", "recovered", "active",
                "new_infected", "new_detected")


@kernel
def _pool_sums(g, n, head, s, e, i, r, qi, qs, extra, share, avail, new_inf, new_det):   # pragma: no cover (compiled)
    """:data:`WORK_COLUMNS` of int64 pools, made floats as numpy's mixed arithmetic does, summed per
    group ``g`` in pool order from 0.0 (:func:`~twin.network.model.group_sum`'s floats) [n, 10]."""
    out = np.zeros((n, 10))
    for p in range(len(g)):
        free = s[p] + e[p] + i[p] + r[p]
        q = np.int64(0)
        for d in range(qi.shape[0]):
            q += qi[d, p]
        for d in range(qs.shape[0]):
            q += qs[d, p]
        f = np.float64(free)
        k = g[p]
        out[k, 0] += np.float64(head[p]) + extra[p]
        out[k, 1] += np.float64(s[p]) + extra[p]
        out[k, 2] += np.float64(e[p])
        out[k, 3] += np.float64(i[p])
        out[k, 4] += np.float64(q)
        out[k, 5] += f * share[p]
        out[k, 6] += np.float64(r[p])
        out[k, 7] += (f * (1.0 - share[p]) + extra[p]) * avail[p]
        out[k, 8] += np.float64(new_inf[p])
        out[k, 9] += np.float64(new_det[p])
    return out


def _pool_groups(world: World) -> tuple[np.ndarray, list[tuple[int, int, int]]]:
    """Group pools by (node kind, district, role): the rows of ``workforce.parquet``."""
    p, net = world.pools, world.net
    kind = np.where(p.node >= 0, net.kind[np.maximum(p.node, 0)], len(NODE_KINDS))
    district = np.where(p.district >= 0, p.district, len(net.districts))
    keys = np.stack([kind, district, p.role.astype(np.int64)], axis=1)
    uniq, inverse = unique_rows(keys)
    return inverse.ravel(), [tuple(int(x) for x in row) for row in uniq]


def unique_rows(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(keys, axis=0, return_inverse=True)`` of an integer [N, W] array; rows of
    non-negative values are numbered as one integer each (their order is the rows' lexicographic
    order), several times faster than numpy's sort of rows.

    >>> [a.tolist() for a in unique_rows(np.array([[1, 0], [0, 2], [1, 0]]))]
    [[[0, 2], [1, 0]], [1, 0, 1]]
    """
    if not len(keys) or keys.min() < 0:
        return np.unique(keys, axis=0, return_inverse=True)
    bases = keys.max(axis=0).astype(np.int64) + 1
    if float(np.prod(bases.astype(float))) >= 2.0 ** 62:
        return np.unique(keys, axis=0, return_inverse=True)
    code = np.zeros(len(keys), dtype=np.int64)
    for j in range(keys.shape[1]):
        code = code * bases[j] + keys[:, j]
    first, inverse = np.unique(code, return_index=True, return_inverse=True)[1:]
    return keys[first], inverse


def _stack(buffers: dict[str, list[np.ndarray] | DayRows]) -> dict[str, np.ndarray]:
    return {k: (v.rows() if isinstance(v, DayRows) else np.concatenate(v) if v else np.zeros(0))
            for k, v in buffers.items()}


def _events_table(events: list[dict], meta: dict) -> pa.Table:
    ev = {key: [e[key] for e in events] for key in ("t_h", "t_day", "event", "shock", "target", "factor")}
    return make_table({
        "t_h": pa.array(ev["t_h"], pa.float64()), "t_day": pa.array(ev["t_day"], pa.int32()),
        "event": pa.array(ev["event"], pa.string()).dictionary_encode(),
        "shock": pa.array(ev["shock"], pa.string()).dictionary_encode(),
        "target": pa.array(ev["target"], pa.string()), "factor": pa.array(ev["factor"], pa.float64()),
    }, meta)
