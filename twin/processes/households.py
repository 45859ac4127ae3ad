"""Households: buy in person and online, then eat from their stock (market mode)."""

from __future__ import annotations

import numpy as np

from twin.network.model import group_sum
from twin.policies.flows import fit_rows, household_demand, prorata_fill, split_by_weight
from twin.policies.pricing import demand_response
from twin.processes.groupbuy import GroupBuying
from twin.rng import stream
from twin.world import World

__all__ = ["households"]


def households(env, world: World, hour: float, seed):
    """Every day at ``hour``: need is drawn, purchases are made, then the day's need is eaten.

    1. need = residents x kg/person/day x demand surge x a day-to-day noise (stream ``demand``);
    2. demand = need plus the gap to the household stock target (higher while panicking), scaled
       by the price residents pay to the power of minus the category's elasticity (low-income
       residents respond more), but never below the subsistence share of today's need;
    3. the online share goes to the compound's front warehouse, within its stock, its pickers'
       and its couriers' capacity; the rest to the compound's open outlets (split by edge
       weight, renormalised when an outlet is closed), within stock and store-staff capacity;
       lockdowns shift purchases online, ration trips, and (static) stop them at the gate;
       what couriers cannot bring, households free to go out try to buy in person the same day;
       where group buying is in force and a group forms, its members first buy a share through
       the group (``twin.processes.groupbuy``); the market serves only while its mode is on;
    4. households pay the day's price for what they get, and eat today's need from what they
       hold; what is missing is shortfall.
    """
    net = world.net
    ratio = world.sc.prices.low_income_elasticity_ratio
    elasticity = net.elasticity[None, :] * (1.0 + (ratio - 1.0) * net.low_income_share[:, None])
    base_price = net.price_per_kg[None, :]
    subsistence = world.sc.prices.subsistence_share
    rng = stream(seed, "demand")
    cv = world.sc.households.demand_noise_cv
    sigma = float(np.sqrt(np.log1p(cv * cv)))
    has_fw = np.flatnonzero(net.comm_fw >= 0)
    groups = GroupBuying(world, seed)
    yield env.timeout(hour)
    while True:
        day = int(env.now // 24)
        noise = rng.lognormal(-sigma * sigma / 2, sigma, net.n_communities) if sigma > 0 else 1.0
        need = world.need_base * (world.surge * noise)[:, None]
        paid = world.paid_index()
        wanted = household_demand(need, world.hh_stock, world.stock_target_days())
        demand = demand_response(wanted, paid, elasticity, need * subsistence)
        via_group = groups.buy(day, demand, paid) if world.mode_on("group_buying") else 0.0
        to_market = demand - via_group
        got_on, got_off, got_gate = np.zeros_like(demand), np.zeros_like(demand), np.zeros_like(demand)
        if world.mode_on("market"):
            got_on, got_off, got_gate = _market(world, need, to_market, has_fw)
        got = got_off + got_on + got_gate
        world.last_requests = group_sum(net.comm_district, to_market, len(net.districts))
        world.last_served = group_sum(net.comm_district, got, len(net.districts))
        world.hh_stock += got
        eaten = np.minimum(world.hh_stock, need)
        world.hh_stock -= eaten
        world.cum_consumed += eaten.sum(axis=0)
        tally = world.day_comm
        tally["need_kg"] += need.sum(axis=1)
        tally["demand_kg"] += demand.sum(axis=1)
        tally["delivered_offline_kg"] += got_off.sum(axis=1)
        tally["delivered_online_kg"] += got_on.sum(axis=1)
        tally["delivered_gate_kg"] += got_gate.sum(axis=1)
        tally["consumed_kg"] += eaten.sum(axis=1)
        tally["spent_cny"] += (got * base_price * paid).sum(axis=1)
        tally["baseline_cost_cny"] += (got * base_price).sum(axis=1)
        yield env.timeout(24.0)


def _market(world: World, need: np.ndarray, demand: np.ndarray, has_fw: np.ndarray):
    """Market purchases of the day: online, in person and at the gate, each channel standing in for the others.

    1. online orders go to the front warehouse, within its stock, pickers and couriers;
    2. what couriers cannot bring, households free to go out try to buy in person;
    3. what the shops cannot sell (closed, empty, staff short), residents who can order online
       (``1 - offline share``, plus offline residents whose neighbours order for them) order
       online, within the couriers' capacity left;
    4. under static management, what is still missing is ordered from the compound's shops,
       closed to shoppers, which deliver to the gate within ``households.gate_delivery_share`` of
       their staff's capacity (Shanghai 2022: supermarkets turned to bulk delivery to compounds).
    Returns what arrived online, in person and at the gate [K, C].
    """
    net = world.net
    online, offline = _channel_requests(world, need, demand)
    n = net.n_nodes
    asked = np.zeros((n, net.n_categories))      # the day's requests per node, for the forecasts
    couriers = np.where(world.shut, 0.0, world.courier_kg())
    got_on = _order_online(world, online, has_fw, couriers, asked)
    free = (world.comm_level < 2)[:, None]
    spill = (online - got_on) * free             # undelivered orders: go to the shop
    asked_off = offline + spill
    got_off = _shop_offline(world, asked_off, asked)
    with np.errstate(invalid="ignore", divide="ignore"):
        own = np.where(asked_off > 0, offline / np.where(asked_off > 0, asked_off, 1.0), 0.0)
    can_order = 1.0 - net.offline_share * (1.0 - world.sc.households.mutual_aid_share)
    back = (asked_off - got_off) * own * can_order[:, None]     # the shop failed them: try online
    got_on = got_on + _order_online(world, fit_rows(back, world.gate_left), has_fw, couriers, asked)
    got_gate = np.zeros_like(demand)
    share = world.sc.households.gate_delivery_share
    static = world.comm_level == 2
    if share > 0 and static.any():
        missing = np.where(static[:, None], np.maximum(demand - got_on, 0.0), 0.0)
        got_gate = _gate_delivery(world, fit_rows(missing, world.gate_left), share, asked)
    shops = np.unique(np.concatenate([net.edge_outlet, net.comm_fw[has_fw]]))
    world.observe_demand(shops, asked[shops])
    return got_on, got_off, got_gate


def _channel_requests(world: World, need: np.ndarray, demand: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split demand into online and offline requests under the compound's lockdown level.

    Limited trips (one every ``k`` days) let households refill their stock gap only ``1/k`` as
    fast in person; static management stops trips, and online deliveries cannot exceed what the
    compound's volunteers carry from the gate to the doors.
    """
    share = world.online_share()
    online = demand * share[:, None]
    gap_pace = np.where(world.comm_level == 1, 1.0 / world.comm_trips_every, 1.0)
    paced = np.minimum(demand, need + np.maximum(demand - need, 0.0) * gap_pace[:, None])
    in_person = paced * (1.0 - share)[:, None]
    offline = np.where((world.comm_level == 2)[:, None], 0.0, in_person)
    return fit_rows(online, world.gate_left), offline


def _shop_offline(world: World, request: np.ndarray, asked_at: np.ndarray) -> np.ndarray:
    """Shoppers spread over their compound's open outlets; outlets ration stock and staff time."""
    net = world.net
    open_w = np.where(world.closed[net.edge_outlet], 0.0, net.edge_weight)
    w = split_by_weight(net.edge_comm, open_w, net.n_communities)
    asked = request[net.edge_comm] * w[:, None]
    asked_at += group_sum(net.edge_outlet, asked, net.n_nodes)
    served = prorata_fill(asked, net.edge_outlet, world.offered(), world.handling_left())
    _take(world, net.edge_outlet, served, asked)
    return group_sum(net.edge_comm, served, net.n_communities)


def _order_online(world: World, request: np.ndarray, has_fw: np.ndarray, couriers: np.ndarray,
                  asked_at: np.ndarray) -> np.ndarray:
    """Online orders go to the compound's front warehouse; pickers and couriers handle what they can.

    ``couriers`` [N] is the kg the couriers can still carry today; what they carry is taken off it.
    Requests are added to ``asked_at`` [N, C].
    """
    net = world.net
    got = np.zeros_like(request)
    if not len(has_fw) or request.sum() <= 0:
        return got
    fw = net.comm_fw[has_fw]
    capacity = np.minimum(world.handling_left(), couriers)
    capacity = np.where(world.shut, 0.0, capacity)
    asked_at += group_sum(fw, request[has_fw], net.n_nodes)
    served = prorata_fill(request[has_fw], fw, world.offered(), capacity)
    _take(world, fw, served, request[has_fw])
    couriers -= group_sum(fw, served.sum(axis=1), net.n_nodes)
    got[has_fw] = served
    world.gate_left -= got.sum(axis=1)
    return got


def _gate_delivery(world: World, request: np.ndarray, share: float, asked_at: np.ndarray) -> np.ndarray:
    """Orders of compounds under static management, taken by their own outlets (closed to shoppers,
    not shut) and delivered to the gate within ``share`` of the staff's handling capacity left."""
    net = world.net
    open_w = np.where(world.shut[net.edge_outlet], 0.0, net.edge_weight)
    w = split_by_weight(net.edge_comm, open_w, net.n_communities)
    asked = request[net.edge_comm] * w[:, None]
    if asked.sum() <= 0:
        return np.zeros_like(request)
    asked_at += group_sum(net.edge_outlet, asked, net.n_nodes)
    capacity = np.where(world.closed_by["lockdown"], share, 1.0) * world.handling_left()
    served = prorata_fill(asked, net.edge_outlet, world.offered(), capacity)
    _take(world, net.edge_outlet, served, asked)
    got = group_sum(net.edge_comm, served, net.n_communities)
    world.gate_left -= got.sum(axis=1)
    return got


def _take(world: World, node: np.ndarray, served: np.ndarray, asked: np.ndarray) -> None:
    n = world.net.n_nodes
    world.day_node_unfilled += group_sum(node, asked.sum(axis=1) - served.sum(axis=1), n)
    taken = group_sum(node, served, n)
    world.stock -= taken
    np.maximum(world.stock, 0.0, out=world.stock)  # rounding dust only
    world.day_node_out += taken.sum(axis=1)
