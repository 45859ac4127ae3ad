"""Several seeds per pattern: the mean of a figure, its uncertainty band, and whether a difference
between two patterns is within the noise of the seeds.

For values ``x_1 .. x_n`` of one figure over ``n`` seeds::

    mean = sum x_i / n,   sd = sqrt(sum (x_i - mean)^2 / (n - 1)),   band = mean -/+ t_{0.975, n-1} sd / sqrt(n)

(the 95% confidence interval of the mean). Two patterns ``a``, ``b`` differ by ``d = mean_b - mean_a``
with the Welch standard error ``se = sqrt(sd_a^2 / n_a + sd_b^2 / n_b)``; the difference is *within
noise* when ``|d| <= t_{0.975, df} se`` (Welch-Satterthwaite ``df``). With one seed on either side the
noise is unknown and nothing is called significant.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

__all__ = ["Difference", "Spread", "difference", "spread", "t975"]

#: two-sided 95% quantiles of Student's t for 1..30 degrees of freedom (then the normal 1.96)
_T975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
         2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)


def t975(df: float) -> float:
    """``t_{0.975, df}`` (``df`` rounded down; inf without degrees of freedom).

    >>> t975(2), t975(2.7), t975(100), t975(0)
    (4.303, 4.303, 1.96, inf)
    """
    if not df >= 1:
        return math.inf
    return _T975[int(df) - 1] if df < len(_T975) + 1 else 1.96


@dataclass(frozen=True)
class Spread:
    """A figure over seeds: ``n`` finite values, their mean, sd, and the 95% band of the mean;
    ``never`` counts the seeds where the figure never came (NaN or inf days)."""

    n: int
    mean: float
    sd: float
    lo: float
    hi: float
    never: int = 0


def spread(values: Sequence[float]) -> Spread:
    """The :class:`Spread` of ``values`` (NaN, None and inf are counted as ``never``, not averaged).

    >>> s = spread([0.5, 0.6, 0.7])
    >>> (s.n, round(s.mean, 3), round(s.sd, 3), round(s.lo, 3), round(s.hi, 3))
    (3, 0.6, 0.1, 0.352, 0.848)
    >>> spread([0.5]).lo, spread([]).n, spread([1.0, float("nan")]).never
    (0.5, 0, 1)
    """
    finite = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    never = len(values) - len(finite)
    n = len(finite)
    if n == 0:
        return Spread(0, math.nan, math.nan, math.nan, math.nan, never)
    mean = sum(finite) / n
    if n == 1:
        return Spread(1, mean, math.nan, mean, mean, never)
    sd = math.sqrt(sum((v - mean) ** 2 for v in finite) / (n - 1))
    half = t975(n - 1) * sd / math.sqrt(n)
    return Spread(n, mean, sd, mean - half, mean + half, never)


@dataclass(frozen=True)
class Difference:
    """``b - a`` of two spreads: the difference of the means, its half-width at 95% and whether it is
    within noise (None when the noise is unknown: one seed on a side)."""

    diff: float
    half_width: float
    within_noise: bool | None


def difference(a: Spread, b: Spread) -> Difference:
    """Welch comparison of two spreads.

    >>> d = difference(spread([0.50, 0.52, 0.54]), spread([0.60, 0.62, 0.64]))
    >>> round(d.diff, 3), d.within_noise
    (0.1, False)
    >>> difference(spread([0.50, 0.60, 0.70]), spread([0.55, 0.65, 0.75])).within_noise
    True
    >>> difference(spread([0.5]), spread([0.6])).within_noise is None
    True
    """
    diff = b.mean - a.mean
    if a.n < 2 or b.n < 2 or math.isnan(diff):
        return Difference(diff, math.nan, None)
    va, vb = a.sd ** 2 / a.n, b.sd ** 2 / b.n
    se = math.sqrt(va + vb)
    if se == 0:
        return Difference(diff, 0.0, diff == 0)
    df = (va + vb) ** 2 / ((va ** 2 / (a.n - 1) if va else 0.0) + (vb ** 2 / (b.n - 1) if vb else 0.0))
    half = t975(df) * se
    return Difference(diff, half, abs(diff) <= half)
