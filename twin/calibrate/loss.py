"""The loss of a trial: each target's error of the model against the observations, normalised, and
their weighted sum (pure functions).

A target's error is taken over its keys (days, labels): the root mean square (``rmse``) or mean
absolute (``mae``) difference between the model's figure (the mean over the trial's replicates)
and the observed one, divided by the target's mean absolute value, range or standard deviation
(``normalise``), so targets of different units can be added. The total is the weighted sum of the
targets' errors (``weight`` of each target).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from twin.calibrate.config import Target, normaliser

__all__ = ["MissingOutput", "align", "replicate_mean", "target_error", "total_loss"]


class MissingOutput(ValueError):
    """The model gave no figure (or NaN) for a key of a target: the trial cannot be scored."""


def replicate_mean(frames: Sequence[pd.DataFrame], keys: list[str]) -> pd.DataFrame:
    """The mean over replicates of a target's model output, key by key.

    >>> a = pd.DataFrame({"t_day": [0, 1], "value": [1.0, 2.0]})
    >>> b = pd.DataFrame({"t_day": [0, 1], "value": [3.0, 2.0]})
    >>> replicate_mean([a, b], ["t_day"])["value"].tolist()
    [2.0, 2.0]
    """
    stack = pd.concat(frames, ignore_index=True)
    if not keys:
        return pd.DataFrame({"value": [float(stack["value"].mean(skipna=False))]})
    return stack.groupby(keys, sort=True)["value"].agg(lambda v: v.mean(skipna=False)).reset_index()


def align(observed: pd.DataFrame, model: pd.DataFrame, keys: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Observed and model values on the observed keys; a key the model lacks (or NaN) is :class:`MissingOutput`."""
    if not keys:
        obs, mod = observed["value"].to_numpy(float), model["value"].to_numpy(float)[:1]
    else:
        joined = observed.merge(model, on=keys, how="left", suffixes=("_obs", "_mod"))
        obs, mod = joined["value_obs"].to_numpy(float), joined["value_mod"].to_numpy(float)
        if np.isnan(mod).any():
            i = int(np.flatnonzero(np.isnan(mod))[0])
            at = ", ".join(f"{k}={joined[k].iloc[i]}" for k in keys)
            raise MissingOutput(f"the model has no figure at {at}")
    if len(mod) != len(obs) or np.isnan(mod).any():
        raise MissingOutput("the model has no figure")
    return obs, mod


def target_error(observed: np.ndarray, model: np.ndarray, metric: str = "rmse", normalise: str = "mean") -> float:
    """The normalised error of ``model`` against ``observed``.

    >>> target_error(np.array([1.0, 3.0]), np.array([2.0, 2.0]))            # rmse 1 / mean 2
    0.5
    >>> target_error(np.array([1.0, 3.0]), np.array([1.0, 4.0]), "mae", "none")
    0.5
    """
    diff = np.asarray(model, float) - np.asarray(observed, float)
    err = float(np.sqrt(np.mean(diff ** 2))) if metric == "rmse" else float(np.mean(np.abs(diff)))
    return err / normaliser(np.asarray(observed, float), normalise)


def total_loss(errors: Mapping[str, float], targets: Sequence[Target]) -> float:
    """The weighted sum of the targets' errors.

    >>> from twin.calibrate.config import Target
    >>> ts = [Target(name="a", file="a.csv", weight=2.0, model={"table": "summary", "column": "x"}),
    ...       Target(name="b", file="b.csv", model={"table": "summary", "column": "y"})]
    >>> total_loss({"a": 0.1, "b": 0.3}, ts)
    0.5
    """
    return float(sum(t.weight * errors[t.name] for t in targets))
