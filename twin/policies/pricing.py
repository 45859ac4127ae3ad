"""Pure rules of price formation and of demand's response to price.

Prices are indices: 1.0 is the category's baseline price. Elasticities are absolute values.
"""

from __future__ import annotations

import numpy as np

__all__ = ["chain_target", "demand_response", "effective_index", "goods_demand", "hoarded_share", "release_kg", "step_index", "target_index"]

_MIN_ELASTICITY = 0.05  # below this, a shortage is priced as if demand were this inelastic


def target_index(requested_kg: np.ndarray, supply_kg: np.ndarray, elasticity: np.ndarray,
                 floor: float, ceiling: np.ndarray | float) -> np.ndarray:
    """The price index at which demand with constant elasticity meets supply, within bounds.

    With demand ``q = q0 * p^-e``, selling ``supply`` to buyers who want ``requested`` at the
    baseline price clears at ``p = (requested / supply)^(1/e)``. Nothing on offer prices at the
    ceiling; nothing asked prices at the floor; equal supply and demand at baseline.

    >>> target_index(np.array([100.0, 100.0, 100.0]), np.array([100.0, 50.0, 400.0]), np.array([0.5]), 0.7, 5.0).tolist()
    [1.0, 4.0, 0.7]
    """
    e = np.maximum(np.asarray(elasticity, dtype=float), _MIN_ELASTICITY)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        raw = np.where(supply_kg > 0, (requested_kg / np.where(supply_kg > 0, supply_kg, 1.0)) ** (1.0 / e), np.inf)
    raw = np.where(requested_kg > 0, raw, 0.0)
    return np.clip(raw, floor, ceiling)


def goods_demand(requested_kg: np.ndarray, served_kg: np.ndarray, need_kg: np.ndarray,
                 goods_short_kg: np.ndarray) -> np.ndarray:
    """The demand sellers price against: what they served plus the part of the rest their goods
    failed (``goods_short_kg``), no more than what was asked and not served, nor than the need
    not met. Requests no one could hand over (staff, couriers or volunteers short) are rationed by
    quantity, not price (Cavallo, Cavallo and Rigobon 2014); pantries refilled beyond today's need
    are a one-off stock demand sellers meet with limits, not with a price.

    >>> goods_demand(np.array([30.0, 30.0, 30.0]), np.array([10.0, 10.0, 10.0]), np.array([20.0, 20.0, 20.0]),
    ...              np.array([0.0, 5.0, 50.0])).tolist()
    [10.0, 15.0, 20.0]
    """
    room = np.minimum(requested_kg - served_kg, need_kg - served_kg)
    return served_kg + np.clip(np.minimum(goods_short_kg, room), 0.0, None)


def chain_target(local: np.ndarray, city: np.ndarray, chain_share: np.ndarray) -> np.ndarray:
    """The price target of a district [D, C] whose chain stores price city-wide: chains' share
    ``chain_share`` [D, C] of its retail trade follows the city's target ``city`` [C], the rest
    (wet-market stalls) its own ``local`` target. Chains charge nearly the same price in every
    store whatever the local demand (DellaVigna and Gentzkow 2019, Q. J. Econ. 134(4)), so a
    district cut off from its sorting centres goes short at close to the city's prices.

    >>> chain_target(np.array([[4.0], [1.0]]), np.array([1.5]), np.array([[0.8], [0.5]])).tolist()
    [[2.0], [1.25]]
    """
    return chain_share * city[None, :] + (1.0 - chain_share) * local


def step_index(current: np.ndarray, target: np.ndarray, max_rise: float, max_fall: float,
               floor: float, ceiling: np.ndarray | float) -> np.ndarray:
    """Move today's price towards the target by at most ``max_rise`` up or ``max_fall`` down.

    >>> step_index(np.array([1.0, 1.0, 2.0]), np.array([3.0, 1.05, 0.5]), 0.15, 0.10, 0.7, 5.0).tolist()
    [1.15, 1.05, 1.8]
    """
    moved = np.clip(target, current * (1.0 - max_fall), current * (1.0 + max_rise))
    return np.clip(moved, floor, np.maximum(ceiling, floor))


def demand_response(quantity_kg: np.ndarray, index: np.ndarray, elasticity: np.ndarray,
                    floor_kg: np.ndarray | float = 0.0) -> np.ndarray:
    """Quantity bought at price ``index``: ``q * index^-e`` (``e = 0``: price is ignored), but never
    less than ``min(q, floor_kg)``: people buy what they must eat whatever it costs.

    >>> demand_response(np.array([10.0, 10.0]), np.array([4.0, 4.0]), np.array([0.5, 0.0])).tolist()
    [5.0, 10.0]
    >>> demand_response(np.array([10.0]), np.array([4.0]), np.array([0.5]), floor_kg=8.0).tolist()
    [8.0]
    """
    priced = quantity_kg * np.power(index, -np.asarray(elasticity, dtype=float))
    return np.maximum(priced, np.minimum(quantity_kg, floor_kg))


def effective_index(market_index: np.ndarray, fair_share: np.ndarray, subsidy_share: np.ndarray) -> np.ndarray:
    """What residents pay, x baseline: fair-price outlets sell a share at baseline; vouchers pay a share.

    >>> effective_index(np.array([2.0]), np.array([0.5]), np.array([0.2])).tolist()
    [1.2000000000000002]
    """
    return (fair_share + (1.0 - fair_share) * market_index) * (1.0 - subsidy_share)


def hoarded_share(index: np.ndarray, propensity: float) -> np.ndarray:
    """Share of stock traders hold back when prices run above baseline (at most all of it).

    >>> hoarded_share(np.array([0.8, 1.5, 3.0]), 0.1).tolist()
    [0.0, 0.05, 0.1]
    """
    return np.clip(propensity * np.clip(index - 1.0, 0.0, 1.0), 0.0, 1.0)


def release_kg(stock_kg: np.ndarray, index: np.ndarray, trigger: float, share: float, held: np.ndarray,
               capacity_kg: np.ndarray) -> np.ndarray:
    """What reserves [R, C] release today: ``share`` of their stock of each category ``held`` [C]
    whose price ``index`` [R, C] (the reserve's district) is at or above ``trigger``, scaled down to
    the reserve's handling and fleet ``capacity_kg`` [R].

    >>> release_kg(np.array([[100.0, 100.0, 100.0]]), np.array([[1.5, 1.5, 1.0]]), 1.3, 0.1,
    ...            np.array([True, False, True]), np.array([50.0])).tolist()
    [[10.0, 0.0, 0.0]]
    """
    kg = np.where((index >= trigger) & held[None, :], share * stock_kg, 0.0)
    total = kg.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(total > capacity_kg, capacity_kg / np.where(total > 0, total, 1.0), 1.0)
    return kg * scale[:, None]
