"""Dask worker processes for sweeps: their allocator keeps freed memory, and little runs beside the model.

Each process that runs the model makes glibc keep the memory it frees for its next arrays
(:func:`twin.allocator.keep_freed_memory`, called by every run): a sweep worker then faults in a
run's memory once, on its first run, instead of on every run. This holds whatever environment
the worker was started with, Dask's ``MALLOC_TRIM_THRESHOLD_=65536`` included (``mallopt``
overrides it); only ``TWIN_KEEP_MEMORY=0`` in a worker's environment, or a C library other than
glibc, leaves a worker giving memory back. :func:`worker_warning` names the workers told to do so
before a long sweep starts, from :func:`twin.allocator.memory_state` asked of each.

Local clusters started by ``twin sweep run`` also keep Dask's ``MALLOC_TRIM_THRESHOLD_`` out of
the environment (``distributed.nanny.pre-spawn-environ``, Dask's documented way to change a
worker's environment before it is spawned): the nanny otherwise also exports its pre-spawn
variables into the process that starts it, so they would leak into the user's own process and
everything it starts later.
"""

from __future__ import annotations

from typing import Any, Mapping

__all__ = ["LOCAL_WORKER_CONFIG", "worker_warning"]

#: Dask configuration of the local clusters ``twin sweep run`` starts: no ``MALLOC_TRIM_THRESHOLD_``
#: exported (see the module's docstring), and less background work beside the runs: the statistical profiler
#: (it samples every thread's stack every 10 ms, for a dashboard page local sweeps do not serve)
#: is off and the event loop's health check runs every second instead of every 20 ms. Measured on a
#: busy worker: 2.6% of a core went to Dask's background work with Dask's defaults, 1.0% with these.
LOCAL_WORKER_CONFIG: dict[str, Any] = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
                                       "distributed.worker.profile.enabled": False,
                                       "distributed.admin.tick.interval": "1s"}


def worker_warning(states: Mapping[str, str]) -> str | None:
    """A warning naming the workers told to give freed memory back to the system
    (``TWIN_KEEP_MEMORY=0``), given :func:`twin.allocator.memory_state` of each worker by address;
    None when none is. Workers whose C library is not glibc are not named: nothing can be set there.

    >>> worker_warning({"tcp://a:1": "kept", "tcp://b:2": "off", "tcp://c:3": "unsupported"})[:76]
    '1 of 3 Dask workers give the memory they free back to the system (tcp://b:2)'
    >>> worker_warning({"tcp://a:1": "kept", "tcp://c:3": "unsupported"}) is None
    True
    """
    slow = sorted(addr for addr, state in states.items() if state == "off")
    if not slow:
        return None
    return (f"{len(slow)} of {len(states)} Dask workers give the memory they free back to the system ({slow[0]}"
            f"{' ...' if len(slow) > 1 else ''}): TWIN_KEEP_MEMORY=0 in their environment; each full-city run "
            f"there faults its memory in again, about 1.2 to 1.5 times the time (see docs/sweeps.md)")
