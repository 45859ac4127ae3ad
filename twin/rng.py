"""Random streams: one seed per run, one named stream per component.

A component's stream is derived from the run's :class:`numpy.random.SeedSequence` and a stable
hash of the component's name (BLAKE2b, never Python's ``hash()``), so adding a component leaves
the other components' draws unchanged (common random numbers across scenarios and levers).
"""

from __future__ import annotations

import hashlib

import numpy as np

__all__ = ["name_key", "seed_sequence", "stream"]


def name_key(name: str) -> int:
    """A stable 32-bit key of a component name.

    >>> name_key("demand") == name_key("demand")
    True
    """
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=4).digest(), "little")


def seed_sequence(seed: int | np.random.SeedSequence) -> np.random.SeedSequence:
    """The run's root sequence from an integer seed or an existing sequence (sweeps spawn these)."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    return np.random.SeedSequence(int(seed))


def stream(seed: int | np.random.SeedSequence, name: str) -> np.random.Generator:
    """The generator of component ``name`` under run seed ``seed``."""
    root = seed_sequence(seed)
    child = np.random.SeedSequence(root.entropy, spawn_key=tuple(root.spawn_key) + (name_key(name),))
    return np.random.default_rng(child)
