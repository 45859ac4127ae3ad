"""The sweep file: schema (pydantic, unknown fields are errors) and loading with one-line errors.

A sweep file names a base scenario (a path relative to the sweep file), the uncertainties and
levers to vary (each a dotted scenario field with a range, a set of values or a distribution),
a sampler, replicates per design point and a root seed. See ``docs/sweeps.md``.

A set of values may hold whole tables (a regime's policy package: set at the field, or merged
into the base's table with ``merge = true``), lists (``modes``) or, for the field ``scenario``,
scenario files: then each run's scenario is that file, with the sweep's other values set on top,
and no ``base`` is given. The design records such values by a readable label (``labels``, else
the file's stem or the table's text), and ``parameter_values.json`` in the sweep folder maps
labels to values (:func:`twin.sweep.design.run_payloads`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Mapping

from pydantic import Field
from pydantic import model_validator

from twin.scenario.base import Spec

from twin.scenario import ScenarioError, load_scenario, read_toml
from twin.scenario.loading import validate

__all__ = ["RESERVED_COLUMNS", "SCENARIO_FIELD", "Distribution", "LoadedSweep", "Parameter", "Sampler",
           "SweepSpec", "lookup_field", "read_sweep", "value_label"]

#: most runs one sweep may hold (its design is built in memory; its chunks fill a disk)
MAX_RUNS = 1_000_000

#: the pseudo-field whose values are whole scenario files (relative to the sweep file)
SCENARIO_FIELD = "scenario"

#: design columns that parameters may not be named after
RESERVED_COLUMNS = ("run_id", "point_id", "lever_id", "replicate", "seed_root", "seed_key", "t_day", "date")

_FIELD_PATH = r"^[A-Za-z_][A-Za-z0-9_]*(\[\d+\])*(\.[A-Za-z_][A-Za-z0-9_]*(\[\d+\])*)*$"
_IDENT = r"^[A-Za-z_][A-Za-z0-9_]*$"
_DIST_PARAMS = {
    "uniform": ("low", "high"),
    "normal": ("mean", "sd"),
    "lognormal": ("median", "sigma"),
    "triangular": ("low", "mode", "high"),
    "truncnormal": ("mean", "sd", "low", "high"),
}

_Spec = Spec  # frozen, unknown fields are errors, numbers finite and bounded (twin/scenario/base.py)


class Distribution(_Spec):
    """A probability distribution of an uncertainty; which numbers it takes depends on ``kind``.

    uniform: low, high; normal: mean, sd; lognormal: median, sigma (of the log);
    triangular: low, mode, high; truncnormal: mean, sd, low, high.
    """

    kind: Literal["uniform", "normal", "lognormal", "triangular", "truncnormal"]
    low: float | None = None
    high: float | None = None
    mode: float | None = None
    mean: float | None = None
    sd: float | None = Field(None, gt=0.0)
    median: float | None = Field(None, gt=0.0)
    sigma: float | None = Field(None, gt=0.0)

    @model_validator(mode="after")
    def _check(self) -> "Distribution":
        needed = _DIST_PARAMS[self.kind]
        for name in needed:
            if getattr(self, name) is None:
                raise ValueError(f"{name}: required by a {self.kind} distribution (it takes {', '.join(needed)})")
        for name in ("low", "high", "mode", "mean", "sd", "median", "sigma"):
            if name not in needed and getattr(self, name) is not None:
                raise ValueError(f"{name}: not used by a {self.kind} distribution (it takes {', '.join(needed)})")
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise ValueError(f"high: must be greater than low ({self.low:g}), got {self.high:g}")
        if self.mode is not None and not self.low <= self.mode <= self.high:
            raise ValueError(f"mode: must lie in [low, high] = [{self.low:g}, {self.high:g}], got {self.mode:g}")
        return self


class Parameter(_Spec):
    """One scenario field varied by the sweep: exactly one of ``range``, ``values``, ``distribution``.

    ``values`` may be numbers, text, booleans, tables (set at the field, or merged into the base's
    table with ``merge``), lists, or (``field = "scenario"``) scenario files. The design column of
    tables, lists and files holds labels: ``labels``, else the file stem or the value's text.
    """

    field: str = Field(pattern=_FIELD_PATH, description="Dotted scenario field, e.g. shocks[0].factor; "
                                                        "'scenario' for whole scenario files.")
    name: str | None = Field(None, pattern=_IDENT, description="Column name (default: from the field).")
    range: tuple[float, float] | None = Field(None, description="[low, high], sampled uniformly.")
    values: list[Any] | None = Field(None, min_length=1, max_length=1000, description="A set of values, equally likely.")
    distribution: Distribution | None = None
    levels: int | None = Field(None, ge=2, le=1000,
                               description="Grid levels of a range or distribution in a full factorial (default 3).")
    labels: list[str] | None = Field(None, description="Design-column labels of table, list or scenario-file values.")
    merge: bool = Field(False, description="Table values: merged key by key into the base's table at the field "
                                           "(default: replace it; fields a table leaves out take their defaults).")

    @model_validator(mode="after")
    def _check(self) -> "Parameter":
        given = [k for k in ("range", "values", "distribution") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("range: give exactly one of range, values or distribution"
                             + (f" (got {', '.join(given)})" if given else ""))
        if self.field == SCENARIO_FIELD and self.values is None:
            raise ValueError("values: the field 'scenario' takes values = [scenario files], relative to the sweep file")
        if self.range is not None and not self.range[0] < self.range[1]:
            raise ValueError(f"range: low must be below high, got [{self.range[0]:g}, {self.range[1]:g}]")
        if self.values is not None:
            for j, v in enumerate(self.values):
                if not isinstance(v, (bool, int, float, str, dict, list)):
                    raise ValueError(f"values[{j}]: must be a number, text, true/false, a table or a list, got {v!r}")
                if self.field == SCENARIO_FIELD and not (isinstance(v, str) and v.endswith(".toml")):
                    raise ValueError(f"values[{j}]: the field 'scenario' takes scenario files (.toml, relative to "
                                     f"the sweep file), got {v!r}")
            kinds = {_kind(v) for v in self.values}
            if len(kinds) > 1:
                raise ValueError(f"values: must all be numbers, all text, all booleans, all tables or all lists, "
                                 f"got {sorted(kinds)}")
            texts = [_canonical(v) for v in self.values]
            if len(set(texts)) != len(texts):
                raise ValueError("values: must not repeat")
            if self.levels is not None:
                raise ValueError("levels: only for a range or a distribution (a set of values is its own levels)")
        if self.labels is not None:
            if not self.structured:
                raise ValueError("labels: only for table, list or scenario-file values (other values are their own "
                                 "labels)")
            if len(self.labels) != len(self.values):
                raise ValueError(f"labels: one per value ({len(self.values)}), got {len(self.labels)}")
        if self.merge and not (self.values is not None and isinstance(self.values[0], dict)):
            raise ValueError("merge: only for table values")
        if self.structured:
            labels = self.value_labels
            for j, label in enumerate(labels):
                if not label.strip() or len(label) > 200:
                    raise ValueError(f"labels[{j}]: a label of 1 to 200 characters, got {label!r}")
            if len(set(labels)) != len(labels):
                dup = next(x for x in labels if labels.count(x) > 1)
                raise ValueError(f"labels: must not repeat, got {dup!r} twice (give labels = [...] that differ)")
        return self

    @property
    def column(self) -> str:
        """The design column of this parameter: ``name``, or the field with non-word characters as ``_``."""
        return self.name or re.sub(r"_+", "_", re.sub(r"\W", "_", self.field)).strip("_")

    @property
    def n_levels(self) -> int:
        """Number of grid levels in a full factorial."""
        return len(self.values) if self.values is not None else (self.levels or 3)

    @property
    def is_scenario(self) -> bool:
        """Whether the values are whole scenario files."""
        return self.field == SCENARIO_FIELD

    @property
    def structured(self) -> bool:
        """Whether the values are tables, lists or scenario files (the design column holds their labels)."""
        return self.values is not None and (self.is_scenario or isinstance(self.values[0], (dict, list)))

    @property
    def value_labels(self) -> list[Any]:
        """What the design column holds for each value: the value itself, or a label (see :func:`value_label`)."""
        if not self.structured:
            return list(self.values or [])
        return list(self.labels) if self.labels is not None else [value_label(v, self.is_scenario)
                                                                  for v in self.values]


def value_label(value: Any, scenario_file: bool = False) -> str:
    """The default label of a table, list or scenario-file value.

    >>> value_label("../city_a_empowered_market.toml", scenario_file=True)
    'city_a_empowered_market'
    >>> value_label(["market", "group_buying"])
    'market+group_buying'
    >>> value_label({"modes": ["market", "unified"], "group_purchase_share": 0.9, "price_cap_index": None})
    'modes=market+unified, group_purchase_share=0.9, price_cap_index=none'
    """
    if scenario_file:
        return Path(value).stem
    if isinstance(value, dict):
        from twin.scenario.edit import flatten
        return ", ".join(f"{k}={value_label(v)}" for k, v in flatten(value))
    if isinstance(value, list):
        return "+".join(value_label(v) for v in value)
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _kind(v: Any) -> str:
    return ("bool" if isinstance(v, bool) else "number" if isinstance(v, (int, float)) else "table"
            if isinstance(v, dict) else "list" if isinstance(v, list) else "text")


def _canonical(v: Any) -> str:
    import json
    return json.dumps(v, sort_keys=True)


class Sampler(_Spec):
    """How uncertainties are sampled (levers are always crossed in full factorial).

    ``samples``: latin, points; sobol, base samples N (N*(D+2) points, N*(2D+2) with second
    order; a power of 2); morris, trajectories (N*(D+1) points). A full factorial takes the
    levels of each uncertainty and needs no ``samples``.
    """

    method: Literal["factorial", "latin", "sobol", "morris"]
    samples: int | None = Field(None, ge=1, le=1_000_000)
    second_order: bool = Field(False, description="sobol: also second-order indices (more runs).")
    num_levels: int = Field(4, ge=2, le=100, description="morris: levels of the grid (even numbers are best).")

    @model_validator(mode="after")
    def _check(self) -> "Sampler":
        if self.method == "factorial" and self.samples is not None:
            raise ValueError("samples: not used by a full factorial (each uncertainty's levels set its size)")
        if self.method != "factorial" and self.samples is None:
            raise ValueError(f"samples: required by the {self.method} sampler")
        if self.method == "sobol" and self.samples & (self.samples - 1):
            raise ValueError(f"samples: must be a power of 2 for sobol (e.g. {2 ** round(math.log2(self.samples))}),"
                             f" got {self.samples}")
        if self.second_order and self.method != "sobol":
            raise ValueError("second_order: only for the sobol sampler")
        return self


class SweepSpec(_Spec):
    """A whole sweep file."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    base: str | None = Field(None, min_length=1, description="Base scenario, relative to the sweep file (none when a "
                                                             "parameter varies the whole scenario).")
    days: int | None = Field(None, ge=1, le=3650, description="Simulated days (default: the base's run.days).")
    root_seed: int = Field(ge=0, lt=2 ** 63)
    replicates: int = Field(1, ge=1, le=10_000)
    timeseries: bool = Field(True, description="Also store the daily city series of every run.")
    sampler: Sampler
    uncertainties: list[Parameter] = Field(default_factory=list, max_length=100)
    levers: list[Parameter] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _check(self) -> "SweepSpec":
        if not self.uncertainties and not self.levers:
            raise ValueError("uncertainties: a sweep needs at least one uncertainty or lever")
        if not self.uncertainties and self.sampler.method != "factorial":
            raise ValueError(f"uncertainties: the {self.sampler.method} sampler needs at least one uncertainty")
        whole = [f"{role}[{i}]" for role, i, p in self.parameters() if p.is_scenario]
        if len(whole) > 1:
            raise ValueError(f"{whole[1]}.field: 'scenario' is also varied by {whole[0]}")
        if whole and self.base is not None:
            raise ValueError(f"base: {whole[0]} varies the whole scenario (field = 'scenario'): each run's scenario "
                             "is one of its files, so leave base out")
        if not whole and self.base is None:
            raise ValueError("base: required: the base scenario, relative to the sweep file (or vary whole scenario "
                             "files with field = 'scenario')")
        seen_col: dict[str, str] = {}
        seen_field: dict[str, str] = {}
        for role in ("uncertainties", "levers"):
            for i, p in enumerate(getattr(self, role)):
                where = f"{role}[{i}]"
                if p.column in RESERVED_COLUMNS:
                    raise ValueError(f"{where}.name: {p.column!r} is reserved (give another name)")
                if p.column in seen_col:
                    raise ValueError(f"{where}.name: column {p.column!r} is also {seen_col[p.column]}'s")
                if p.field in seen_field:
                    raise ValueError(f"{where}.field: {p.field!r} is also varied by {seen_field[p.field]}")
                seen_col[p.column], seen_field[p.field] = where, where
                for a, b in (("end_day", "duration_days"), ("duration_days", "end_day")):
                    twin_field = p.field[: -len(a)] + b if p.field.endswith("." + a) else None
                    if twin_field in seen_field:
                        raise ValueError(f"{where}.field: {p.field!r} and {twin_field!r} ({seen_field[twin_field]}) "
                                         "are alternatives: vary one of them")
        if self.n_runs() > MAX_RUNS:
            raise ValueError(f"replicates: the sweep would make {self.n_runs():,} runs; at most {MAX_RUNS:,} fit a "
                             "sweep folder on the machine twin is built for (2 cores, 24 GiB): fewer samples, "
                             "levels or replicates")
        return self

    def n_runs(self) -> int:
        """Runs the design will hold: design points x lever combinations x replicates."""
        d, n = len(self.uncertainties), self.sampler.samples or 0
        points = {"factorial": math.prod(p.n_levels for p in self.uncertainties),
                  "latin": n, "sobol": n * ((2 * d + 2) if self.sampler.second_order else (d + 2)),
                  "morris": n * (d + 1)}[self.sampler.method]
        return points * math.prod(p.n_levels for p in self.levers) * self.replicates

    def parameters(self) -> list[tuple[str, int, Parameter]]:
        """Every parameter as (role, index, parameter): uncertainties first, then levers."""
        return ([("uncertainties", i, p) for i, p in enumerate(self.uncertainties)]
                + [("levers", i, p) for i, p in enumerate(self.levers)])


@dataclass(frozen=True)
class LoadedSweep:
    """A validated sweep file with its base scenario resolved (all defaults filled in)."""

    spec: SweepSpec
    base: dict[str, Any]
    source: str
    base_path: Path
    text: str
    #: design column -> {"merge": bool, "values": {label: value}} for table, list and scenario-file values
    #: (scenario files resolved: every default filled in)
    choices: dict[str, dict[str, Any]] = field(default_factory=dict)


def read_sweep(path: str | Path) -> LoadedSweep:
    """Read and validate a sweep file and its base scenario; raise :class:`ScenarioError` (one line).

    With a ``scenario`` parameter, every file is loaded and the first stands as the base (its
    start date and days are the sweep's; every other parameter's field must exist in each file).
    Table and list values are each set on every base and validated there.
    """
    path = Path(path)
    spec = _parse_spec(read_toml(path), str(path))
    choices: dict[str, dict[str, Any]] = {}
    whole = next(((role, i, p) for role, i, p in spec.parameters() if p.is_scenario), None)
    if whole is None:
        base_path = (path.parent / spec.base)
        if not base_path.is_file():
            raise ScenarioError(str(path), "base", f"no scenario file {str(base_path)!r}")
        bases = {"base": load_scenario(base_path).model_dump(mode="json")}
    else:
        role, i, p = whole
        bases = {}
        for j, (label, value) in enumerate(zip(p.value_labels, p.values)):
            file = path.parent / value
            if not file.is_file():
                raise ScenarioError(str(path), f"{role}[{i}].values[{j}]", f"no scenario file {str(file)!r}")
            bases[label] = load_scenario(file).model_dump(mode="json")
        base_path = path.parent / p.values[0]
        _check_same_clock(bases, p, spec, str(path), f"{role}[{i}]")
        choices[p.column] = {"merge": False, "values": bases}
    base = next(iter(bases.values()))
    for role, i, p in spec.parameters():
        if p.is_scenario:
            continue
        for data in bases.values():
            current = lookup_field(data, p.field, str(path), f"{role}[{i}].field")
            if p.structured:
                _check_structured(data, current, p, str(path), f"{role}[{i}]")
        if p.structured:
            choices[p.column] = {"merge": p.merge, "values": dict(zip(p.value_labels, p.values))}
    return LoadedSweep(spec, base, str(path), base_path, path.read_text(), choices)


def _check_same_clock(bases: Mapping[str, dict], p: Parameter, spec: SweepSpec, source: str, where: str) -> None:
    """Scenario files of one sweep share the start date (the series' dates) and, unless ``days`` is given, days."""
    first_label, first = next(iter(bases.items()))
    for j, (label, data) in enumerate(bases.items()):
        for key, given in (("start_date", False), ("days", spec.days is not None)):
            if not given and data["run"][key] != first["run"][key]:
                hint = "" if key == "start_date" else "; or give the sweep's days"
                raise ScenarioError(source, f"{where}.values[{j}]",
                                    f"{p.values[j]} has run.{key} = {data['run'][key]}, {p.values[0]} "
                                    f"{first['run'][key]}: the scenario files must share it{hint}")


def _check_structured(data: dict, current: Any, p: Parameter, source: str, where: str) -> None:
    """Table values go where the base holds a table, lists where it holds a list; each value alone must
    make a valid scenario (a table's unknown or bad fields are named here, not in failed runs)."""
    from twin.scenario.loading import deep_merge, parse_scenario, set_field
    want = dict if isinstance(p.values[0], dict) else list
    if not isinstance(current, want):
        held = "a table" if isinstance(current, Mapping) else "a list" if isinstance(current, list) else \
            f"the value {current!r}"
        raise ScenarioError(source, f"{where}.values", f"{'tables' if want is dict else 'lists'} given, but "
                                                       f"{p.field} holds {held}")
    for j, value in enumerate(p.values):
        new = deep_merge(current, value) if p.merge else value
        try:
            parse_scenario(set_field(data, p.field, new), "value")
        except ScenarioError as err:
            raise ScenarioError(source, f"{where}.values[{j}]", f"{err.field}: {err.message}" if err.field
                                else err.message) from None


def lookup_field(data: Mapping[str, Any], dotted: str, source: str = "<sweep>", where: str = "field") -> Any:
    """The value at ``a.b[2].c`` in scenario data; a :class:`ScenarioError` names the missing part.

    >>> lookup_field({"shocks": [{"factor": 0.5}]}, "shocks[0].factor")
    0.5
    """
    node: Any = data
    walked = ""
    for part in re.findall(r"[A-Za-z_]\w*|\[\d+\]", dotted):
        if part.startswith("["):
            idx = int(part[1:-1])
            if not isinstance(node, list) or idx >= len(node):
                size = len(node) if isinstance(node, list) else 0
                raise ScenarioError(source, where, f"{dotted!r}: {walked or 'scenario'} has {size} entries, no {part}")
            node = node[idx]
        else:
            if not isinstance(node, Mapping) or part not in node:
                allowed = f" (allowed: {', '.join(node)})" if isinstance(node, Mapping) else ""
                raise ScenarioError(source, where, f"{dotted!r}: no field {part!r} in "
                                                   f"{walked or 'the base scenario'}{allowed}")
            node = node[part]
        walked += part if part.startswith("[") or not walked else f".{part}"
    return node


def _parse_spec(data: Mapping[str, Any], source: str) -> SweepSpec:
    return validate(SweepSpec, data, source)
