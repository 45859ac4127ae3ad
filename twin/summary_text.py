"""The lines ``twin run`` prints about a finished run: size, service, and what the run was about
(the worst day only when a day fell short; the safety net when anyone called it)."""

from __future__ import annotations

import math
from typing import Mapping

__all__ = ["summary_lines"]

#: a day at or above this fill of need is a day without shortfall
FULL_SERVICE = 0.9995


def summary_lines(summary: Mapping[str, float], manifest: Mapping, name: str) -> list[str]:
    """What ``twin run`` prints after a run (without the ``wrote`` line).

    >>> s = {"market_service_level": 1.0, "fill_of_need": 1.0, "shortfall_person_days": 0.0, "min_fill_day": 10,
    ...      "min_fill_of_need": 1.0}
    >>> summary_lines(s, {"days": 30, "communities": 4, "nodes": 9, "wall_s": 0.21}, "calm")[1]
    'fill of need 1.000 (every day fully fed), shortfall 0 person-days, market service level 1.000'
    >>> s.update(fill_of_need=0.9, min_fill_of_need=0.5, min_fill_day=12, n_requests=120, served_requests=90,
    ...          abandoned_requests=20, dropped_requests=10, response_time_p95_h=30.25)
    >>> summary_lines(s, {"days": 30, "communities": 4, "nodes": 9, "wall_s": 0.21}, "x")[1:]
    ['fill of need 0.900 (worst day 12: 0.500), shortfall 0 person-days, market service level 1.000', 'safety net: 120 requests, 90 served (75.0%), 20 abandoned, 10 dropped, 95% served within 30.2 h']
    """
    m, s = manifest, summary
    lines = [f"{name}: {m['days']} days, {m['communities']} communities, {m['nodes']} nodes, {m['wall_s']:.1f} s"]
    worst = (f"worst day {s['min_fill_day']}: {s['min_fill_of_need']:.3f}"
             if s["min_fill_of_need"] < FULL_SERVICE else "every day fully fed")
    lines.append(f"fill of need {s['fill_of_need']:.3f} ({worst}), shortfall {s['shortfall_person_days']:,.0f} "
                 f"person-days, market service level {s['market_service_level']:.3f}")
    n = s.get("n_requests") or 0
    if n:
        served = s.get("served_requests", 0)
        p95 = s.get("response_time_p95_h", math.nan)
        within = f", 95% served within {p95:.1f} h" if p95 == p95 else ""
        lines.append(f"safety net: {n:,.0f} requests, {served:,.0f} served ({served / n:.1%}), "
                     f"{s.get('abandoned_requests', 0):,.0f} abandoned, {s.get('dropped_requests', 0):,.0f} dropped"
                     f"{within}")
    return lines
