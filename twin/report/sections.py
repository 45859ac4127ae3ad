"""The report's sections other than the figures: runs, headline metrics, episodes, adaptability,
differences between runs, shocks and switches, every metric."""

from __future__ import annotations

import html

import pandas as pd

from twin.metrics import episode_table, population_curve, requests_by_group, switch_gains
from twin.metrics._common import MetricSettings
from twin.report.html import HEADLINE, fmt, table
from twin.report.runs import RunData

__all__ = ["adaptability_section", "all_metrics", "differences", "episodes_html", "events_section", "headline",
           "requests_html", "runs_table"]


def _swatch(run: RunData) -> str:
    import matplotlib.colors as mcolors
    return f'<span class="swatch" style="background:{mcolors.to_hex(run.color)}"></span>{html.escape(run.label)}'


def runs_table(runs: list[RunData]) -> str:
    """Which runs: label (with its colour in the figures), scenario, seed, days, size, folder."""
    rows = []
    for run in runs:
        m = run.tables["communities"].attrs.get("manifest", {})
        sc = run.scenario
        rows.append(f"<tr><td>{_swatch(run)}</td><td>{html.escape(str(m.get('scenario', sc.get('name', '?'))))}</td>"
                    f"<td>{html.escape(str(sc.get('description', '')))}</td><td>{html.escape(str(m.get('seed', '')))}</td>"
                    f"<td class='num'>{m.get('days', '')}</td><td class='num'>{m.get('communities', '')}</td>"
                    f"<td class='num'>{m.get('nodes', '')}</td><td>{html.escape(str(run.path))}</td></tr>")
    head = "".join(f"<th>{h}</th>" for h in ("run", "scenario", "description", "seed", "days", "communities",
                                             "nodes", "folder"))
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def headline(runs: list[RunData]) -> str:
    """The headline metrics, one column per run (side by side)."""
    rows = [(label, [fmt(r.metrics.get(key), spec) for r in runs]) for key, label, spec in HEADLINE
            if any(key in r.metrics for r in runs)]
    head = "<th>metric</th>" + "".join(f"<th>{_swatch(r)}</th>" for r in runs)
    body = "".join(f"<tr><th>{html.escape(label)}</th>" + "".join(f"<td class='num'>{v}</td>" for v in vals)
                   + "</tr>" for label, vals in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def episodes_html(runs: list[RunData], settings: MetricSettings) -> str:
    """Per run, one row per shock episode: window, worst day, failure, recovery, loss."""
    parts = []
    for run in runs:
        eps = run.episodes
        if not eps:
            parts.append(f"<p class='note'>{html.escape(run.label)}: no shock.</p>")
            continue
        frame = episode_table(run.service, population_curve(run.tables["communities"]), eps, run.level, settings)
        parts.append(f"<p>{_swatch(run)}: shock episodes</p>" + table(
            frame.set_index("episode"), {"time_to_failure_days": "day", "recovery_days": "day",
                                         "loss_person_days": "{:,.0f}", "min_service_level": "{:.3f}"}))
    return "\n".join(parts)


def adaptability_section(runs: list[RunData], baseline: RunData | None, settings: MetricSettings) -> list[str]:
    """Service after each switch: within the run (after - before), and against the comparison run."""
    parts = []
    for run in runs:
        if not run.switches:
            continue
        gains = switch_gains(run.service, run.switches, settings.switch_window_days)
        parts.append(f"<p>{_swatch(run)}: service {settings.switch_window_days} days before and after each switch</p>"
                     + table(gains.set_index("switch_day"), {c: "{:.3f}" for c in gains.columns}))
        if run.adaptability is not None:
            parts.append(f"<p>against the comparison run <b>{html.escape(baseline.label)}</b> (same shock, no switch)</p>"
                         + table(run.adaptability.set_index("switch_day"),
                                 {"loss_avoided_person_days": "{:,.0f}", "after_level": "{:.3f}",
                                  "after_no_switch_level": "{:.3f}", "regained_level": "{:+.3f}"}))
    if not parts:
        parts.append("<p class='note'>No regime switch or policy change in these runs.</p>")
    elif baseline is None:
        parts.append("<p class='note'>Give a comparison run (same shock, no switch) with <code>--baseline RUN_DIR</code> "
                     "to read what each switch regained against it.</p>")
    return parts


def differences(runs: list[RunData], reference: RunData) -> str:
    """Each run's headline figures minus the reference run's."""
    keys = [(k, label) for k, label, spec in HEADLINE if spec != "day" and k in reference.metrics
            and all(isinstance(r.metrics.get(k), (int, float)) for r in runs)]
    frame = pd.DataFrame({r.label: [r.metrics[k] - reference.metrics[k] for k, _ in keys]
                          for r in runs if r is not reference}, index=[label for _, label in keys])
    frame.index.name = f"minus {reference.label}"
    return table(frame, {c: "diff" for c in frame.columns})


def events_section(runs: list[RunData]) -> list[str]:
    """Shock intervals and switch days of every run."""
    parts = []
    for run in runs:
        sw = ", ".join(fmt(d) for d in run.switches) or "none"
        body = (table(run.intervals.groupby(["shock", "kind", "scheduled"], sort=False, as_index=False).agg(
                    first_start_day=("start_day", "min"), last_end_day=("end_day", "max"), times=("start_day", "size")),
                    {"first_start_day": "{:g}", "last_end_day": "{:g}"}, index=False)
                if len(run.intervals) else "<p class='note'>no shock events</p>")
        parts.append(f"<p>{_swatch(run)}: shocks (active on start &le; day &lt; end); switches on days {sw}</p>{body}")
    return parts


def requests_html(runs: list[RunData]) -> str:
    """Safety-net requests by group, when any run has them."""
    parts = [f"<p>{_swatch(r)}: safety-net requests by group</p>" + table(requests_by_group(r.tables["requests"]))
             for r in runs if "requests" in r.tables and len(r.tables["requests"])]
    return "\n".join(parts)


def all_metrics(runs: list[RunData]) -> str:
    """Every figure of every run, collapsed."""
    keys = list(dict.fromkeys(k for r in runs for k in r.metrics))
    frame = pd.DataFrame({r.label: [r.metrics.get(k) for k in keys] for r in runs}, index=keys)
    frame.index.name = "metric"
    return f"<details><summary>all {len(keys)} metrics</summary>{table(frame)}</details>"
