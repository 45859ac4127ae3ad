"""Seeds of a sweep, all derived from its root seed.

A run's seed is ``SeedSequence(root, spawn_key=(point_id, replicate))`` where ``point_id`` is the
*uncertainty design point*, not the run: every lever combination of a point sees the same random
draws (common random numbers), so a difference between two levers at a point is the levers'
doing, not noise. Replicates of a point differ by their replicate number. The key depends on
nothing else (not on chunking, workers or the order runs finish), so any run can be redone alone.

The sampler's seed has a spawn key of length one, so it never coincides with a run's key
(length two), and the model's component streams extend a run's key (``twin.rng``).
"""

from __future__ import annotations

import numpy as np

from twin.rng import name_key

__all__ = ["run_seed", "sampler_seed"]


def run_seed(root: int, point_id: int, replicate: int) -> np.random.SeedSequence:
    """The seed of replicate ``replicate`` of uncertainty design point ``point_id``.

    >>> run_seed(7, 3, 1).spawn_key
    (3, 1)
    """
    return np.random.SeedSequence(int(root), spawn_key=(int(point_id), int(replicate)))


def sampler_seed(root: int, purpose: str = "design") -> int:
    """A 32-bit seed for SALib (sampling or bootstrap resamples) derived from the root seed.

    >>> sampler_seed(7) == sampler_seed(7) != sampler_seed(7, "analysis")
    True
    """
    ss = np.random.SeedSequence(int(root), spawn_key=(name_key(f"sweep-{purpose}"),))
    return int(ss.generate_state(1, np.uint32)[0])
