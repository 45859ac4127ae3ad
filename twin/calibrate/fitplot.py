"""The fit plot of a calibration: each target against the best trial's model figures.

One panel per target: observations as black points, the model as the mean over the trial's
replicates with a band from the lowest to the highest replicate (the house style of
:mod:`twin.plot`: an Agg canvas, no pyplot). A series over days is drawn over dates, one colour per
label; a table of labels (e.g. per category) as points with the replicate range as a bar.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure

from twin.calibrate.config import LoadedCalibration

__all__ = ["fit_figure"]


def fit_figure(folder: str | Path, loaded: LoadedCalibration, trial: int) -> Figure:
    """The figure of targets against trial ``trial``'s model outputs (read from the folder)."""
    folder = Path(folder)
    outputs = pq.read_table(folder / "outputs" / f"trial_{trial:06d}.parquet").to_pandas()
    targets = pq.read_table(folder / "targets.parquet").to_pandas()
    spec = loaded.spec
    n = len(spec.targets)
    ncols = 1 if n == 1 else 2
    nrows = math.ceil(n / ncols)
    fig = Figure(figsize=(6.4 * ncols, 3.4 * nrows + 0.5), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for a in axes[n:]:
        fig.delaxes(a)
    start = pd.Timestamp(loaded.base["run"]["start_date"])
    trials = pq.read_table(folder / "trials.parquet").to_pandas()
    row = trials[trials["trial"] == trial].iloc[0]
    for ax, t in zip(axes, spec.targets):
        obs = targets[targets["target"] == t.name]
        mod = outputs[outputs["target"] == t.name]
        if t.time_key is not None:
            _series_panel(ax, obs, mod, start)
        else:
            _table_panel(ax, obs, mod)
        what = f"{t.model.table}.{t.model.column}" + (f" / {t.model.per}" if t.model.per else "")
        ax.set_title(f"{t.name}: {what}  (error {row[f'loss_{t.name}']:.3g}, weight {t.weight:g})", fontsize=9)
        ax.set_ylabel(t.value)
        ax.grid(alpha=0.3)
    values = ", ".join(f"{f.column} = {row[f.column]:.4g}" for f in spec.fields)
    fig.suptitle(f"calibration {spec.name}: best trial {trial} (loss {row['loss']:.4g}; {values}); "
                 f"model: mean of {spec.replicates} replicate{'s' if spec.replicates > 1 else ''}"
                 f"{', band min to max' if spec.replicates > 1 else ''}", fontsize=9)
    return fig


def _series_panel(ax, obs: pd.DataFrame, mod: pd.DataFrame, start: pd.Timestamp) -> None:
    labels = list(dict.fromkeys(obs["label"].fillna("").tolist()))
    for i, label in enumerate(labels):
        color = f"C{i % 10}" if len(labels) > 1 else "C0"
        o = obs[obs["label"].fillna("") == label].sort_values("t_day")
        m = mod[mod["label"].fillna("") == label]
        g = m.groupby("t_day")["value"]
        mean, lo, hi = g.mean(), g.min(), g.max()
        x = start + pd.to_timedelta(mean.index.to_numpy(float), unit="D")
        name = f" {label}" if label else ""
        ax.plot(x, mean.to_numpy(), color=color, lw=1.6, label=f"model{name}", gid=f"model|{label}")
        if m["replicate"].nunique() > 1:
            ax.fill_between(x, lo.to_numpy(), hi.to_numpy(), color=color, alpha=0.2, lw=0)
        xo = start + pd.to_timedelta(o["t_day"].to_numpy(float), unit="D")
        ax.plot(xo, o["value"].to_numpy(), ls="none", marker="o", ms=3.5, mfc="black" if len(labels) == 1 else color,
                mec="black", label=f"observed{name}", gid=f"observed|{label}")
    locator = AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    ax.set_xlabel("date")
    ax.legend(fontsize=7, ncols=2 if len(labels) > 3 else 1)


def _table_panel(ax, obs: pd.DataFrame, mod: pd.DataFrame) -> None:
    labels = obs["label"].fillna("").tolist()
    x = np.arange(len(labels))
    g = mod.groupby(mod["label"].fillna(""))["value"]
    mean, lo, hi = (g.mean().reindex(labels), g.min().reindex(labels), g.max().reindex(labels))
    ax.bar(x, mean.to_numpy(), width=0.6, color="C0", alpha=0.6, label="model", gid="model|")
    if mod["replicate"].nunique() > 1:
        ax.errorbar(x, mean.to_numpy(), yerr=[(mean - lo).to_numpy(), (hi - mean).to_numpy()], fmt="none",
                    ecolor="C0", capsize=3)
    ax.plot(x, obs["value"].to_numpy(), ls="none", marker="o", color="black", label="observed", gid="observed|")
    ax.set_xticks(x, [lab or "all" for lab in labels], rotation=30 if len(labels) > 4 else 0, fontsize=8)
    ax.legend(fontsize=7)
