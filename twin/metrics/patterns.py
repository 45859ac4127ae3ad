"""Runs grouped by pattern (the same scenario run with several seeds) and read side by side: each
headline figure as a mean with its 95% band, and each pattern's difference from a reference pattern,
marked better or worse with its unit and said to be within noise or not (:mod:`twin.metrics.uncertainty`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from twin.metrics.headline import format_difference, format_spread, headline_keys
from twin.metrics.uncertainty import difference, spread

__all__ = ["Pattern", "group_patterns", "pattern_differences", "pattern_table"]

BAND_NOTE = ("Each pattern: the mean over its seeds and, in brackets, the 95% interval of the mean; a day that never "
             "came (no failure, no recovery) is not averaged and is counted as 'never'. A difference is within noise "
             "when the 95% interval of the difference of means (Welch) includes 0.")


@dataclass
class Pattern:
    """A scenario (one scenario hash) and its runs, one per seed."""

    label: str
    runs: list[str] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)

    @property
    def title(self) -> str:
        return f"{self.label} ({len(self.runs)} seed{'s' if len(self.runs) != 1 else ''})"

    def values(self, key: str) -> list[float]:
        return [float("nan") if r.get(key) is None else r.get(key) for r in self.rows if key in r]


def group_patterns(runs: list[tuple[str, dict, dict]]) -> list[Pattern]:
    """``runs``: ``(run label, manifest, summary row)``; one pattern per scenario hash (the name when
    there is no hash), in order of first appearance, labelled by scenario name (and by its first run's
    label when another pattern has the same name: the same scenario with other settings).

    >>> ps = group_patterns([("a1", {"scenario": "a", "scenario_hash": "x"}, {"fill_of_need": 0.5}),
    ...                      ("b1", {"scenario": "b", "scenario_hash": "y"}, {"fill_of_need": 0.6}),
    ...                      ("a2", {"scenario": "a", "scenario_hash": "x"}, {"fill_of_need": 0.7})])
    >>> [(p.label, p.runs) for p in ps]
    [('a', ['a1', 'a2']), ('b', ['b1'])]
    """
    groups: dict[str, Pattern] = {}
    for label, manifest, row in runs:
        key = str(manifest.get("scenario_hash") or manifest.get("scenario") or label)
        if key not in groups:
            name = str(manifest.get("scenario") or label)
            taken = any(p.label.split(" (")[0] == name for p in groups.values())
            groups[key] = Pattern(name if not taken else f"{name} ({label})")   # same name, other settings
        groups[key].runs.append(label)
        groups[key].rows.append(row)
    return list(groups.values())


def pattern_table(patterns: list[Pattern]) -> pd.DataFrame:
    """Rows: headline figures (label, unit); columns: patterns; cells: mean [95% band] over seeds."""
    figs = headline_keys([r for p in patterns for r in p.rows])
    data = {p.title: [format_spread(f.key, spread(p.values(f.key))) if any(f.key in r for r in p.rows) else "-"
                      for f in figs] for p in patterns}
    return pd.DataFrame(data, index=pd.Index([f"{f.label} [{f.unit}]" for f in figs], name="figure"))


def pattern_differences(patterns: list[Pattern], reference: Pattern | None = None) -> pd.DataFrame:
    """Each other pattern minus the reference (the first by default), with better / worse and noise."""
    ref = reference or patterns[0]
    others = [p for p in patterns if p is not ref]
    figs = [f for f in headline_keys([r for p in patterns for r in p.rows]) if f.direction != 0]
    data = {}
    for p in others:
        cells = []
        for f in figs:
            a, b = spread(ref.values(f.key)), spread(p.values(f.key))
            if a.never or b.never or a.n == 0 or b.n == 0:
                cells.append("-" if a.n + b.n == 0 else "not comparable (never in some seeds)")
            else:
                cells.append(format_difference(f.key, difference(a, b)))
        data[f"{p.label} - {ref.label}"] = cells
    return pd.DataFrame(data, index=pd.Index([f"{f.label} [{f.unit}]" for f in figs], name="figure"))
