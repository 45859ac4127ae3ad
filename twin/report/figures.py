"""The report's figures: one function per figure, taking the runs and returning a matplotlib
``Figure`` (Agg canvas, no pyplot, no global state) or None when the runs lack its table.

One run: the series of a figure share one axes (or one panel per series where scales differ).
Several runs: one panel per series, the runs overlaid in their colours (one colour per pattern; a
pattern's seeds are drawn as their mean with the range over seeds shaded). Every time axis is the
day of the run (day 0 = ``run.start_date``) and marks the shocks (shaded) and the regime switches
and policy changes (dashed, each regime switch labelled with the regime it switched to).
"""

from __future__ import annotations

import io
import math
from typing import Callable

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from twin.metrics import (add_groups, cascade_depth, channel_curve, fill_curve, fulfilment, gini, group_fulfilment,
                          layer_failed_share, lorenz, price_index_by_category, stock_by_tier, workforce_curve)
from twin.metrics._common import COMMUNITY_LAYER, LAYER_NAMES, MetricSettings
from twin.report.runs import RunData

__all__ = ["FIGURES", "png_bytes"]


def png_bytes(fig: Figure, dpi: int = 100) -> bytes:
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def _figure(n_panels: int, ncols: int = 2, width_in: float = 11.0, row_in: float = 3.0):
    ncols = max(1, min(ncols, n_panels))
    nrows = math.ceil(n_panels / ncols)
    fig = Figure(figsize=(width_in, 0.6 + row_in * nrows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    return fig, list(axes[:n_panels])


DAY_AXIS = "day of the run (day 0 = run.start_date)"


def _mark_time(ax, runs: list[RunData], label_switches: bool = False) -> None:
    """Shade the shock episodes (each distinct one once: overlapping shocks merged) and draw every
    switch as a dashed line in its run's colour (once per pattern and day); with ``label_switches``
    each regime switch is labelled with the regime it switched to. A day's value sits at its integer
    position."""
    seen, drawn, labelled = set(), set(), set()
    for run in runs:
        for start, end in run.episodes:
            if (start, end) not in seen:
                seen.add((start, end))
                ax.axvspan(start - 0.5, end - 0.5, color="tab:red", alpha=0.08, lw=0)
        for d in run.switches:
            if (run.pattern, d) not in drawn:
                drawn.add((run.pattern, d))
                ax.axvline(d - 0.5, color=run.color, ls="--", lw=1.0, alpha=0.8)
        if label_switches:
            for d, text in run.switch_labels:
                if (d, text) not in labelled:        # once per day and regime, whichever pattern switched
                    labelled.add((d, text))
                    ax.annotate(text, (d - 0.5, 1.0), xycoords=("data", "axes fraction"), rotation=90, va="top",
                                ha="right", fontsize=7, color=run.color, xytext=(-1, -2), textcoords="offset points")
    ax.set_xlabel(DAY_AXIS)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)


def _by_pattern(runs: list[RunData]) -> list[list[RunData]]:
    groups: dict[str, list[RunData]] = {}
    for run in runs:
        groups.setdefault(run.pattern, []).append(run)
    return list(groups.values())


def _pattern_label(group: list[RunData]) -> str:
    name = str(group[0].manifest.get("scenario") or group[0].label)
    return name if len(group) == 1 else f"{name} ({len(group)} seeds: mean, range shaded)"


def _draw_pattern(ax, group: list[RunData], curve_of, lw: float = 2.0) -> pd.Series:
    """One line per pattern: the run's curve, or the mean over its seeds with the min-max range shaded."""
    frame = pd.concat([curve_of(r) for r in group], axis=1)
    mean = frame.mean(axis=1)
    color = group[0].color
    if len(group) > 1:
        ax.fill_between(frame.index, frame.min(axis=1), frame.max(axis=1), color=color, alpha=0.2, lw=0)
    ax.plot(mean.index, mean, color=color, lw=lw, label=_pattern_label(group))
    return mean


def _legend_below(ax, handles=None, labels=None) -> None:
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles, labels, fontsize=8, ncols=min(4, max(1, len(handles))), loc="upper center",
              bbox_to_anchor=(0.5, -0.16), frameon=False)


def _facets(runs: list[RunData], curves: dict[str, pd.DataFrame], ylabel: str, overlay_one_run: bool = True,
            ncols: int = 2, zero_based: bool = True) -> Figure:
    """Lines of ``curves[label]`` (frame ``t_day x series``): one axes if one run and
    ``overlay_one_run``, else one panel per series with the runs overlaid."""
    if len(runs) == 1 and overlay_one_run:
        fig, (ax,) = _figure(1, 1, row_in=4.2)
        frame = curves[runs[0].label]
        for col in frame.columns:
            ax.plot(frame.index, frame[col], label=str(col), lw=1.6)
        ax.set_ylabel(ylabel)
        _mark_time(ax, runs)
        if zero_based:
            ax.set_ylim(bottom=0)
        _legend_below(ax)
        return fig
    series = list(dict.fromkeys(c for f in curves.values() for c in f.columns))
    fig, axes = _figure(len(series), ncols)
    for ax, col in zip(axes, series):
        for run in runs:
            frame = curves.get(run.label)
            if frame is not None and col in frame:
                ax.plot(frame.index, frame[col], color=run.color, label=run.label, lw=1.5)
        ax.set_title(str(col), fontsize=10)
        ax.set_ylabel(ylabel)
        _mark_time(ax, runs)
        if zero_based:
            ax.set_ylim(bottom=0, top=max(ax.get_ylim()[1], 1e-9))
    axes[0].legend(fontsize=8)
    return fig


def fig_service(runs: list[RunData], settings: MetricSettings) -> Figure:
    """Fill of need by day (the primary curve; threshold x pre-shock level dotted, worst day marked),
    the market service level (secondary), and fill of need by district (one run) or of the worst
    district each day (several)."""
    fig, (ax, mx, bx) = _figure(3, 1, row_in=3.4)
    for group in _by_pattern(runs):
        mean = _draw_pattern(ax, group, lambda r: r.fill)
        level = float(np.mean([r.level for r in group]))
        ax.axhline(settings.threshold * level, color=group[0].color, ls=":", lw=1)
        if len(mean):
            ax.plot([mean.idxmin()], [mean.min()], "v", color=group[0].color, ms=7)
        _draw_pattern(mx, group, lambda r: r.market, lw=1.5)
    ax.set_ylabel("fill of need\n(consumed / need)")
    ax.set_ylim(0, 1.05)
    ax.set_title(f"Fill of need, what residents ate against what they need: shocks shaded, switches dashed, "
                 f"failure line ({settings.threshold:.0%} of pre-shock) dotted", fontsize=10)
    _mark_time(ax, runs, label_switches=True)
    ax.legend(fontsize=8, ncols=2, loc="upper center", bbox_to_anchor=(0.5, -0.18), frameon=False)
    mx.set_ylabel("market service level\n(delivered / demand)")
    mx.set_ylim(0, 1.05)
    mx.set_title("Secondary: market service level, purchases served against purchases asked for "
                 "(demand falls as prices rise)", fontsize=10)
    _mark_time(mx, runs)
    if len(runs) == 1:
        by = fill_curve(runs[0].tables["communities"], "district")
        for col in by.columns:
            bx.plot(by.index, by[col], lw=1.3, label=str(col))
        bx.set_title("Fill of need by district", fontsize=10)
        bx.legend(fontsize=7, ncols=6, loc="lower left")
    else:
        for group in _by_pattern(runs):
            _draw_pattern(bx, group, lambda r: fill_curve(r.tables["communities"], "district").min(axis=1), lw=1.5)
        bx.set_title("Fill of need of the worst district each day (colours as above)", fontsize=10)
    bx.set_ylabel("fill of need\n(consumed / need)")
    bx.set_ylim(0, 1.05)
    _mark_time(bx, runs)
    return fig


def _layer_frames(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Frames by layer number, each given every layer of any run (upstream first), columns named."""
    layers = sorted({int(c) for f in frames.values() for c in f.columns})
    return {k: f.reindex(columns=layers).rename(columns=_tier_label) for k, f in frames.items()}


def _tier_label(tier) -> str:
    k = int(tier)
    return LAYER_NAMES[k] if k == COMMUNITY_LAYER else f"tier {k}: {LAYER_NAMES.get(k, '')}"


def fig_stock_by_tier(runs: list[RunData], settings: MetricSettings) -> Figure | None:
    """Stock held per tier (t), a panel per tier: the cascade shows as tiers emptying in turn."""
    curves = _layer_frames({r.label: stock_by_tier(r.tables["nodes"]) / 1000.0 for r in runs if "nodes" in r.tables})
    return _facets(runs, curves, "stock (t)", overlay_one_run=False, ncols=3) if curves else None


def fig_cascade(runs: list[RunData], settings: MetricSettings) -> Figure | None:
    """Share of failed members per layer (tiers 0-4 and communities) and the cascade depth."""
    curves, depths = {}, {}
    for r in runs:
        if "nodes" in r.tables:
            share = layer_failed_share(r.tables["nodes"], r.tables["communities"], settings.community_fail_below)
            curves[r.label] = share * 100.0
            depths[r.label] = cascade_depth(r.tables.get("city")).reindex(share.index).fillna(0)
    if not curves:
        return None
    curves = _layer_frames(curves)
    depth_name = "cascade depth (links)"
    if len(runs) == 1:
        fig = _facets(runs, curves, "failed members (%)")
        twin = fig.axes[0].twinx()
        depth = depths[runs[0].label]
        twin.step(depth.index, depth, where="mid", color="black", lw=1.2, label=depth_name)
        twin.set_ylabel("cascade depth (links)")
        twin.set_ylim(0, max(5, int(depth.max()) + 1))
        h1, l1 = fig.axes[0].get_legend_handles_labels()
        h2, l2 = twin.get_legend_handles_labels()
        _legend_below(fig.axes[0], h1 + h2, l1 + l2)
        return fig
    frames = {k: v.assign(**{depth_name: depths[k]}) for k, v in curves.items()}
    fig = _facets(runs, frames, "failed members (%)", ncols=3)
    for ax in fig.axes:
        if ax.get_visible() and ax.get_title() == depth_name:
            ax.set_ylabel("links in the longest chain\nof failures")
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    return fig


def fig_workforce(runs: list[RunData], settings: MetricSettings) -> Figure | None:
    """Workers by compartment (susceptible ... active), a panel per compartment."""
    curves = {r.label: workforce_curve(r.tables["workforce"]) for r in runs
              if "workforce" in r.tables and not r.tables["workforce"].empty}
    return _facets(runs, curves, "workers", overlay_one_run=False, ncols=4) if curves else None


def fig_prices(runs: list[RunData], settings: MetricSettings) -> Figure | None:
    """Price index (price / baseline price) by category, mean over districts."""
    curves = {r.label: price_index_by_category(r.tables["prices"]) for r in runs
              if "prices" in r.tables and not r.tables["prices"].empty}
    return _facets(runs, curves, "price index (1 = baseline)", ncols=3, zero_based=False) if curves else None


def fig_channels(runs: list[RunData], settings: MetricSettings) -> Figure:
    """Kg delivered per day by channel (t)."""
    curves = {r.label: channel_curve(r.tables["communities"]) / 1000.0 for r in runs}
    return _facets(runs, curves, "delivered (t/day)")


def fig_fairness(runs: list[RunData], settings: MetricSettings) -> Figure:
    """Lorenz curves of fulfilment across communities (Gini in the legend) and fulfilment by group."""
    fig, (ax, bx) = _figure(2, 2, row_in=4.0)
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls=":")
    groups: dict[str, pd.Series] = {}
    for run in runs:
        comm = run.tables["communities"]
        f = fulfilment(comm, run.shock_start_day)
        x, y = lorenz(f["fulfilment"], f["population"])
        ax.plot(x, y, color=run.color, lw=1.8, label=f"{run.label} (Gini {gini(f['fulfilment'], f['population']):.3f})")
        grouped = add_groups(comm)
        parts = [group_fulfilment(grouped, by, run.shock_start_day).rename(lambda g, by=by: f"{by.split('_')[0]}: {g}")
                 for by in ("size_class", "elderly_class", "offline_class") if by in grouped]
        groups[run.label] = pd.concat(parts) if parts else pd.Series(dtype=float)
    ax.set_xlabel("share of residents (least served first)")
    ax.set_ylabel("cumulative share of food eaten")
    ax.set_title("Lorenz curve of fill of need (consumed / need) per community", fontsize=10)
    ax.legend(fontsize=8)
    table = pd.DataFrame(groups)
    width = 0.8 / max(1, len(runs))
    for i, run in enumerate(runs):
        bx.bar(np.arange(len(table)) + i * width, table[run.label].to_numpy(), width, color=run.color, label=run.label)
    bx.set_xticks(np.arange(len(table)) + 0.4 - width / 2, table.index, rotation=30, ha="right", fontsize=8)
    bx.set_ylabel("fill of need from the shock on")
    bx.set_ylim(0, 1.05)
    bx.set_title("Fill of need by compound size, elderly and offline share", fontsize=10)
    bx.grid(alpha=0.3, axis="y")
    return fig


#: (file stem, section title, function): the figures in report order
FIGURES: list[tuple[str, str, Callable[[list[RunData], MetricSettings], Figure | None]]] = [
    ("service", "Fill of need over time", fig_service),
    ("stock_by_tier", "Stock by tier", fig_stock_by_tier),
    ("cascade", "Cascade: failed nodes by layer", fig_cascade),
    ("workforce", "Workforce by compartment", fig_workforce),
    ("prices", "Prices by category", fig_prices),
    ("channels", "Delivered kg by channel", fig_channels),
    ("fairness", "Fairness across communities", fig_fairness),
]
