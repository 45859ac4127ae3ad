"""Reading scenario files: TOML, ``extends`` inheritance, dotted overrides, one-line errors."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import io
import json
import re
import tomllib
from pathlib import Path
from typing import Any, Mapping

import numpy as np
from pydantic import BaseModel, ValidationError

from twin.scenario.schema import Scenario

__all__ = ["ScenarioError", "load_scenario", "parse_scenario", "scenario_hash", "set_field", "read_toml", "validate"]


class ScenarioError(Exception):
    """A scenario that cannot run. ``str(err)`` is one line: file, field, what is allowed."""

    def __init__(self, source: str, field: str, message: str):
        self.source, self.field, self.message = source, field, message
        where = f"{source}: {field}: " if field else f"{source}: "
        super().__init__(where + message)


def read_toml(path: Path, _chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    """Read a TOML file, following ``extends = "other.toml"`` (relative to the file)."""
    path = Path(path)
    data = _load_toml(path)
    epi = data.get("epidemic") if isinstance(data.get("epidemic"), dict) else {}
    for field in ("incidence_csv", "district_incidence_csv"):
        csv = epi.get(field)
        if isinstance(csv, str) and not Path(csv).is_absolute():
            data["epidemic"][field] = str((path.parent / csv).resolve())
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str) or not parent:
        raise ScenarioError(str(path), "extends", "must be a path to another scenario file")
    chain = (*_chain, path.resolve())
    target = (path.parent / parent)
    if target.resolve() in chain:
        loop = " -> ".join(p.name for p in (*chain, target.resolve()))
        raise ScenarioError(str(path), "extends", f"the files extend each other in a cycle ({loop})")
    if len(chain) >= 20:
        raise ScenarioError(str(path), "extends", "more than 20 files extend one another")
    base = read_toml(target, chain)
    return deep_merge(base, data)


def _load_toml(path: Path) -> dict[str, Any]:
    """The table of one TOML file; every way of not being a readable TOML file is one line."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ScenarioError(str(path), "", "file not found") from None
    except IsADirectoryError:
        raise ScenarioError(str(path), "", "is a folder, not a scenario file") from None
    except OSError as err:
        raise ScenarioError(str(path), "", f"cannot read the file: {err.strerror or err}") from None
    if len(raw) > 50_000_000:
        raise ScenarioError(str(path), "", f"{len(raw):,} bytes: too large for a scenario file (at most 50 MB)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ScenarioError(str(path), "", f"not a text file in UTF-8 (byte {err.start}); a scenario is a TOML text "
                                           "file") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(str(path), "", f"malformed TOML: {err}") from None
    except RecursionError:
        raise ScenarioError(str(path), "", "malformed TOML: nested too deeply") from None


def deep_merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """Tables merge key by key; any other value (lists included) in ``top`` replaces ``base``'s."""
    out = copy.deepcopy(dict(base))
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def set_field(data: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    """Return a copy of scenario data with ``a.b[2].c`` set to ``value``.

    >>> set_field({"city": {"population": 5}}, "city.population", 7)
    {'city': {'population': 7}}
    """
    out = copy.deepcopy(data)
    node: Any = out
    parts = _split_path(dotted)
    walked = ""
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(part, int):
            if not isinstance(node, list) or part >= len(node):
                size = f"has {len(node)} entries" if isinstance(node, list) else "is not a list"
                raise ScenarioError("<override>", dotted, f"index [{part}] is out of range ({walked or 'it'} {size})")
            if last:
                node[part] = value
            node = node[part]
            walked += f"[{part}]"
        else:
            if not isinstance(node, dict):
                raise ScenarioError("<override>", dotted, f"{walked} is a value, not a table: it has no field {part!r}")
            if last:
                node[part] = value
                other = _ALTERNATIVES.get(part)
                if other is not None and node.get(other) is not None:
                    node[other] = None  # setting one of two alternatives replaces the other
            else:
                node = node.setdefault(part, [] if isinstance(parts[i + 1], int) else {})
            walked += f".{part}" if walked else part
    return out


# fields given one or the other (shocks, lockdowns): setting one drops the other, so a sweep or
# --set can give a shock of the base scenario a length where the base gives an end day, and back
_ALTERNATIVES = {"end_day": "duration_days", "duration_days": "end_day"}

_PATH_PIECE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\[\d+\])*$")


def _split_path(dotted: str) -> list[str | int]:
    parts: list[str | int] = []
    for piece in dotted.split("."):
        if not _PATH_PIECE.match(piece):
            raise ScenarioError("<override>", dotted, "not a field path: expected names and indexes such as "
                                                      "shocks[0].factor")
        name, _, rest = piece.partition("[")
        parts.append(name)
        while rest:
            idx, _, rest = rest.partition("]")
            parts.append(int(idx))
            rest = rest.lstrip("[")
    return parts


def inline_incidence(data: Mapping[str, Any], source: str = "<scenario>") -> dict[str, Any]:
    """Replace ``epidemic.incidence_csv`` by the daily series it holds (cases per 100k residents)
    and ``epidemic.district_incidence_csv`` by daily cases per district, day 0 = ``run.start_date``,
    up to the CSV's last date (missing dates interpolated, days before the series 0), so that a
    validated scenario is self-contained (hashable, shippable to a cluster)."""
    data = dict(data)
    epi = data.get("epidemic")
    if not isinstance(epi, Mapping) or not (epi.get("incidence_csv") or epi.get("district_incidence_csv")):
        return data
    epi = dict(epi)
    column = epi.get("incidence_column", "new_cases_total")
    population = epi.get("incidence_population", 25_000_000)
    by = epi.get("district_column", "district")
    if not isinstance(column, str) or not isinstance(by, str) or isinstance(population, bool) \
            or not isinstance(population, (int, float)) or not population > 0:
        return data  # the schema names the bad epidemic field
    run = data.get("run") if isinstance(data.get("run"), Mapping) else {}
    try:
        start = dt.date.fromisoformat(str(run.get("start_date", "2022-03-19")))
        days = min(max(int(run.get("days", 60)), 1), 3650)
    except (TypeError, ValueError):  # the schema names the bad run field
        return data
    if epi.get("incidence_csv"):
        path = Path(str(epi.pop("incidence_csv")))
        frame = read_incidence_csv(path, column, source, "epidemic.incidence_csv")
        cases = _daily_from(frame.groupby("date")[column].sum(), start, days)
        epi["incidence_per_100k"] = [round(float(v) * 1e5 / float(population), 9) for v in cases]
        epi["incidence_source"] = f"{path.name}:{column}"
    if epi.get("district_incidence_csv"):
        path = Path(str(epi.pop("district_incidence_csv")))
        frame = read_incidence_csv(path, column, source, "epidemic.district_incidence_csv", by)
        wide = frame.groupby(["date", by])[column].sum().unstack(by).fillna(0.0)
        epi["district_cases"] = {str(d): [round(float(v), 6) for v in _daily_from(wide[d], start, days)]
                                 for d in wide.columns}
        if "incidence_per_100k" not in epi:   # the city's figure: all districts together
            total = np.sum([v for v in epi["district_cases"].values()], axis=0) if len(wide.columns) else []
            epi["incidence_per_100k"] = [round(float(v) * 1e5 / float(population), 9) for v in total]
        tag = f"{path.name}:{column} by {by}"
        epi["incidence_source"] = f"{epi['incidence_source']}; {tag}" if epi.get("incidence_source") else tag
    data["epidemic"] = epi
    return data


def _daily_from(series, start: dt.date, days: int) -> np.ndarray:
    """A dated series as one value a day from ``start`` to the series' last date (missing dates
    interpolated, days before the series 0), at most ``days + 366`` days."""
    import pandas as pd

    series = series.astype(float).sort_index()
    series = series.reindex(pd.date_range(series.index.min(), series.index.max())).interpolate()
    grid = pd.date_range(pd.Timestamp(start), periods=max(days, 1) + 366)
    values = series.reindex(grid).fillna(0.0).to_numpy()
    last = int(np.flatnonzero(grid <= series.index.max()).max(initial=-1)) + 1
    return values[:last]


def read_incidence_csv(path: Path, column: str, source: str = "<scenario>", field: str = "epidemic.incidence_csv",
                       key: str | None = None):
    """Daily cases from a CSV with a ``date`` column (YYYY-MM-DD), ``column`` of case counts and,
    for a district series, a ``key`` column naming the district: a frame (date, [key,] column).

    Every row must have a real date and a finite, non-negative number of cases: a bad cell is a
    one-line error naming the CSV, its row and column (rows are never dropped silently)."""
    import pandas as pd
    try:
        text = path.read_bytes().decode("utf-8")
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise ScenarioError(source, field, f"file not found: {path}") from None
    except IsADirectoryError:
        raise ScenarioError(source, field, f"{path} is a folder, not a CSV file") from None
    except UnicodeDecodeError:
        raise ScenarioError(source, field, f"{path.name} is not a text file in UTF-8") from None
    except OSError as err:
        raise ScenarioError(source, field, f"cannot read {path}: {err.strerror or err}") from None
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise ScenarioError(source, field, f"cannot read {path.name}: {str(err).splitlines()[0]}") from None
    if "date" not in frame.columns:
        raise ScenarioError(source, field, f"{path.name} has no 'date' column (columns: {', '.join(frame.columns)})")
    for col, name in [(column, "epidemic.incidence_column")] + ([(key, "epidemic.district_column")] if key else []):
        if col not in frame.columns:
            raise ScenarioError(source, name, f"no column {col!r} in {path.name} (columns: {', '.join(frame.columns)})")
    if frame.empty:
        raise ScenarioError(source, field, f"{path.name} has no rows")
    dates = pd.to_datetime(frame["date"].str.strip(), format="%Y-%m-%d", errors="coerce")
    cases = pd.to_numeric(frame[column].str.strip(), errors="coerce")
    bad_date = dates.isna()
    bad_cases = cases.isna() | ~np.isfinite(cases.fillna(0.0)) | (cases < 0)
    checks = [(bad_date, "date", "a date YYYY-MM-DD"), (bad_cases, column, "a number of cases >= 0")]
    if key:
        checks.append((frame[key].str.strip() == "", key, "a district name"))
    for bad, col, what in checks:
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            value = frame[col].iloc[row]
            raise ScenarioError(source, field, f"{path.name} row {row + 2}, column {col!r}: expected {what}, "
                                               f"got {value!r}")
    out = pd.DataFrame({"date": dates, column: cases.astype(float)})
    if key:
        out[key] = frame[key].str.strip()
    return out


def parse_scenario(data: Mapping[str, Any], source: str = "<scenario>") -> Scenario:
    """Validate scenario data; raise :class:`ScenarioError` naming the first bad field."""
    return validate(Scenario, inline_incidence(data, source), source)


def validate(model: type[BaseModel], data: Mapping[str, Any], source: str):
    """Validate ``data`` against ``model`` (a scenario, a sweep file ...); on failure raise one
    :class:`ScenarioError` naming the file, the first bad field and what is allowed."""
    try:
        return model.model_validate(dict(data))
    except ValidationError as err:
        first = err.errors()[0]
        more = len(err.errors()) - 1
        field, message = _describe(first, model)
        if more:
            message += f" (and {more} more error{'s' if more > 1 else ''})"
        raise ScenarioError(source, field, message) from None


def load_scenario(path: str | Path, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Load, merge ``extends``, apply dotted ``overrides`` and validate a scenario file."""
    data = read_toml(Path(path))
    for key, value in (overrides or {}).items():
        try:
            data = set_field(data, key, value)
        except ScenarioError as err:
            raise ScenarioError(str(path), f"--set {key}", err.message) from None
    return parse_scenario(data, str(path))


def scenario_hash(scenario: Scenario) -> str:
    """A stable SHA-256 of the validated scenario (all defaults filled in)."""
    text = json.dumps(scenario.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _describe(error: Mapping[str, Any], root: type[BaseModel]) -> tuple[str, str]:
    loc = _format_loc(error["loc"])
    kind, msg = error["type"], error["msg"]
    if kind == "value_error":
        msg = msg.removeprefix("Value error, ")
        head, sep, tail = msg.partition(": ")
        if sep and " " not in head:  # the validator named a sub-field: "links[0].src: ..."
            return (f"{loc}.{head}" if loc else head), tail
        return loc, msg
    if kind == "extra_forbidden":
        return loc, "unknown field" + _allowed_fields(error["loc"], root)
    got = error.get("input")
    if kind not in ("missing",) and not isinstance(got, (dict, list)):
        msg += f", got {got!r}"
    bound = (error.get("ctx") or {}).get("le", (error.get("ctx") or {}).get("lt"))
    if kind == "too_long" or (kind in ("less_than_equal", "less_than") and isinstance(bound, (int, float))
                              and not isinstance(bound, bool) and bound >= 1000):
        msg += " (the limit keeps a run within the machine twin is built for: 2 cores, 24 GiB)"
    return loc, msg


def _format_loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part).startswith(("function-after", "function-")):
            continue
        else:
            out += ("." if out else "") + str(part)
    return out


def _allowed_fields(loc: tuple[Any, ...], root: type[BaseModel]) -> str:
    model: Any = root
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return ""
        model = inner_model(field.annotation)
        if model is None:
            return ""
    names = list(getattr(model, "model_fields", {}))
    return f" (allowed: {', '.join(names)})" if names else ""


def inner_model(annotation: Any) -> Any:
    """The pydantic model inside a field's annotation (``X``, ``list[X]``, ``X | None``), or None."""
    if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = inner_model(arg)
        if found is not None:
            return found
    return None
