"""Compiled loops for the model's hottest daily passes.

:func:`kernel` is numba's ``njit`` as the model uses it:

- ``cache=True``: a function is compiled once per machine and the machine code kept beside its
  module (``__pycache__``, or numba's user-wide cache where that is not writable), so sweep workers
  and later runs load it instead of compiling again;
- ``error_model="numpy"``: a division by zero gives inf or NaN as numpy's does, instead of raising;
- no ``fastmath`` and no ``parallel``: every operation rounds as numpy's does, so a kernel gives the
  floats of the numpy code it replaces (reductions may differ in the last bit where numpy sums
  pairwise), and one run uses one core, so a sweep's workers scale with the cores.

Set ``NUMBA_DISABLE_JIT=1`` to run the kernels as plain Python (slow; for debugging them).
"""

from __future__ import annotations

from numba import njit

__all__ = ["kernel"]


def kernel(fn):
    """``fn`` compiled as a model kernel (see the module's note)."""
    return njit(cache=True, error_model="numpy", nogil=True)(fn)
