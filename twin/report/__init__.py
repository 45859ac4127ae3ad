"""Run reports: one self-contained HTML file (figures embedded as base64 PNG) plus the PNG files.

    twin report RUN_DIR... [--out FILE.html] [--baseline RUN_DIR]

>>> from twin.report import build_report
>>> build_report(["results/supply_shock"], "shock.html")   # doctest: +SKIP
"""

from __future__ import annotations

from twin.report.build import build_report
from twin.report.figures import FIGURES

__all__ = ["FIGURES", "build_report"]
