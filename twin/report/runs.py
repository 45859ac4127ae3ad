"""A run folder read for the report: its tables, its metrics and the curves the figures draw."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from twin.metrics import (MetricSettings, comparison, find_shock_start_day, pre_shock_level, resilience,
                          service_curve, shock_episodes, shock_intervals, switch_days)

__all__ = ["RunData", "attach_baseline", "load_run", "need_kg_per_person_day", "run_labels"]


@dataclass
class RunData:
    """One run as the report sees it."""

    label: str
    path: Path
    tables: dict[str, pd.DataFrame]
    metrics: dict[str, float]
    service: pd.Series
    level: float
    shock_start_day: float | None
    intervals: pd.DataFrame
    episodes: list[tuple[float, float]]
    switches: list[float]
    color: str = "C0"
    adaptability: pd.DataFrame | None = field(default=None, repr=False)

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
    service = service_curve(comm)
    t0 = find_shock_start_day(tables, settings)
    last = float(comm["t_day"].max()) if len(comm) else 0.0
    return RunData(
        label=label, path=path, tables=tables, color=color,
        metrics=resilience(tables, need_kg_per_person_day(path, comm), settings),
        service=service, level=pre_shock_level(service, t0, settings.warmup_days), shock_start_day=t0,
        intervals=shock_intervals(tables.get("events"), last), episodes=shock_episodes(tables, t0),
        switches=switch_days(tables.get("events"), tables.get("city")),
    )


def attach_baseline(runs: list[RunData], baseline: RunData, settings: MetricSettings) -> None:
    """Adaptability of every run with switches against ``baseline`` (same shock, no switch)."""
    for run in runs:
        if run.switches and run is not baseline:
            run.adaptability = comparison(run.tables, baseline.tables, settings)


def run_labels(paths: list[Path]) -> list[str]:
    """Short unique labels: folder names, with the parent folder (then a number) when names repeat.

    >>> run_labels([Path("a/x"), Path("b/x"), Path("c/y")])
    ['a/x', 'b/x', 'y']
    """
    names = [p.name for p in paths]
    labels = [f"{p.parent.name}/{p.name}" if names.count(p.name) > 1 else p.name for p in paths]
    return [lab if labels.count(lab) == 1 else f"{lab} ({i + 1})" for i, lab in enumerate(labels)]

