"""Plots of run results from Python: one run, several runs overlaid, replicate bands over seeds.

Every function takes what :func:`twin.run` or :func:`twin.load_results` returns, or a list of
them, and returns matplotlib objects drawn on an Agg canvas (no pyplot, no window, no global
state). Each data line's ``gid`` is ``"label|series"``. The single-panel functions return the ``Axes`` they drew on (pass ``ax=`` to draw on your
own), :func:`overview` returns a ``Figure``. In Jupyter, show a figure by leaving it as the last
expression of a cell; save it with ``fig.savefig("x.png")``.

Runs with the same label are *replicates* (the same scenario under several seeds): they are drawn
as their mean with a band (min to max over the replicates, or the quantiles given as ``band``).
Runs with different labels are overlaid, one line style (and, with a single series, one colour)
each. The default label is the scenario's name; runs of the same name but different scenarios
(overrides) get ``name (2)``, ``name (3)`` ...; pass ``labels=`` to choose.

>>> import twin, twin.plot
>>> res = twin.run("scenarios/tiny/one_of_each.toml", days=6)
>>> ax = twin.plot.fill(res)
>>> ax.get_ylabel()
'fill of need (consumed / need)'
>>> fig = twin.plot.overview([res, twin.run("scenarios/tiny/one_of_each.toml", days=6, seed=2)])
>>> len(fig.axes)
6

The daily series themselves (frames ``t_day x series``, one per run) come from :func:`series`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from twin.metrics import (cascade_depth, channel_curve, daily_service, episodes, layer_failed_share,
                          price_index_by_category, shock_intervals, stock_by_tier, switch_days, workforce_curve)
from twin.metrics._common import COMMUNITY_LAYER, LAYER_NAMES

__all__ = ["PANELS", "cascade", "channels", "fill", "overview", "prices", "series", "service", "stocks", "workforce"]

_STYLES = ("-", "--", ":", "-.", (0, (5, 1, 1, 1)), (0, (3, 1, 1, 1, 1, 1)))


# --- the daily series of one run ----------------------------------------------------------------

def _fill(t: dict) -> pd.DataFrame:
    return daily_service(t["communities"])[["fill_of_need"]].rename(columns={"fill_of_need": "fill of need"})


def _service(t: dict) -> pd.DataFrame:
    return daily_service(t["communities"]).rename(columns=lambda c: c.replace("_", " "))


def _channels(t: dict) -> pd.DataFrame:
    return channel_curve(t["communities"]) / 1000.0


def _stocks(t: dict) -> pd.DataFrame:
    out = stock_by_tier(t["nodes"]) / 1000.0
    return out.rename(columns=lambda k: f"{int(k)} {LAYER_NAMES.get(int(k), '')}".strip())


def _prices(t: dict) -> pd.DataFrame:
    return price_index_by_category(t["prices"])


def _workforce(t: dict) -> pd.DataFrame:
    return workforce_curve(t["workforce"])


def _cascade(t: dict) -> pd.DataFrame:
    share = layer_failed_share(t.get("nodes"), t["communities"])
    out = (share * 100.0).rename(columns=lambda k: "communities" if int(k) == COMMUNITY_LAYER else f"tier {int(k)}")
    return out.assign(**{"cascade depth": cascade_depth(share)})


#: name -> (y label, the tables it needs, the function making the frame ``t_day x series`` of one run)
PANELS: dict[str, tuple[str, tuple[str, ...], Callable[[dict], pd.DataFrame]]] = {
    "fill": ("fill of need (consumed / need)", ("communities",), _fill),
    "service": ("share", ("communities",), _service),
    "channels": ("delivered (t/day)", ("communities",), _channels),
    "stocks": ("stock (t)", ("nodes",), _stocks),
    "prices": ("price index (1 = baseline)", ("prices",), _prices),
    "workforce": ("workers", ("workforce",), _workforce),
    "cascade": ("failed members (%), cascade depth (layers)", ("communities", "nodes"), _cascade),
}


# --- runs and their labels ------------------------------------------------------------------------

class _Tables(dict):
    """The tables of one run as DataFrames, converted on first use."""

    def __init__(self, res: Any):
        super().__init__()
        self.res = res

    def __missing__(self, name: str) -> pd.DataFrame:
        frame = self.res[name]
        self[name] = frame
        return frame

    def get(self, name, default=None):
        return self[name] if name in self else default

    def __contains__(self, name) -> bool:
        tables = getattr(self.res, "tables", self.res)
        return dict.__contains__(self, name) or name in tables


@dataclass
class _Run:
    label: str
    tables: _Tables
    manifest: dict


def _manifest(res: Any) -> dict:
    if hasattr(res, "manifest"):
        return dict(res.manifest)
    for frame in res.values():
        if isinstance(frame, pd.DataFrame) and "manifest" in frame.attrs:
            return dict(frame.attrs["manifest"])
    return {}


def _runs(results: Any, labels: Sequence[str] | None = None) -> list[_Run]:
    """One :class:`_Run` per result, labelled (see the module's docstring)."""
    items = list(results) if isinstance(results, (list, tuple)) else [results]
    if not items:
        raise ValueError("no results to plot")
    for res in items:
        if isinstance(res, pd.DataFrame):
            raise TypeError("twin.plot takes a run's results (twin.run or twin.load_results of a run folder), "
                            "not a DataFrame; for a sweep use twin.sweep.load_timeseries and pandas")
    manifests = [_manifest(r) for r in items]
    if labels is None:
        hashes: dict[str, list[str]] = {}
        labels = []
        for m in manifests:
            name = str(m.get("scenario", "run"))
            seen = hashes.setdefault(name, [])
            h = m.get("scenario_hash", "")
            if h not in seen:
                seen.append(h)
            i = seen.index(h)
            labels.append(name if i == 0 else f"{name} ({i + 1})")
    elif len(labels) != len(items):
        raise ValueError(f"labels: {len(labels)} given for {len(items)} runs")
    return [_Run(str(lab), _Tables(res), m) for lab, res, m in zip(labels, items, manifests)]


def series(results: Any, panel: str, labels: Sequence[str] | None = None) -> dict[str, list[pd.DataFrame]]:
    """The daily frames (``t_day x series``) of ``panel`` (a key of :data:`PANELS`), by label, one
    frame per run (replicates share a label). Runs without the tables a panel needs are left out."""
    if panel not in PANELS:
        raise ValueError(f"panel {panel!r}: choose one of {', '.join(PANELS)}")
    _, needs, fn = PANELS[panel]
    out: dict[str, list[pd.DataFrame]] = {}
    for run in _runs(results, labels):
        if all(n in run.tables for n in needs):
            out.setdefault(run.label, []).append(fn(run.tables))
    return out


# --- drawing --------------------------------------------------------------------------------------

def _new_axes(ax: Axes | None, width_in: float = 7.0, height_in: float = 3.6) -> Axes:
    if ax is not None:
        return ax
    fig = Figure(figsize=(width_in, height_in), layout="constrained")
    FigureCanvasAgg(fig)
    return fig.add_subplot()


def _band(frames: list[pd.DataFrame], band) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Mean, low and high over replicates, aligned on days and series."""
    stack = pd.concat(frames, keys=range(len(frames)), names=["_rep", "t_day"])
    g = stack.groupby(level="t_day")
    if band == "range":
        return g.mean(), g.min(), g.max()
    lo, hi = band
    return g.mean(), g.quantile(lo), g.quantile(hi)


def _x(index: pd.Index, manifest: dict, x: str):
    if x == "date":
        start = pd.Timestamp(manifest.get("start_date", "2022-01-01"))
        return start + pd.to_timedelta(np.asarray(index, dtype=float), unit="D")
    return np.asarray(index)


def _mark_shocks(ax: Axes, runs: list[_Run], x: str) -> None:
    """Shade each distinct scheduled shock once; regime switches and policy changes dashed."""
    seen, switches = set(), set()
    for run in runs:
        events = run.tables.get("events")
        if events is None:
            continue
        last = float(events["t_day"].max()) if len(events) else 0.0
        if "communities" in run.tables:
            last = max(last, float(run.tables["communities"]["t_day"].max()))
        for start, end in episodes(shock_intervals(events, last)):
            if (start, end) not in seen:
                seen.add((start, end))
                a, b = _x(pd.Index([start - 0.5, end - 0.5]), run.manifest, x)
                ax.axvspan(a, b, color="tab:red", alpha=0.07, lw=0)
        switches.update((d, run.label) for d in switch_days(events, run.tables.get("city")))
    for d, _ in sorted(switches):
        ax.axvline(_x(pd.Index([d - 0.5]), runs[0].manifest, x)[0], color="grey", ls="--", lw=0.8, gid="switch")


def _draw(results: Any, panel: str, ax: Axes | None = None, *, labels: Sequence[str] | None = None,
          band="range", x: str = "day", columns: Sequence[str] | None = None, legend: bool = True,
          mark_shocks: bool = True) -> Axes:
    if x not in ("day", "date"):
        raise ValueError(f"x: 'day' or 'date', got {x!r}")
    if band != "range" and not (isinstance(band, (tuple, list)) and len(band) == 2 and 0 <= band[0] < band[1] <= 1):
        raise ValueError(f"band: 'range' or two quantiles (low, high) in [0, 1], got {band!r}")
    ylabel = PANELS[panel][0] if panel in PANELS else panel
    ax = _new_axes(ax)
    runs = _runs(results, labels)
    by_label = series(results, panel, [r.label for r in runs])
    if not by_label:
        ax.text(0.5, 0.5, f"no {', '.join(PANELS[panel][1])} table in these results", ha="center", va="center",
                transform=ax.transAxes, color="grey")
        ax.set_ylabel(ylabel)
        return ax
    names = list(dict.fromkeys(c for frames in by_label.values() for f in frames for c in f.columns))
    if columns is not None:
        missing = [c for c in columns if c not in names]
        if missing:
            raise ValueError(f"columns {missing} not in {panel}: choose from {names}")
        names = list(columns)
    one_series = len(names) == 1
    manifests = {r.label: r.manifest for r in runs}
    group_handles = []
    for g, (label, frames) in enumerate(by_label.items()):
        style = "-" if one_series else _STYLES[g % len(_STYLES)]
        mean, lo, hi = _band([f.reindex(columns=names) for f in frames], band)
        xs = _x(mean.index, manifests[label], x)
        for j, col in enumerate(names):
            color = f"C{g % 10}" if one_series else f"C{j % 10}"
            ax.plot(xs, mean[col], color=color, ls=style, lw=1.6, gid=f"{label}|{col}",
                    label=(label if one_series else str(col)) if (one_series or g == 0) else None)
            if len(frames) > 1:
                ax.fill_between(xs, lo[col], hi[col], color=color, alpha=0.18, lw=0)
        n = f" ({len(frames)} runs)" if len(frames) > 1 else ""
        group_handles.append(Line2D([], [], color="black" if not one_series else f"C{g % 10}", ls=style,
                                    label=f"{label}{n}"))
    if mark_shocks:
        _mark_shocks(ax, runs, x)
    ax.set_ylabel(ylabel)
    ax.set_xlabel("day" if x == "day" else "date")
    if x == "day":
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    else:
        locator = AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    ax.grid(alpha=0.3)
    if legend:
        handles, texts = ax.get_legend_handles_labels()
        if one_series:
            handles = group_handles
        elif len(by_label) > 1 or any(len(f) > 1 for f in by_label.values()):
            handles = handles + group_handles
        ax.legend(handles=handles, fontsize=7, ncols=2 if len(handles) > 6 else 1)
    return ax


def _doc(panel: str, what: str) -> str:
    return f"""{what}

    ``results``: one run's results or a list; ``ax``: draw on this Axes (default: a new figure);
    ``labels``: one per run (equal labels are replicates); ``band``: ``"range"`` (min to max over
    replicates) or quantiles ``(low, high)``; ``x``: ``"day"`` or ``"date"``; ``columns``: only
    these series. Returns the Axes. Series: ``twin.plot.series(results, "{panel}")``.
    """


def fill(results, ax=None, **kw) -> Axes:
    return _draw(results, "fill", ax, **kw)


def service(results, ax=None, **kw) -> Axes:
    return _draw(results, "service", ax, **kw)


def channels(results, ax=None, **kw) -> Axes:
    return _draw(results, "channels", ax, **kw)


def stocks(results, ax=None, **kw) -> Axes:
    return _draw(results, "stocks", ax, **kw)


def prices(results, ax=None, **kw) -> Axes:
    return _draw(results, "prices", ax, **kw)


def workforce(results, ax=None, **kw) -> Axes:
    return _draw(results, "workforce", ax, **kw)


def cascade(results, ax=None, **kw) -> Axes:
    return _draw(results, "cascade", ax, **kw)


fill.__doc__ = _doc("fill", "City fill of need by day: kg eaten / kg needed (1 = everyone ate what they need).")
service.__doc__ = _doc("service", "City service level (delivered / demand) and fill of need by day.")
channels.__doc__ = _doc("channels", "Tonnes delivered per day by channel (offline, online, gate, group, "
                                    "unified, safety net).")
stocks.__doc__ = _doc("stocks", "Tonnes held per node tier at day's end (bases, transfer stations, hubs and "
                                "reserves, sorting centres, outlets); the cascade shows as tiers emptying in turn.")
prices.__doc__ = _doc("prices", "Price index (price / baseline price) by category, mean over districts.")
workforce.__doc__ = _doc("workforce", "Supply workers by compartment (susceptible ... active) over all pools.")
cascade.__doc__ = _doc("cascade", "Share of each layer's members failed (%: node tiers 0-4, communities "
                                  "eating under 95% of need) and the cascade depth.")


def overview(results, panels: Iterable[str] = ("fill", "channels", "stocks", "prices", "workforce", "cascade"),
             ncols: int = 2, **kw) -> Figure:
    """One figure with a panel per name in ``panels`` (keys of :data:`PANELS`), the runs overlaid
    (replicates as bands); keyword arguments as for :func:`fill`. Returns the Figure."""
    panels = list(panels)
    unknown = [p for p in panels if p not in PANELS]
    if unknown:
        raise ValueError(f"panels {unknown}: choose from {', '.join(PANELS)}")
    ncols = max(1, min(ncols, len(panels)))
    nrows = math.ceil(len(panels) / ncols)
    fig = Figure(figsize=(6.0 * ncols, 3.4 * nrows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for a in axes[len(panels):]:
        fig.delaxes(a)
    for a, panel in zip(axes, panels):
        _draw(results, panel, a, **kw)
        a.set_title(panel, fontsize=10)
    return fig
