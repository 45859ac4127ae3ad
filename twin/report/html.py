"""The report page: plain HTML with inline CSS and base64 PNGs (no script, no network, opens offline)."""

from __future__ import annotations

import base64
import html
import math
import numbers
from typing import Sequence

import pandas as pd

__all__ = ["HEADLINE", "fmt", "img", "page", "section", "table"]

#: headline rows: (summary key, label, format); a row shows when any run has the key
HEADLINE: list[tuple[str, str, str]] = [
    ("service_level", "Service level over the run (delivered / demand)", "{:.3f}"),
    ("fill_of_need", "Fill of need (consumed / need)", "{:.3f}"),
    ("shortfall_person_days", "Food missing on the table (person-days)", "{:,.0f}"),
    ("min_service_level", "Worst day's service level", "{:.3f}"),
    ("min_service_day", "Worst day", "{:g}"),
    ("shock_start_day", "Shock starts (day)", "day"),
    ("pre_shock_service_level", "Pre-shock service level", "{:.3f}"),
    ("time_to_failure_days", "Shock to first failure (days)", "day"),
    ("recovery_days", "Shock to recovery at 95% (days)", "day"),
    ("resilience_loss_person_days", "Resilience-triangle loss (person-days)", "{:,.0f}"),
    ("peak_failed_nodes_tier0", "Peak failed bases (tier 0)", "{:g}"),
    ("peak_failed_nodes_tier1", "Peak failed transfer stations (tier 1)", "{:g}"),
    ("peak_failed_nodes_tier2", "Peak failed hubs and reserves (tier 2)", "{:g}"),
    ("peak_failed_nodes_tier3", "Peak failed sorting centres (tier 3)", "{:g}"),
    ("peak_failed_nodes_tier4", "Peak failed outlets (tier 4)", "{:g}"),
    ("peak_cascade_depth", "Peak cascade depth (layers)", "{:g}"),
    ("tier_down_days", "Days any tier was down", "{:g}"),
    ("n_shock_episodes", "Shock episodes", "{:g}"),
    ("second_over_first_loss_ratio", "Loss in 2nd shock / 1st", "{:.3f}"),
    ("evolvability", "Evolvability (1 - loss ratio)", "{:.3f}"),
    ("n_switches", "Regime switches and policy changes", "{:g}"),
    ("first_switch_delay_days", "Shock to first switch (days)", "day"),
    ("switch_gain_level", "Service gained after switches (mean)", "{:+.3f}"),
    ("days_emergency", "Days in emergency regime", "{:g}"),
    ("days_extreme", "Days in extreme regime", "{:g}"),
    ("gini_fulfilment", "Gini of fulfilment across communities", "{:.3f}"),
    ("min_district_service_level", "Worst district-day service level", "{:.3f}"),
    ("food_insecure_person_days", "Food-insecure person-days", "{:,.0f}"),
    ("peak_price_index", "Peak price index", "{:.2f}"),
    ("peak_price_paid_index", "Peak price paid index", "{:.2f}"),
    ("response_time_p50_h", "Safety-net response P50 (h)", "{:.1f}"),
    ("response_time_p95_h", "Safety-net response P95 (h)", "{:.1f}"),
    ("abandoned_requests", "Abandoned requests", "{:,.0f}"),
    ("dropped_requests", "Dropped requests", "{:,.0f}"),
    ("min_active_workforce_share", "Lowest share of workers at work", "{:.3f}"),
    ("peak_infectious", "Peak infectious workers", "{:,.0f}"),
    ("peak_quarantined", "Peak quarantined workers", "{:,.0f}"),
]

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Liberation Sans',sans-serif;margin:24px auto;
max-width:1180px;color:#1d2430;background:#fff;line-height:1.45}
h1{font-size:1.6em;margin-bottom:0}h2{border-bottom:1px solid #ccd;padding-bottom:4px;margin-top:2em}
table{border-collapse:collapse;margin:8px 0;font-size:0.9em}th,td{border:1px solid #ccd;padding:3px 8px}
th{background:#eef1f6;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}
img{max-width:100%;border:1px solid #eee}nav a{margin-right:12px}.note{color:#667;font-style:italic}
.swatch{display:inline-block;width:12px;height:12px;margin-right:6px;vertical-align:middle}
"""


def fmt(value, spec: str = "{:g}") -> str:
    """A number for a table with ``spec`` (a format, ``day``: ``never`` for inf, ``diff``: signed),
    ``-`` for missing or NaN."""
    if value is None or (_is_num(value) and math.isnan(value)):
        return "-"
    if _is_num(value) and math.isinf(value):
        return "never" if spec == "day" else ("inf" if value > 0 else "-inf")
    if _is_num(value) and spec == "diff":
        return f"{value:+,.0f}" if abs(value) >= 1000 else f"{value:+.4g}"
    if _is_num(value):
        return ("{:g}" if spec == "day" else spec).format(value)
    return str(value)


def _is_num(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def table(frame: pd.DataFrame, formats: dict[str, str] | None = None, index: bool = True) -> str:
    """An HTML table of ``frame`` (numbers right-aligned, formatted with ``formats`` by column)."""
    formats = formats or {}
    head = ([html.escape(str(frame.index.name or ""))] if index else []) + [html.escape(str(c)) for c in frame.columns]
    rows = []
    for key, row in frame.iterrows():
        cells = [f"<th>{html.escape(str(key))}</th>"] if index else []
        for col, v in row.items():
            is_num = _is_num(v)
            text = fmt(v, formats.get(col, "{:,.4g}")) if is_num else html.escape(str(v))
            cells.append(f'<td class="num">{text}</td>' if is_num else f"<td>{text}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return "<table><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>" + "".join(rows) + "</table>"


def img(png: bytes, alt: str) -> str:
    """An embedded PNG."""
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'


def section(anchor: str, title: str, body: Sequence[str]) -> str:
    """A titled section with an anchor."""
    return f'<section id="{anchor}"><h2>{html.escape(title)}</h2>\n' + "\n".join(body) + "</section>"


def page(title: str, sections: list[tuple[str, str, str]], subtitle: str = "") -> str:
    """The whole page: ``sections`` are (anchor, title, html) in order, with a table of contents."""
    nav = "".join(f'<a href="#{a}">{html.escape(t)}</a>' for a, t, _ in sections)
    body = "\n".join(s for _, _, s in sections)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>\n"
            f"<h1>{html.escape(title)}</h1><p>{html.escape(subtitle)}</p><nav>{nav}</nav>\n{body}\n</body></html>\n")
