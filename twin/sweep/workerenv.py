"""The environment of Dask worker processes: glibc's allocator must keep its dynamic thresholds.

Why. Dask's nanny starts every worker process with ``MALLOC_TRIM_THRESHOLD_=65536`` (its config
``distributed.nanny.pre-spawn-environ``) so that freed memory goes back to the system at once and
the worker's memory figures stay honest. Setting any of glibc's malloc thresholds, whatever the
value, also switches off glibc's *dynamic* mmap threshold (mallopt(3)): every block above 128 KiB
is then mapped on ``malloc`` and unmapped on ``free``, and its pages are faulted in and zeroed
again by the kernel the next time. The model allocates and frees arrays of 0.1 to 2 MiB (a value
per community and category, per shopping edge ...) thousands of times a simulated day; a 90-day
run of the 25-million city then takes 2.4 million page faults instead of 0.1 million and about
twice the time (5 s of system time against 1 s). Left alone, glibc raises its thresholds to the
largest block freed (up to 32 MiB) and reuses those blocks instead.

What. Local clusters started by ``twin sweep run`` set the variable to ``None`` in
``distributed.nanny.pre-spawn-environ``: Dask's documented way to keep a variable out of a
worker's environment (the nanny sets these before it spawns the worker, which is the only time
glibc reads them). It must not be set to some other value: any value disables the dynamic
thresholds. Workers of a cluster you start yourself (``--scheduler``) need the same setting in
their Dask configuration (a YAML file; a ``DASK_...`` environment variable cannot do it, it
lower-cases the name): see docs/sweeps.md. :func:`worker_warning` detects the variables on
connected workers so a slow cluster is named before a long sweep starts.
"""

from __future__ import annotations

import os
from typing import Any, Mapping

__all__ = ["LOCAL_WORKER_CONFIG", "MALLOC_VARIABLES", "malloc_settings", "worker_warning"]

#: Dask configuration of the local clusters ``twin sweep run`` starts: no ``MALLOC_TRIM_THRESHOLD_``
#: (see the module's docstring), and less background work beside the runs: the statistical profiler
#: (it samples every thread's stack every 10 ms, for a dashboard page local sweeps do not serve)
#: is off and the event loop's health check runs every second instead of every 20 ms. Measured on a
#: busy worker: 2.6% of a core went to Dask's background work with Dask's defaults, 1.0% with these.
LOCAL_WORKER_CONFIG: dict[str, Any] = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
                                       "distributed.worker.profile.enabled": False,
                                       "distributed.admin.tick.interval": "1s"}

#: glibc malloc settings that each switch off the dynamic mmap and trim thresholds when set,
#: as environment variables and as ``GLIBC_TUNABLES`` names.
MALLOC_VARIABLES = {"MALLOC_TRIM_THRESHOLD_": "glibc.malloc.trim_threshold",
                    "MALLOC_TOP_PAD_": "glibc.malloc.top_pad",
                    "MALLOC_MMAP_THRESHOLD_": "glibc.malloc.mmap_threshold",
                    "MALLOC_MMAP_MAX_": "glibc.malloc.mmap_max"}


def malloc_settings() -> dict[str, str]:
    """The glibc malloc settings this process was started with, ``{name: value}`` (empty: none).

    Read from ``/proc/self/environ``, the environment the process was started with and the one
    glibc read (later changes to ``os.environ`` have no effect on the allocator); elsewhere from
    ``os.environ``. ``GLIBC_TUNABLES`` entries ``glibc.malloc.*`` count too.
    """
    env = _start_environment()
    found = {name: env[name] for name in MALLOC_VARIABLES if name in env}
    # glibc rewrites GLIBC_TUNABLES in place as it reads it (2.36 leaves only the tunables it did
    # not take): Python's copy, made at start-up, has the whole list
    tunables = f"{env.get('GLIBC_TUNABLES', '')}:{os.environ.get('GLIBC_TUNABLES', '')}"
    for item in tunables.split(":"):
        name, _, value = item.partition("=")
        if name in MALLOC_VARIABLES.values():
            found[name] = value
    return found


def _start_environment() -> dict[str, str]:
    try:
        raw = open("/proc/self/environ", "rb").read()
    except OSError:
        return dict(os.environ)
    pairs = (item.decode(errors="replace").partition("=") for item in raw.split(b"\0") if item)
    return {name: value for name, _, value in pairs}


def worker_warning(settings: Mapping[str, Mapping[str, str]]) -> str | None:
    """A warning naming the workers whose allocator runs with fixed thresholds, given
    :func:`malloc_settings` of each worker by address; None when every worker is clean.

    >>> worker_warning({"tcp://a:1": {}, "tcp://b:2": {"MALLOC_TRIM_THRESHOLD_": "65536"}})[:69]
    '1 of 2 Dask workers run with MALLOC_TRIM_THRESHOLD_=65536 (tcp://b:2)'
    >>> worker_warning({"tcp://a:1": {}}) is None
    True
    """
    slow = {addr: s for addr, s in settings.items() if s}
    if not slow:
        return None
    kinds = sorted({", ".join(f"{k}={v}" for k, v in s.items()) for s in slow.values()})
    first = sorted(slow)[0]
    return (f"{len(slow)} of {len(settings)} Dask workers run with {'; '.join(kinds)} ({first}"
            f"{' ...' if len(slow) > 1 else ''}): glibc then maps and unmaps every array over 128 KiB and "
            f"full-city runs take up to twice as long; start the workers without it (Dask config "
            f"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_: null, and not in their "
            f"environment; see docs/sweeps.md)")
