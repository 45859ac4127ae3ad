"""Compiled loops for the model's hottest daily passes.

:func:`kernel` is numba's ``njit`` as the model uses it:

- ``cache=True``: a function is compiled once per machine and the machine code kept beside its
  module (``__pycache__``, or numba's user-wide cache where that is not writable), so sweep workers
  and later runs load it instead of compiling again (compiling every kernel takes 10 to 20 s of
  CPU, once; loading them about half a second a process);
- ``error_model="numpy"``: a division by zero gives inf or NaN as numpy's does, instead of raising;
- no ``fastmath`` and no ``parallel``: every operation rounds as numpy's does, so a kernel gives the
  floats of the numpy code it replaces (each kernel's test says where a sum's order is numpy's),
  and one run uses one core, so a sweep's workers scale with the cores.
- numba itself is imported at the first call of a kernel, not with twin: a process that only
  validates a scenario, prints help or reads results never pays for it.

Set ``NUMBA_DISABLE_JIT=1`` to run the kernels as plain Python (slow; for debugging them).
"""

from __future__ import annotations

import sys
from typing import Any, Callable

__all__ = ["kernel"]

_njit: Callable | None = None        # numba's njit with the model's options, once numba is loaded
_waiting: list["_Kernel"] = []       # kernels declared before numba was loaded


def kernel(fn: Callable | None = None, *, inline: bool = False) -> Any:
    """``fn`` compiled as a model kernel (see the module's note). ``inline=True`` (as
    ``@kernel(inline=True)``): compiled into the kernels that call it (numba's
    ``inline="always"``), for small helpers whose call would cost more than their work.
    """
    if fn is None:
        return lambda f: kernel(f, inline=inline)
    if _njit is not None:
        return _njit(fn, inline)
    k = _Kernel(fn, inline)
    _waiting.append(k)
    return k


class _Kernel:
    """A kernel declared before numba is loaded. Its first call loads numba and swaps every waiting
    kernel, wherever a twin module holds it by name, for its numba dispatcher, so compiled code
    calling another kernel finds a dispatcher; a reference held elsewhere forwards its calls."""

    def __init__(self, fn: Callable, inline: bool = False):
        self.py_func = self.__wrapped__ = fn
        self.inline = inline
        self.__name__, self.__qualname__ = fn.__name__, fn.__qualname__
        self.__module__, self.__doc__ = fn.__module__, fn.__doc__
        self.compiled: Any = None

    def __call__(self, *args, **kwargs):
        if self.compiled is None:
            _load()
        return self.compiled(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<twin kernel {self.__module__}.{self.__qualname__} (numba not loaded yet)>"


def _load() -> None:
    global _njit
    from numba import njit

    def compiled(fn: Callable, inline: bool = False) -> Any:
        return njit(cache=True, error_model="numpy", nogil=True, inline="always" if inline else "never")(fn)

    for k in _waiting:
        k.compiled = compiled(k.py_func, k.inline)
    for name, module in list(sys.modules.items()):
        if module is not None and (name == "twin" or name.startswith("twin.")):
            space = vars(module)
            for key, value in list(space.items()):
                if type(value) is _Kernel:
                    space[key] = value.compiled
    _waiting.clear()
    _njit = compiled
