"""The report's sections other than the figures: runs, headline metrics, episodes, adaptability,
differences between runs, shocks and switches, every metric."""

from __future__ import annotations

import html

import pandas as pd

from twin.metrics import requests_by_group, switch_gains
from twin.metrics._common import MetricSettings
from twin.metrics import NEVER_KEYS
from twin.metrics.headline import HEADLINE, format_value
from twin.metrics.patterns import BAND_NOTE, Pattern, pattern_differences, pattern_table
from twin.report.html import fmt, table
from twin.report.runs import RunData

__all__ = ["adaptability_section", "all_metrics", "differences", "episodes_html", "events_section", "headline",
           "headline_parts", "patterns_of", "requests_html", "runs_table"]


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


def patterns_of(runs: list[RunData]) -> list[Pattern]:
    """The runs grouped by pattern (scenario hash), each labelled by its scenario name."""
    groups: dict[str, Pattern] = {}
    for run in runs:
        if run.pattern not in groups:
            name = str(run.manifest.get("scenario") or run.label)
            taken = any(p.label.split(" (")[0] == name for p in groups.values())
            groups[run.pattern] = Pattern(name if not taken else f"{name} ({run.label})")
        groups[run.pattern].runs.append(run.label)
        groups[run.pattern].rows.append(run.metrics)
    return list(groups.values())


def _frame_html(frame: pd.DataFrame) -> str:
    head = f"<th>{html.escape(str(frame.index.name or ''))}</th>" + "".join(
        f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(f"<tr><th>{html.escape(str(i))}</th>" + "".join(
        f"<td class='num'>{html.escape(str(v))}</td>" for v in row) + "</tr>" for i, row in frame.iterrows())
    return f"<table><tr>{head}</tr>{body}</table>"


def headline(runs: list[RunData]) -> str:
    """The headline metrics, one column per pattern: the value of a single run, or the mean over a
    pattern's seeds with its 95% band; days that never came read ``never``."""
    return _frame_html(pattern_table(patterns_of(runs)))


def headline_parts(runs: list[RunData]) -> list[str]:
    """The headline table and, when a pattern has several seeds, what its brackets mean."""
    patterns = patterns_of(runs)
    parts = [headline(runs)]
    if any(len(p.runs) > 1 for p in patterns):
        parts.append(f"<p class='note'>{html.escape(BAND_NOTE)}</p>")
    parts.append("<p class='note'>Robustness and recovery are read on the fill of need (consumed / need) of the "
                 "first shock episode, with the definitions of the episode tables below; the market service level "
                 "(delivered / demand) is secondary: demand falls as prices rise.</p>")
    return parts


def episodes_html(runs: list[RunData], settings: MetricSettings) -> str:
    """Per run, one row per shock episode: window, worst day, failure, recovery, loss (the same
    definitions as the headline, which shows the first episode)."""
    parts = []
    for run in runs:
        if not run.episodes:
            parts.append(f"<p class='note'>{html.escape(run.label)}: no shock.</p>")
            continue
        frame = run.episode_table.set_index("episode").copy()
        for col in ("time_to_failure_days", "recovery_days"):
            frame[col] = [format_value(col, v) for v in frame[col]]
        frame["loss_person_days"] = [format_value("resilience_loss_person_days", v) for v in frame["loss_person_days"]]
        frame = frame.rename(columns={"start_day": "start (day)", "end_day": "last shock ends (day)",
                                      "min_fill_of_need": "worst fill of need", "min_fill_day": "worst day",
                                      "time_to_failure_days": "shock to failure (days)",
                                      "recovery_days": "shock to lasting recovery (days)",
                                      "loss_person_days": "food missing below pre-shock (person-days)"})
        parts.append(f"<p>{_swatch(run)}: shock episodes (failure: fill of need under "
                     f"{settings.threshold:.0%} of the pre-shock {run.level:.3f})</p>" + table(
                         frame, {"worst fill of need": "{:.3f}", "start (day)": "{:g}",
                                 "last shock ends (day)": "{:g}", "worst day": "{:g}"}))
    return "\n".join(parts)


def adaptability_section(runs: list[RunData], baseline: RunData | None, settings: MetricSettings) -> list[str]:
    """Service after each switch: within the run (after - before), and against the comparison run."""
    parts = []
    for run in runs:
        if not run.switches:
            continue
        gains = switch_gains(run.fill, run.switches, settings.switch_window_days)
        parts.append(f"<p>{_swatch(run)}: fill of need {settings.switch_window_days} days before and after each "
                     f"switch</p>"
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


def differences(runs: list[RunData], baseline: RunData | None = None) -> list[str]:
    """Title and body of the comparison: every pattern minus the reference pattern (the baseline's, or
    the first), marked better or worse with its unit and within the seeds' noise or not; empty with
    one pattern."""
    patterns = patterns_of(runs)
    if len(patterns) < 2:
        return []
    ref = patterns[0]
    if baseline is not None:
        ref = next(p for p in patterns if baseline.label in p.runs)
    frame = pattern_differences(patterns, ref)
    return [f"Comparison with {ref.label}", _frame_html(frame), f"<p class='note'>{html.escape(BAND_NOTE)}</p>"]


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
    known = {f.key for f in HEADLINE} | set(NEVER_KEYS)

    def cell(key, value):
        if key in known:
            return format_value(key, value)
        return fmt(value, "{:,.4g}") if value is not None else "-"
    frame = pd.DataFrame({r.label: [cell(k, r.metrics[k]) if k in r.metrics else "-" for k in keys] for r in runs},
                         index=keys)
    frame.index.name = "metric"
    return f"<details><summary>all {len(keys)} metrics</summary>{_frame_html(frame)}</details>"
