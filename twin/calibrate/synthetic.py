"""Synthetic truth: target files made by a run with known field values.

Before fitting real data, check that the targets can tell the fields apart: make targets from a run
with values you choose, calibrate against them and see whether the values come back (the test
``tests/test_calibrate.py`` does this; the worked example's data were made this way).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from twin.calibrate.config import CalibrationSpec, Target
from twin.calibrate.outputs import model_output

__all__ = ["synthetic_targets", "write_synthetic_targets"]


def synthetic_targets(spec: CalibrationSpec, base: Mapping[str, Any], values: Mapping[str, Any], seed: int,
                      days: int | None = None) -> dict[str, pd.DataFrame]:
    """Each target of ``spec`` as one run of ``base`` with the fields at ``values`` (``{field: value}``)
    and ``seed`` would show it: frames in the target file's form (its ``by`` columns, dates as
    YYYY-MM-DD, and its ``value`` column)."""
    import twin
    days = days or spec.days or int(base["run"]["days"])
    res = twin.run(dict(base), seed=seed, days=days, overrides={**spec.set, **values})
    start = dt.date.fromisoformat(str(res.manifest["start_date"]))
    return {t.name: _as_file(model_output(res.tables, t), t, start) for t in spec.targets}


def write_synthetic_targets(spec: CalibrationSpec, base: Mapping[str, Any], values: Mapping[str, Any], seed: int,
                            folder: str | Path, days: int | None = None) -> list[Path]:
    """Write :func:`synthetic_targets` as the target files (CSV) named by ``spec``, relative to ``folder``."""
    frames = synthetic_targets(spec, base, values, seed, days)
    written = []
    for t in spec.targets:
        path = Path(folder) / t.file
        path.parent.mkdir(parents=True, exist_ok=True)
        frames[t.name].to_csv(path, index=False, float_format="%.6g")
        written.append(path)
    return written


def _as_file(frame: pd.DataFrame, target: Target, start: dt.date) -> pd.DataFrame:
    out = pd.DataFrame()
    for key in target.by:
        if key == "date":
            out["date"] = [(start + dt.timedelta(days=int(d))).isoformat() for d in frame["t_day"]]
        else:
            out[key] = frame[key].to_numpy()
    out[target.value] = frame["value"].to_numpy(float)
    return out
