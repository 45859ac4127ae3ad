"""Reading a sweep back: pandas DataFrames joined to the design, or DuckDB views."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from twin.recording.tables import unit_of
from twin.sweep.store import list_chunks, read_manifest, read_parquet
from twin.sweep.task import ID_COLUMNS

__all__ = ["duckdb_connect", "load_design", "load_failures", "load_sweep", "load_timeseries"]

_SEED_COLUMNS = ["seed_root", "seed_key"]


def load_design(folder: str | Path) -> pd.DataFrame:
    """The design: one row per run with its ids, parameter values and seed key."""
    read_manifest(folder)
    return read_parquet(Path(folder) / "design.parquet").to_pandas()


def load_sweep(folder: str | Path) -> pd.DataFrame:
    """Every succeeded run: ids, parameters (as columns) and the run's summary row, by ``run_id``.

    ``attrs["units"]`` maps columns to units and ``attrs["manifest"]`` holds the sweep manifest.
    Failed runs are in :func:`load_failures`; pending runs are absent.
    """
    manifest = read_manifest(folder)
    design = load_design(folder).drop(columns=_SEED_COLUMNS)
    scalars = _read_table(folder, "scalars")
    df = design.merge(scalars.drop(columns=["point_id", "lever_id", "replicate"]), on="run_id", how="inner",
                      suffixes=("", "_outcome"))
    return _finish(df.sort_values("run_id", ignore_index=True), manifest)


def load_timeseries(folder: str | Path, parameters: bool = True) -> pd.DataFrame:
    """The daily city series of every succeeded run (long: one row per run and day), with a ``date``.

    With ``parameters`` the design's parameter columns are joined on ``run_id``.
    """
    manifest = read_manifest(folder)
    ts = _read_table(folder, "timeseries", sort=["run_id", "t_day"])
    if "t_day" not in ts:  # no runs yet, or a sweep with timeseries = false
        ts["t_day"] = pd.Series(dtype="int64")
    ts["date"] = pd.Timestamp(manifest["start_date"]) + pd.to_timedelta(ts["t_day"], unit="D")
    if parameters:
        design = load_design(folder).drop(columns=[*_SEED_COLUMNS, "point_id", "lever_id", "replicate"])
        ts = ts.merge(design, on="run_id", how="left", suffixes=("", "_param"))
    return _finish(ts, manifest)


def load_failures(folder: str | Path) -> pd.DataFrame:
    """Failed runs: ids, ``error_type``, ``message`` (one line) and ``traceback``."""
    return _finish(_read_table(folder, "failures"), read_manifest(folder))


def duckdb_connect(folder: str | Path, con: Any = None) -> Any:
    """A DuckDB connection with views ``design``, ``scalars``, ``timeseries``, ``failures`` and ``runs``.

    ``runs`` is ``scalars`` joined to ``design`` (what :func:`load_sweep` returns). Views exist
    for tables that have files. Needs the ``duckdb`` package.
    """
    import duckdb
    read_manifest(folder)
    con = con or duckdb.connect()
    root = Path(folder).resolve()
    con.execute(f"CREATE OR REPLACE VIEW design AS SELECT * FROM read_parquet({_sql(root / 'design.parquet')})")
    for table in ("scalars", "timeseries", "failures"):
        if any((c.path / f"{table}.parquet").exists() for c in list_chunks(root)):
            pattern = _sql(root / "chunks" / "r*" / f"{table}.parquet")
            con.execute(f"CREATE OR REPLACE VIEW {table} AS SELECT * FROM read_parquet({pattern}, union_by_name=true)")
    if list_chunks(root):
        con.execute("CREATE OR REPLACE VIEW runs AS SELECT d.* EXCLUDE (seed_root, seed_key), "
                    "s.* EXCLUDE (run_id, point_id, lever_id, replicate) FROM scalars s JOIN design d USING (run_id)")
    return con


def _read_table(folder: str | Path, table: str, sort: list[str] | None = None) -> pd.DataFrame:
    """One table of every chunk, concatenated (columns unified: a column missing in a chunk is null)."""
    tables = [read_parquet(c.path / f"{table}.parquet") for c in list_chunks(folder)
              if (c.path / f"{table}.parquet").exists()]
    tables = [t.replace_schema_metadata(None) for t in tables if t.num_rows]
    if not tables:
        return pd.DataFrame({c: pd.Series(dtype="int64") for c in ID_COLUMNS})
    df = pa.concat_tables(tables, promote_options="permissive").to_pandas()
    return df.sort_values(sort or ["run_id"], ignore_index=True)


def _finish(df: pd.DataFrame, manifest: dict) -> pd.DataFrame:
    df.attrs["units"] = {c: _unit(c) for c in df.columns}
    df.attrs["manifest"] = manifest
    return df


def _unit(column: str) -> str:
    """The declared unit of a summary column (twin.recording.columns), else its suffix's."""
    from twin.recording.columns import column_info
    try:
        return column_info("summary", column)[0]
    except KeyError:
        return unit_of(column)


def _sql(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"
