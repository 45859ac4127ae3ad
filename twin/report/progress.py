"""Progress on a terminal: a tqdm bar on a TTY, plain lines otherwise (logs, CI, pipes).

The report's use of the one progress helper, :mod:`twin.progress`.
"""

from __future__ import annotations

from typing import Iterable, Iterator, TextIO, TypeVar

from twin.progress import iterate

__all__ = ["progress"]

T = TypeVar("T")


def progress(items: Iterable[T], desc: str, total: int | None = None, *, stream: TextIO | None = None,
             enabled: bool | str = True) -> Iterator[T]:
    """Yield ``items`` while showing progress on ``stream`` (stderr by default).

    ``enabled``: True (a tqdm bar on a TTY, otherwise one plain line per item, ``desc: 2/7``),
    False, or a mode of :mod:`twin.progress` (``auto``, ``bar``, ``lines``, ``none``).
    """
    yield from iterate(items, desc, total, mode=enabled, stream=stream)
