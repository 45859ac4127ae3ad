"""The model's side of a target: a column of a run table, filtered, grouped by the target's keys and
aggregated (pure functions of the run's tables; see :class:`twin.calibrate.config.ModelOutput`)."""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa

from twin.calibrate.config import ModelOutput, Target

__all__ = ["model_output", "table_frame"]


def table_frame(table: pa.Table, output: ModelOutput, keys: list[str]) -> pd.DataFrame:
    """The columns of ``table`` an output reads (keys, filters, value columns), labels as text.

    A column the table does not have is a ``KeyError`` naming it and the table's columns.
    """
    wanted = list(dict.fromkeys([*keys, *output.columns(), *(["t_day"] if output.days else [])]))
    missing = [c for c in wanted if c not in table.column_names]
    if missing:
        raise KeyError(f"no column {missing[0]!r} in the {output.table} table (columns: {', '.join(table.column_names)})")
    frame = table.select(wanted).to_pandas()
    for c in frame.columns:
        if isinstance(frame[c].dtype, pd.CategoricalDtype):
            frame[c] = frame[c].astype(str)
    return frame


def model_output(tables: Mapping[str, pa.Table], target: Target) -> pd.DataFrame:
    """The model's figure for every key of ``target``: a frame of the keys (``t_day``, labels) and ``value``.

    >>> from twin.calibrate.config import Target
    >>> t = Target(name="fill", file="x.csv", by=["t_day"],
    ...            model={"table": "communities", "column": "consumed_kg", "per": "need_kg"})
    >>> tab = pa.table({"t_day": [0, 0, 1, 1], "consumed_kg": [1.0, 2.0, 3.0, 1.0], "need_kg": [2.0, 2.0, 2.0, 2.0]})
    >>> model_output({"communities": tab}, t)
       t_day  value
    0      0   0.75
    1      1   1.00
    """
    out = target.model
    keys = ["t_day" if k == "date" else k for k in target.by]
    frame = table_frame(tables[out.table], out, keys)
    mask = np.ones(len(frame), bool)
    for col, allowed in out.where.items():
        values = allowed if isinstance(allowed, list) else [allowed]
        series = frame[col]
        if series.dtype == object or pd.api.types.is_string_dtype(series):
            mask &= series.isin([str(v) for v in values]).to_numpy()
        else:
            mask &= series.isin(values).to_numpy()
    if out.days is not None:
        mask &= ((frame["t_day"] >= out.days[0]) & (frame["t_day"] <= out.days[1])).to_numpy()
    frame = frame[mask]
    value = frame[out.column].astype(float)
    if out.per is not None:
        num, den = value, frame[out.per].astype(float)
    elif out.weight is not None:
        w = frame[out.weight].astype(float)
        num, den = value * w, w
    else:
        num, den = value, None
    if den is not None:
        parts = pd.DataFrame({**{k: frame[k] for k in keys}, "num": num, "den": den})
        sums = parts.groupby(keys, sort=True)[["num", "den"]].sum() if keys else parts[["num", "den"]].sum().to_frame().T
        result = (sums["num"] / sums["den"].where(sums["den"] != 0)).rename("value")
    else:
        parts = pd.DataFrame({**{k: frame[k] for k in keys}, "value": num})
        result = parts.groupby(keys, sort=True)["value"].agg(out.agg) if keys else \
            pd.Series([parts["value"].agg(out.agg) if len(parts) else np.nan], name="value")
    result = result * out.scale
    if keys:
        return result.reset_index()
    return pd.DataFrame({"value": [float(result.iloc[0])]})
