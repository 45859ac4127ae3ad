"""A run folder read for the report: its tables, its metrics and the curves the figures draw."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from twin.metrics import (MetricSettings, comparison, evolvability_of, fill_curve, resilience, run_episodes,
                          service_curve, shock_intervals, switch_days)

__all__ = ["RunData", "attach_baseline", "load_run", "need_kg_per_person_day", "run_labels"]


@dataclass
class RunData:
    """One run as the report sees it."""

    label: str
    path: Path
    tables: dict[str, pd.DataFrame]
    metrics: dict[str, float]
    fill: pd.Series                       # the primary performance curve: consumed / need
    market: pd.Series                     # the secondary market service level: delivered / demand
    level: float                          # pre-shock fill of need
    shock_start_day: float | None
    intervals: pd.DataFrame
    episodes: list[tuple[float, float]]
    episode_table: pd.DataFrame
    switches: list[float]
    switch_labels: list[tuple[float, str]] = field(default_factory=list)
    need_kg_per_person_day: float | None = None
    color: str = "C0"
    pattern: str = ""
    adaptability: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def manifest(self) -> dict:
        """The run's manifest (``manifest.json``), or an empty dict."""
        f = self.path / "manifest.json"
        return json.loads(f.read_text()) if f.is_file() else {}

    @property
    def scenario(self) -> dict:
        """The resolved scenario (``scenario.json``), or an empty dict."""
        f = self.path / "scenario.json"
        return json.loads(f.read_text()) if f.is_file() else {}


def need_kg_per_person_day(path: Path, communities: pd.DataFrame) -> float | None:
    """Kg a person needs a day: the scenario's categories, else need / population on the first day."""
    f = path / "scenario.json"
    if f.is_file():
        cats = json.loads(f.read_text()).get("categories") or []
        total = sum(float(c.get("need_kg_per_person_day", 0.0)) for c in cats)
        if total > 0:
            return total
    first = communities[communities["t_day"] == communities["t_day"].min()]
    pop = float(first["population"].sum())
    return float(first["need_kg"].sum()) / pop if pop > 0 else None


def load_run(path: Path, label: str, settings: MetricSettings, color: str = "C0") -> RunData:
    """Read a run folder and compute its metrics with ``settings``."""
    from twin.api import load_results
    tables = load_results(path)
    if not isinstance(tables, dict) or "communities" not in tables:
        raise ValueError(f"{path}: not a single run folder (a sweep? pass its run folders)")
    comm = tables["communities"]
    need_pp = need_kg_per_person_day(path, comm)
    t0, level, eps, table = run_episodes(tables, need_pp, settings)
    last = float(comm["t_day"].max()) if len(comm) else 0.0
    manifest = json.loads((path / "manifest.json").read_text()) if (path / "manifest.json").is_file() else {}
    return RunData(
        label=label, path=path, tables=tables, color=color,
        metrics=resilience(tables, need_pp, settings),
        fill=fill_curve(comm), market=service_curve(comm), level=level, shock_start_day=t0,
        intervals=shock_intervals(tables.get("events"), last), episodes=eps, episode_table=table,
        switches=switch_days(tables.get("events"), tables.get("city")),
        switch_labels=regime_switch_labels(tables.get("events")), need_kg_per_person_day=need_pp,
        pattern=str(manifest.get("scenario_hash") or manifest.get("scenario") or label),
    )


def regime_switch_labels(events: pd.DataFrame | None) -> list[tuple[float, str]]:
    """``(day, "-> emergency")`` for every regime switch in the events.

    >>> regime_switch_labels(pd.DataFrame({"t_day": [4], "event": ["regime_switch"], "target": ["normal->extreme"]}))
    [(4.0, '-> extreme')]
    """
    if events is None or events.empty or "target" not in events:
        return []
    sw = events[events["event"].astype(str) == "regime_switch"]
    return [(float(d), "-> " + str(t).split("->")[-1]) for d, t in zip(sw["t_day"], sw["target"])]


def attach_baseline(runs: list[RunData], baseline: RunData, settings: MetricSettings) -> None:
    """Against ``baseline``: adaptability of every run with switches (same shock, no switch), and
    evolvability of every run that kept adaptations after its first shock when the baseline did not
    (the same scenario and seed without learning)."""
    for run in runs:
        if run is baseline:
            continue
        if run.switches:
            run.adaptability = comparison(run.tables, baseline.tables, settings, run.need_kg_per_person_day)
        if _learns(run) and not _learns(baseline):
            run.metrics.update(evolvability_of(run.tables, baseline.tables, run.need_kg_per_person_day, settings))


def _learns(run: RunData) -> bool:
    return bool((run.scenario.get("learning") or {}).get("enabled"))


def run_labels(paths: list[Path]) -> list[str]:
    """Short unique labels: folder names, with the parent folder (then a number) when names repeat.

    >>> run_labels([Path("a/x"), Path("b/x"), Path("c/y")])
    ['a/x', 'b/x', 'y']
    """
    names = [p.name for p in paths]
    labels = [f"{p.parent.name}/{p.name}" if names.count(p.name) > 1 else p.name for p in paths]
    return [lab if labels.count(lab) == 1 else f"{lab} ({i + 1})" for i, lab in enumerate(labels)]

