"""Price formation: each morning, prices per district and category move towards the level at
which yesterday's demand would have matched what reached the buyers."""

from __future__ import annotations

import numpy as np

from twin.policies.pricing import hoarded_share, step_index, target_index
from twin.world import World

__all__ = ["pricing"]


def pricing(env, world: World, hour: float):
    """Every day at ``hour`` (before shopping):

    1. the target index clears yesterday's requests against yesterday's deliveries (the supply
       that reached buyers, after shop stock, staff and couriers) at the category's elasticity,
       between the floor and the ceiling (or a government cap);
    2. the price moves towards the target at a bounded speed, so it recovers as supply does;
    3. traders in shops and wholesale markets hold back stock in proportion to the price rise,
       unless hoarding is policed (``anti_hoarding``).
    """
    p = world.sc.prices
    net = world.net
    hoarders = net.is_kind("supermarket", "wet_market", "wholesale_market") & (net.node_district >= 0)
    d = np.maximum(net.node_district, 0)
    yield env.timeout(hour)
    while True:
        ceiling = np.minimum(p.ceiling_index, world.price_cap)
        target = target_index(world.last_requests, world.last_served, net.elasticity[None, :], p.floor_index, ceiling)
        world.price_index = step_index(world.price_index, target, p.max_rise_per_day, p.max_fall_per_day,
                                       p.floor_index, ceiling)
        if world.price_index.size:
            worst = world.price_index.max(axis=1)[d]
            allowed = hoarders & ~world.anti_hoarding[d]
            world.withheld = np.where(allowed, hoarded_share(worst, p.hoarding_propensity), 0.0)
        yield env.timeout(24.0)
