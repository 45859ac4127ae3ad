"""Households: every resident group of every compound buys in person and online, then eats from its stock (market mode)."""

from __future__ import annotations

import numpy as np

from twin.jit import kernel
from twin.network.model import _group_rows, group_sum
from twin.policies.flows import _classes, fit_rows, pairwise_sum, prorata_fill, ratio_of, split_by_weight, sum_rows
from twin.policies.residents import by_compound, by_group, share_out, substitution_shares
from twin.policies.residents_fast import (add_on_order, add_times_rate, add_two_on_order, budget_cut, channel_split,
                                          crisis_day, demand_day, eat_day, group_sums, move_turned, spill_over,
                                          still_missing, times_rate_by_group, turned_back)
from twin.processes.groupbuy import GroupBuying
from twin.rng import stream
from twin.world import CHANNELS, World

__all__ = ["households"]


def households(env, world: World, hour: float, seed):
    """Every day at ``hour``: need is drawn, purchases are made, then the day's need is eaten,
    for every resident group of every compound ([K, G, C] arrays, ``twin.scenario.residents``).

    1. need = members x kg/person/day x demand surge x a day-to-day noise (stream ``demand``);
    2. demand = need plus the gap to the group's stock target by category (higher while
       panicking; plus a day of the group's online share, which arrives after the day's meal), less
       what it has on order; a share moves to a category's substitute as its price runs above the
       substitute's; then scaled by the price residents pay to the power of minus the group's
       elasticity, but never below the subsistence share of today's need; groups with a budget
       (low income; lost income under a lockdown) cut what they cannot pay for, priority class by
       class (medicine first, then staples, then fresh food, then the rest);
    3. the online share goes to the compound's front warehouse, within its stock, its pickers'
       capacity and (where it releases slots) its slots: the store picks the orders and queues them
       for its couriers (``twin.queues``: they arrive later, paid on delivery; an order counts as
       demand when it is delivered or cancelled; what is on order is not asked for again, and
       what was cancelled is asked for in person where households may go out); the rest to the compound's open outlets (split by edge
       weight, renormalised when an outlet is closed), within stock and store-staff capacity;
       lockdowns shift purchases online, ration trips, and (static) stop them at the gate;
       what couriers cannot bring, households free to go out try to buy in person the same day;
       offline groups order online or from shops delivering to the gate only through neighbours
       (``households.mutual_aid_share``); where capacity is short, categories are served in
       priority order; where group buying is in force and a group forms, its online members
       first buy a share through the group (``twin.processes.groupbuy``); the market serves only
       while its mode is on;
    4. households pay the day's price for what they get (online: plus the platforms' markup),
       and eat today's need from what they hold, a short category partly from its substitute's
       stock; what is missing is shortfall. The crises each group is in are noted for the
       safety-net desk (shops closed, stock below a day, income lost, medicine short).
    """
    net, sc = world.net, world.sc
    specs = sc.residents.ordered()
    # the groups' elasticities take few distinct values: powers are computed once per value [D, C]
    ratios, which = np.unique(world.elasticity_g / np.maximum(net.elasticity, 1e-12)[None, :], axis=0,
                              return_inverse=True)
    which = which.ravel()
    budget_share = np.array([np.inf if g.budget_share is None else g.budget_share for g in specs])
    budget_locked = np.array([g.budget_when == "lockdown" for g in specs])
    subsistence = sc.prices.subsistence_share
    sub, sub_share = world.substitute, world.substitution_share
    district = net.comm_district
    names = list(net.categories)
    medicine = names.index("medicine") if "medicine" in names else None
    rng = stream(seed, "demand")
    cv = sc.households.demand_noise_cv
    sigma = float(np.sqrt(np.log1p(cv * cv)))
    has_fw = np.flatnonzero(net.comm_fw >= 0)
    fw = net.comm_fw[has_fw]                   # the front warehouse of each compound that has one
    groups = GroupBuying(world, seed)
    nothing = np.zeros_like(world.hh_stock)   # read only: what a closed channel brings
    shops = np.unique(np.concatenate([net.edge_outlet, net.comm_fw[has_fw]]))   # every node households buy from
    usual_days = world.stock_days_g            # the stock target without panic or learning, and 1 + it
    book = world.orders
    platform = 1.0 + sc.prices.platform_markup
    online_used = None                         # share of each group's purchases that went online yesterday [K, G]
    one_plus_usual = 1.0 + usual_days
    norms = _crisis_norms(world, medicine)     # a group's day of need (and of medicine) is fixed
    buf = _Buffers(world.hh_stock.shape)       # the day's [K, G, C] work arrays, kept across days
    need = buf("need")
    on_order_kg = buf("on_order")
    no_dear = np.zeros((len(net.districts), net.n_categories))
    k, g = world.hh_stock.shape[:2]
    need_g, covered_g, stock_g, demand_g = (np.empty((k, g)) for _ in range(4))   # the day's sums, kept across days
    need_kc, demand_kc = np.empty((k, net.n_categories)), np.empty((k, net.n_categories))
    eaten_c = np.empty(net.n_categories)
    yield env.timeout(hour)
    while True:
        day = int(env.now // 24)
        noise = rng.lognormal(-sigma * sigma / 2, sigma, net.n_communities) if sigma > 0 else 1.0
        index_d = world.paid_index(by_district=True)                               # [D, C]: priced per district
        index = index_d[district]                                                  # [K, C]
        paid = index[:, None, :]
        target = world.stock_target_days()
        days = one_plus_usual if target is usual_days else 1.0 + target            # household_demand's 1 + target
        # online orders arrive after the day's meal: what a group orders online covers tomorrow, so
        # it holds a day more of the share it bought online yesterday (the lead time, as a node's
        # cover holds its own)
        if online_used is None:
            online_used = world.online_share()
        ahead = online_used * world.can_order()[None, :]                          # of those who order [K, G]
        on_order = book.on_order_parts()   # online orders still on their way are not asked for again
        if len(on_order) == 2:   # (the usual case: yesterday's and today's cohorts) in one pass
            (comp_a, left_a), (comp_b, left_b) = on_order
            add_two_on_order(on_order_kg, comp_a, left_a.reshape(-1), comp_b, left_b.reshape(-1))
        else:
            for i, (comp, left) in enumerate(on_order):
                add_on_order(on_order_kg, comp, left.reshape(-1), i == 0)
        dear = substitution_shares(index_d, sub, sub_share)   # shift_to_substitutes, priced per district
        # a voucher paying the whole price makes goods free: bought as at the market's lowest price
        # (index 0 would ask for infinitely much; was inf x 0 = NaN)
        felt = np.where(index_d > 0, index_d, sc.prices.floor_index) if (index_d <= 0).any() else index_d
        powers = _price_powers(felt, net.elasticity, ratios, which)
        demand = buf("demand")
        factor = np.ascontiguousarray(np.broadcast_to(world.surge * noise, (net.n_communities,)), dtype=float)
        # need, household_demand, shift_by and the price response (pricing.demand_response) in one pass
        # (twin.policies.residents_fast)
        demand_day(world.need_base_g, factor, days, world.hh_stock, ahead, on_order_kg, bool(on_order),
                   no_dear if dear is None else dear, dear is not None, sub, powers, district, subsistence,
                   need, demand, need_g, need_kc)
        demand = _within_budget(world, demand, need, paid, budget_share, budget_locked)
        by_group_buying = groups.buy(day, demand, index) if world.mode_on("group_buying") else None
        to_market = demand if by_group_buying is None else demand - by_group_buying
        got_on, got_off, got_gate = nothing, nothing, nothing
        sums = {}   # what came, by group, by compound, at today's prices: where the market's passes took them
        world.goods_short[:] = 0.0
        cost = net.price_per_kg[None, :] * index                                    # [K, C]
        if world.mode_on("market"):
            # (the demand's sums come from the pass splitting it when it all goes to the market)
            demand_sums = (demand_g, demand_kc) if by_group_buying is None else None
            got_on, got_off, got_gate, sums = _market(world, need, to_market, has_fw, shops, fw, buf, demand_sums, cost)
            if got_off is None:   # nobody went out
                got_off = nothing
        on_g, on_kc, off_g, gate_g = (sums.get(key) for key in ("online_g", "online_kc", "offline_g", "gate_g"))
        on_spent = None
        if got_on is not nothing:   # paid on delivery at today's price, plus the platforms' markup
            on_spent = sums.get("online_cost")
            on_spent = (np.einsum("kgc,kc->kg", got_on, cost) if on_spent is None else on_spent) * platform
        if on_g is None:   # kept by the order book: fresh every day
            on_g, on_kc = np.empty_like(need_g), np.empty_like(need_kc)
            group_sums(got_on, on_g, on_kc)
        book.place(day, got_on, on_spent, on_g, on_kc)   # online orders wait in their store's queue (twin.queues)
        if got_off is nothing:
            off_g = np.zeros_like(on_g)
        if got_on is not nothing:
            all_g = on_g + off_g
            if gate_g is not None:
                all_g += gate_g
            online_used = np.where(all_g > 0, on_g / np.where(all_g > 0, all_g, 1.0), online_used)
        got = got_off
        if got_gate is None:
            got_gate = nothing
        elif got_off is nothing:
            got = got_gate
        else:
            got = np.add(got_off, got_gate, out=buf("got"))
        # the day's purchases join the stock, then the day's need is eaten from it (eat_with_substitutes)
        got_kc = np.empty_like(need_kc)
        eat_day(world.hh_stock, got, got is not nothing, need, sub, sub_share, covered_g, stock_g, eaten_c, got_kc)
        world.cum_consumed += eaten_c
        # requests and deliveries for the price rule: online orders count when settled (twin.queues)
        settled_on, served_on = book.take_settled()
        if not world.mode_on("market") or by_group_buying is not None:   # (else _channel_requests summed it)
            group_sums(demand, demand_g, demand_kc)
        to_market_kc = demand_kc if by_group_buying is None else by_compound(to_market)
        asked = to_market_kc - on_kc if got_on is not nothing else to_market_kc
        world.last_requests = group_sum(net.comm_district, np.maximum(asked, 0.0), len(net.districts)) + settled_on
        world.last_served = group_sum(net.comm_district, got_kc, len(net.districts)) + served_on
        market_need = need_kc if by_group_buying is None else np.maximum(by_compound(need - by_group_buying), 0.0)
        world.last_need = group_sum(net.comm_district, market_need, len(net.districts))   # the need left to the market
        tally = world.day_res
        tally["need_kg"] += need_g
        tally["demand_kg"] += demand_g - on_g   # an online order counts when it is settled
        tally["delivered_offline_kg"] += off_g
        tally["consumed_kg"] += covered_g
        for ch, kg, mult in (("offline", got_off, 1.0), ("gate", got_gate, 1.0)):   # online: paid on delivery
            if kg is nothing:
                continue
            if ch == "gate":
                tally["delivered_gate_kg"] += gate_g
            spent = sums.get(f"{ch}_cost")
            spent, base = (np.einsum("kgc,kc->kg", kg, cost) if spent is None else spent) * mult, kg @ net.price_per_kg
            tally["spent_cny"] += spent
            tally["baseline_cost_cny"] += base
            world.day_spent_ch[:, CHANNELS.index(ch)] += (float(spent.sum()), float(base.sum()))
        world.crisis = _crises(world, budget_locked, medicine, norms, stock_g)
        yield env.timeout(24.0)


class _Buffers:
    """Work arrays of one shape kept across days: ``buf(name)`` is the same array at every call,
    holding whatever was last written to it (a fresh [K, G, C] array costs the memory's page faults
    every time: reusing one halves the cost of a pass over it)."""

    def __init__(self, shape: tuple[int, ...]):
        self.shape, self.arrays = shape, {}

    def __call__(self, name: str) -> np.ndarray:
        a = self.arrays.get(name)
        if a is None:
            a = self.arrays[name] = np.empty(self.shape)
        return a


def _price_powers(index: np.ndarray, elasticity: np.ndarray, ratios: np.ndarray, which: np.ndarray) -> np.ndarray:
    """``index ** -elasticity`` [D, G, C] at the price ``index`` [D, C] of a district, group ``g``
    with elasticity ``ratios[which[g]] x elasticity``."""
    powers = np.stack([np.power(index, -(r * elasticity)[None, :]) for r in ratios], axis=1)   # [D, R, C]
    return powers[:, which, :]


def _within_budget(world: World, demand: np.ndarray, need: np.ndarray, paid: np.ndarray, budget_share: np.ndarray,
                   budget_locked: np.ndarray) -> np.ndarray:
    """Demand [K, G, C] cut (in place) to each group's food budget (``budget_share`` x the baseline
    cost of today's need), where the budget binds today (always, or under a lockdown) and is exceeded."""
    price = world.net.price_per_kg
    locked = (world.comm_level >= 1)[:, None]
    binds = np.isfinite(budget_share)[None, :] & (~budget_locked[None, :] | locked)
    if not binds.any():
        return demand
    rows_of = np.flatnonzero(binds)   # (compound, group) rows of [K x G, C] views, np.take: no fancy indexing
    c = demand.shape[-1]
    # the budget as numpy's BLAS sums it (on these rows: its sums depend on the rows it is given)
    budget = budget_share[rows_of % binds.shape[1]] * (np.take(need.reshape(-1, c), rows_of, axis=0) @ price)
    cls, n_levels = _classes(world.priority)   # (np.unique's, kept)
    # within_budget where the cost exceeds the budget, priority class by class (twin.policies.residents_fast)
    budget_cut(demand.reshape(-1, c), rows_of, budget, paid[:, 0], price, cls, n_levels)
    return demand


def _crises(world: World, budget_locked: np.ndarray, medicine: int | None,
            norms: tuple[np.ndarray, ...] | None = None, stock_g: np.ndarray | None = None) -> np.ndarray:
    """The crises [K, G, 4] each group is in at the end of its day (``twin.policies.residents.CRISES``,
    :func:`twin.policies.residents.crisis_flags`);
    ``norms``: :func:`_crisis_norms`, if kept; ``stock_g``: ``by_group(world.hh_stock)``, if known."""
    net = world.net
    open_edges = group_sum(net.edge_comm, (~world.closed[net.edge_outlet]).astype(float), net.n_communities)
    shops_closed = (world.comm_level == 2) | (open_edges <= 0)
    has_normal, normal, has_med, med_need = _crisis_norms(world, medicine) if norms is None else norms
    lost = budget_locked[None, :] & (world.comm_level >= 1)[:, None]
    out = np.empty(world.hh_stock.shape[:2] + (4,))   # crisis_flags (twin.policies.residents_fast)
    crisis_day(shops_closed, by_group(world.hh_stock) if stock_g is None else stock_g, normal, has_normal,
               world.hh_stock, -1 if medicine is None else medicine, med_need, has_med, lost, out)
    return out


def _crisis_norms(world: World, medicine: int | None) -> tuple[np.ndarray, ...]:
    """What :func:`_crises` divides by [K, G] (a day's need; of medicine), 1 where it is 0, and where it is not."""
    normal = world.normal_g
    m_need = world.need_base_g[:, :, medicine] if medicine is not None else normal
    return normal > 0, np.where(normal > 0, normal, 1.0), m_need > 0, np.where(m_need > 0, m_need, 1.0)


def _market(world: World, need: np.ndarray, demand: np.ndarray, has_fw: np.ndarray, shops: np.ndarray,
            fw: np.ndarray | None = None, buf: _Buffers | None = None,
            demand_sums: tuple[np.ndarray, np.ndarray] | None = None, cost: np.ndarray | None = None):
    """Market purchases of the day per resident group [K, G, C]: online, in person and at the gate,
    each channel standing in for the others.

    1. online orders go to the front warehouse, within its stock, pickers and couriers;
    2. what couriers cannot bring, households free to go out try to buy in person;
    3. what the shops cannot sell (closed, empty, staff short), residents who can order online
       (offline groups: through neighbours, ``households.mutual_aid_share``) order online, within
       the couriers' capacity left;
    4. under static management, what is still missing is ordered from the compound's shops,
       closed to shoppers, which deliver to the gate within ``households.gate_delivery_share`` of
       their staff's capacity (Shanghai 2022: supermarkets turned to bulk delivery to compounds);
       offline groups order so only through neighbours.
    A compound's orders through one channel are served together, then shared over its groups in
    proportion to what each asked (:func:`share_out`). Returns what arrived online, in person and
    at the gate [K, G, C] (None in person when every compound is under static management, None at
    the gate when none is), then their sums, fresh arrays by name: ``{channel}_g`` by group (``online``,
    ``offline``, ``gate``), ``online_kc`` by compound, and ``{channel}_cost`` [K, G], what it costs at
    ``cost`` [K, C] CNY a kg (``np.einsum("kgc,kc->kg", got, cost)``; default: the baseline price);
    a sum not taken is left out.
    ``shops``: the outlets and front warehouses of the compounds (``has_fw``; ``fw``, read-only),
    whose forecasts see the day's requests. ``buf``: the work arrays to use (what comes back in
    person and at the gate is one of them). ``demand_sums``: [K, G] and [K, C] arrays to write
    ``by_group(demand)`` and ``by_compound(demand)`` to, if wanted.
    """
    net, prio = world.net, world.priority
    buf = _Buffers(demand.shape) if buf is None else buf
    online, offline, on_total = _channel_requests(world, need, demand, buf, demand_sums)
    turned = world.orders.take_turned_away()   # orders cancelled after the patience: try the shops instead
    if turned is not None and offline is not None:   # (offline None: every compound static, nobody goes out)
        on_total = np.empty_like(on_total)   # (min(online, turned), where households may go out, moves)
        move_turned(online, offline, turned, (world.comm_level < 2).astype(float), on_total)
    n = net.n_nodes
    asked = np.zeros((n, net.n_categories))      # the day's requests per node, for the forecasts
    couriers = np.where(world.shut, 0.0, world.orders.slots_kg(world))   # slots left (inf: orders always taken)
    rate_on = ratio_of(_order_online(world, on_total, has_fw, couriers, asked, fw), on_total)   # [K, C]
    got_on = np.empty_like(online)   # kept by the order book: a fresh array (and its sums)
    cost = np.broadcast_to(net.price_per_kg, on_total.shape) if cost is None else cost
    by_kg = lambda: np.empty(online.shape[:2])   # noqa: E731 (a fresh [K, G] sum)
    sums = {"online_g": by_kg(), "online_kc": np.empty_like(on_total), "online_cost": by_kg()}
    times_rate_by_group(online, rate_on, got_on, sums["online_g"], sums["online_kc"], True, cost, sums["online_cost"], True)
    spill = (1.0 - rate_on) * (world.comm_level < 2)[:, None]   # undelivered orders: go to the shop
    asked_off, off_total = offline, None
    if spill.max(initial=0.0) > 0:   # (never when offline is None: no compound may go out)
        asked_off, off_total = buf("asked_off"), np.empty_like(on_total)
        spill_over(online, spill, offline, asked_off, off_total)
    got_off = None
    can_order = world.can_order()
    if asked_off is not None:
        off_total = by_compound(asked_off) if off_total is None else off_total
        rate_off = ratio_of(_shop_offline(world, off_total, asked), off_total)
        got_off, sums["offline_g"], sums["offline_cost"] = buf("got_off"), by_kg(), by_kg()
        times_rate_by_group(asked_off, rate_off, got_off, sums["offline_g"], on_total[:0], False, cost, sums["offline_cost"],
                            True)
        failed = 1.0 - rate_off                # the shop failed them: try online
        if failed.max(initial=0.0) > 0:
            back, back_total = buf("back"), np.empty_like(on_total)
            turned_back(offline, failed, can_order, back, back_total)
            add_times_rate(got_on, back, ratio_of(_order_online(world, back_total, has_fw, couriers, asked, fw), back_total))
            for key in ("online_g", "online_kc", "online_cost"):   # more came online: its sums are to be taken again
                sums.pop(key, None)
    got_gate = None   # nothing at the gate unless a compound is under static management
    share = world.sc.households.gate_delivery_share
    static = world.comm_level == 2
    if share > 0 and static.any():
        # nothing missing at the gate of a compound not static
        missing, total = buf("missing"), np.empty_like(on_total)
        still_missing(demand, got_on, static[:, None] * can_order[None, :], missing, total)
        got_gate, sums["gate_g"], sums["gate_cost"] = missing, by_kg(), by_kg()
        times_rate_by_group(missing, ratio_of(_gate_delivery(world, total, share, asked), total), got_gate, sums["gate_g"],
                            on_total[:0], False, cost, sums["gate_cost"], True)
    world.observe_demand(shops, asked[shops])
    return got_on, got_off, got_gate, sums


def _channel_requests(world: World, need: np.ndarray, demand: np.ndarray, buf: _Buffers | None = None,
                      demand_sums: tuple[np.ndarray, np.ndarray] | None = None
                      ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Split each group's demand [K, G, C] into online and offline requests under the compound's
    lockdown level (:meth:`World.online_share`); offline None when every compound is static; and
    the online requests by compound [K, C].
    ``buf``: the work arrays to write them to. ``demand_sums``: [K, G] and [K, C] arrays to write
    ``by_group(demand)`` and ``by_compound(demand)`` to in the same pass, if wanted.

    Limited trips (one every ``k`` days) let households refill their stock gap only ``1/k`` as
    fast in person; static management stops trips. (What the compound's volunteers can carry from
    the gate to the doors limits deliveries, not orders: :func:`_fit_gate`.)
    """
    buf = _Buffers(demand.shape) if buf is None else buf
    share = world.online_share()
    outside = world.comm_level != 2
    limited = world.comm_level == 1
    gap_pace = np.where(limited, 1.0 / world.comm_trips_every, 1.0)
    online, offline = buf("online"), buf("offline")
    on_kc = np.empty(demand.shape[::2])
    sums = demand_sums is not None
    demand_g, demand_kc = demand_sums if sums else (np.empty((0, 0)), np.empty((0, 0)))   # (not written without sums)
    channel_split(demand, need, share, outside.astype(float), gap_pace, bool(limited.any()), online, offline, on_kc,
                  sums, demand_g, demand_kc)
    return online, (offline if outside.any() else None), on_kc


def _fit_gate(world: World, comms: np.ndarray | None, got: np.ndarray) -> np.ndarray:
    """What the volunteers of compounds ``comms`` (all: None) can carry from the gate to the doors of what
    reached the gate for them [R, C] (priority categories first; compounds not under static
    management carry everything). The volunteers' capacity goes to goods that arrived, not to
    orders a seller could not fill."""
    room = world.gate_left if comms is None else world.gate_left[comms]
    return got if not np.isfinite(room).any() else fit_rows(got, room, world.priority)


def _shop_offline(world: World, request: np.ndarray, asked_at: np.ndarray) -> np.ndarray:
    """Shoppers spread over their compound's open outlets; outlets ration stock and staff time."""
    net = world.net
    open_w = np.where(world.closed[net.edge_outlet], 0.0, net.edge_weight)
    w = split_by_weight(net.edge_comm, open_w, net.n_communities)
    asked = _spread(request, net.edge_comm, w)
    at_outlet = group_sum(net.edge_outlet, asked, net.n_nodes)
    asked_at += at_outlet
    capacity = world.handling_left()
    served = _serve(world, asked, net.edge_outlet, capacity, at_outlet)
    _take(world, net.edge_outlet, served, at_outlet)
    return group_sum(net.edge_comm, served, net.n_communities)


def _order_online(world: World, request: np.ndarray, has_fw: np.ndarray, couriers: np.ndarray,
                  asked_at: np.ndarray, fw: np.ndarray | None = None) -> np.ndarray:
    """Online orders go to the compound's front warehouse; pickers and couriers handle what they can.

    ``couriers`` [N] is the kg the couriers can still carry today; what they carry is taken off it.
    Requests are added to ``asked_at`` [N, C]. ``fw``: the front warehouses of ``has_fw``, if known.
    """
    net = world.net
    got = np.zeros_like(request)
    if not len(has_fw) or request.sum() <= 0:
        return got
    fw = net.comm_fw[has_fw] if fw is None else fw
    capacity = np.minimum(world.handling_left(), couriers)
    capacity = np.where(world.shut, 0.0, capacity)
    every = len(has_fw) == len(request)   # every compound has a front warehouse: no rows to pick
    req = request if every else request[has_fw]
    at_fw = group_sum(fw, req, net.n_nodes)
    asked_at += at_fw
    served = _fit_gate(world, None if every else has_fw, _serve(world, req, fw, capacity, at_fw))
    _take(world, fw, served, at_fw)
    served_kg = sum_rows(served)
    couriers -= group_sum(fw, served_kg, net.n_nodes)
    if every:
        got, got_kg = served, served_kg
    else:   # (the other rows got nothing: their sums are 0)
        got[has_fw] = served
        got_kg = np.zeros(len(got))
        got_kg[has_fw] = served_kg
    world.gate_left -= got_kg
    return got


def _gate_delivery(world: World, request: np.ndarray, share: float, asked_at: np.ndarray) -> np.ndarray:
    """Orders of compounds under static management, taken by their own outlets (closed to shoppers,
    not shut) and delivered to the gate within ``share`` of the staff's handling capacity left."""
    net = world.net
    open_w = np.where(world.shut[net.edge_outlet], 0.0, net.edge_weight)
    w = split_by_weight(net.edge_comm, open_w, net.n_communities)
    asked = _spread(request, net.edge_comm, w)
    if asked.sum() <= 0:
        return np.zeros_like(request)
    at_outlet = group_sum(net.edge_outlet, asked, net.n_nodes)
    asked_at += at_outlet
    capacity = np.where(world.closed_by["lockdown"], share, 1.0) * world.handling_left()
    served = _serve(world, asked, net.edge_outlet, capacity, at_outlet)
    got = group_sum(net.edge_comm, served, net.n_communities)
    carried = _fit_gate(world, None, got)
    if carried is not got:
        _scale_by_ratio(served, net.edge_comm, carried, got)   # served *= ratio_of(carried, got)[edge_comm]
    _take(world, net.edge_outlet, served, at_outlet)
    got = carried
    world.gate_left -= sum_rows(got)
    return got


def _serve(world: World, asked: np.ndarray, node: np.ndarray, capacity: np.ndarray, at_node: np.ndarray) -> np.ndarray:
    """What sellers ``node`` [R] serve of rows ``asked`` [R, C] (``at_node`` [N, C]: summed by seller)
    within their stock on offer and ``capacity`` [N] (:func:`twin.policies.flows.prorata_fill`), noting the goods
    they lacked (:meth:`World.note_goods_short`)."""
    offered = world.offered()
    world.note_goods_short(at_node, capacity, offered)
    return prorata_fill(asked, node, offered, capacity, world.priority, wanted=at_node)


def _spread(request: np.ndarray, comm: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Each compound's requests [K, C] spread over its shopping edges: ``request[comm] x w[:, None]``
    [E, C] (``comm`` [E]: each edge's compound, ``w`` [E]: its share), in one compiled pass."""
    if request.ndim != 2 or request.dtype != float or w.dtype != float:
        return np.take(request, comm, axis=0) * w[:, None]
    return _spread_kernel(request, np.asarray(comm), w)


@kernel
def _spread_kernel(request, comm, w):   # pragma: no cover (compiled)
    """:func:`_spread`: ``out[e] = request[comm[e]] x w[e]`` (numpy's product, row by row)."""
    k_n, c_n = request.shape
    out = np.empty((len(comm), c_n))
    for e in range(len(comm)):
        k = comm[e]
        if k < 0 or k >= k_n:
            raise IndexError("_spread: an edge's compound is outside the compounds")
        f = w[e]
        for c in range(c_n):
            out[e, c] = request[k, c] * f
    return out


def _scale_by_ratio(served: np.ndarray, comm: np.ndarray, part: np.ndarray, whole: np.ndarray) -> None:
    """``served *= ratio_of(part, whole)[comm]`` in place ([E, C] rows scaled by their compound's
    row of the ratio [K, C]), in one compiled pass without the [K, C] and [E, C] temporaries."""
    if not (served.ndim == part.ndim == whole.ndim == 2 and part.shape == whole.shape
            and all(a.dtype == float for a in (served, part, whole))):
        served *= np.take(ratio_of(part, whole), comm, axis=0)
        return
    _scale_by_ratio_kernel(served, np.asarray(comm), part, whole)


@kernel
def _scale_by_ratio_kernel(served, comm, part, whole):   # pragma: no cover (compiled)
    """:func:`_scale_by_ratio`: ``served[e, c] *= part[k, c] / whole[k, c]`` (1 where ``whole`` is
    not above 0), ``k = comm[e]``."""
    k_n = part.shape[0]
    for e in range(served.shape[0]):
        k = comm[e]
        if k < 0 or k >= k_n:
            raise IndexError("_scale_by_ratio: an edge's compound is outside the compounds")
        for c in range(served.shape[1]):
            w = whole[k, c]
            served[e, c] *= part[k, c] / w if w > 0.0 else 1.0


def _take(world: World, node: np.ndarray, served: np.ndarray, at_node: np.ndarray) -> None:
    """Take what rows served [R, C] off their sellers' ``node`` [R] stock; ``at_node`` [N, C]: what
    the rows asked, summed by seller (the kg not served is the sellers' unfilled)."""
    n = world.net.n_nodes
    arrays = (served, at_node, world.stock, world.day_node_unfilled, world.day_node_out)
    if served.ndim == 2 and served.shape[1] <= 128 and all(a.dtype == float and a.flags.c_contiguous for a in arrays) \
            and at_node.shape == world.stock.shape == (n, served.shape[1]):
        _take_kernel(np.asarray(node), *arrays)   # one compiled pass
        return
    taken = group_sum(node, served, n)
    taken_kg = taken.sum(axis=1)
    world.day_node_unfilled += at_node.sum(axis=1) - taken_kg
    world.stock -= taken
    np.maximum(world.stock, 0.0, out=world.stock)  # rounding dust only
    world.day_node_out += taken_kg


@kernel
def _take_kernel(node, served, at_node, stock, unfilled, day_out):   # pragma: no cover (compiled)
    """:func:`_take` in one pass: ``taken = group_sum(node, served, N)`` (rows in row order from
    0.0), its row sums and ``at_node``'s as numpy sums a row (:func:`~twin.policies.flows.pairwise_sum`),
    ``unfilled += asked - taken``, ``stock = max(stock - taken, 0)`` (numpy's maximum),
    ``day_out += taken``, in place."""
    n, c_n = stock.shape
    taken = _group_rows(node, served, n)
    for i in range(n):
        kg = pairwise_sum(taken[i])
        unfilled[i] += pairwise_sum(at_node[i]) - kg
        for c in range(c_n):
            x = stock[i, c] - taken[i, c]
            stock[i, c] = x if (x > 0.0 or np.isnan(x)) else 0.0   # rounding dust only
        day_out[i] += kg
