"""The sweep file: schema (pydantic, unknown fields are errors) and loading with one-line errors.

A sweep file names a base scenario (a path relative to the sweep file), the uncertainties and
levers to vary (each a dotted scenario field with a range, a set of values or a distribution),
a sampler, replicates per design point and a root seed. See ``docs/sweeps.md``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Mapping

from pydantic import Field
from pydantic import model_validator

from twin.scenario.base import Spec

from twin.scenario import ScenarioError, load_scenario, read_toml
from twin.scenario.loading import validate

__all__ = ["RESERVED_COLUMNS", "Distribution", "LoadedSweep", "Parameter", "Sampler", "SweepSpec",
           "lookup_field", "read_sweep"]

#: most runs one sweep may hold (its design is built in memory; its chunks fill a disk)
MAX_RUNS = 1_000_000

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
    """One scenario field varied by the sweep: exactly one of ``range``, ``values``, ``distribution``."""

    field: str = Field(pattern=_FIELD_PATH, description="Dotted scenario field, e.g. shocks[0].factor.")
    name: str | None = Field(None, pattern=_IDENT, description="Column name (default: from the field).")
    range: tuple[float, float] | None = Field(None, description="[low, high], sampled uniformly.")
    values: list[Any] | None = Field(None, min_length=1, max_length=1000, description="A set of values, equally likely.")
    distribution: Distribution | None = None
    levels: int | None = Field(None, ge=2, le=1000,
                               description="Grid levels of a range or distribution in a full factorial (default 3).")

    @model_validator(mode="after")
    def _check(self) -> "Parameter":
        given = [k for k in ("range", "values", "distribution") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("range: give exactly one of range, values or distribution"
                             + (f" (got {', '.join(given)})" if given else ""))
        if self.range is not None and not self.range[0] < self.range[1]:
            raise ValueError(f"range: low must be below high, got [{self.range[0]:g}, {self.range[1]:g}]")
        if self.values is not None:
            for j, v in enumerate(self.values):
                if not isinstance(v, (bool, int, float, str)):
                    raise ValueError(f"values[{j}]: must be a number, text or true/false, got {v!r}")
            kinds = {"bool" if isinstance(v, bool) else "number" if isinstance(v, (int, float)) else "text"
                     for v in self.values}
            if len(kinds) > 1:
                raise ValueError(f"values: must all be numbers, all text or all booleans, got {sorted(kinds)}")
            if len(set(self.values)) != len(self.values):
                raise ValueError("values: must not repeat")
            if self.levels is not None:
                raise ValueError("levels: only for a range or a distribution (a set of values is its own levels)")
        return self

    @property
    def column(self) -> str:
        """The design column of this parameter: ``name``, or the field with non-word characters as ``_``."""
        return self.name or re.sub(r"_+", "_", re.sub(r"\W", "_", self.field)).strip("_")

    @property
    def n_levels(self) -> int:
        """Number of grid levels in a full factorial."""
        return len(self.values) if self.values is not None else (self.levels or 3)


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
    base: str = Field(min_length=1, description="Base scenario, relative to the sweep file.")
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


def read_sweep(path: str | Path) -> LoadedSweep:
    """Read and validate a sweep file and its base scenario; raise :class:`ScenarioError` (one line)."""
    path = Path(path)
    spec = _parse_spec(read_toml(path), str(path))
    base_path = (path.parent / spec.base)
    if not base_path.is_file():
        raise ScenarioError(str(path), "base", f"no scenario file {str(base_path)!r}")
    base = load_scenario(base_path).model_dump(mode="json")
    for role, i, p in spec.parameters():
        lookup_field(base, p.field, str(path), f"{role}[{i}].field")
    return LoadedSweep(spec, base, str(path), base_path, path.read_text())


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
