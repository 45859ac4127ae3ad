"""Atomic output, one way for everything twin writes (run folders, sweep plans and chunks, reports).

- :func:`atomic_dir` and :func:`atomic_file`: a folder or file is built under a hidden temporary
  name beside it (``.NAME.XXXX.partial``) and renamed into place, so it appears whole or not at
  all; an older one of that name is moved aside (``.NAME.XXXX.old``) and removed after.
- :func:`folder_lock`: one writer per output at a time, through a lock file ``.NAME.lock`` beside
  it (released, and removed, when the writer ends or dies). Whoever holds the lock removes
  the ``.NAME.*.partial`` and ``.NAME.*.old`` left by writers that were killed.
- Files and folders follow the umask, as any file the user writes by hand would.
- :func:`check_run_target`: ``twin run --out`` only ever replaces a twin run folder.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Iterator, Mapping

import pyarrow as pa
import pyarrow.parquet as pq

from twin.scenario.loading import ScenarioError

__all__ = ["atomic_dir", "atomic_file", "check_run_target", "clean_stale", "describe_run",
           "folder_lock", "read_json", "run_folder_problem", "swap_into_place", "umask", "write_parquet_atomic",
           "write_run_dir"]

#: files a report adds to a run folder (``twin report RUN_DIR``); replacing the run removes them too
REPORT_FILES = ("report.html", "report_figures")


def _error(path, field: str, message: str) -> ScenarioError:
    return ScenarioError(str(path), field, message)


def umask() -> int:
    """The process's umask, read without changing it (``/proc``), else by setting it back at once."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _follow_umask(path: Path, is_dir: bool) -> None:
    """``mkdtemp``/``mkstemp`` make private entries; give them the mode a plain ``mkdir``/``open`` would."""
    os.chmod(path, (0o777 if is_dir else 0o666) & ~umask())


def swap_into_place(tmp: Path, final: Path, trash_dir: Path | None = None) -> bool:
    """Rename the finished ``tmp`` to ``final``; an older ``final`` is moved aside into ``trash_dir``
    (default: beside it) first and removed after, so ``final`` is always either the old or the new
    one. Returns whether something was replaced."""
    trash_dir = final.parent if trash_dir is None else trash_dir
    old = None
    if final.exists() or final.is_symlink():
        old = trash_dir / f".{final.name}.{uuid.uuid4().hex[:8]}.old"
        os.replace(final, old)
    os.replace(tmp, final)
    if old is not None:
        _remove(old)
    return old is not None


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def clean_stale(final: Path, scratch: Path | None = None) -> list[Path]:
    """Remove ``.NAME.*.partial`` and ``.NAME.*.old`` left beside ``final`` (or in ``scratch``) by killed
    writers. Call it only with :func:`folder_lock` held on ``final``: then no live writer owns them."""
    scratch = final.parent if scratch is None else scratch
    gone = []
    if scratch.is_dir():
        for p in scratch.glob(f".{final.name}.*"):
            if p.name.endswith((".partial", ".old", ".tmp")) or p.name.startswith(f".{final.name}.old-"):  # and 0.1's
                _remove(p)
                gone.append(p)
    return gone


@contextlib.contextmanager
def atomic_dir(final: str | Path, scratch: str | Path | None = None) -> Iterator[Path]:
    """Yield an empty temporary folder; when the block ends normally it becomes ``final`` (replacing
    any older one), else it is removed. ``scratch``: where temporaries live (default: beside ``final``,
    which must be on the same file system)."""
    final = Path(final)
    scratch = final.parent if scratch is None else Path(scratch)
    scratch.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".partial", dir=scratch))
    try:
        _follow_umask(tmp, True)
        yield tmp
        swap_into_place(tmp, final, scratch)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@contextlib.contextmanager
def atomic_file(final: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``final``; when the block ends normally it replaces ``final``."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        _follow_umask(tmp, False)
        yield tmp
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_parquet_atomic(table: pa.Table, path: str | Path) -> None:
    """Write ``table`` to ``path`` whole (a temporary file beside it, then a rename)."""
    with atomic_file(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")


@contextlib.contextmanager
def folder_lock(target: str | Path, what: str = "twin") -> Iterator[None]:
    """Hold the lock of output ``target`` (a lock file ``.NAME.lock`` beside it); a second writer gets a
    one-line error at once. The lock dies with its process; the file is removed on release.
    Also the first write check: an output whose folder cannot be written is refused here."""
    target = Path(target)
    lock = target.parent / f".{target.name}.lock"
    created = [p for p in (target.parent, *target.parent.parents) if not p.exists()]  # removed again if left empty
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise _error(target.parent, "", f"cannot create the output's parent folder: {err.strerror}") from None
    while True:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as err:
            raise _error(target, "", f"cannot write beside it in {target.parent} ({err.strerror})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            os.close(fd)
            if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise _error(target, "", f"another {what} is writing it now (lock {lock.name}); "
                                         "wait for it to finish or choose another output") from None
            raise
        try:  # the holder before us may have removed the file after we opened it: lock the live one
            same = os.stat(lock).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(lock)
        os.close(fd)
        for folder in created:  # innermost first: a failed write leaves no empty folders behind
            with contextlib.suppress(OSError):
                folder.rmdir()


def read_json(path: Path, what: str = "manifest") -> dict:
    """A JSON object from ``path``; a one-line error if it is missing, unreadable or not an object."""
    try:
        data = json.loads(Path(path).read_bytes())
    except FileNotFoundError:
        raise _error(path, "", f"missing {what}") from None
    except IsADirectoryError:
        raise _error(path, "", f"is a folder, not a {what} file") from None
    except OSError as err:
        raise _error(path, "", f"cannot read the {what}: {err.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise _error(path, "", f"corrupt {what} (not valid JSON: {err})") from None
    if not isinstance(data, dict):
        raise _error(path, "", f"corrupt {what} (a JSON object was expected, got {type(data).__name__})")
    return data


def run_folder_problem(path: str | Path, *, check_tables: bool = True) -> tuple[str, str] | None:
    """None if ``path`` is a readable twin run folder, else (path or file at fault, what is wrong).

    A run folder has a ``manifest.json`` (written by ``twin run``: ``scenario_hash`` and ``tables``)
    and every table it lists is a readable Parquet file (footer checked, not the data).
    """
    path = Path(path)
    if not path.exists():
        return str(path), "no such folder"
    if not path.is_dir():
        return str(path), "not a folder"
    if (path / "design.parquet").exists():
        return str(path), "a sweep folder; pass the run folders inside it"
    if not (path / "manifest.json").is_file():
        return str(path), "not a run folder (no manifest.json); write one with `twin run`"
    try:
        manifest = read_json(path / "manifest.json")
    except ScenarioError as err:
        return str(path / "manifest.json"), err.message
    tables = manifest.get("tables")
    if "scenario_hash" not in manifest or not isinstance(tables, dict):
        return str(path / "manifest.json"), "not a twin run's manifest (no scenario_hash or tables)"
    if (path / "scenario.json").exists():
        try:
            read_json(path / "scenario.json", "scenario")
        except ScenarioError as err:
            return str(path / "scenario.json"), err.message
    if not check_tables:
        return None
    for name, info in tables.items():
        file = path / str(info.get("file", f"{name}.parquet")) if isinstance(info, dict) else path / f"{name}.parquet"
        if not file.is_file():
            return str(file), f"missing (the manifest lists table {name!r}); run `twin run` again"
        try:
            pq.read_metadata(file)
        except (OSError, pa.ArrowException) as err:
            return str(file), f"corrupt Parquet file ({str(err).splitlines()[0][:120]}); run `twin run` again"
    return None


def describe_run(path: Path) -> str:
    """A few words about the run in a run folder (for "replaced ..." messages)."""
    try:
        m = json.loads((path / "manifest.json").read_text())
        return f"scenario {m.get('scenario')}, seed {m.get('seed')}, {m.get('days')} days"
    except (OSError, ValueError, AttributeError):
        return "a run"


def check_run_target(out: str | Path, same_source: str | None = None) -> bool:
    """May ``twin run`` write its run folder at ``out``? True if it replaces a run there, False if ``out`` is new.

    Refused (one-line :class:`ScenarioError`, nothing touched): a file, a folder that is not a twin run
    folder (judged by its manifest), or a run folder holding files twin did not write. With
    ``same_source`` (the default folder of a scenario file), a run folder written from another
    scenario file is refused too.
    """
    out = Path(out)
    if not out.exists() and not out.is_symlink():
        return False
    if out.is_symlink() or not out.is_dir():
        raise _error(out, "--out", "exists and is not a folder; twin replaces only run folders it wrote "
                                   "(choose another --out)")
    if not any(out.iterdir()):
        raise _error(out, "--out", "is an existing empty folder, not a twin run folder; choose a new folder "
                                   "or remove it")
    problem = run_folder_problem(out, check_tables=False)
    if problem is not None:
        raise _error(out, "--out", f"exists and twin replaces only run folders it wrote: {problem[1]} "
                                   "(choose another --out)")
    manifest = read_json(out / "manifest.json")
    known = {"manifest.json", "scenario.json", *REPORT_FILES,
             *(str(i.get("file", "")) for i in manifest["tables"].values() if isinstance(i, dict))}
    foreign = sorted(p.name for p in out.iterdir() if p.name not in known)
    if foreign:
        raise _error(out, "--out", f"is a run folder that also holds files twin did not write ({', '.join(foreign[:3])}"
                                   f"{', ...' if len(foreign) > 3 else ''}); move them or choose another --out")
    if same_source is not None and manifest.get("source") not in (None, same_source):
        raise _error(out, "--out", f"holds a run of another scenario file ({manifest.get('source')}); "
                                   "choose a folder with --out")
    return True


def write_run_dir(out: str | Path, tables: Mapping[str, pa.Table], manifest: Mapping, extra_json: Mapping = ()) -> Path:
    """Write a run folder: ``<name>.parquet`` per table, ``manifest.json`` and any ``extra_json`` files.

    Everything is written into a hidden sibling folder first, which then takes the final name
    (replacing an older folder of that name), so an interrupted run leaves nothing that looks whole.
    Callers check the target (:func:`check_run_target`) and hold :func:`folder_lock` on it.
    """
    out = Path(out)
    with atomic_dir(out) as tmp:
        for name, table in tables.items():
            pq.write_table(table, tmp / f"{name}.parquet", compression="zstd")
        for name, payload in dict(extra_json).items():
            (tmp / name).write_text(json.dumps(payload, indent=2, sort_keys=True))
        full = {**manifest, "tables": {n: {"file": f"{n}.parquet", "rows": t.num_rows} for n, t in tables.items()}}
        (tmp / "manifest.json").write_text(json.dumps(full, indent=2, sort_keys=True))
    return out
