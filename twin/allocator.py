"""glibc's allocator in a process that runs the model: freed memory is kept for the next arrays.

Why. A day of the 25-million city makes and drops thousands of numpy arrays of 0.1 to 40 MiB (a
value per compound and group, per shopping edge, a recorded day ...). With glibc's defaults, an
array above the mmap threshold (128 KiB at first, raised to the largest block freed, up to
32 MiB) is mapped from the kernel when it is made and unmapped when it is dropped, and free
memory at the top of the heap beyond the trim threshold goes back to the kernel: the next array
of that size is faulted in page by page, and the kernel zeroes every page again. Dask's nanny
makes this worse: its ``MALLOC_TRIM_THRESHOLD_=65536`` also fixes the mmap threshold at 128 KiB
(setting any threshold switches off the dynamic ones, mallopt(3)). On the virtual machines we
measure on (2 vCPUs, Firecracker), memory faulted in costs about 2.5 s of system time per GiB.

Measured on 90-day runs of ``scenarios/outbreak_lockdown.toml`` (25 million residents): seven
runs one after another in one process took 17,000 to 44,000 page faults and 0.6 to 1.05 s of
system time each with glibc's defaults (its dynamic thresholds never settled: the heap was
trimmed and grown again run after run), 5.4 to 6.5 s wall; with the settings below, 500 to 2,500
faults and 0.00 to 0.05 s, 4.7 to 5.4 s wall. A process's first run still faults in its memory
once (about 1 GiB, 2.5 s of system time), with about half the faults (arrays are reused within
the run). Tables are bit-identical either way.

What. :func:`keep_freed_memory` tells glibc (``mallopt``) never to map blocks of their own
(``M_MMAP_MAX = 0``: every block comes from the heap and goes back to it) and to keep up to
2 GiB of free memory at the heap's top (``M_TRIM_THRESHOLD``). The process then holds on to the
memory of its largest run (about 1.1 GiB for the 25-million city) until it exits, and reuses it
for the next run. :func:`twin.sim.simulate` calls it once per process. ``TWIN_KEEP_MEMORY=0`` in
the environment leaves glibc's settings alone (e.g. a notebook that must give memory back after
a run). Elsewhere than glibc (macOS, musl) nothing is done. Nothing the model computes depends on
where its arrays live.
"""

from __future__ import annotations

import ctypes
import os
import platform

__all__ = ["TRIM_THRESHOLD", "keep_freed_memory", "keeps_freed_memory", "memory_state"]

M_TRIM_THRESHOLD = -1   # mallopt(3) parameter numbers (glibc's malloc.h)
M_MMAP_MAX = -4
#: free memory at the top of the heap that glibc keeps rather than hands back (mallopt takes an int)
TRIM_THRESHOLD = 2**31 - 1

_state: dict[str, bool] = {}


def keep_freed_memory() -> bool:
    """Make glibc keep freed memory in this process for reuse (see the module's docstring); True if
    it does now. Done once per process; ``TWIN_KEEP_MEMORY=0`` or a C library other than glibc: False.
    """
    if "kept" not in _state:
        _state["kept"] = os.environ.get("TWIN_KEEP_MEMORY", "1").strip() != "0" and _mallopt_keep()
    return _state["kept"]


def memory_state() -> str:
    """:func:`keep_freed_memory`, and what came of it: ``"kept"``; ``"off"`` (``TWIN_KEEP_MEMORY=0``);
    ``"unsupported"`` (not glibc)."""
    if keep_freed_memory():
        return "kept"
    return "off" if os.environ.get("TWIN_KEEP_MEMORY", "1").strip() == "0" else "unsupported"


def keeps_freed_memory() -> bool:
    """Whether :func:`keep_freed_memory` has set glibc up in this process."""
    return _state.get("kept", False)


def _mallopt_keep() -> bool:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    # mallopt returns 1 on success; set no mapping first, so no block is mapped in between
    return bool(mallopt(M_MMAP_MAX, 0)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
