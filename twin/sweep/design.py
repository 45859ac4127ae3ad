"""The design of a sweep: which runs, with which parameter values and seeds.

Uncertainties are sampled in the unit hypercube by SALib (Latin hypercube, Sobol/Saltelli,
Morris) or laid on a full-factorial grid, then mapped to values: a range linearly, a set of values
by equal bins, a distribution by its quantile function. Levers are always crossed in full
factorial with the uncertainty design points, and every (point, lever combination) pair is run
``replicates`` times. Run ids count points, then lever combinations, then replicates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd

from twin.sweep.seeds import sampler_seed
from twin.sweep.spec import SCENARIO_FIELD, LoadedSweep, Parameter, Sampler, lookup_field

__all__ = ["Design", "build_design", "factorial_units", "is_integer_field", "level_units", "run_payloads",
           "run_scenario", "salib_problem", "to_values", "unit_samples"]

_ROLE = {"uncertainties": "uncertainty", "levers": "lever"}
#: unbounded distributions are cut at these quantiles (Morris grids reach 0 and 1)
_TAIL = 1e-3


@dataclass(frozen=True)
class Design:
    """A sweep's runs (one row per run) and the sampler's unit-cube points (one row per point)."""

    runs: pd.DataFrame
    units: pd.DataFrame
    levers: pd.DataFrame
    problem: dict
    parameters: list[dict]


def salib_problem(names: Sequence[str]) -> dict:
    """A SALib problem over the unit cube (values are mapped from unit coordinates afterwards)."""
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}


def unit_samples(sampler: Sampler, params: Sequence[Parameter], seed: int) -> np.ndarray:
    """Points x parameters in [0, 1], in the order SALib's analysers expect."""
    if sampler.method == "factorial":
        return factorial_units(params)
    from SALib.sample import latin, morris, sobol
    problem = salib_problem([p.column for p in params])
    n = sampler.samples
    if sampler.method == "sobol":
        x = sobol.sample(problem, n, calc_second_order=sampler.second_order, seed=seed)
    elif sampler.method == "morris":
        x = morris.sample(problem, n, num_levels=sampler.num_levels, seed=seed)
    else:
        x = latin.sample(problem, n, seed=seed)
    return np.asarray(x, dtype=float)


def factorial_units(params: Sequence[Parameter]) -> np.ndarray:
    """Every combination of every parameter's levels (the last parameter varies fastest).

    A range's levels include both ends; a set's levels are its values; a distribution's levels
    are the mid-points of equal-probability bins.

    >>> from twin.sweep.spec import Parameter
    >>> factorial_units([Parameter(field="a", values=[1, 2]), Parameter(field="b", range=(0, 1), levels=3)])
    array([[0. , 0. ],
           [0. , 0.5],
           [0. , 1. ],
           [1. , 0. ],
           [1. , 0.5],
           [1. , 1. ]])
    """
    axes = [level_units(p) for p in params]
    if not axes:
        return np.empty((1, 0))
    grid = np.meshgrid(*axes, indexing="ij")
    return np.column_stack([g.ravel() for g in grid])


def level_units(p: Parameter) -> np.ndarray:
    """Unit coordinates of a parameter's full-factorial levels."""
    k = p.n_levels
    if p.distribution is not None:
        return (np.arange(k) + 0.5) / k
    return np.arange(k) / (k - 1) if k > 1 else np.array([0.5])


def to_values(p: Parameter, u: np.ndarray, integer: bool = False) -> list[Any]:
    """Map unit coordinates to the parameter's values (Python scalars; integers if ``integer``).

    >>> from twin.sweep.spec import Parameter
    >>> to_values(Parameter(field="a", range=(10, 20)), np.array([0.0, 0.25, 1.0]))
    [10.0, 12.5, 20.0]
    >>> to_values(Parameter(field="a", values=["x", "y", "z"]), np.array([0.0, 0.5, 1.0]))
    ['x', 'y', 'z']
    """
    u = np.asarray(u, dtype=float)
    if p.values is not None:  # tables, lists and scenario files by their labels
        labels = p.value_labels
        k = len(labels)
        return [labels[i] for i in np.minimum((u * k).astype(int), k - 1)]
    if p.range is not None:
        lo, hi = p.range
        x = lo + u * (hi - lo)
    else:
        x = _quantile(p, u)
    if integer:
        return [int(v) for v in np.rint(x)]
    return [float(v) for v in x]


def _quantile(p: Parameter, u: np.ndarray) -> np.ndarray:
    from scipy import stats
    d = p.distribution
    if d.kind == "uniform":
        return stats.uniform(loc=d.low, scale=d.high - d.low).ppf(u)
    if d.kind == "triangular":
        return stats.triang((d.mode - d.low) / (d.high - d.low), loc=d.low, scale=d.high - d.low).ppf(u)
    if d.kind == "truncnormal":
        a, b = (d.low - d.mean) / d.sd, (d.high - d.mean) / d.sd
        return stats.truncnorm(a, b, loc=d.mean, scale=d.sd).ppf(u)
    u = np.clip(u, _TAIL, 1.0 - _TAIL)
    if d.kind == "normal":
        return stats.norm(loc=d.mean, scale=d.sd).ppf(u)
    return stats.lognorm(d.sigma, scale=d.median).ppf(u)


def build_design(sweep: LoadedSweep) -> Design:
    """The full design of a validated sweep: deterministic given the sweep file and base scenario."""
    spec = sweep.spec
    unc, lev = spec.uncertainties, spec.levers
    u = unit_samples(spec.sampler, unc, sampler_seed(spec.root_seed))
    lu = factorial_units(lev)
    n_points, n_levers, reps = len(u), len(lu), spec.replicates
    points = pd.DataFrame({"point_id": np.arange(n_points)})
    units = points.copy()
    for j, p in enumerate(unc):
        points[p.column] = to_values(p, u[:, j], is_integer_field(sweep.base, p))
        units[p.column] = u[:, j]
    levers = pd.DataFrame({"lever_id": np.arange(n_levers)})
    for j, p in enumerate(lev):
        levers[p.column] = to_values(p, lu[:, j], is_integer_field(sweep.base, p))
    runs = pd.DataFrame({
        "run_id": np.arange(n_points * n_levers * reps),
        "point_id": np.repeat(np.arange(n_points), n_levers * reps),
        "lever_id": np.tile(np.repeat(np.arange(n_levers), reps), n_points),
        "replicate": np.tile(np.arange(reps), n_points * n_levers),
    })
    runs = runs.merge(points, on="point_id", how="left").merge(levers, on="lever_id", how="left")
    runs["seed_root"] = np.int64(spec.root_seed)
    runs["seed_key"] = [[int(a), int(b)] for a, b in zip(runs["point_id"], runs["replicate"])]
    params = [{"role": _ROLE[role], "index": i,
               "column": p.column, "field": p.field, "integer": is_integer_field(sweep.base, p),
               "spec": p.model_dump(mode="json", exclude_none=True),
               **({"labels": p.value_labels} if p.structured else {})} for role, i, p in spec.parameters()]
    return Design(runs, units, levers, salib_problem([p.column for p in unc]), params)


def is_integer_field(base: dict, p: Parameter) -> bool:
    """Whether the base scenario holds an integer at the parameter's field (then values are rounded)."""
    if p.structured:
        return False
    value = lookup_field(base, p.field)
    return isinstance(value, int) and not isinstance(value, bool)


def run_payloads(runs: pd.DataFrame, fields: dict[str, str], choices: dict[str, dict] | None = None) -> list[dict]:
    """What a worker needs per run: ids, seed and ``{field: value}`` overrides (Python scalars).

    ``choices`` (:attr:`twin.sweep.spec.LoadedSweep.choices`, ``parameter_values.json``) turns the
    labels of table, list and scenario-file values back into values: a scenario file's becomes the
    run's ``scenario``, a merged table's field is listed in ``merge``. Overrides are ordered so
    that a field comes after any table holding it (a table value, then values set inside it).
    Apply a payload with :func:`run_scenario`.
    """
    choices = choices or {}
    ids = ["run_id", "point_id", "lever_id", "replicate", "seed_root"]
    cols = sorted(fields, key=lambda c: (fields[c] != SCENARIO_FIELD, fields[c].count(".") + fields[c].count("[")))
    merge = [fields[c] for c in cols if choices.get(c, {}).get("merge")]
    out = []
    for row in zip(*(runs[c] for c in ids), runs["seed_key"], *(runs[c] for c in cols)):
        rec = dict(zip([*ids, "seed_key", *cols], row))
        payload = {**{k: int(rec[k]) for k in ids}, "seed_key": [int(k) for k in rec["seed_key"]], "overrides": {}}
        for c in cols:
            value = _py(rec[c])
            if c in choices:
                value = choices[c]["values"][value]
            if fields[c] == SCENARIO_FIELD:
                payload["scenario"] = value
            else:
                payload["overrides"][fields[c]] = value
        if merge:
            payload["merge"] = merge
        out.append(payload)
    return out


def run_scenario(base: dict, payload: dict) -> dict:
    """The scenario data of one run: its ``scenario`` (a scenario-file value) or ``base``, with its
    overrides set in order (a ``merge`` field's table merged into the table there).

    >>> run_scenario({"regimes": {"extreme": {"modes": ["market"], "pass_share": 0.5}}},
    ...              {"overrides": {"regimes.extreme": {"modes": ["unified"]}}, "merge": ["regimes.extreme"]})
    {'regimes': {'extreme': {'modes': ['unified'], 'pass_share': 0.5}}}
    """
    from twin.scenario.loading import deep_merge, set_field
    data = payload.get("scenario", base)
    merge = set(payload.get("merge", ()))
    for field, value in payload["overrides"].items():
        if field in merge:
            current = lookup_field(data, field, "<override>", field)
            value = deep_merge(current, value) if isinstance(current, dict) else value
        data = set_field(data, field, value)
    return data


def _py(value: Any) -> Any:
    """A numpy scalar as the Python scalar pydantic expects."""
    return value.item() if isinstance(value, np.generic) else value
