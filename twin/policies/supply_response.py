"""Pure rule of the supply response: how much extra supply and long-haul capacity scarcity draws in.

Producers and carriers outside the city answer high prices (and the empty shelves behind them)
with extra output and extra trucks: partners' fleets, other provinces' suppliers, contingency
contracts. The answer is bounded and comes after a lead time (MISSION.md section 6: regional
fleets on call, contingency plans with large suppliers).
"""

from __future__ import annotations

import numpy as np

__all__ = ["response_share"]


def response_share(price_index: float | np.ndarray, trigger_index: float, full_index: float,
                   max_extra: float) -> float | np.ndarray:
    """Extra capacity (share of normal) drawn in at a price index: none up to ``trigger_index``,
    rising linearly to ``max_extra`` at ``full_index`` and flat above it.

    >>> [round(float(response_share(p, 1.2, 2.0, 1.0)), 3) for p in (1.0, 1.2, 1.6, 2.0, 5.0)]
    [0.0, 0.0, 0.5, 1.0, 1.0]
    """
    span = max(full_index - trigger_index, 1e-9)
    return max_extra * np.clip((np.asarray(price_index, dtype=float) - trigger_index) / span, 0.0, 1.0)
