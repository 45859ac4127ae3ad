"""Progress on a terminal: a tqdm bar on a TTY, plain lines otherwise (logs, CI, pipes)."""

from __future__ import annotations

import sys
from typing import Iterable, Iterator, TextIO, TypeVar

__all__ = ["progress"]

T = TypeVar("T")


def progress(items: Iterable[T], desc: str, total: int | None = None, *, stream: TextIO | None = None,
             enabled: bool = True) -> Iterator[T]:
    """Yield ``items`` while showing progress on ``stream`` (stderr by default).

    On a TTY a tqdm bar; otherwise one plain line per item (``desc: 2/7``), no carriage returns.
    """
    stream = stream or sys.stderr
    if not enabled:
        yield from items
        return
    total = total if total is not None else (len(items) if hasattr(items, "__len__") else None)
    if stream.isatty():
        from tqdm import tqdm
        yield from tqdm(items, desc=desc, total=total, file=stream, leave=False)
        return
    for i, item in enumerate(items, 1):
        yield item
        print(f"{desc}: {i}/{total if total is not None else '?'}", file=stream, flush=True)
