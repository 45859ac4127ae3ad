"""Calibration of scenario fields to observed series and tables (``twin calibrate``, docs/calibration.md).

    twin calibrate scenarios/calibration/supply_cut_town.toml --out results/calibrations/town

From Python: :func:`calibrate` (run or resume; returns a :class:`CalibrationReport`),
:func:`read_calibration` (validate a file and read its targets), :func:`load_trials` (the trials
of a calibration folder as a DataFrame).
"""

from __future__ import annotations

from twin.calibrate.config import CalibrationSpec, read_calibration
from twin.calibrate.run import CalibrationReport, calibrate, load_trials

__all__ = ["CalibrationReport", "CalibrationSpec", "calibrate", "load_trials", "read_calibration"]
