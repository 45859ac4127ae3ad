"""The story of a shipped scenario by phase, as a logistics or food-security expert reads it first.

    python bench/story.py scenarios/outbreak_lockdown.toml [--population N] [--days D] [--seed S]

Prints, for each phase of the run (split at the scenario's shock, lockdown and regime days): fill of
need, where food came from (channels, share of need), stock by tier (days of the city's need),
households' pantry (days), the market price index (mean over categories and districts), the
workers at work, and online orders: median and worst 95th-percentile lead time (hours), the share
cancelled and the backlog at the day's end (days of a normal day's orders). Reads only what ``twin.run`` returns.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

import twin

TIERS = {0: "bases", 1: "edge", 2: "hubs", 3: "sorting", 4: "outlets"}


def phases(res, days: int) -> list[tuple[int, int]]:
    ev = res["events"]
    marks = {0, days}
    for e in ("lockdown_static_start", "lockdown_static_end", "lockdown_limited_start", "regime_switch"):
        marks |= set(ev.loc[ev["event"] == e, "t_day"].astype(int))
    marks = sorted(m for m in marks if 0 <= m <= days)
    return [(a, b) for a, b in zip(marks[:-1], marks[1:]) if b > a]


def story(path: str, population: int | None, days: int | None, seed: int) -> pd.DataFrame:
    over = {"city.population": population} if population else {}
    res = twin.run(path, seed=seed, days=days, overrides=over)
    days = int(res["communities"]["t_day"].max()) + 1
    c = res["communities"].groupby("t_day").sum(numeric_only=True)
    need = c["need_kg"]
    nodes = res["nodes"]
    stock = nodes.pivot_table(index="t_day", columns="tier", values="stock_kg", aggfunc="sum", observed=True)
    price = res["prices"].groupby("t_day")["price_index"].mean()
    regime = res["city"].set_index("t_day")["regime"].astype(str)
    w = res["workforce"]
    sup = w[w["role"] != "volunteers"].groupby("t_day")[["active", "headcount"]].sum()
    city = res["city"].set_index("t_day")
    normal_orders = float(city["orders_placed"].iloc[1:4].mean())   # a normal day's online orders
    rows = []
    for a, b in phases(res, days):
        sl = slice(a, b - 1)
        n = need.loc[sl].sum()
        row = {"days": f"{a}-{b - 1}", "regime": regime.loc[sl].mode().iat[0],
               "fill": c.loc[sl, "consumed_kg"].sum() / n}
        for ch in ("offline", "online", "gate", "group", "unified", "safety_net"):
            col = f"delivered_{ch}_kg"
            if col in c:
                row[ch] = c.loc[sl, col].sum() / n
        per_day = need.loc[sl].mean()
        for t, name in TIERS.items():
            if t in stock:
                row[f"stock_{name}_d"] = stock.loc[sl, t].mean() / per_day
        row["pantry_d"] = (c.loc[sl, "hh_stock_days"] * 0).sum() if False else np.nan
        row["price"] = price.loc[sl].mean()
        row["workers"] = (sup.loc[sl, "active"] / sup.loc[sl, "headcount"]).mean()
        o = city.loc[sl]
        settled = o["orders_delivered"].sum() + o["orders_cancelled"].sum()
        row["lead_p50_h"] = o["orders_lead_time_p50_h"].median()
        row["lead_p95_h"] = o["orders_lead_time_p95_h"].max()
        row["cancel"] = o["orders_cancelled"].sum() / settled if settled > 0 else np.nan
        row["backlog_d"] = o["backlog_orders"].mean() / normal_orders if normal_orders > 0 else np.nan
        rows.append(row)
    out = pd.DataFrame(rows).set_index("days")
    pantry = res["communities"].assign(w=lambda d: d["hh_stock_days"] * d["population"]).groupby("t_day")
    pantry = pantry["w"].sum() / pantry["population"].sum()
    out["pantry_d"] = [pantry.loc[int(d.split("-")[0]):int(d.split("-")[1])].mean() for d in out.index]
    s = res["summary"].iloc[0]
    print(f"{path}: {s['fill_of_need']:.3f} of need eaten over {days} days")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario")
    ap.add_argument("--population", type=int, default=None)
    ap.add_argument("--days", type=int, default=None)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print(story(a.scenario, a.population, a.days, a.seed).round(2).to_string())


if __name__ == "__main__":
    main()
