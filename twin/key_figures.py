"""``twin.key_figures``: a run's summary as a tidy table, one row per figure, with unit and meaning."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from twin.recording.columns import column_info

__all__ = ["key_figures"]


def key_figures(results: Any, labels: Sequence[str] | None = None) -> pd.DataFrame:
    """Every column of a run's summary as a row: ``metric, value, unit, description``.

    ``results``: what :func:`twin.run` or :func:`twin.load_results` returns, a run folder, or a
    list of them; with a list, a first column ``run`` holds each run's label (``labels``, else the
    scenario's name, with the seed when names repeat). Units and descriptions are those declared in
    :mod:`twin.recording.columns` (``twin columns summary``). Pivot to compare runs side by side:
    ``kf.pivot(index="metric", columns="run", values="value")``.

    >>> import twin
    >>> kf = twin.key_figures(twin.run("scenarios/tiny/one_of_each.toml", days=3))
    >>> kf.set_index("metric").loc["need_kg", ["unit", "description"]].tolist()
    ['kg', 'what residents needed to eat, over the run']
    """
    if isinstance(results, (list, tuple)):
        items = [_load(r) for r in results]
        if labels is not None and len(labels) != len(items):
            raise ValueError(f"labels: {len(labels)} given for {len(items)} runs")
        names = list(labels) if labels is not None else _labels(items)
        frames = [_one(r).assign(run=n) for r, n in zip(items, names)]
        out = pd.concat(frames, ignore_index=True)
        return out[["run", "metric", "value", "unit", "description"]]
    return _one(_load(results))


def _load(res: Any) -> Any:
    if isinstance(res, (str, Path)):
        from twin.api import load_results
        return load_results(res)
    return res


def _summary(res: Any) -> tuple[pd.DataFrame, dict]:
    if isinstance(res, pd.DataFrame):
        return res, {}
    summary = res["summary"]
    manifest = dict(getattr(res, "manifest", None) or summary.attrs.get("manifest", {}))
    return summary, manifest


def _one(res: Any) -> pd.DataFrame:
    summary, _ = _summary(res)
    if len(summary) != 1:
        raise ValueError(f"a run's summary has one row; got {len(summary)} (a sweep? use twin.sweep.load_sweep)")
    rows = []
    for col in summary.columns:
        try:
            unit, text = column_info("summary", col)
        except KeyError:
            unit = summary.attrs.get("units", {}).get(col, "")
            text = summary.attrs.get("descriptions", {}).get(col, "")
        value = summary[col].iloc[0]
        rows.append({"metric": col, "value": float(value) if value is not None else float("nan"),
                     "unit": unit, "description": text})
    return pd.DataFrame(rows, columns=["metric", "value", "unit", "description"])


def _labels(items: list) -> list[str]:
    manifests = [_summary(r)[1] for r in items]
    names = [str(m.get("scenario", f"run {i + 1}")) for i, m in enumerate(manifests)]
    out = [n if names.count(n) == 1 else f"{n} (seed {m.get('seed', i)})"
           for i, (n, m) in enumerate(zip(names, manifests))]
    return [lab if out.count(lab) == 1 else f"{lab} [{i + 1}]" for i, lab in enumerate(out)]
