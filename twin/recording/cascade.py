"""Cascade failure of one day: failed nodes by tier and how deep the failure reaches."""

from __future__ import annotations

import numpy as np

__all__ = ["FAILED_FILL", "cascade_depth", "failed_by_tier"]

#: a compound has failed on a day when it eats less than this share of its need (assumption)
FAILED_FILL = 0.95


def failed_by_tier(tier: np.ndarray, failed: np.ndarray, n_tiers: int) -> np.ndarray:
    """Count failed (closed or starved) nodes per tier.

    >>> failed_by_tier(np.array([0, 3, 3, 4]), np.array([False, True, True, True]), 5).tolist()
    [0, 0, 0, 2, 1]
    """
    return np.bincount(tier[failed].astype(np.int64), minlength=n_tiers)[:n_tiers]


def cascade_depth(failed_per_tier: np.ndarray) -> int:
    """How many tiers below the most upstream failed tier also have failures (0 = no cascade).

    Tiers run from production (0) down to the compounds (last entry).

    >>> cascade_depth(np.array([0, 0, 0, 2, 1, 7]))   # sorting centres -> outlets -> compounds
    2
    >>> cascade_depth(np.array([0, 0, 0, 0, 0, 0]))
    0
    """
    hit = np.flatnonzero(np.asarray(failed_per_tier) > 0)
    if len(hit) == 0:
        return 0
    return int(len(hit) - 1)
