"""Progress of a sweep: a tqdm bar on a terminal, plain lines otherwise (logs, CI, pipes)."""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    """Runs done and failed out of ``total``, the rate and the time left.

    ``mode``: ``"auto"`` (bar if ``stream`` is a terminal), ``"bar"``, ``"lines"`` or ``"none"``.
    Lines are printed at most every ``every_s`` seconds, and once at the end.
    """

    def __init__(self, total: int, done_before: int = 0, *, mode: str = "auto", stream: TextIO | None = None,
                 every_s: float = 2.0):
        self.stream = stream or sys.stderr
        if mode == "auto":
            mode = "bar" if getattr(self.stream, "isatty", lambda: False)() else "lines"
        self.mode, self.total, self.every_s = mode, total, every_s
        self.done, self.failed, self.new = done_before, 0, 0
        self.t0 = self.t_last = time.monotonic()
        self.bar = None
        if mode == "bar":
            from tqdm import tqdm
            width = _columns(self.stream)
            self.bar = tqdm(total=total, initial=done_before, unit="run", file=self.stream, desc="sweep",
                            dynamic_ncols=width > 0, ncols=None if width > 0 else 100, smoothing=0.1)
            self.bar.set_postfix(failed=0)

    def update(self, n_ok: int, n_failed: int) -> None:
        """Count a finished chunk."""
        n = n_ok + n_failed
        self.done += n
        self.failed += n_failed
        self.new += n
        if self.bar is not None:
            self.bar.set_postfix(failed=self.failed, refresh=False)
            self.bar.update(n)
        elif self.mode == "lines" and (time.monotonic() - self.t_last >= self.every_s or self.done >= self.total):
            self._line()

    def _line(self) -> None:
        self.t_last = time.monotonic()
        elapsed = self.t_last - self.t0
        rate = self.new / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.done) / rate if rate > 0 else float("nan")
        print(f"sweep: {self.done}/{self.total} runs, {self.failed} failed, {rate:.2f} runs/s, "
              f"{_duration(left)} left", file=self.stream, flush=True)

    def close(self) -> None:
        """Finish the bar (or the last line)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        elif self.mode == "lines" and self.done < self.total:
            self._line()


def _columns(stream: TextIO) -> int:
    """Width of the terminal behind ``stream`` (0 when unknown, e.g. a pseudo-terminal never sized)."""
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (OSError, AttributeError, ValueError):
        return 0


def _duration(seconds: float) -> str:
    """``95`` -> ``'1m35s'``.

    >>> _duration(95), _duration(3725), _duration(float("nan"))
    ('1m35s', '1h02m', '?')
    """
    if seconds != seconds:
        return "?"
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"
