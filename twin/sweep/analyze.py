"""``twin sweep analyze``: sensitivity indices of an outcome, with confidence intervals (SALib).

The method follows the sampler:

- ``sobol``: Sobol first-order ``S1`` and total ``ST`` indices (Saltelli/Jansen estimators,
  ``SALib.analyze.sobol``), and ``S2`` with ``second_order``;
- ``morris``: elementary effects ``mu``, ``mu_star`` and ``sigma`` (``SALib.analyze.morris``), in
  outcome units per unit of a parameter's range (the analysis works in the unit cube);
- ``latin``: first-order indices ``S1`` by RBD-FAST (``SALib.analyze.rbd_fast``, with up to 10
  harmonics, fewer for small designs: it needs a few hundred points to be precise);
- ``factorial``: exact first-order and total indices of the grid (analysis of variance), with
  intervals from bootstrapping replicates (none with one replicate).

The outcome of a design point is the mean over its succeeded replicates; every point needs one.
Indices are computed over the uncertainties, separately for each lever combination.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from twin.recording.tables import make_table
from twin.recording.writer import atomic_file, write_parquet_atomic
from twin.scenario import ScenarioError
from twin.sweep.results import load_sweep
from twin.sweep.seeds import sampler_seed
from twin.sweep.store import read_manifest, read_parquet

__all__ = ["AnalysisReport", "METHODS", "analyze_sweep", "plot_indices", "sensitivity"]

#: analysis method of each sampler
METHODS = {"sobol": "sobol", "morris": "morris", "latin": "rbd_fast", "factorial": "anova"}
_HEADLINE = {"sobol": ("S1", "ST"), "anova": ("S1", "ST"), "morris": ("mu_star", "sigma"), "rbd_fast": ("S1",)}


@dataclass(frozen=True)
class AnalysisReport:
    """The indices (long table: one row per lever combination, parameter and index) and the files written."""

    table: pd.DataFrame
    files: list[Path]


def analyze_sweep(folder: str | Path, outcomes: Sequence[str], *, conf_level: float = 0.95,
                  num_resamples: int = 100) -> AnalysisReport:
    """Sensitivity indices of each outcome into ``DIR/analysis/<outcome>.parquet`` and ``.png``."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    unc = [p for p in manifest["parameters"] if p["role"] == "uncertainty"]
    if not unc:
        raise ScenarioError(str(folder), "uncertainties", "the sweep has no uncertainties to analyse")
    runs = load_sweep(folder)
    units = read_parquet(folder / "points.parquet").to_pandas().sort_values("point_id")
    levers = read_parquet(folder / "levers.parquet").to_pandas().sort_values("lever_id")
    x = units[[p["column"] for p in unc]].to_numpy(dtype=float)
    method = METHODS[manifest["sampler"]["method"]]
    frames, files = [], []
    cubes = {outcome: _outcome_cube(runs, outcome, manifest, str(folder)) for outcome in outcomes}  # all, first
    (folder / "analysis").mkdir(exist_ok=True)
    for outcome, y_rep in cubes.items():
        rows = []
        for lever_id in range(len(levers)):
            idx = sensitivity(method, manifest["problem"], x, y_rep[lever_id], sampler=manifest["sampler"],
                              conf_level=conf_level, num_resamples=num_resamples,
                              seed=sampler_seed(manifest["root_seed"], "analysis"))
            rows.append(idx.assign(lever_id=lever_id))
        table = pd.concat(rows, ignore_index=True).merge(levers, on="lever_id", how="left")
        table.insert(0, "outcome", outcome)
        table.insert(1, "method", method)
        table["field"] = table["parameter"].map({p["column"]: p["field"] for p in unc}).fillna("")
        path = folder / "analysis" / f"{outcome}.parquet"
        write_parquet_atomic(make_table({c: pa.array(table[c].tolist()) for c in table.columns},
                                        {"sweep_id": manifest["sweep_id"], "table": "sensitivity"}), path)
        png = path.with_suffix(".png")
        plot_indices(table, png, f"{manifest['name']}: {outcome} ({method}, {conf_level:.0%} intervals)")
        frames.append(table)
        files += [path, png]
    return AnalysisReport(pd.concat(frames, ignore_index=True), files)


def _outcome_cube(runs: pd.DataFrame, outcome: str, manifest: dict, source: str) -> np.ndarray:
    """Outcome values as levers x points x replicates (NaN where a run failed or is pending)."""
    numeric = [c for c in runs.columns if pd.api.types.is_numeric_dtype(runs[c]) and not pd.api.types.is_bool_dtype(runs[c])]
    if outcome not in runs.columns or outcome not in numeric:
        raise ScenarioError(source, "--outcome", f"no numeric outcome {outcome!r} in the sweep's results"
                            f" (allowed: {', '.join(c for c in numeric if c not in _id_and_params(manifest))})")
    cube = np.full((manifest["n_levers"], manifest["n_points"], manifest["replicates"]), np.nan)
    cube[runs["lever_id"].to_numpy(), runs["point_id"].to_numpy(), runs["replicate"].to_numpy()] = \
        runs[outcome].to_numpy(dtype=float)
    missing = np.isnan(cube).all(axis=2)
    if missing.any():
        lever, point = np.argwhere(missing)[0]
        raise ScenarioError(source, "--outcome", f"{int(missing.sum())} design points have no value of {outcome!r}: "
                            f"their runs failed, are pending or left it undefined (first: point {point}, lever "
                            f"combination {lever}); every point is needed: see `twin sweep status`")
    return cube


def _id_and_params(manifest: dict) -> set[str]:
    return {"run_id", "point_id", "lever_id", "replicate", *(p["column"] for p in manifest["parameters"])}


def sensitivity(method: str, problem: dict, x: np.ndarray, y_rep: np.ndarray, *, sampler: dict,
                conf_level: float = 0.95, num_resamples: int = 100, seed: int = 0) -> pd.DataFrame:
    """Indices of one outcome: ``x`` points x parameters in the unit cube, ``y_rep`` points x replicates.

    Returns a long frame: ``parameter``, ``index`` (S1, ST, S2, mu, mu_star, sigma), ``value``, ``conf``
    (half-width of the interval; NaN where the method gives none).
    """
    y = np.nanmean(y_rep, axis=1)
    names = problem["names"]
    kw = {"conf_level": conf_level, "num_resamples": num_resamples, "seed": seed}
    with np.errstate(divide="ignore", invalid="ignore"):  # a flat outcome gives NaN indices, not warnings
        if method == "anova":
            return _anova(x, y_rep, names, conf_level, num_resamples, seed)
        return _salib(method, problem, x, y, sampler, kw)


def _salib(method: str, problem: dict, x: np.ndarray, y: np.ndarray, sampler: dict, kw: dict) -> pd.DataFrame:
    names = problem["names"]
    from SALib.analyze import morris, rbd_fast, sobol
    if method == "sobol":
        res = sobol.analyze(problem, y, calc_second_order=sampler.get("second_order", False), **kw)
        rows = _rows(names, res, [("S1", "S1_conf"), ("ST", "ST_conf")])
        if sampler.get("second_order"):
            rows += [{"parameter": f"{a}:{b}", "index": "S2", "value": res["S2"][i, j], "conf": res["S2_conf"][i, j]}
                     for i, a in enumerate(names) for j, b in enumerate(names) if j > i]
        return pd.DataFrame(rows)
    if method == "morris":
        res = morris.analyze(problem, x, y, num_levels=sampler.get("num_levels", 4), **kw)
        return pd.DataFrame(_rows(names, res, [("mu", None), ("mu_star", "mu_star_conf"), ("sigma", None)]))
    if method == "rbd_fast":  # harmonics M must stay well below the number of points
        m = min(10, max(1, (len(y) - 1) // 4))
        return pd.DataFrame(_rows(names, rbd_fast.analyze(problem, x, y, M=m, **kw), [("S1", "S1_conf")]))
    raise ValueError(f"unknown method {method!r}")


def _rows(names: list[str], res, pairs: list[tuple[str, str | None]]) -> list[dict]:
    return [{"parameter": n, "index": idx, "value": float(res[idx][i]),
             "conf": float(res[conf][i]) if conf else float("nan")} for idx, conf in pairs for i, n in enumerate(names)]


def _anova(x: np.ndarray, y_rep: np.ndarray, names: list[str], conf_level: float, num_resamples: int,
           seed: int) -> pd.DataFrame:
    """First-order and total indices of a full grid, with a bootstrap over replicates."""
    from scipy import stats
    levels = np.column_stack([np.unique(x[:, j], return_inverse=True)[1] for j in range(x.shape[1])])
    point = _anova_indices(levels, np.nanmean(y_rep, axis=1))
    rng = np.random.default_rng(seed)
    n_rep = y_rep.shape[1]
    boot = []
    if n_rep > 1:
        for _ in range(num_resamples):
            pick = rng.integers(0, n_rep, size=y_rep.shape)
            with np.errstate(all="ignore"):
                boot.append(_anova_indices(levels, np.nanmean(np.take_along_axis(y_rep, pick, axis=1), axis=1)))
    z = stats.norm.ppf(0.5 + conf_level / 2)
    conf = z * np.nanstd(np.array(boot), axis=0) if boot else np.full_like(point, np.nan)
    return pd.DataFrame([{"parameter": n, "index": idx, "value": point[k, j], "conf": conf[k, j]}
                         for k, idx in enumerate(("S1", "ST")) for j, n in enumerate(names)])


def _anova_indices(levels: np.ndarray, y: np.ndarray) -> np.ndarray:
    """2 x D: ``S1 = Var(E[Y|Xi]) / Var(Y)``, ``ST = E[Var(Y|X~i)] / Var(Y)`` over the grid's points."""
    df = pd.DataFrame(levels).assign(y=y)
    total = float(np.var(y))
    d = levels.shape[1]
    out = np.full((2, d), np.nan)
    if total <= 0 or not np.isfinite(total):
        return out
    for j in range(d):
        out[0, j] = np.var(df.groupby(j)["y"].transform("mean")) / total
        others = [k for k in range(d) if k != j]
        within = df.groupby(others)["y"].transform("mean") if others else pd.Series(np.mean(y), index=df.index)
        out[1, j] = np.mean((df["y"] - within) ** 2) / total
    return out


def plot_indices(table: pd.DataFrame, path: Path, title: str, max_panels: int = 12) -> None:
    """Horizontal bars of the headline indices with their intervals, one panel per lever combination."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    method = table["method"].iloc[0]
    heads = [h for h in _HEADLINE[method] if h in set(table["index"])]
    lever_ids = sorted(table["lever_id"].unique())[:max_panels]
    params = list(dict.fromkeys(table.loc[table["index"] == heads[0], "parameter"]))
    fig = Figure(figsize=(7.5, 1.0 + len(lever_ids) * (0.6 + 0.35 * len(params))))
    FigureCanvasAgg(fig)
    lever_cols = [c for c in table.columns if c not in
                  ("outcome", "method", "lever_id", "parameter", "index", "value", "conf", "field")]
    for k, lever_id in enumerate(lever_ids):
        ax = fig.add_subplot(len(lever_ids), 1, k + 1)
        sub = table[table["lever_id"] == lever_id]
        height = 0.8 / len(heads)
        for h_i, head in enumerate(heads):
            rows = sub[sub["index"] == head].set_index("parameter").reindex(params)
            pos = np.arange(len(params)) + h_i * height
            xerr = rows["conf"].fillna(0.0) if rows["conf"].notna().any() else None
            ax.barh(pos, rows["value"], height=height, xerr=xerr, label=head, capsize=2)
        ax.set_yticks(np.arange(len(params)) + height * (len(heads) - 1) / 2, params, fontsize=8)
        ax.invert_yaxis()
        label = ", ".join(f"{c}={sub[c].iloc[0]}" for c in lever_cols)
        ax.set_title(label or "all runs", fontsize=9)
        ax.legend(fontsize=7, loc="lower right")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    with atomic_file(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
