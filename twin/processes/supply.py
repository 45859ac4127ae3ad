"""Production at the bases and spoilage everywhere."""

from __future__ import annotations

import numpy as np

from twin.jit import kernel
from twin.network.build import HOUSEHOLD_SPOILAGE_FACTOR
from twin.policies.flows import sum_rows
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
            world.day_node_in[bases] += sum_rows(made)
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
        hh = world.hh_stock
        if hh.ndim == 3 and hh.shape[2] > 1 and hh.flags.c_contiguous and hh.dtype == float:
            world.cum_spoiled += lost.sum(axis=0) + _spoil(hh, rate * household_factor)
        else:   # the reference (and its layout's order of sums)
            if lost_hh.shape != hh.shape or lost_hh.strides != hh.strides:
                lost_hh = np.empty_like(hh)   # the layout of the product it stands for
            np.multiply(hh, (rate * household_factor)[None, None, :], out=lost_hh)
            hh -= lost_hh
            world.cum_spoiled += lost.sum(axis=0) + np.einsum("kgc->c", lost_hh)
        world.day_node_spoiled += sum_rows(lost)
        yield env.timeout(24.0)


@kernel
def _spoil(hh, rate):   # pragma: no cover (compiled)
    """Households' spoilage in place, in one pass over a C-ordered ``hh`` [K, G, C]: ``lost = hh *
    rate``, ``hh -= lost``; returns ``np.einsum("kgc->c", lost)`` (which, for more than one
    category, adds the compounds' and groups' rows in memory order from 0.0, as here)."""
    c_n = hh.shape[2]
    out = np.zeros(c_n)
    for k in range(hh.shape[0]):
        for g in range(hh.shape[1]):
            for c in range(c_n):
                lost = hh[k, g, c] * rate[c]
                hh[k, g, c] -= lost
                out[c] += lost
    return out


def _district_pop(world: World) -> np.ndarray:
    net = world.net
    return np.bincount(net.comm_district, weights=net.population, minlength=len(net.districts))
