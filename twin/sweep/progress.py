"""Progress of a sweep: a tqdm bar on a terminal, plain lines otherwise (logs, CI, pipes).

The sweep's use of the one progress helper, :mod:`twin.progress`.
"""

from __future__ import annotations

from typing import TextIO

from twin.progress import Progress as _Progress

__all__ = ["Progress"]


class Progress(_Progress):
    """Runs done and failed out of ``total``, the rate and the time left.

    ``mode``: ``"auto"`` (bar if ``stream`` is a terminal, else lines), ``"bar"``, ``"lines"`` or
    ``"none"``. Lines (``sweep: 8/36 runs, 0 failed, 1.20 runs/s, 23s left``) are printed at most
    every ``every_s`` seconds, and once at the end.
    """

    def __init__(self, total: int, done_before: int = 0, *, mode: str = "auto", stream: TextIO | None = None,
                 every_s: float = 2.0):
        super().__init__(total, "sweep", unit="runs", mode=mode, stream=stream, initial=done_before, every_s=every_s)
        self.failed = 0
        self.postfix["failed"] = 0
        if self.bar is not None:
            self.bar.set_postfix(failed=0)

    def update(self, n_ok: int, n_failed: int = 0) -> None:  # type: ignore[override]
        """Count a finished chunk."""
        self.failed += n_failed
        super().update(n_ok + n_failed, failed=self.failed)
