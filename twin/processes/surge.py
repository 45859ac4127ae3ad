"""Surge capacity: at the end of each day, crews that worked beyond normal hours spend budget."""

from __future__ import annotations

import numpy as np

from twin.policies.surge import available_extra, next_budget, overtime_hours, surge_used
from twin.pools import COURIERS, DRIVERS, STAFF
from twin.world import World

__all__ = ["surge"]


def surge(env, world: World, hours: tuple[float, float]):
    """Every day at ``hours[0]`` each crew is allowed the surge its budget covers; at ``hours[1]``,
    after the day's last shipment and sale, the surge it worked is settled.

    The day's load of a node's handling staff is all it shipped or sold, of its drivers what
    they loaded on trucks, of its couriers what they took to doors (orders, safety-net drops).
    The share of the full surge the load needed beyond normal capacity is spent from the crew's
    budget (the rest of the day restores it, ``twin.policies.surge``), and its overtime
    worker-hours are tallied for the day.
    """
    su = world.sc.surge
    morning, evening = hours
    yield env.timeout(morning)
    while True:
        world.surge_extra = available_extra(world.surge_left, world.surge_max[:, None])
        yield env.timeout(evening - morning)
        loads = {STAFF: world.day_node_out, DRIVERS: world.day_node_shipped, COURIERS: world.day_courier_out}
        normal = {STAFF: world.handling_kg(surge=False), DRIVERS: world.fleet_kg(surge=False),
                  COURIERS: world.courier_kg(surge=False)}
        workers = {STAFF: world.staff_now, DRIVERS: world.drivers_now, COURIERS: world.couriers_now}
        worked = np.zeros(world.net.n_nodes)
        for role in (STAFF, DRIVERS, COURIERS):
            cap = world.surge_max[role]
            used = surge_used(loads[role], normal[role], cap)
            used = np.minimum(used, world.surge_extra[role] / np.where(cap > 0, cap, 1.0))  # within the allowance
            world.surge_share[role] = used
            world.surge_left[role] = next_budget(world.surge_left[role], used, su.budget_days, su.recovery_per_day)
            worked += overtime_hours(np.asarray(workers[role], dtype=float), used, cap, su.shift_h)
        world.day_overtime_h += worked
        yield env.timeout(24.0 - (evening - morning))
