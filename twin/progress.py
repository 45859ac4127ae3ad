"""Progress of long commands (``twin run``, ``twin report``, ``twin sweep run``) on stderr.

One helper, one switch. ``mode``:

- ``"auto"`` (the default of every command): a bar on a terminal, plain lines otherwise;
- ``"bar"``: a tqdm bar, on any terminal, also one that reports no size (80 columns then);
- ``"lines"``: a line like ``simulating: 12/60 days`` at most every ``every_s`` seconds and at the
  end, no carriage returns (logs, CI, pipes);
- ``"none"``: nothing.

On the command line ``--progress`` means ``auto`` (``--progress bar|lines`` forces one),
``--no-progress`` and ``-q/--quiet`` mean ``none``.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Iterable, Iterator, TextIO, TypeVar

__all__ = ["MODES", "Progress", "add_progress_arguments", "iterate", "resolve_mode"]

T = TypeVar("T")
MODES = ("auto", "bar", "lines", "none")


def resolve_mode(mode: str | bool | None, stream: TextIO | None = None) -> str:
    """``"bar"``, ``"lines"`` or ``"none"`` for ``mode`` (True = auto, False or None = none).

    >>> import io
    >>> resolve_mode(True, io.StringIO()), resolve_mode(False), resolve_mode("bar")
    ('lines', 'none', 'bar')
    """
    if mode is True:
        mode = "auto"
    if mode is False or mode is None:
        return "none"
    if mode not in MODES:
        raise ValueError(f"progress: one of {', '.join(MODES)}, got {mode!r}")
    if mode == "auto":
        stream = stream or sys.stderr
        return "bar" if getattr(stream, "isatty", lambda: False)() else "lines"
    return mode


class Progress:
    """Counts ``done`` out of ``total`` items (``unit``), shown as ``mode`` says.

    ``postfix`` items (e.g. ``failed=2``) are shown after the count. Use as a context manager or
    call :meth:`close`.
    """

    def __init__(self, total: int | None, desc: str, *, unit: str = "", mode: str | bool = "auto",
                 stream: TextIO | None = None, initial: int = 0, every_s: float = 2.0):
        self.stream = stream or sys.stderr
        self.mode = resolve_mode(mode, self.stream)
        self.total, self.desc, self.unit, self.every_s = total, desc, unit, every_s
        self.done, self.new, self.postfix = initial, 0, {}
        self.t0 = self.t_last = time.monotonic()
        self.bar = None
        if self.mode == "bar":
            from tqdm import tqdm
            width, height = _size(self.stream)
            # a terminal that reports no size (a pseudo-terminal never sized): tqdm would hide the
            # bar (0 rows) or guess its width, so give it 80 x 24
            self.bar = tqdm(total=total, initial=initial, desc=desc, unit=unit or "it", file=self.stream, leave=False,
                            dynamic_ncols=width > 0, ncols=None if width > 0 else 80,
                            nrows=None if height > 0 else 24, mininterval=0.2)

    def update(self, n: int = 1, **postfix) -> None:
        """Count ``n`` more items done."""
        self.done += n
        self.new += n
        self.postfix.update(postfix)
        if self.bar is not None:
            if postfix:
                self.bar.set_postfix(self.postfix, refresh=False)
            self.bar.update(n)
        elif self.mode == "lines" and (time.monotonic() - self.t_last >= self.every_s
                                       or (self.total is not None and self.done >= self.total)):
            self._line()

    def _line(self) -> None:
        self.t_last = time.monotonic()
        elapsed = self.t_last - self.t0
        rate = self.new / elapsed if elapsed > 0 else 0.0
        total = "?" if self.total is None else self.total
        text = f"{self.desc}: {self.done}/{total}"
        if self.unit:                       # a count of things: with what goes with it
            text += f" {self.unit}" + "".join(f", {v} {k}" for k, v in self.postfix.items())
            text += f", {rate:.2f} {self.unit}/s"
            if self.total is not None and self.done < self.total:
                text += f", {_duration((self.total - self.done) / rate) if rate > 0 else '?'} left"
        print(text, file=self.stream, flush=True)

    def close(self) -> None:
        """Finish the bar (or print the last line if the count was not shown at its end)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        elif self.mode == "lines" and self.done and (self.total is None or self.done < self.total):
            self._line()
        self.mode = "none" if self.mode == "lines" else self.mode

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def iterate(items: Iterable[T], desc: str, total: int | None = None, *, mode: str | bool = "auto",
            stream: TextIO | None = None, unit: str = "", every_s: float = 0.0) -> Iterator[T]:
    """Yield ``items`` while counting them (lines: one per item unless ``every_s``)."""
    total = total if total is not None else (len(items) if hasattr(items, "__len__") else None)
    with Progress(total, desc, unit=unit, mode=mode, stream=stream, every_s=every_s) as p:
        for item in items:
            yield item
            p.update(1)


def add_progress_arguments(parser, default: str = "auto") -> None:
    """``--progress [auto|bar|lines]``, ``--no-progress`` and ``-q/--quiet`` on a subcommand;
    ``args.progress`` is then a mode and ``args.quiet`` a bool (``-q`` also sets ``none``)."""
    parser.add_argument("--progress", nargs="?", const="auto", default=default, choices=MODES, metavar="MODE",
                        help="progress on stderr: auto (bar on a terminal, lines otherwise; the default), bar, "
                             "lines or none")
    parser.add_argument("--no-progress", dest="progress", action="store_const", const="none",
                        help="no progress on stderr")
    parser.add_argument("-q", "--quiet", action="store_true", help="quiet: no progress (twin run: no summary either, only the folder written)")


def _size(stream: TextIO) -> tuple[int, int]:
    """Columns and lines of the terminal behind ``stream`` (0 when unknown, e.g. a pseudo-terminal
    never sized)."""
    try:
        size = os.get_terminal_size(stream.fileno())
        return size.columns, size.lines
    except (OSError, AttributeError, ValueError):
        return 0, 0


def _duration(seconds: float) -> str:
    """``95`` -> ``'1m35s'``.

    >>> _duration(95), _duration(3725), _duration(7)
    ('1m35s', '1h02m', '7s')
    """
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"
