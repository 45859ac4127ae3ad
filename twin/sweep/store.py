"""A sweep folder on disk: the plan, one folder of Parquet files per chunk, status and resume.

Layout::

    DIR/manifest.json            the sweep: id, schema versions, spec, parameters, sampler, counts
    DIR/base_scenario.json       the fully resolved base scenario
    DIR/design.parquet           one row per run: ids, parameter values, seed key
    DIR/points.parquet           the sampler's points in the unit cube (for the analysis)
    DIR/levers.parquet           one row per lever combination
    DIR/parameter_values.json    labels of table, list and scenario-file values -> the values (if any)
    DIR/chunks/rFIRST-LAST/      scalars.parquet, timeseries.parquet, failures.parquet, chunk.json
    DIR/analysis/                sensitivity tables and plots

A chunk folder is written in ``DIR/.staging`` and renamed into ``chunks/`` whole, so a chunk is
done exactly when its ``scalars.parquet`` exists, and its tables always agree. A chunk with
failures is run again (same runs) by the next ``twin sweep run`` and replaced whole; runs not in
any chunk are cut into new chunks. No run is ever in two chunks, so rows are never duplicated.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
import pyarrow as pa
import pyarrow.parquet as pq

from twin.recording.writer import atomic_dir, clean_stale, folder_lock, read_json, write_run_dir
from twin.scenario import ScenarioError
from twin.sweep.task import ChunkOutput

__all__ = ["CHUNKS", "SWEEP_SCHEMA_VERSION", "ChunkState", "SweepStatus", "chunk_name", "clean_staging",
           "list_chunks", "locked", "pending_ranges", "read_choices", "read_manifest", "sweep_status", "write_chunk",
           "write_plan"]

SWEEP_SCHEMA_VERSION = "1"
CHUNKS = "chunks"
STAGING = ".staging"
CHOICES = "parameter_values.json"
_CHUNK_RE = re.compile(r"^r(\d+)-(\d+)$")


@dataclass(frozen=True)
class ChunkState:
    """A chunk on disk: its runs ``first..last`` and how many succeeded and failed."""

    first: int
    last: int
    path: Path
    n_ok: int
    n_failed: int


@dataclass(frozen=True)
class SweepStatus:
    """Counts of runs: done (succeeded), failed, pending (in no chunk yet)."""

    n_runs: int
    done: int
    failed: int
    pending: int
    chunks: int
    failed_chunks: int


def chunk_name(first: int, last: int) -> str:
    """The folder name of the chunk of runs ``first..last``.

    >>> chunk_name(0, 9)
    'r0000000-0000009'
    """
    return f"r{first:07d}-{last:07d}"


def read_manifest(folder: str | Path) -> dict:
    """The sweep's manifest; a :class:`ScenarioError` if ``folder`` is not a planned sweep."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ScenarioError(str(folder), "", "no such sweep folder" if not folder.exists() else
                            "not a folder (a sweep folder was expected)")
    if not (folder / "manifest.json").exists():
        raise ScenarioError(str(folder), "", "not a sweep folder (no manifest.json): run `twin sweep plan` first")
    try:
        manifest = read_json(folder / "manifest.json", "sweep manifest")
    except ScenarioError as err:
        raise ScenarioError(err.source, err.field, f"{err.message}; plan the sweep again") from None
    if manifest.get("kind") != "twin-sweep":
        raise ScenarioError(str(folder), "", "not a sweep folder (its manifest.json is not a sweep's)")
    missing = [k for k in _MANIFEST_KEYS if k not in manifest]
    if missing:
        raise ScenarioError(str(folder / "manifest.json"), missing[0], "missing from the sweep manifest: it is "
                                                                       "damaged; plan the sweep again")
    return manifest


_MANIFEST_KEYS = ("sweep_id", "name", "n_runs", "n_points", "n_levers", "replicates", "parameters", "sampler",
                  "days", "timeseries", "root_seed", "start_date")


def read_parquet(path: Path, metadata_only: bool = False):
    """A Parquet table of a sweep folder (or only its footer); a damaged file is a one-line error."""
    try:
        return pq.read_metadata(path) if metadata_only else pq.read_table(path)
    except FileNotFoundError:
        raise ScenarioError(str(path), "", "missing from the sweep folder; plan the sweep again") from None
    except (OSError, pa.ArrowException) as err:
        hint = ("delete this chunk's folder and `twin sweep run` runs it again" if CHUNKS in path.parts
                else "plan the sweep again")
        raise ScenarioError(str(path), "", f"damaged Parquet file ({str(err).splitlines()[0][:100]}); {hint}") from None


def write_plan(out: Path, tables: dict, manifest: dict, base: dict, choices: dict | None = None) -> bool:
    """Write the plan folder atomically; False (nothing written) if ``out`` already holds this sweep.

    A folder holding another sweep, or anything that is not a sweep, is a :class:`ScenarioError`.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ScenarioError(str(out), "--out", "exists and is not a folder; choose a new folder for the sweep")
    with folder_lock(out, "twin sweep"):
        clean_stale(out)
        if out.exists():
            if (out / "manifest.json").exists():
                existing = read_json(out / "manifest.json").get("sweep_id")
                if existing == manifest["sweep_id"]:
                    return False
                raise ScenarioError(str(out), "--out", f"holds another sweep ({existing}); choose a new folder or "
                                                       "delete it")
            if any(out.iterdir()):
                raise ScenarioError(str(out), "--out", "exists and is not a sweep folder; choose a new folder")
        write_run_dir(out, tables, manifest, {"base_scenario.json": base,
                                              **({CHOICES: choices} if choices else {})})
    return True


def read_choices(folder: str | Path) -> dict:
    """Labels of a sweep's table, list and scenario-file values -> the values (``{}`` if it has none)."""
    path = Path(folder) / CHOICES
    if not path.exists():
        return {}
    try:
        return read_json(path, "sweep's parameter values")
    except ScenarioError as err:
        raise ScenarioError(err.source, err.field, f"{err.message}; plan the sweep again") from None


def list_chunks(folder: str | Path) -> list[ChunkState]:
    """The chunks written so far, in run order (row counts from the Parquet footers)."""
    root = Path(folder) / CHUNKS
    if not root.is_dir():
        return []
    out = []
    for d in root.iterdir():
        m = _CHUNK_RE.match(d.name)
        if not m or not (d / "scalars.parquet").exists():
            continue
        failures = d / "failures.parquet"
        n_failed = read_parquet(failures, True).num_rows if failures.exists() else 0
        out.append(ChunkState(int(m.group(1)), int(m.group(2)), d, read_parquet(d / "scalars.parquet", True).num_rows,
                              n_failed))
    return sorted(out, key=lambda c: c.first)


def sweep_status(folder: str | Path) -> SweepStatus:
    """How many runs are done, failed and pending."""
    n_runs = int(read_manifest(folder)["n_runs"])
    chunks = list_chunks(folder)
    covered = sum(c.last - c.first + 1 for c in chunks)
    return SweepStatus(n_runs, sum(c.n_ok for c in chunks), sum(c.n_failed for c in chunks), n_runs - covered,
                       len(chunks), sum(1 for c in chunks if c.n_failed))


def pending_ranges(n_runs: int, chunks: list[ChunkState], chunk_size: int) -> list[tuple[int, int]]:
    """Run ranges to do: every chunk with failures (same runs), then runs in no chunk, ``chunk_size`` at a time.

    >>> done = [ChunkState(0, 3, Path("a"), 4, 0), ChunkState(4, 7, Path("b"), 3, 1)]
    >>> pending_ranges(13, done, 3)
    [(4, 7), (8, 10), (11, 12)]
    """
    todo = [(c.first, c.last) for c in chunks if c.n_failed]
    pos = 0
    for first, last in [(c.first, c.last) for c in chunks] + [(n_runs, n_runs)]:
        todo += [(s, min(s + chunk_size, first) - 1) for s in range(pos, first, chunk_size)]
        pos = max(pos, last + 1)
    return sorted(todo)


def write_chunk(folder: str | Path, out: ChunkOutput, info: dict) -> Path:
    """Write a chunk's tables into a staging folder and rename it into ``chunks/`` (replacing an older one)."""
    folder = Path(folder)
    name = chunk_name(out.first, out.last)
    (folder / CHUNKS).mkdir(exist_ok=True)
    final = folder / CHUNKS / name
    with atomic_dir(final, folder / STAGING) as tmp:
        pq.write_table(out.failures, tmp / "failures.parquet", compression="zstd")
        if out.timeseries is not None:
            pq.write_table(out.timeseries, tmp / "timeseries.parquet", compression="zstd")
        (tmp / "chunk.json").write_text(json.dumps(info, indent=1, sort_keys=True))
        pq.write_table(out.scalars, tmp / "scalars.parquet", compression="zstd")
    return final


def clean_staging(folder: str | Path) -> None:
    """Remove what interrupted writers left in the staging folder (call with the lock held)."""
    shutil.rmtree(Path(folder) / STAGING, ignore_errors=True)


def locked(folder: str | Path):
    """Hold the sweep folder's lock (``.NAME.lock`` beside it, as every output's): one writer at a time,
    released and removed when the writer ends or dies."""
    return folder_lock(Path(folder), "twin sweep")
