"""``twin sweep discover``: scenario discovery with PRIM (Friedman & Fisher 1999, "Bump hunting in
high-dimensional data", Statistics and Computing 9:123-143), as EMA Workbench does it.

Which combinations of the sweep's parameters (uncertainties and levers alike) lead to the runs of
interest, e.g. ``min_fill_of_need`` below 0.8? PRIM answers with a *box*: an interval of each
numeric parameter and a set of values of each categorical one (an allocation pattern, a policy
package, any text or true/false parameter).

- **Peeling.** From the box holding every run, each step tries, for every parameter, removing
  the ``alpha`` share of the box's runs with the lowest values, or with the highest (numeric), or
  the runs of one value (categorical), and makes the peel that raises the share of cases in the
  box most per run removed (``(density_new - density) / (mass - mass_new)``: for numeric peels,
  which remove the same share, this is Friedman & Fisher's "largest mean"; it also lets a
  categorical peel of a larger share compete fairly). Peeling stops when no peel would leave at
  least ``mass_min`` of all runs in the box.
- **Pasting.** The last peeled box is then grown back, one ``alpha`` share of runs (or one
  category) at a time, while that raises its density.
- **Threshold.** Every box of the trajectory has a ``coverage`` (share of all cases inside),
  ``density`` (share of the box's runs that are cases) and ``mass`` (share of all runs inside).
  The chosen box is the one of highest coverage among those of density at least ``threshold``
  (fewest restricted parameters at a tie), else the densest.

Maintained packages were weighed first: ``prim`` (Project Platypus) is GPL-3 (twin is MIT) and
unmaintained; ``ema_workbench`` brings scikit-learn, statsmodels, seaborn and more. PRIM is a
few pure functions, so they live here, tested on analytic cases (``tests/test_sweep_discover.py``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from twin.recording.tables import make_table
from twin.recording.writer import atomic_file, write_parquet_atomic
from twin.scenario import ScenarioError

__all__ = ["Box", "DiscoveryReport", "PrimResult", "box_stats", "discover_sweep", "in_box", "plot_discovery",
           "prim", "trajectory_table"]


@dataclass(frozen=True)
class Box:
    """Numeric parameters: inclusive ``(low, high)``; categorical ones: the set of values kept."""

    limits: Mapping[str, tuple[float, float] | frozenset]

    def restricted(self, full: "Box") -> list[str]:
        """Parameters this box restricts compared with ``full`` (the box of every run)."""
        return [k for k, v in self.limits.items() if v != full.limits[k]]


@dataclass(frozen=True)
class PrimResult:
    """The peeling (and pasting) trajectory, its statistics, and the chosen step."""

    boxes: list[Box]
    kinds: list[str]          # "start", "peel" or "paste" per step
    stats: pd.DataFrame       # one row per step: n_runs, n_cases, mass, coverage, density, n_restricted
    chosen: int
    full: Box
    categorical: list[str]


def in_box(x: pd.DataFrame, box: Box) -> np.ndarray:
    """Rows of ``x`` inside ``box`` (bool array)."""
    mask = np.ones(len(x), bool)
    for name, lim in box.limits.items():
        v = x[name].to_numpy()
        if isinstance(lim, frozenset):
            mask &= pd.Series(v).isin(list(lim)).to_numpy()
        else:
            mask &= (v >= lim[0]) & (v <= lim[1])
    return mask


def box_stats(inside: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Runs and cases in a box and its mass, coverage and density.

    >>> box_stats(np.array([True, True, False, False]), np.array([True, False, True, False]))
    {'n_runs': 2, 'n_cases': 1, 'mass': 0.5, 'coverage': 0.5, 'density': 0.5}
    """
    n, cases = int(inside.sum()), int((inside & y).sum())
    total = int(y.sum())
    return {"n_runs": n, "n_cases": cases, "mass": n / len(y), "coverage": cases / total if total else float("nan"),
            "density": cases / n if n else float("nan")}


def prim(x: pd.DataFrame, y: Sequence[bool], *, alpha: float = 0.05, mass_min: float = 0.05, threshold: float = 0.8,
         paste: bool = True, categorical: Sequence[str] | None = None) -> PrimResult:
    """PRIM on parameters ``x`` (one row per run) and cases of interest ``y`` (bool per run).

    Columns of text, category or bool dtype (or those named in ``categorical``) are categorical;
    the rest numeric. See the module docstring for the rules.
    """
    if not 0 < alpha < 0.5:
        raise ValueError(f"alpha: must be in (0, 0.5), got {alpha}")
    if not 0 < mass_min < 1:
        raise ValueError(f"mass_min: must be in (0, 1), got {mass_min}")
    x = x.reset_index(drop=True)
    y = np.asarray(y, dtype=bool)
    cat = list(categorical) if categorical is not None else [
        c for c in x.columns if not pd.api.types.is_numeric_dtype(x[c]) or pd.api.types.is_bool_dtype(x[c])]
    cols = {c: (x[c].to_numpy() if c in cat else x[c].to_numpy(dtype=float)) for c in x.columns}
    full = Box({c: frozenset(pd.unique(v).tolist()) if c in cat else (float(np.min(v)), float(np.max(v)))
                for c, v in cols.items()})
    n_min = mass_min * len(y)
    boxes, kinds = [full], ["start"]
    inside = np.ones(len(y), bool)
    while True:
        best = _best_peel(cols, cat, boxes[-1], inside, y, alpha, n_min)
        if best is None:
            break
        boxes.append(best[0])
        kinds.append("peel")
        inside = best[1]
    if paste and len(boxes) > 1:
        pasted, pasted_inside = _paste(cols, cat, boxes[-1], inside, y, alpha, full)
        if pasted.limits != boxes[-1].limits:
            boxes.append(pasted)
            kinds.append("paste")
    rows = []
    for box in boxes:
        s = box_stats(in_box(x, box), y)
        rows.append({**s, "n_restricted": len(box.restricted(full))})
    stats = pd.DataFrame(rows)
    return PrimResult(boxes, kinds, stats, _choose(stats, threshold), full, cat)


def _best_peel(cols: dict, cat: list[str], box: Box, inside: np.ndarray, y: np.ndarray, alpha: float,
               n_min: float) -> tuple[Box, np.ndarray] | None:
    n_old = int(inside.sum())
    mean_old = y[inside].mean()
    best, best_gain = None, -math.inf
    for name, v in cols.items():
        vin = v[inside]
        for lim, keep in _peels(name in cat, vin, box.limits[name], alpha):
            n_new = int(keep.sum())
            if n_new < n_min or n_new == n_old or n_new == 0:
                continue
            new_inside = inside.copy()
            new_inside[inside] = keep
            gain = (y[new_inside].mean() - mean_old) / (n_old - n_new)
            if gain > best_gain + 1e-15:
                best_gain = gain
                best = (Box({**box.limits, name: lim}), new_inside)
    return best


def _peels(categorical: bool, vin: np.ndarray, lim, alpha: float):
    """Candidate peels of one parameter: (new limit, which runs of the box stay)."""
    if categorical:
        present = [c for c in lim if (vin == c).any()]
        for c in sorted(present, key=str):
            if len(present) > 1:
                yield frozenset(v for v in lim if v != c), vin != c
        return
    s = np.sort(vin)
    n = len(s)
    k = max(1, int(math.ceil(alpha * n)))
    if k >= n:
        return
    lo = s[k] if s[k] > s[0] else s[s > s[0]].min(initial=np.inf)
    if np.isfinite(lo):
        yield (float(lo), lim[1]), vin >= lo
    hi = s[n - 1 - k] if s[n - 1 - k] < s[-1] else s[s < s[-1]].max(initial=-np.inf)
    if np.isfinite(hi):
        yield (lim[0], float(hi)), vin <= hi


def _paste(cols: dict, cat: list[str], box: Box, inside: np.ndarray, y: np.ndarray, alpha: float,
           full: Box) -> tuple[Box, np.ndarray]:
    """Grow ``box`` while a paste of ``alpha`` of its runs (or one category) raises its density."""
    while True:
        mean_old = y[inside].mean()
        n_box = int(inside.sum())
        best, best_mean = None, mean_old
        for name, v in cols.items():
            others = Box({k: l for k, l in box.limits.items() if k != name})
            ok = in_box(pd.DataFrame({k: cols[k] for k in others.limits}), others) if others.limits else \
                np.ones(len(y), bool)
            for lim in _pastes(name in cat, v, ok, box.limits[name], full.limits[name], alpha, n_box):
                new_inside = ok & (np.isin(v, list(lim)) if name in cat else (v >= lim[0]) & (v <= lim[1]))
                m = y[new_inside].mean()
                if m > best_mean + 1e-12:
                    best, best_mean = (Box({**box.limits, name: lim}), new_inside), m
        if best is None:
            return box, inside
        box, inside = best


def _pastes(categorical: bool, v: np.ndarray, ok: np.ndarray, lim, full_lim, alpha: float, n_box: int):
    if categorical:
        for c in sorted(full_lim - lim, key=str):
            yield lim | {c}
        return
    k = max(1, int(math.ceil(alpha * n_box)))
    below = np.sort(v[ok & (v < lim[0])])
    if len(below):
        yield (float(below[max(0, len(below) - k)]), lim[1])
    above = np.sort(v[ok & (v > lim[1])])
    if len(above):
        yield (lim[0], float(above[min(len(above), k) - 1]))


def _choose(stats: pd.DataFrame, threshold: float) -> int:
    ok = stats[stats["density"] >= threshold - 1e-12]
    if ok.empty:
        return int(stats["density"].idxmax())
    top = ok[ok["coverage"] >= ok["coverage"].max() - 1e-12]
    return int(top.sort_values(["n_restricted", "density"], ascending=[True, False], kind="stable").index[0])


def trajectory_table(res: PrimResult) -> pd.DataFrame:
    """One row per step: ``step``, ``kind``, statistics, ``chosen``, and each parameter's limits
    (``<p>_low``, ``<p>_high`` for numeric ones; ``<p>_in``, the kept values joined by ``|``, for categorical)."""
    out = res.stats.copy()
    out.insert(0, "step", np.arange(len(out)))
    out.insert(1, "kind", res.kinds)
    out["chosen"] = out["step"] == res.chosen
    for name, lim in res.full.limits.items():
        if isinstance(lim, frozenset):
            out[f"{name}_in"] = ["|".join(sorted(map(str, b.limits[name]))) for b in res.boxes]
        else:
            out[f"{name}_low"] = [b.limits[name][0] for b in res.boxes]
            out[f"{name}_high"] = [b.limits[name][1] for b in res.boxes]
    return out


def box_table(res: PrimResult, step: int | None = None) -> pd.DataFrame:
    """The chosen box (or ``step``'s), one row per parameter: ``restricted``, ``low``/``high`` (numeric)
    or ``values`` (categorical) and the full range, restricted parameters first."""
    step = res.chosen if step is None else step
    box = res.boxes[step]
    rows = []
    for name, lim in res.full.limits.items():
        got = box.limits[name]
        if isinstance(lim, frozenset):
            rows.append({"parameter": name, "kind": "categorical", "restricted": got != lim, "low": np.nan,
                         "high": np.nan, "values": "|".join(sorted(map(str, got))),
                         "all_values": "|".join(sorted(map(str, lim))), "full_low": np.nan, "full_high": np.nan})
        else:
            rows.append({"parameter": name, "kind": "numeric", "restricted": got != lim, "low": got[0], "high": got[1],
                         "values": "", "all_values": "", "full_low": lim[0], "full_high": lim[1]})
    out = pd.DataFrame(rows).sort_values("restricted", ascending=False, kind="stable", ignore_index=True)
    for k in ("coverage", "density", "mass"):
        out[k] = float(res.stats.loc[step, k])
    out.insert(0, "step", step)
    return out


@dataclass(frozen=True)
class DiscoveryReport:
    """What ``discover`` found and wrote."""

    result: PrimResult
    trajectory: pd.DataFrame
    box: pd.DataFrame
    n_runs: int
    n_cases: int
    dropped: int
    rule: str
    files: list[Path]


def discover_sweep(folder: str | Path, outcome: str, *, below: float | None = None, above: float | None = None,
                   alpha: float = 0.05, mass_min: float = 0.05, threshold: float = 0.8,
                   paste: bool = True) -> DiscoveryReport:
    """PRIM over a sweep's parameters for the runs with ``outcome`` below (or above) a value.

    Writes ``DIR/analysis/prim_<outcome>_<below|above>_<X>`` ``_trajectory.parquet``, ``_box.parquet``
    and ``.png`` (each atomically). Runs whose outcome is null are left out (counted in ``dropped``).
    """
    from twin.sweep.results import load_sweep
    from twin.sweep.store import read_manifest
    folder = Path(folder)
    source = str(folder)
    manifest = read_manifest(folder)
    if (below is None) == (above is None):
        raise ScenarioError(source, "--below", "give one of --below X or --above X")
    value = below if below is not None else above
    if not math.isfinite(value):
        raise ScenarioError(source, "--below" if below is not None else "--above", f"must be a finite number, got {value}")
    for name, v, ok, allowed in (("--alpha", alpha, 0 < alpha < 0.5, "in (0, 0.5)"),
                                 ("--mass-min", mass_min, 0 < mass_min < 1, "in (0, 1)"),
                                 ("--threshold", threshold, 0 < threshold <= 1, "in (0, 1]")):
        if not ok:
            raise ScenarioError(source, name, f"must be {allowed}, got {v}")
    runs = load_sweep(folder)
    params = [p["column"] for p in manifest["parameters"]]
    numeric = [c for c in runs.columns if pd.api.types.is_numeric_dtype(runs[c]) and not pd.api.types.is_bool_dtype(runs[c])
               and c not in ("run_id", "point_id", "lever_id", "replicate", *params)]
    if runs.empty:
        raise ScenarioError(source, "", "no succeeded runs yet: `twin sweep run` first")
    if outcome not in numeric:
        raise ScenarioError(source, "--outcome", f"no numeric outcome {outcome!r} in the sweep's results "
                                                 f"(allowed: {', '.join(numeric)})")
    have = runs[outcome].notna()
    dropped = int((~have).sum())
    runs = runs[have].reset_index(drop=True)
    varied = [c for c in params if runs[c].nunique() > 1]
    if not varied:
        raise ScenarioError(source, "", "no parameter takes more than one value in the runs: nothing to discover")
    y = (runs[outcome] < below).to_numpy() if below is not None else (runs[outcome] > above).to_numpy()
    rule = f"{outcome} {'<' if below is not None else '>'} {value:g}"
    lo, hi = float(runs[outcome].min()), float(runs[outcome].max())
    if not y.any() or y.all():
        raise ScenarioError(source, "--below" if below is not None else "--above",
                            f"{'no' if not y.any() else 'every'} run has {rule} ({outcome} runs from {lo:g} to {hi:g}): "
                            "choose a value that splits the runs")
    res = prim(runs[varied], y, alpha=alpha, mass_min=mass_min, threshold=threshold, paste=paste)
    traj, box = trajectory_table(res), box_table(res)
    fields = {p["column"]: p["field"] for p in manifest["parameters"]}
    box["field"] = box["parameter"].map(fields)
    stem = f"prim_{outcome}_{'below' if below is not None else 'above'}_{_slug(value)}"
    out = folder / "analysis"
    meta = {"sweep_id": manifest["sweep_id"], "rule": rule, "alpha": alpha, "mass_min": mass_min,
            "threshold": threshold, "paste": paste}
    files = [out / f"{stem}_trajectory.parquet", out / f"{stem}_box.parquet", out / f"{stem}.png"]
    write_parquet_atomic(_table(traj, {**meta, "table": "prim_trajectory"}), files[0])
    write_parquet_atomic(_table(box, {**meta, "table": "prim_box"}), files[1])
    plot_discovery(res, files[2], f"{manifest['name']}: {rule} ({int(y.sum())} of {len(y)} runs)")
    return DiscoveryReport(res, traj, box, len(y), int(y.sum()), dropped, rule, files)


def _slug(value: float) -> str:
    return re.sub(r"[^0-9A-Za-z.+-]", "_", f"{value:g}")


def _table(df: pd.DataFrame, meta: dict) -> pa.Table:
    return make_table({c: pa.array(df[c].tolist()) for c in df.columns}, meta)


def plot_discovery(res: PrimResult, path: Path, title: str) -> None:
    """Left: the trajectory (density against coverage, coloured by restricted parameters, the chosen box
    ringed). Right: the chosen box's limits on each restricted parameter, as a share of its range
    (numeric) or the values kept (categorical)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    box = box_table(res)
    shown = box[box["restricted"]]
    fig = Figure(figsize=(10.5, max(3.6, 1.2 + 0.45 * len(shown))))
    FigureCanvasAgg(fig)
    ax, bx = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    st = res.stats
    sc = ax.scatter(st["coverage"], st["density"], c=st["n_restricted"], cmap="viridis", s=18, zorder=3)
    ax.plot(st["coverage"], st["density"], color="0.7", lw=0.8, zorder=2)
    ch = st.loc[res.chosen]
    ax.scatter([ch["coverage"]], [ch["density"]], s=120, facecolors="none", edgecolors="C3", lw=1.8, zorder=4,
               label=f"chosen: step {res.chosen}")
    ax.set_xlabel("coverage (share of all cases in the box)", fontsize=9)
    ax.set_ylabel("density (cases / runs in the box)", fontsize=9)
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    from matplotlib.ticker import MaxNLocator
    fig.colorbar(sc, ax=ax, label="restricted parameters", ticks=MaxNLocator(integer=True))
    ax.set_title("peeling trajectory", fontsize=9)
    for i, row in enumerate(shown.itertuples(index=False)):
        if row.kind == "numeric":
            span = row.full_high - row.full_low
            a, b = ((row.low - row.full_low) / span, (row.high - row.full_low) / span) if span else (0.0, 1.0)
            bx.plot([0, 1], [i, i], color="0.85", lw=6, solid_capstyle="butt")
            bx.plot([a, b], [i, i], color="C0", lw=6, solid_capstyle="butt")
            if b - a < 0.01:  # a single value: a mark, not an invisible bar
                bx.plot([a], [i], marker="|", color="C0", ms=14, mew=3)
            bx.text(0.5, i + 0.32, f"{row.low:.3g} to {row.high:.3g}  (of {row.full_low:.3g} to {row.full_high:.3g})",
                    ha="center", fontsize=7)
        else:
            kept = set(row.values.split("|"))
            allv = row.all_values.split("|")
            for j, v in enumerate(allv):
                a = j / len(allv)
                bx.plot([a, a + 1 / len(allv)], [i, i], color="C0" if v in kept else "0.85", lw=6,
                        solid_capstyle="butt")
                bx.text(a + 0.5 / len(allv), i + 0.32, v, ha="center", fontsize=7,
                        color="black" if v in kept else "0.5")
    bx.set_yticks(range(len(shown)), list(shown["parameter"]), fontsize=8)
    bx.set_ylim(len(shown) - 0.4, -0.6)
    bx.set_xlim(-0.02, 1.02)
    bx.set_xlabel("part of the range kept (numeric) or values kept (categorical)", fontsize=9)
    bx.set_title(f"box at step {res.chosen}: coverage {ch['coverage']:.2f}, density {ch['density']:.2f}, "
                 f"mass {ch['mass']:.2f}", fontsize=9)
    if shown.empty:
        bx.text(0.5, 0.5, "no parameter restricted", ha="center", transform=bx.transAxes)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    with atomic_file(path) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
