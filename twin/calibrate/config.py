"""The calibration file: schema (pydantic, unknown fields are errors) and loading with one-line errors.

A calibration file names a base scenario (relative to the file), the scenario fields to fit (each
within ``low``..``high``, optionally on a log scale), the observed targets (CSV or Parquet files,
relative to the file) and the model output each is compared with, a loss with weights, the number
of trials and the replicates (seeds) per trial. See ``docs/calibration.md``.

Everything a calibration needs is checked here, before anything is written: the file, the base
scenario, both ends of every field's range (set on the base scenario and validated, so a range the
scenario does not allow is named with the field's own limits), every target file (columns, rows,
numbers, days within the run) and the model output each target names.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Mapping, Sequence

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from twin.scenario import ScenarioError, load_scenario, parse_scenario, read_toml, set_field
from twin.scenario.base import Spec
from twin.scenario.loading import validate
from twin.sweep.spec import lookup_field

__all__ = ["CalibrationSpec", "FitField", "LoadedCalibration", "ModelOutput", "TIME_KEYS", "Target",
           "read_calibration", "read_target_file"]

_FIELD_PATH = r"^[A-Za-z_][A-Za-z0-9_]*(\[\d+\])*(\.[A-Za-z_][A-Za-z0-9_]*(\[\d+\])*)*$"
_IDENT = r"^[A-Za-z_][A-Za-z0-9_]*$"

#: the tables a target may be compared with (those of a run folder with one row per day and thing)
TABLES = ("communities", "residents", "nodes", "prices", "workforce", "city", "balance", "summary")
#: key columns naming the day: ``date`` in the target file is turned into ``t_day`` (run.start_date is day 0)
TIME_KEYS = ("t_day", "date")
#: most rows a target file may have (targets are series and tables of figures, not raw data)
MAX_TARGET_ROWS = 1_000_000
#: most trials one calibration may hold
MAX_TRIALS = 100_000


class FitField(Spec):
    """A scenario field to fit: a number between ``low`` and ``high`` (integers stay integers)."""

    field: str = Field(pattern=_FIELD_PATH, description="Dotted scenario field, e.g. shocks[0].factor.")
    name: str | None = Field(None, pattern=_IDENT, description="Column name in trials.parquet (default: from the field).")
    low: float = Field(description="Lowest value tried.")
    high: float = Field(description="Highest value tried.")
    log: bool = Field(False, description="Sample on a log scale (low must be above 0).")

    @model_validator(mode="after")
    def _check(self) -> "FitField":
        if not self.low < self.high:
            raise ValueError(f"high: must be greater than low ({self.low:g}), got {self.high:g}")
        if self.log and not self.low > 0:
            raise ValueError(f"low: must be above 0 on a log scale (log = true), got {self.low:g}")
        return self

    @property
    def column(self) -> str:
        """The column of this field in ``trials.parquet``: ``name``, or the field with non-word characters as ``_``."""
        return self.name or re.sub(r"_+", "_", re.sub(r"\W", "_", self.field)).strip("_")


class ModelOutput(Spec):
    """Which model output a target is compared with: a column of a run table, filtered and aggregated.

    Rows of ``table`` with ``where`` (column = value, or one of a list of values) and, if given,
    ``days`` (``[first, last]`` t_day, both included) are grouped by the target's keys and
    aggregated: ``sum``, ``mean``, ``min`` or ``max`` of ``column``; with ``per`` the ratio of sums
    ``sum(column) / sum(per)`` (e.g. consumed_kg per need_kg: the fill of need); with ``weight`` the
    weighted mean ``sum(column x weight) / sum(weight)``. The result is multiplied by ``scale``.
    """

    table: Literal["communities", "residents", "nodes", "prices", "workforce", "city", "balance", "summary"]
    column: str = Field(min_length=1)
    agg: Literal["sum", "mean", "min", "max"] = "sum"
    per: str | None = Field(None, min_length=1, description="Denominator column: sum(column) / sum(per).")
    weight: str | None = Field(None, min_length=1, description="Weight column of a weighted mean.")
    where: dict[str, str | int | float | bool | list[str | int | float | bool]] = Field(default_factory=dict)
    days: tuple[int, int] | None = Field(None, description="[first, last] t_day of the rows used (both included).")
    scale: float = Field(1.0, gt=0.0, description="Multiply the model's figure (e.g. 0.001: kg to t).")

    @model_validator(mode="after")
    def _check(self) -> "ModelOutput":
        if self.per is not None and self.agg != "sum":
            raise ValueError(f"per: a ratio of sums takes agg = \"sum\", got agg = {self.agg!r}")
        if self.weight is not None and self.agg != "mean":
            raise ValueError(f"weight: a weighted mean takes agg = \"mean\", got agg = {self.agg!r}")
        if self.per is not None and self.weight is not None:
            raise ValueError("weight: give per (a ratio of sums) or weight (a weighted mean), not both")
        if self.days is not None and not 0 <= self.days[0] <= self.days[1]:
            raise ValueError(f"days: must be [first, last] with 0 <= first <= last, got {list(self.days)}")
        for key, value in self.where.items():
            if isinstance(value, list) and not value:
                raise ValueError(f"where.{key}: an empty list matches no row")
        return self

    def columns(self) -> list[str]:
        """Every column of ``table`` this output reads (keys excepted)."""
        return list(dict.fromkeys([self.column, *([self.per] if self.per else []),
                                   *([self.weight] if self.weight else []), *self.where]))


class Target(Spec):
    """An observed series or table and the model output it is compared with."""

    name: str = Field(pattern=_IDENT, description="Names the target in the loss columns and the fit plot.")
    file: str = Field(min_length=1, description="CSV or Parquet file of the observations, relative to the calibration file.")
    value: str = Field("value", min_length=1, description="Column of the observed figures.")
    by: list[str] = Field(default_factory=list, max_length=4,
                          description="Key columns of the file: date or t_day, and labels such as category or district.")
    model: ModelOutput
    weight: float = Field(1.0, ge=0.0, description="Weight of this target's loss in the total.")
    metric: Literal["rmse", "mae"] = Field("rmse", description="Error of model against target over the keys.")
    normalise: Literal["mean", "range", "sd", "none"] = Field(
        "mean", description="Divide the error by the target's mean (absolute), range, standard deviation or nothing.")

    @model_validator(mode="after")
    def _check(self) -> "Target":
        if len(set(self.by)) != len(self.by):
            raise ValueError(f"by: a key is named twice ({', '.join(self.by)})")
        if "date" in self.by and "t_day" in self.by:
            raise ValueError("by: give date or t_day, not both")
        if self.value in self.by:
            raise ValueError(f"value: {self.value!r} is also a key in by")
        if self.model.table == "summary" and self.by:
            raise ValueError(f"by: the summary table has one row per run: no keys, got {self.by}")
        return self

    @property
    def time_key(self) -> str | None:
        """``t_day`` or ``date`` if the target is a series over days, else None."""
        return next((k for k in self.by if k in TIME_KEYS), None)

    @property
    def labels(self) -> list[str]:
        """The key columns that are not the day."""
        return [k for k in self.by if k not in TIME_KEYS]


class CalibrationSpec(Spec):
    """A whole calibration file."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    base: str = Field(min_length=1, description="Base scenario, relative to the calibration file.")
    set: dict[str, Any] = Field(default_factory=dict, description="Fields set on the base scenario for every trial.")
    days: int | None = Field(None, ge=1, le=3650, description="Simulated days (default: the base's run.days).")
    root_seed: int = Field(0, ge=0, lt=2 ** 63, description="Seeds the sampler and every run.")
    trials: int = Field(ge=1, le=MAX_TRIALS, description="Trials in all (raise it and run again to go on).")
    replicates: int = Field(1, ge=1, le=1000, description="Runs (seeds) per trial; the model's figure is their mean.")
    batch: int = Field(4, ge=1, le=1000, description="Trials proposed at once and run in parallel.")
    sampler: Literal["tpe", "random"] = "tpe"
    startup_trials: int = Field(10, ge=0, le=MAX_TRIALS, description="TPE: random trials before it models the loss.")
    fields: list[FitField] = Field(min_length=1, max_length=50)
    targets: list[Target] = Field(min_length=1, max_length=50)

    @model_validator(mode="after")
    def _check(self) -> "CalibrationSpec":
        seen: dict[str, int] = {}
        cols: dict[str, int] = {}
        for i, f in enumerate(self.fields):
            if f.field in seen:
                raise ValueError(f"fields[{i}].field: {f.field!r} is also fields[{seen[f.field]}]")
            if f.column in cols:
                raise ValueError(f"fields[{i}].name: column {f.column!r} is also fields[{cols[f.column]}]'s")
            if f.column in _RESERVED or f.column.startswith("loss"):
                raise ValueError(f"fields[{i}].name: {f.column!r} is reserved in trials.parquet (give another name)")
            if f.field in self.set:
                raise ValueError(f"fields[{i}].field: {f.field!r} is also fixed in set")
            seen[f.field], cols[f.column] = i, i
        names: dict[str, int] = {}
        for j, t in enumerate(self.targets):
            if t.name in names:
                raise ValueError(f"targets[{j}].name: {t.name!r} is also targets[{names[t.name]}]'s")
            names[t.name] = j
        if not any(t.weight > 0 for t in self.targets):
            raise ValueError("targets: every weight is 0; give at least one target a weight above 0")
        return self


_RESERVED = ("trial", "state", "seconds", "error", "started", "finished")


@dataclass(frozen=True)
class LoadedCalibration:
    """A validated calibration file: its spec, the resolved base scenario and the targets as read.

    ``targets[name]`` is a frame with the target's keys (``t_day`` for a date) and ``value``.
    """

    spec: CalibrationSpec
    base: dict[str, Any]
    source: str
    base_path: Path
    base_raw: dict[str, Any]
    text: str
    targets: dict[str, pd.DataFrame]
    integer: dict[str, bool]

    @property
    def days(self) -> int:
        return self.spec.days or int(self.base["run"]["days"])

    @property
    def calibration_id(self) -> str:
        """A stable id: a hash of the spec (the number of trials left out: raise it to go on), the base
        scenario and the targets' data."""
        spec = self.spec.model_dump(mode="json", exclude={"trials"})
        data = {name: frame.to_dict(orient="list") for name, frame in self.targets.items()}
        text = json.dumps({"spec": spec, "base": self.base, "targets": data}, sort_keys=True, default=str,
                          separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def read_calibration(path: str | Path) -> LoadedCalibration:
    """Read and validate a calibration file, its base scenario and its targets (one-line errors)."""
    path = Path(path)
    raw = read_toml(path)
    spec = validate(CalibrationSpec, raw, str(path))
    source = str(path)
    base_path = path.parent / spec.base
    if not base_path.is_file():
        raise ScenarioError(source, "base", f"no scenario file {str(base_path)!r}")
    try:
        sc = load_scenario(base_path, spec.set)
    except ScenarioError as err:
        if err.field.startswith("--set "):
            raise ScenarioError(source, f"set.{err.field[6:]}", err.message) from None
        heads = {re.split(r"[.\[]", k)[0] for k in spec.set}
        if re.split(r"[.\[]", err.field)[0] in heads:  # a value the calibration file sets
            raise ScenarioError(source, f"set.{err.field}", err.message) from None
        raise
    base = sc.model_dump(mode="json")
    base_raw = read_toml(base_path)
    for key, value in spec.set.items():
        base_raw = set_field(base_raw, key, value)
    days = spec.days or int(base["run"]["days"])
    integer = {}
    for i, f in enumerate(spec.fields):
        current = lookup_field(base, f.field, source, f"fields[{i}].field")
        if isinstance(current, bool) or not isinstance(current, (int, float)):
            raise ScenarioError(source, f"fields[{i}].field", f"{f.field!r} holds {current!r} in the base scenario: "
                                                              "only numbers can be fitted")
        integer[f.field] = isinstance(current, int)
        if integer[f.field] and (f.low != math.floor(f.low) or f.high != math.floor(f.high)):
            raise ScenarioError(source, f"fields[{i}].low", f"{f.field!r} is a whole number: low and high must be "
                                                            f"whole numbers, got [{f.low:g}, {f.high:g}]")
        for end in ("low", "high"):
            value = getattr(f, end)
            value = int(value) if integer[f.field] else float(value)
            try:
                parse_scenario(set_field(base, f.field, value), str(base_path))
            except ScenarioError as err:
                raise ScenarioError(source, f"fields[{i}].{end}", f"{f.field} = {value:g} is not allowed by the "
                                                                  f"scenario ({err.field}: {err.message})") from None
    start = dt.date.fromisoformat(str(base["run"]["start_date"]))
    targets = {}
    for j, t in enumerate(spec.targets):
        targets[t.name] = read_target_file(path.parent / t.file, t, source, f"targets[{j}]", start, days)
        if t.model.days is not None and t.model.days[1] >= days:
            raise ScenarioError(source, f"targets[{j}].model.days", f"last day {t.model.days[1]} is after the run's "
                                                                     f"last day ({days - 1})")
    return LoadedCalibration(spec, base, source, base_path, base_raw, path.read_text(), targets, integer)


def read_target_file(path: Path, target: Target, source: str, where: str, start: dt.date, days: int) -> pd.DataFrame:
    """The observations of ``target``: a frame of its keys (``date`` turned into ``t_day``) and ``value``.

    Every row must have its keys and a finite number; days must lie within the run; a key may not
    repeat. A bad cell is one line naming the file, its row and column.
    """
    field = f"{where}.file"
    frame = _read_table(path, source, field)
    needed = [*target.by, target.value]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        what = "value" if missing[0] == target.value else "by"
        raise ScenarioError(source, f"{where}.{what}", f"no column {missing[0]!r} in {path.name} "
                                                        f"(columns: {', '.join(map(str, frame.columns))})")
    if frame.empty:
        raise ScenarioError(source, field, f"{path.name} has no rows")
    if len(frame) > MAX_TARGET_ROWS:
        raise ScenarioError(source, field, f"{path.name} has {len(frame):,} rows; at most {MAX_TARGET_ROWS:,}")
    if not target.by and len(frame) != 1:
        raise ScenarioError(source, f"{where}.by", f"{path.name} has {len(frame)} rows: a target without keys "
                                                   "(by) is one figure, one row; name the key columns in by")
    out = pd.DataFrame(index=frame.index)
    values = pd.to_numeric(frame[target.value].astype(str).str.strip(), errors="coerce")
    bad = values.isna() | ~np.isfinite(values.fillna(0.0))
    _first_bad(bad, frame, target.value, path, source, field, "a finite number")
    for key in target.by:
        col = frame[key]
        if key == "date":
            dates = pd.to_datetime(col.astype(str).str.strip().str[:10], format="%Y-%m-%d", errors="coerce")
            _first_bad(dates.isna(), frame, key, path, source, field, "a date YYYY-MM-DD")
            out["t_day"] = (dates - pd.Timestamp(start)).dt.days.astype(np.int64)
            label = "date"
        elif key == "t_day":
            t = pd.to_numeric(col.astype(str).str.strip(), errors="coerce")
            _first_bad(t.isna() | (t != np.floor(t.fillna(0))), frame, key, path, source, field, "a whole day number")
            out["t_day"] = t.astype(np.int64)
            label = "t_day"
        else:
            text = col.astype(str).str.strip()
            _first_bad(text == "", frame, key, path, source, field, f"a {key} name")
            out[key] = text
            continue
        outside = (out["t_day"] < 0) | (out["t_day"] >= days)
        last = start + dt.timedelta(days=days - 1)
        _first_bad(outside, frame, key, path, source, field,
                   f"a day of the run (t_day 0 to {days - 1}, {start} to {last})" if label == "date"
                   else f"a day of the run (0 to {days - 1})")
    out["value"] = values.astype(float)
    keys = ["t_day" if k in TIME_KEYS else k for k in target.by]
    if keys:
        dup = out.duplicated(keys)
        _first_bad(dup, frame, target.by[0], path, source, field, "keys that do not repeat (this row's keys are "
                                                                  "also an earlier row's)")
        out = out.sort_values(keys, kind="stable")
    out = out.reset_index(drop=True)
    norm = normaliser(out["value"].to_numpy(), target.normalise)
    if not norm > 0:
        raise ScenarioError(source, f"{where}.normalise", f"the target's {target.normalise} is 0: the error cannot be "
                                                          "divided by it; choose another normalise (mean, range, sd, "
                                                          "none)")
    return out


def normaliser(values: np.ndarray, how: str) -> float:
    """What a target's error is divided by: mean of absolute values, range, standard deviation or 1.

    >>> normaliser(np.array([1.0, 3.0]), "mean"), normaliser(np.array([1.0, 3.0]), "range")
    (2.0, 2.0)
    """
    if how == "none":
        return 1.0
    if how == "mean":
        return float(np.mean(np.abs(values)))
    if how == "range":
        return float(np.max(values) - np.min(values))
    return float(np.std(values))


def _first_bad(bad: pd.Series, frame: pd.DataFrame, column: str, path: Path, source: str, field: str,
               expected: str) -> None:
    if bool(bad.any()):
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise ScenarioError(source, field, f"{path.name} row {row + 2}, column {column!r}: expected {expected}, "
                                           f"got {frame[column].iloc[row]!r}")


def _read_table(path: Path, source: str, field: str) -> pd.DataFrame:
    """A CSV (all columns as text) or Parquet file; every way of not being readable is one line."""
    if not path.exists():
        raise ScenarioError(source, field, f"file not found: {path}")
    if path.is_dir():
        raise ScenarioError(source, field, f"{path} is a folder, not a CSV or Parquet file")
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise ScenarioError(source, field, f"{path.name}: expected a .csv or .parquet file")
    try:
        if suffix == ".csv":
            text = path.read_bytes().decode("utf-8")
            return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, comment="#")
        import pyarrow.parquet as pq
        return pq.read_table(path).to_pandas()
    except UnicodeDecodeError:
        raise ScenarioError(source, field, f"{path.name} is not a text file in UTF-8") from None
    except OSError as err:
        raise ScenarioError(source, field, f"cannot read {path.name}: {str(err).splitlines()[0][:120]}") from None
    except Exception as err:  # noqa: BLE001 - pandas and pyarrow raise many kinds for a damaged file
        raise ScenarioError(source, field, f"cannot read {path.name}: {str(err).splitlines()[0][:120] if str(err) else type(err).__name__}") from None


def check_target_labels(loaded: LoadedCalibration, name: str, labels: Mapping[str, set[str]], where: str,
                        unchecked: Sequence[str] = ()) -> None:
    """A target's label keys (category, district ...) must name things the model has (``labels``: the
    values the model's table can hold; keys in ``unchecked`` are not checked)."""
    frame = loaded.targets[name]
    t = next(t for t in loaded.spec.targets if t.name == name)
    for key in t.labels:
        if key in unchecked:
            continue
        unknown = sorted(set(frame[key]) - labels.get(key, set()))
        if unknown:
            known = sorted(labels.get(key, set()))
            shown = ", ".join(known[:12]) + (" ..." if len(known) > 12 else "")
            raise ScenarioError(loaded.source, f"{where}.file", f"{Path(t.file).name}: {key} {unknown[0]!r} is not in "
                                                                f"the model's {t.model.table} table (it has: {shown})")
