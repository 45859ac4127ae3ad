"""Atomic output: a run folder appears whole or not at all; single files are replaced whole."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Mapping

import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["swap_into_place", "write_parquet_atomic", "write_run_dir"]


def swap_into_place(tmp: Path, final: Path, trash_dir: Path) -> None:
    """Rename the finished folder ``tmp`` to ``final``; an older ``final`` is moved aside into
    ``trash_dir`` first and removed after, so ``final`` is always either the old or the new folder."""
    old = None
    if final.exists():
        old = trash_dir / f".{final.name}.old-{uuid.uuid4().hex[:8]}"
        os.replace(final, old)
    os.replace(tmp, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_parquet_atomic(table: pa.Table, path: str | Path) -> None:
    """Write ``table`` to ``path`` via a temporary file in the same folder and a rename."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_run_dir(out: str | Path, tables: Mapping[str, pa.Table], manifest: Mapping, extra_json: Mapping = ()) -> Path:
    """Write a run folder: ``<name>.parquet`` per table, ``manifest.json`` and any ``extra_json`` files.

    Everything is written into a hidden sibling folder first, which then takes the final name
    (replacing an older run folder of that name), so an interrupted run leaves nothing that
    looks whole.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    try:
        for name, table in tables.items():
            pq.write_table(table, tmp / f"{name}.parquet", compression="zstd")
        for name, payload in dict(extra_json).items():
            (tmp / name).write_text(json.dumps(payload, indent=2, sort_keys=True))
        full = {**manifest, "tables": {n: {"file": f"{n}.parquet", "rows": t.num_rows} for n, t in tables.items()}}
        (tmp / "manifest.json").write_text(json.dumps(full, indent=2, sort_keys=True))
        swap_into_place(tmp, out, out.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
