"""The report page: plain HTML with inline CSS and base64 PNGs (no script, no network, opens offline)."""

from __future__ import annotations

import base64
import html
import math
import numbers
from typing import Sequence

import pandas as pd

__all__ = ["fmt", "img", "page", "section", "table"]

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
