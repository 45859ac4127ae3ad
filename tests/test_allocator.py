"""A process that runs the model keeps the memory it frees (twin/allocator.py, issue 17).

Freed arrays go back to glibc's heap, not to the kernel, so the next array of that size is not
faulted in page by page again. Checked by counting page faults in fresh processes (a 64 MiB
array, over glibc's largest mmap threshold, freed and made again); not timed: the speed is
measured by ``bench/sweep.py --city full``.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys

import pytest

from tests.conftest import ROOT

glibc_only = pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
                                reason="sets glibc's allocator")

REMADE = """
import json, resource
import numpy as np
{setup}
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
a = np.ones(2**23)          # 64 MiB
del a
before = faults()
b = np.ones(2**23)          # the same size again
print(json.dumps({{"kept": kept, "faults": faults() - before}}))
"""


def remade(setup: str, **env: str) -> dict:
    base = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k not in ("GLIBC_TUNABLES",
                                                                                             "TWIN_KEEP_MEMORY")}
    out = subprocess.run([sys.executable, "-c", REMADE.format(setup=setup)], env={**base, **env}, cwd=ROOT,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


@glibc_only
def test_freed_memory_is_reused_without_page_faults():
    keep = "from twin.allocator import keep_freed_memory\nkept = keep_freed_memory()"
    kept = remade(keep)
    assert kept["kept"] is True
    assert kept["faults"] < 16                               # the heap's pages, touched once already
    # glibc's defaults (and Dask's MALLOC_TRIM_THRESHOLD_=65536): the array is mapped anew and faulted in
    # (4 KiB pages, or at least 32 huge pages of 2 MiB)
    assert remade("kept = False")["faults"] >= 32
    assert remade("kept = False", MALLOC_TRIM_THRESHOLD_="65536")["faults"] >= 32
    # the setting overrides Dask's worker environment; TWIN_KEEP_MEMORY=0 leaves glibc alone
    assert remade(keep, MALLOC_TRIM_THRESHOLD_="65536")["faults"] < 16
    opted_out = remade(keep, TWIN_KEEP_MEMORY="0")
    assert opted_out["kept"] is False and opted_out["faults"] >= 32


@glibc_only
def test_a_run_sets_the_allocator_once(tiny):
    code = ("import json, twin; from twin.allocator import keeps_freed_memory, memory_state; "
            f"before = keeps_freed_memory(); twin.run({tiny.as_posix()!r}, days=2); "
            "print(json.dumps([before, keeps_freed_memory(), memory_state()]))")
    env = {k: v for k, v in os.environ.items() if k != "TWIN_KEEP_MEMORY"}
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == [False, True, "kept"]
    out = subprocess.run([sys.executable, "-c", code], env={**env, "TWIN_KEEP_MEMORY": "0"}, cwd=ROOT,
                         capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == [False, False, "off"]
