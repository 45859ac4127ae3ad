"""Production at the bases and spoilage everywhere."""

from __future__ import annotations

import numpy as np

from twin.network.build import HOUSEHOLD_SPOILAGE_FACTOR
from twin.policies.supply_response import response_share
from twin.world import World

__all__ = ["production", "spoilage"]


def production(env, world: World, hour: float):
    """Every day at ``hour``, open bases produce up to their order-up-to level within capacity.

    Out-of-province output follows the ``supply_cut`` lever (``supply_mult``) and the supply
    response (``world.response``: extra output and partners' drivers drawn in by high prices,
    set here for the days after the lead time). What is produced enters the city system
    (``cum_inflow``).
    """
    net = world.net
    bases = np.flatnonzero(world.is_base)
    spec = world.sc.supply_response
    answering = net.is_kind(*spec.kinds)
    weight = net.need_kg_pp * net.population.sum()
    planned: dict[int, float] = {}
    yield env.timeout(hour)
    while True:
        day = int(env.now // 24)
        if spec.max_extra > 0:
            city = np.average(world.price_index, axis=0, weights=_district_pop(world))
            signal = float(np.average(city, weights=weight))
            planned[day + int(round(spec.lead_days))] = float(
                response_share(signal, spec.trigger_index, spec.full_index, spec.max_extra))
            world.response = np.where(answering, planned.pop(day, 0.0), 0.0)
        if len(bases):
            room = world.replenish(bases)
            cap = net.production_kg_day[bases] * world.supply_mult[bases, None] * (1.0 + world.response[bases, None])
            made = np.where(world.shut[bases, None], 0.0, np.minimum(cap, room))
            world.stock[bases] += made
            world.cum_inflow += made.sum(axis=0)
            world.day_node_in[bases] += made.sum(axis=1)
        yield env.timeout(24.0)


def spoilage(env, world: World, hour: float, household_factor: float = HOUSEHOLD_SPOILAGE_FACTOR):
    """Every day at ``hour``, a category's daily spoilage share is lost from every stock.

    Households lose ``household_factor`` times the shop rate (fridges; assumption).
    """
    rate = world.net.spoilage_per_day
    lost_hh = np.empty_like(world.hh_stock)   # [K, G, C], kept from day to day
    yield env.timeout(hour)
    while True:
        lost = world.stock * rate[None, :]
        world.stock -= lost
        if lost_hh.shape != world.hh_stock.shape or lost_hh.strides != world.hh_stock.strides:
            lost_hh = np.empty_like(world.hh_stock)   # the layout of the product it stands for
        np.multiply(world.hh_stock, (rate * household_factor)[None, None, :], out=lost_hh)
        world.hh_stock -= lost_hh
        world.cum_spoiled += lost.sum(axis=0) + np.einsum("kgc->c", lost_hh)
        world.day_node_spoiled += lost.sum(axis=1)
        yield env.timeout(24.0)


def _district_pop(world: World) -> np.ndarray:
    net = world.net
    return np.bincount(net.comm_district, weights=net.population, minlength=len(net.districts))
