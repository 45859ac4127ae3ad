"""The simulated world's mutable state: stocks, goods on the way, workers, levers, daily tallies.

Only processes (``twin.processes``) change it. All quantities are kg unless named otherwise.
"""

from __future__ import annotations

import numpy as np
import simpy

from twin.jit import kernel
from twin.network.model import BASE_KINDS, Network, group_sum
from twin.policies.flows import _shaped, cover_days, missed_cycles, online_share, order_up_to, pairwise_sum, ratio_of
from twin.policies.pricing import effective_index
from twin.policies.residents import CRISES, group_members, stock_weights
from twin.policies.surge import available_extra
from twin.pools import COURIERS, DRIVERS, STAFF, build_pools
from twin.queues import OrderBook
from twin.scenario.residents import GROUPS
from twin.scenario.response import Epidemic
from twin.scenario.schema import Scenario

__all__ = ["World", "Urgent", "CHANNELS", "CLOSURE_SOURCES", "GROUPS", "TALLIES", "level_days", "own_hours"]

#: why a node can be closed; it reopens when no source holds it closed
CLOSURE_SOURCES = ("shock", "case", "lockdown")
#: how goods reach households: market offline (in person), online (couriers to the door), gate (shops
#: closed to shoppers by static management delivering orders to the compound gate), group buying,
#: unified packages, safety net
CHANNELS = ("offline", "online", "gate", "group", "unified", "safety_net")
#: what each compound's resident groups did today ([K, G] each), zeroed by the recorder
TALLIES = ("need_kg", "demand_kg", *(f"delivered_{ch}_kg" for ch in CHANNELS), "consumed_kg", "spent_cny",
           "baseline_cost_cny")


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
    """State of one run. Arrays are [N nodes, C categories], [K communities, C], [K, G resident groups, C]
    (households: ``GROUPS``) or [P pools]."""

    def __init__(self, env: simpy.Environment, net: Network, sc: Scenario):
        self.env, self.net, self.sc = env, net, sc
        self.epi = sc.epidemic or Epidemic()
        n, k, c = net.n_nodes, net.n_communities, net.n_categories
        #: order-up-to level in days of coverage: target + one day's review + the own cycles a trip misses
        self.level_days = level_days(net)
        #: community supply points stay dormant (no stock, no orders) until a collective mode is in force
        self.supply_points = net.is_kind("community_supply_point")
        self.stock = self.level_days * net.coverage_kg_day * ~self.supply_points[:, None]
        self.forecast = net.coverage_kg_day.copy()   # each node's smoothed daily demand [N, C]
        self.pipeline = np.zeros((n, c))          # ordered, on a truck, not yet arrived
        self.backlog = np.zeros((n, c))           # orders a supplier lacked the stock for at its last wave
        self.need_base = net.population[:, None] * net.need_kg_pp[None, :]   # [K, C] kg/day
        # resident groups inside compounds: members, their need and stock [K, G, C]
        res = sc.residents
        specs = res.ordered()
        self.members = group_members(net.elderly_share, net.offline_share, net.low_income_share,
                                     res.elderly_alone_share, res.lost_income_share)   # [K, G] shares
        self.res_pop = net.population[:, None] * self.members                          # [K, G] residents
        self.need_base_g = self.res_pop[:, :, None] * net.need_kg_pp[None, None, :]
        self.normal_g = self.need_base_g.sum(axis=2)                                   # [K, G] a day's need
        self.group_online = np.array([g.online for g in specs])
        li_ratio = sc.prices.low_income_elasticity_ratio   # groups with a budget respond like the low-income
        ratios = np.array([g.elasticity_ratio if g.elasticity_ratio is not None
                           else (li_ratio if g.budget_share is not None else 1.0) for g in specs])
        self.elasticity_g = ratios[:, None] * net.elasticity[None, :]                 # [G, C]
        weights = stock_weights(self.members, np.array([g.stock_factor for g in specs]))
        cat_factor = np.array([c.household_stock_factor for c in sc.categories])
        self.stock_days_g = net.hh_stock_days[:, None, None] * weights[:, :, None] * cat_factor[None, None, :]
        self.hh_stock = self.stock_days_g * self.need_base_g                            # [K, G, C] kg
        # households' priorities [C] (lower first) and substitutes [C] (-1: none) by category
        self.priority = np.array([c.priority for c in sc.categories])
        names = [c.name for c in sc.categories]
        self.substitute = np.array([names.index(c.substitute) if c.substitute else -1 for c in sc.categories])
        self.substitution_share = np.array([c.substitution_share for c in sc.categories])
        self.crisis = np.zeros((k, len(GROUPS), len(CRISES)))   # crises each group is in (safety-net calls)
        self.is_base = net.is_kind(*BASE_KINDS)
        self.events: list[dict] = []
        self.desk = None   # the safety-net desk, set by the simulation
        # workers
        self.n_crews = np.ones(n, dtype=np.int64)      # crews per node: one per shift where the kind works shifts
        for kind in ("front_warehouse", "sorting_centre"):
            self.n_crews[net.is_kind(kind)] = len(getattr(sc.shifts, kind).starts_h)
        self.pools = build_pools(net, sc.workforce.volunteers_per_1000, self.epi.quarantine_days, self.n_crews)
        self.orders = OrderBook(net, sc, _phase_hour("households"))   # online orders queued at front warehouses
        # sorting centres unload a load only while a crew is on shift: [N, 24] clock hours a crew works
        self.docks = np.flatnonzero(net.is_kind("sorting_centre"))
        pattern = sc.shifts.sorting_centre
        self.dock_shifts = np.zeros((len(pattern.starts_h), 24))
        for i, h in enumerate(pattern.starts_h):
            self.dock_shifts[i, (h + np.arange(pattern.hours)) % 24] = 1.0
        self.dock_open = np.ones((n, 24), dtype=bool)
        self.docks_all_open = True
        self.shock_confined = np.zeros(len(self.pools))
        self.reinforce = np.zeros(len(self.pools))
        self.staff_now, self.drivers_now, self.couriers_now = net.staff, net.drivers, net.couriers
        # surge capacity per role (staff, drivers, couriers) and node (twin.policies.surge): days of
        # full surge left, the extra capacity allowed today (set each morning), the share used today
        su = sc.surge
        self.surge_max = np.array([su.max_extra, su.max_extra, su.courier_max_extra])
        self.surge_left = np.full((3, n), su.budget_days)
        self.surge_extra = available_extra(self.surge_left, self.surge_max[:, None])
        self.surge_share = np.zeros((3, n))
        # closures by source, and the levers set by shocks
        self.closed_by = {s: np.zeros(n, dtype=bool) for s in CLOSURE_SOURCES}
        self.closed = np.zeros(n, dtype=bool)   # closed to the public, whatever the source
        self.shut = np.zeros(n, dtype=bool)     # not working at all (shock or case): lockdown-closed shops still work
        self.capacity_mult = np.ones(n)
        self.fleet_mult = np.ones(n)             # transport shocks: drivers' trucks only
        self.courier_mult = np.ones(n)           # transport shocks: couriers only
        self.packing_mult = np.ones(n)           # reserves pack standard packages faster
        self.supply_mult = np.ones(n)
        self.response = np.zeros(n)              # extra output and partners' drivers drawn in by prices (share)
        self.surge = np.ones(k)
        self.released = np.zeros(n, dtype=bool)
        # lockdowns: 0 normal, 1 limited, 2 static, per district and per community
        self.district_level = np.zeros(len(net.districts), dtype=np.int8)
        self.comm_level = np.zeros(k, dtype=np.int8)
        self.comm_trips_every = np.ones(k)
        self.comm_lockdown_online = np.zeros(k)
        # prices [D, C] (index, 1 = baseline) and the government's price levers
        nd = len(net.districts)
        self.retail = net.is_kind("supermarket", "wet_market", "front_warehouse")
        self.price_index = np.ones((nd, c))
        self.price_cap = np.full((nd, c), np.inf)
        self.fair_share = np.zeros((nd, c))
        self.subsidy = np.zeros((nd, c))
        self.anti_hoarding = np.zeros(nd, dtype=bool)
        self.withheld = np.zeros(n)                   # share of a node's stock traders hold back
        self.last_requests = _district_sum(net, self.need_base)   # yesterday's purchase requests [D, C]
        self.last_served = self.last_requests.copy()               # yesterday's deliveries [D, C]
        self.last_need = self.last_requests.copy()                 # yesterday's need left to the market [D, C]
        self.goods_short = np.zeros((nd, c))
        # each node's district, nodes outside every district in a last bin
        self._district_bin = np.where(net.node_district >= 0, net.node_district, nd).astype(np.intp)
        self._district_bin.flags.writeable = False          # yesterday's requests the sellers' goods could not meet [D, C]
        self.panic = np.zeros(k, dtype=bool)
        self.panic_target = np.zeros(k)               # stock target days set by panic-buying shocks (0 = none)
        # cumulative flows per category
        self.cum_inflow = self.stock.sum(axis=0) + self.hh_stock.sum(axis=(0, 1))  # initial stock enters at t=0
        self.cum_consumed = np.zeros(c)
        self.cum_spoiled = np.zeros(c)
        # per-day tallies, zeroed by the recorder
        self.day_node_in = np.zeros(n)
        self.day_node_out = np.zeros(n)
        self.day_node_unfilled = np.zeros(n)   # requested but not served (stock or capacity short)
        self.day_node_spoiled = np.zeros(n)
        self.day_trucks = np.zeros(n)
        self.day_node_shipped = np.zeros(n)    # loaded on trucks (what drivers carry)
        self.day_courier_out = np.zeros(n)     # taken to doors by couriers (orders, safety-net drops)
        self.day_overtime_h = np.zeros(n)      # surge worker-hours over the node's crews
        self.day_res = {key: np.zeros((k, len(GROUPS))) for key in TALLIES}
        self.day_spent_ch = np.zeros((2, len(CHANNELS)))   # city's spent and baseline cost per channel today
        # allocation modes in force (set by the regime's policy package) and the regime
        self.regime = sc.regimes.initial
        self.policy = getattr(sc.regimes, sc.regimes.initial)
        self.modes: set[str] = set(self.policy.modes)
        self.mode_since: dict[str, float] = {m: 0.0 for m in self.modes}   # day each mode came into force
        self.gate_left = np.full(k, np.inf)   # kg volunteers can still carry to the doors today
        # adaptations kept after a shock episode (twin.processes.learning)
        self.standing: dict[str, object] = {}    # policy levers made standing practice
        self.hh_stock_extra_days = 0.0           # days of need households now keep on top of their habit
        self.supply_floor = 0.0                  # contingency contracts: least share of supply in a cut

    @property
    def day_comm(self) -> dict[str, np.ndarray]:
        """Today's tallies per compound [K] (the groups' summed); read-only."""
        ones = np.ones(len(GROUPS))
        return {key: v @ ones for key, v in self.day_res.items()}

    # -- events ----------------------------------------------------------------------------------
    def log(self, event: str, target: str, shock: str = "", factor: float | None = None) -> None:
        """Append one row to the events table at the current time (``factor`` null if none)."""
        now = float(self.env.now)
        self.events.append({"t_h": now, "t_day": int(now // 24), "event": event, "shock": shock,
                            "target": target, "factor": None if factor is None else float(factor)})

    def set_closed(self, source: str, mask: np.ndarray, reason: str) -> None:
        """Set the nodes one source holds closed; log every node that closes or reopens."""
        self.closed_by[source] = mask
        new = np.logical_or.reduce([self.closed_by[s] for s in CLOSURE_SOURCES])
        for i in np.flatnonzero(new & ~self.closed):
            self.log("closure", self.net.node_ids[i], reason)
        for i in np.flatnonzero(~new & self.closed):
            self.log("reopening", self.net.node_ids[i], reason)
        self.closed = new
        self.shut = self.closed_by["shock"] | self.closed_by["case"]

    # -- workers and capacities (kg/day), all scaled by the node's capacity multiplier -----------
    def refresh_workforce(self) -> None:
        """Recompute the workers at work per node from the pools."""
        p, n = self.pools, self.net.n_nodes
        self.staff_now = p.per_node(STAFF, n, self.net.staff)
        self.drivers_now = p.per_node(DRIVERS, n, self.net.drivers)
        self.couriers_now = p.per_node(COURIERS, n, self.net.couriers)
        book = self.orders
        book.crew_share = p.per_crew(COURIERS, book.fw, book.crew_share.shape[1])
        if len(self.docks):   # sorting centres: the clock hours a crew of handling staff is on shift
            shares = p.per_crew(STAFF, self.docks, self.dock_shifts.shape[0])
            manned = (shares > 0) & (self.staff_now[self.docks] > 0)[:, None]
            self.dock_open[self.docks] = (manned.astype(float) @ self.dock_shifts) > 0
            self.docks_all_open = bool(self.dock_open[self.docks].all())

    def surge_factor(self, role: int) -> np.ndarray:
        """1 + the extra capacity a role's crews may add today within their surge budget [N]."""
        return 1.0 + self.surge_extra[role]

    def dock_wait(self, nodes: np.ndarray) -> np.ndarray:
        """Hours a load arriving now at each of ``nodes`` waits at the dock for a crew on shift (0:
        unloaded at once; a node with nobody at work looks again a day later)."""
        now = float(self.env.now)
        hour = int(now // 1) % 24
        seq = self.dock_open[nodes][:, (hour + np.arange(24)) % 24]
        first = np.argmax(seq, axis=1)
        wait = np.where(first == 0, 0.0, first - (now - np.floor(now)))
        return np.where(seq.any(axis=1), wait, 24.0)

    def handling_kg(self, surge: bool = True) -> np.ndarray:
        """What a node's handling staff can process today (normal hours only without ``surge``)."""
        mult = self.capacity_mult * self.packing_mult
        if surge:
            mult = mult * self.surge_factor(STAFF)
        return _scaled(self.staff_now, self.net.handling_kg_per_worker, mult)

    def handling_left(self) -> np.ndarray:
        """Handling capacity not yet used today (every kg a node ships or sells passes its staff)."""
        return np.maximum(self.handling_kg() - self.day_node_out, 0.0)

    def fleet_kg(self, surge: bool = True) -> np.ndarray:
        """What a node's drivers can carry today (normal hours only without ``surge``)."""
        mult = self.capacity_mult * self.fleet_mult
        return _scaled(self.drivers_now, self.net.fleet_kg_per_driver, mult * self.surge_factor(DRIVERS) if surge else mult)

    def courier_kg(self, surge: bool = True) -> np.ndarray:
        """What a front warehouse's couriers can deliver today (normal hours only without ``surge``)."""
        mult = self.capacity_mult * self.courier_mult
        return _scaled(self.couriers_now, self.net.courier_kg_per_day, mult * self.surge_factor(COURIERS) if surge else mult)

    def gate_kg(self) -> np.ndarray:
        """What each compound's volunteers can carry from the gate to the doors today [K]."""
        p = self.pools
        vol = np.zeros(self.net.n_communities)
        sel = p.comm >= 0
        vol[p.comm[sel]] = p.active()[sel]
        return vol * self.sc.workforce.volunteer_kg_per_day

    def active_staff(self) -> np.ndarray:
        """Workers at work over a node's pools (inf where a pool is unlimited)."""
        total = self.staff_now + self.drivers_now + self.couriers_now
        return np.where(self.shut, 0.0, total)

    def order_level(self, nodes: np.ndarray | None = None) -> np.ndarray:
        """Order-up-to level [N, C] (``nodes``: theirs only): days x the larger of planned flow
        (scaled by the city's population-weighted surge) and the node's demand forecast."""
        net = self.net
        surge, zero_dormant = self._level_terms()
        if nodes is None:
            level = self.level_days * np.maximum(net.coverage_kg_day * surge, self.forecast)
            dormant = self.supply_points
        else:
            level = self.level_days[nodes] * np.maximum(net.coverage_kg_day[nodes] * surge, self.forecast[nodes])
            dormant = self.supply_points[nodes]
        if zero_dormant:
            level[dormant] = 0.0
        return level

    def _level_terms(self) -> tuple[float, bool]:
        """The city's population-weighted surge, and whether community supply points order nothing
        (dormant while neither group buying nor unified supply runs): :meth:`order_level`'s terms."""
        surge = float(np.average(self.surge, weights=self.net.population))
        zero_dormant = bool(self.supply_points.any()) and not (self.mode_on("group_buying") or self.mode_on("unified"))
        return surge, zero_dormant

    def replenish(self, nodes: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """What ``nodes`` order (bases: produce) [len(nodes), C]: up to their level, plus the
        orders they lacked the stock for at their last wave, within their staff and fleet
        capacity (customers order those again: a backorder, passed on one to one). What staff or
        trucks could not have moved anyway is no backorder: more stock would not move it.
        ``rows``: the rows wanted, as indexes into ``nodes`` (a wave's links: a node's order per link)."""
        if rows is not None and all(a.dtype == float and a.ndim == 2 for a in (self.level_days, self.forecast, self.stock)):
            surge, zero_dormant = self._level_terms()
            return _replenish_linked(np.asarray(nodes), np.asarray(rows), self.level_days, self.net.coverage_kg_day, surge,
                                     self.forecast, self.supply_points, zero_dormant, self.backlog, self.stock, self.pipeline)
        out = order_up_to(self.order_level(nodes) + self.backlog[nodes], self.stock[nodes], self.pipeline[nodes])
        return out if rows is None else out[rows]

    def observe_demand(self, nodes: np.ndarray, requested: np.ndarray) -> None:
        """Fold the day's requests [len(nodes), C] into the nodes' forecasts (EWMA, capped)."""
        net = self.sc.network
        a = net.demand_smoothing
        if requested.ndim == 2 and requested.dtype == float and self.forecast.dtype == float and \
                _observe(self.forecast, self.net.coverage_kg_day, np.asarray(nodes), requested, float(a),
                         float(net.max_forecast_factor)):
            return   # done in place (distinct nodes)
        cap = net.max_forecast_factor * self.net.coverage_kg_day[nodes]
        self.forecast[nodes] = np.minimum((1 - a) * self.forecast[nodes] + a * requested, cap)

    def note_goods_short(self, at_node: np.ndarray, capacity_kg: np.ndarray, offered: np.ndarray | None = None) -> None:
        """Add to :attr:`goods_short` what the sellers were asked [N, C], within what their staff
        or couriers could hand over today (``capacity_kg`` [N], asks scaled down pro rata), beyond
        the goods they offer (``offered``: :meth:`offered`, if known), per district and category.
        Asks no one could have handed over are not demand the goods failed (shut sellers fail for
        want of labour, not of goods)."""
        offered = self.offered() if offered is None else offered
        nd = len(self.net.districts)
        if _goods_short_ok(at_node, capacity_kg, offered, self.goods_short):   # one compiled pass
            _goods_short(at_node, capacity_kg, self.shut, offered, self._district_bin, self.goods_short)
            return
        total = at_node.sum(axis=1)
        handed = ratio_of(np.minimum(capacity_kg, total), total)
        handed[self.shut] = 0.0
        short = np.maximum(at_node * handed[:, None] - offered, 0.0)
        self.goods_short += group_sum(self._district_bin, short, nd + 1)[:nd]

    def mode_on(self, mode: str) -> bool:
        """Whether an allocation mode is in force today."""
        return mode in self.modes

    def policy_value(self, name: str, default):
        """A lever of the policy package in force, or ``default`` where the package leaves it unset."""
        value = getattr(self.policy, name, None)
        return self.standing.get(name, default) if value is None else value

    def reset_gate(self) -> None:
        """Start of day: compounds under static management have their volunteers' capacity to fill."""
        self.gate_left = np.where(self.comm_level == 2, self.gate_kg(), np.inf)

    def deliver(self, nodes: np.ndarray, comms: np.ndarray, kg: np.ndarray, channel: str,
                pushed: bool = False, spent_cny: np.ndarray | None = None) -> None:
        """Move ``kg`` [R, C] from ``nodes`` [R] to the households of ``comms`` [R] through ``channel``.

        A pushed delivery (packages, safety-net drops) was not asked for in the morning's demand:
        it counts as demanded and delivered, so ``delivered + unmet = demand`` still holds.
        """
        n, k = self.net.n_nodes, self.net.n_communities
        self.hand_over(np.arange(n), group_sum(nodes, kg, n), group_sum(comms, kg, k), channel, pushed, spent_cny)

    def hand_over(self, nodes: np.ndarray, taken: np.ndarray, got: np.ndarray, channel: str,
                  pushed: bool = False, spent_cny: np.ndarray | None = None, rows: np.ndarray | None = None) -> None:
        """Take ``taken`` [len(nodes), C] from ``nodes`` and give ``got`` to households (the two must
        hold the same kg per category): [K, G, C] by resident group, or [K, C] shared per head over
        the compound's groups; ``spent_cny`` [K] (shared like the goods' baseline cost) or [K, G];
        see :meth:`deliver`. ``rows``: ``got`` and ``spent_cny`` are given for these compounds only
        (distinct; the others get nothing), see :meth:`receive`."""
        self.stock[nodes] -= taken
        np.maximum(self.stock, 0.0, out=self.stock)  # rounding dust only
        self.day_node_out[nodes] += taken.sum(axis=1)
        if got.ndim == 2:
            got = got[:, None, :] * (self.members if rows is None else self.members[rows])[:, :, None]
        self.receive(got, channel, pushed, spent_cny, rows=rows)

    def receive(self, got: np.ndarray | None, channel: str, pushed: bool = False,
                spent_cny: np.ndarray | None = None, per_group: np.ndarray | None = None,
                base: np.ndarray | None = None, in_stock: bool = False, rows: np.ndarray | None = None) -> None:
        """Households' side of a delivery: ``got`` [K, G, C] joins their stock and the day's tallies
        (``per_group`` kg and ``base`` baseline cost [K, G] of ``got``, when the caller has them).
        ``in_stock``: the caller has already added the goods to households' stock (then ``got`` is
        not read: give ``per_group`` and ``base``). ``rows``: ``got`` [R, G, C] and ``spent_cny``
        are those of these distinct compounds, the others getting nothing; the tallies are those of
        the whole [K, G, C] delivery with zeros elsewhere (the same floats, at a fraction of the work
        when few compounds get anything: numpy sums each compound's goods on their own)."""
        if rows is not None:
            self.hh_stock[rows] += got
            per_group, base = self._all_rows(rows, np.einsum("kgc->kg", got)), self._all_rows(rows, got @ self.net.price_per_kg)
            spent_cny = None if spent_cny is None else self._all_rows(rows, spent_cny)
            return self.receive(None, channel, pushed, spent_cny, per_group, base, in_stock=True)
        if in_stock:
            if per_group is None or base is None:
                raise ValueError("receive: goods already in stock need their per_group and base")
        else:
            self.hh_stock += got
        if per_group is None:
            per_group = np.einsum("kgc->kg", got)
        self.day_res[f"delivered_{channel}_kg"] += per_group
        if base is None:
            base = got @ self.net.price_per_kg
        if spent_cny is None:
            spent = base
        elif np.ndim(spent_cny) == 1:
            spent = spent_cny[:, None] * _shares(base)
        else:
            spent = spent_cny
        self.day_res["baseline_cost_cny"] += base
        self.day_res["spent_cny"] += spent
        ch = CHANNELS.index(channel)
        self.day_spent_ch[:, ch] += (float(spent.sum()), float(base.sum()))
        if pushed:
            self.day_res["demand_kg"] += per_group

    def _all_rows(self, rows: np.ndarray, values: np.ndarray) -> np.ndarray:
        """``values`` of the compounds ``rows``, as an array over every compound (zeros elsewhere)."""
        out = np.zeros((self.net.n_communities, *values.shape[1:]))
        out[rows] = values
        return out

    def offered(self, nodes: np.ndarray | None = None) -> np.ndarray:
        """Stock [N, C] on offer (``nodes``: theirs only): what traders do not hold back."""
        if not self.withheld.any():   # nothing held back: the stock itself (x * 1.0 is x)
            return self.stock.copy() if nodes is None else self.stock[nodes]
        if nodes is None:
            return self.stock * (1.0 - self.withheld)[:, None]
        return self.stock[nodes] * (1.0 - self.withheld[nodes])[:, None]

    def paid_index(self, by_district: bool = False) -> np.ndarray:
        """Price index [K, C] each compound's residents pay (fair-price share and vouchers applied);
        ``by_district``: [D, C], what every compound of a district pays (the same numbers)."""
        index = effective_index(self.price_index, self.fair_share, self.subsidy)
        return index if by_district else index[self.net.comm_district]

    def stock_target_days(self) -> np.ndarray:
        """Household stock target [K, G, C] in days: panicking households (a lockdown's announcement,
        a panic-buying shock) aim higher, in proportion to each group's and category's usual days; a
        city that learned keeps ``hh_stock_extra_days`` more of every category."""
        base = self.stock_days_g + self.hh_stock_extra_days if self.hh_stock_extra_days else self.stock_days_g
        if not self.panic.any() and not (self.panic_target > 0).any():
            return base
        h = self.sc.households
        habit = self.net.hh_stock_days + self.hh_stock_extra_days
        panicked = habit * (1.0 - h.panic_share) + h.panic_stock_days * h.panic_share
        days = np.maximum(np.where(self.panic, np.maximum(panicked, habit), habit), self.panic_target)   # [K]
        some = habit > 1e-9   # a pantry of (next to) no days has nothing to scale: it takes the days as they are
        lift = np.where(some, days / np.where(some, habit, 1.0), 1.0)
        return np.where((~some & (days > 0))[:, None, None], days[:, None, None], base * lift[:, None, None])

    def online_share(self) -> np.ndarray:
        """Share of each resident group's purchases ordered online today [K, G] (lockdowns push it up).

        Groups that order online: the habit in normal times, the lockdown's share under limited
        trips, everything under static management. Offline groups: nothing in normal times;
        under a lockdown, neighbours order for ``households.mutual_aid_share`` of them.
        """
        net, hh = self.net, self.sc.households
        if self.comm_level.ndim == 1 and self.comm_lockdown_online.dtype == float and self.group_online.dtype == bool:
            return _online_share(net.comm_fw, self.comm_level, self.comm_lockdown_online, self.group_online,
                                 float(hh.online_share), float(hh.mutual_aid_share))   # one compiled pass
        can = (net.comm_fw >= 0)[:, None]
        on = self.group_online[None, :]
        level = self.comm_level[:, None]
        own = np.where(level == 2, 1.0, np.where(level == 1, self.comm_lockdown_online[:, None], hh.online_share))
        helped = np.where(level >= 1, hh.mutual_aid_share, 0.0)
        share = np.where(on, own, helped)
        return np.where(can, np.clip(share, 0.0, 1.0), 0.0)

    def can_order(self) -> np.ndarray:
        """Share of each group [G] that can place an order itself or through neighbours (online, by
        phone to a shop delivering to the gate)."""
        return np.where(self.group_online, 1.0, self.sc.households.mutual_aid_share)


def own_hours(net: Network) -> np.ndarray:
    """Hour of day [N] at which each node uses its stock: a supplier's dispatch wave (its tier's),
    otherwise the households' shopping phase (outlets, front warehouses, community points)."""
    from twin.sim import PHASE_HOURS   # the day's timetable; sim imports this module

    waves = np.asarray(PHASE_HOURS["dispatch"])
    ships = np.bincount(net.link_src, minlength=net.n_nodes) > 0
    return np.where(ships, waves[net.tier], PHASE_HOURS["households"])


def _phase_hour(name: str) -> float:
    from twin.sim import PHASE_HOURS   # the day's timetable; sim imports this module

    return float(PHASE_HOURS[name])


@kernel
def _observe(forecast, coverage, nodes, requested, a, factor):   # pragma: no cover (compiled)
    """:meth:`World.observe_demand` in place when ``nodes`` are distinct (True; False, untouched,
    when one repeats: numpy's fancy assignment keeps the last row, left to it):
    ``min((1 - a) * forecast + a * requested, factor * coverage)``, numpy's minimum."""
    seen = np.zeros(forecast.shape[0], dtype=np.bool_)
    for r in range(len(nodes)):
        if seen[nodes[r]]:
            return False
        seen[nodes[r]] = True
    b = 1 - a
    for r in range(len(nodes)):
        i = nodes[r]
        for c in range(forecast.shape[1]):
            v = b * forecast[i, c] + a * requested[r, c]
            cap = factor * coverage[i, c]
            forecast[i, c] = v if (v < cap or np.isnan(v)) else cap
    return True


@kernel
def _online_share(comm_fw, level, lockdown_online, group_online, habit, aid):   # pragma: no cover (compiled)
    """:meth:`World.online_share` [K, G] in one pass: a group that orders online orders everything
    under static management (level 2), ``lockdown_online[k]`` under limited trips (1), else
    ``habit``; one that does not, ``aid`` under a lockdown, else nothing; clipped to [0, 1] as
    ``np.clip`` clips (NaN and -0.0 kept); 0 for a compound without a front warehouse."""
    k_n, g_n = len(comm_fw), len(group_online)
    out = np.empty((k_n, g_n))
    for k in range(k_n):
        lvl = level[k]
        for g in range(g_n):
            if comm_fw[k] < 0:
                out[k, g] = 0.0
                continue
            if group_online[g]:
                s = 1.0 if lvl == 2 else (lockdown_online[k] if lvl == 1 else habit)
            else:
                s = aid if lvl >= 1 else 0.0
            s = 0.0 if s < 0.0 else s
            out[k, g] = 1.0 if s > 1.0 else s
    return out


def _goods_short_ok(at_node: np.ndarray, capacity: np.ndarray, offered: np.ndarray, goods_short: np.ndarray) -> bool:
    """Whether :func:`_goods_short` takes these arrays: float [N, C] (C <= 128, summed as numpy
    sums a row), [N], [N, C] and [D, C]."""
    return (at_node.ndim == 2 and at_node.shape[1] <= 128 and offered.shape == at_node.shape
            and np.shape(capacity) == at_node.shape[:1] and goods_short.shape[1:] == at_node.shape[1:]
            and all(a.dtype == float for a in (at_node, np.asarray(capacity), offered, goods_short)))


@kernel
def _goods_short(at_node, capacity, shut, offered, district_bin, goods_short):   # pragma: no cover (compiled)
    """:meth:`World.note_goods_short` in one pass: per seller, its asks' sum (``at_node.sum(axis=1)``,
    :func:`~twin.policies.flows.pairwise_sum`), the share handed over (``ratio_of(min(capacity,
    total), total)``, 0 where shut), ``short = max(at_node x handed - offered, 0)``, summed per
    district bin in row order from 0.0 (``group_sum``) and added to ``goods_short`` (bins past
    its rows, sellers in no district, dropped)."""
    n, c_n = at_node.shape
    nd = goods_short.shape[0]
    by_bin = np.zeros((nd + 1, c_n))
    for i in range(n):
        total = pairwise_sum(at_node[i])
        cap = capacity[i]
        part = cap if (cap < total or np.isnan(cap)) else total   # np.minimum (of equal values, the second)
        handed = part / total if total > 0.0 else 1.0
        if shut[i]:
            handed = 0.0
        b = district_bin[i]
        if b < 0 or b > nd:
            raise ValueError("note_goods_short: a district bin is outside 0 .. D")
        for c in range(c_n):
            x = at_node[i, c] * handed - offered[i, c]
            by_bin[b, c] += x if (x > 0.0 or np.isnan(x)) else 0.0   # np.maximum(x, 0.0)
    for d in range(nd):
        for c in range(c_n):
            goods_short[d, c] += by_bin[d, c]


@kernel
def _replenish_rows(nodes, level_days, coverage, surge, forecast, dormant, zero_dormant, backlog, stock,
                    pipeline):   # pragma: no cover (compiled)
    """:meth:`World.replenish` of ``nodes`` [R] (a node's row once per appearance) in one pass:
    ``order_up_to(order_level + backlog, stock, pipeline)``, numpy's maximum (NaN kept; of equal
    values, the second) on every element."""
    c_n = stock.shape[1]
    out = np.empty((len(nodes), c_n))
    for r in range(len(nodes)):
        i = nodes[r]
        for c in range(c_n):
            x, y = coverage[i, c] * surge, forecast[i, c]
            level = level_days[i, c] * (x if (x > y or np.isnan(x)) else y)
            if zero_dormant and dormant[i]:
                level = 0.0
            v = level + backlog[i, c] - stock[i, c] - pipeline[i, c]
            out[r, c] = v if (v > 0.0 or np.isnan(v)) else 0.0
    return out


@kernel
def _replenish_linked(nodes, rows, level_days, coverage, surge, forecast, dormant, zero_dormant, backlog, stock,
                      pipeline):   # pragma: no cover (compiled)
    """``_replenish_rows(nodes[rows], ...)``: each of ``nodes`` computed once (a row is a function of
    its node alone), then its row copied for each of ``rows`` (a wave's links: several per node)."""
    per = _replenish_rows(nodes, level_days, coverage, surge, forecast, dormant, zero_dormant, backlog, stock, pipeline)
    c_n = per.shape[1]
    out = np.empty((len(rows), c_n))
    for r in range(len(rows)):
        j = rows[r]
        if j < 0:
            j += len(nodes)   # numpy's negative index
        if j < 0 or j >= len(nodes):
            raise IndexError("replenish: a row is outside the nodes")
        for c in range(c_n):
            out[r, c] = per[j, c]
    return out


def level_days(net: Network) -> np.ndarray:
    """Order-up-to cover [N, C] in days of each node's demand (see :func:`twin.policies.flows.cover_days`).

    Each in-link's order leaves at its supplier's dispatch wave and misses the node's own times
    its trip overlaps. Several suppliers: the mean over in-links weighted by link weight (standby
    links, used only when a reserve is released, count only where a node has no other in-link).
    """
    from twin.sim import PHASE_HOURS

    waves = np.asarray(PHASE_HOURS["dispatch"])
    missed = missed_cycles(waves[net.tier[net.link_src]], net.travel_h, own_hours(net)[net.link_dst])
    regular = np.bincount(net.link_dst[~net.standby], minlength=net.n_nodes) > 0
    counts = ~net.standby | ~regular[net.link_dst]
    return cover_days(net.stock_days, missed, net.link_dst, net.link_weight * counts)


def _district_sum(net: Network, per_community: np.ndarray) -> np.ndarray:
    return group_sum(net.comm_district, per_community, len(net.districts))


def _shares(values: np.ndarray) -> np.ndarray:
    """Each row's shares [K, G] of its total (equal shares where the total is 0)."""
    total = values.sum(axis=1, keepdims=True)
    return np.where(total > 0, values / np.where(total > 0, total, 1.0), 1.0 / values.shape[1])


def _scaled(workers: np.ndarray, kg_per_worker, mult: np.ndarray) -> np.ndarray:
    """workers x productivity x multiplier, where an unlimited pool (inf) stays unlimited unless cut to 0."""
    kg = np.asarray(kg_per_worker, dtype=float)
    if workers.ndim == 1 and workers.shape == mult.shape and workers.dtype == float and mult.dtype == float \
            and kg.shape in ((), workers.shape):
        return _scaled_kernel(workers, _shaped(kg, workers.shape), mult)
    with np.errstate(invalid="ignore"):
        cap = workers * kg_per_worker * mult
    return np.where(mult == 0, 0.0, np.where(np.isinf(workers), np.inf, cap))


@kernel
def _scaled_kernel(workers, kg, mult):   # pragma: no cover (compiled)
    """:func:`_scaled` of vectors in one pass."""
    out = np.empty(len(workers))
    for i in range(len(workers)):
        w = workers[i]
        if mult[i] == 0.0:
            out[i] = 0.0
        elif np.isinf(w):
            out[i] = np.inf
        else:
            out[i] = w * kg[i] * mult[i]
    return out
