"""Price formation: each morning, prices per district and category move towards the level at
which yesterday's demand would have matched what reached the buyers, the demand being what the
sellers' goods failed to meet (:func:`twin.policies.pricing.goods_demand`)."""

from __future__ import annotations

import numpy as np

from twin.network.model import group_sum
from twin.policies.flows import sum_rows
from twin.policies.pricing import chain_target, goods_demand, hoarded_share, release_kg, step_index, target_index
from twin.world import World

__all__ = ["pricing"]


def pricing(env, world: World, hour: float):
    """Every day at ``hour`` (before shopping):

    1. the target index clears yesterday's demand against yesterday's deliveries at the
       category's elasticity, between the floor and the ceiling (or a government cap); by
       ``prices.scarcity``, the demand is what the sellers' goods failed to meet of the need
       (``"shelves"``, the default, :func:`goods_demand`: a seller prices its stock and rations
       by quantity when only staff, couriers or volunteers are short, so a last-100-metre
       bottleneck with full shelves leaves prices alone) or every request (``"delivered"``:
       buyers bid for whatever reaches them, so any bottleneck and any pantry refill raises prices);
       with chain stores pricing city-wide (``prices.chain_pricing = "uniform"``, the default),
       a district's target is the city's target for its chains' share of its retail flow and its
       own for its wet markets' (:func:`chain_target`);
    2. the price moves towards the target at a bounded speed, so it recovers as supply does;
    3. traders in shops and wholesale markets hold back stock in proportion to the price rise,
       unless hoarding is policed (``anti_hoarding``);
    4. where a reserve category's price is over the release trigger, the district's reserves sell
       part of their stock of it to the district's shops and dark stores (``[reserves]``,
       :class:`ReserveRelease`), in time for the day's shopping.
    """
    p = world.sc.prices
    net = world.net
    hoarders = net.is_kind("supermarket", "wet_market", "wholesale_market") & (net.node_district >= 0)
    d = np.maximum(net.node_district, 0)
    releases = ReserveRelease(world)
    chains = chain_share(world) if p.chain_pricing == "uniform" else None
    yield env.timeout(hour)
    while True:
        ceiling = np.minimum(p.ceiling_index, world.price_cap)
        asked, served = world.last_requests, world.last_served
        if p.scarcity == "shelves":
            asked = goods_demand(asked, served, world.last_need, world.goods_short)
        city_asked, city_served = asked.sum(axis=0), served.sum(axis=0)   # a quiet district adds nothing
        if p.scarcity == "shelves":
            quiet = asked <= 0          # nothing sold and no goods short: no signal, the price holds
            asked, served = np.where(quiet, 1.0, asked), np.where(quiet, 1.0, served)
        target = target_index(asked, served, net.elasticity[None, :], p.floor_index, ceiling)
        if p.scarcity == "shelves":
            target = np.where(quiet, world.price_index, target)
        if chains is not None:
            city = target_index(city_asked, city_served, net.elasticity, p.floor_index, p.ceiling_index)
            target = np.where(city_asked > 0, chain_target(target, city, chains), target)
        world.price_index = step_index(world.price_index, target, p.max_rise_per_day, p.max_fall_per_day,
                                       p.floor_index, ceiling)
        if world.price_index.size:
            worst = world.price_index.max(axis=1)[d]
            allowed = hoarders & ~world.anti_hoarding[d]
            world.withheld = np.where(allowed, hoarded_share(worst, p.hoarding_propensity), 0.0)
        releases.release()
        yield env.timeout(24.0)


def chain_share(world: World) -> np.ndarray:
    """Share [D, C] of each district's retail flow (the daily flow outlets' stocks are sized on)
    through chain stores: supermarkets and front warehouses; the rest is wet markets'."""
    net = world.net
    outlets = np.flatnonzero(world.retail & (net.node_district >= 0))
    d, n_d = net.node_district[outlets].astype(np.int64), len(net.districts)
    flow = net.coverage_kg_day[outlets]
    chain = net.is_kind("supermarket", "front_warehouse")[outlets]
    total = group_sum(d, flow, n_d)
    return np.where(total > 0, group_sum(d, flow * chain[:, None], n_d) / np.where(total > 0, total, 1.0), 0.0)


class ReserveRelease:
    """Price-triggered releases of reserve categories (grain, oil, frozen pork) to the district's
    shops and dark stores, in proportion to the need each serves; every start and end of a
    category's release is an event (``reserve_sales`` / ``reserve_sales_stopped``, target the
    category; not named ``*_start``: a price-triggered sale is neither a shock nor a switch)."""

    def __init__(self, world: World):
        self.world = world
        net, spec = world.net, world.sc.reserves
        self.spec = spec
        self.held = np.array([name in spec.categories for name in net.categories])
        self.reserves = np.flatnonzero(net.is_kind("reserve_warehouse") & (net.node_district >= 0))
        self.outlets = np.flatnonzero(world.retail & (net.node_district >= 0))
        self.out_d = net.node_district[self.outlets].astype(np.int64)
        cover = net.coverage_kg_day[self.outlets]
        self.weight = cover / np.maximum(group_sum(self.out_d, cover, len(net.districts))[self.out_d], 1e-300)
        self.has_outlet = group_sum(self.out_d, cover, len(net.districts)) > 0      # [D, C]
        self.on = np.zeros(net.n_categories, dtype=bool)

    def release(self) -> None:
        """Today's releases, taken from the reserves' stock and put on the outlets' shelves."""
        w, net = self.world, self.world.net
        if not self.held.any() or not len(self.reserves) or not len(self.outlets):
            return
        r, d = self.reserves, net.node_district[self.reserves].astype(np.int64)
        cap = np.where(w.shut[r], 0.0, np.minimum(w.handling_left()[r], w.fleet_kg()[r]))
        index = np.where(self.has_outlet[d], w.price_index[d], 0.0)
        kg = release_kg(w.stock[r], index, self.spec.release_index, self.spec.release_share_per_day, self.held, cap)
        per_d = group_sum(d, kg, len(net.districts))
        given = per_d[self.out_d] * self.weight
        w.stock[r] -= kg
        np.maximum(w.stock, 0.0, out=w.stock)   # rounding dust only
        w.stock[self.outlets] += given
        w.day_node_out[r] += sum_rows(kg)
        w.day_node_in[self.outlets] += sum_rows(given)
        now = kg.sum(axis=0) > 0
        for c in np.flatnonzero(now != self.on):
            w.log("reserve_sales" if now[c] else "reserve_sales_stopped", net.categories[c], "reserves")
        self.on = now
