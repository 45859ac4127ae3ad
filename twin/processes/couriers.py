"""Couriers: every hour, front warehouses' couriers on shift take a round of queued orders (``twin.queues``)."""

from __future__ import annotations

from twin.queues import ROUND_MINUTE
from twin.world import World

__all__ = ["couriers"]


def couriers(env, world: World):
    """Every hour at hh:35: cancel the orders that waited the patience, then the crews on shift take
    the waiting batches oldest first within the hour's capacity; after the 09:35 and 23:35 rounds,
    delivered orders join households' stock and cancelled ones go back on the shelf."""
    yield env.timeout(ROUND_MINUTE / 60.0)
    while True:
        world.orders.round(world, int(env.now // 1))
        yield env.timeout(1.0)
