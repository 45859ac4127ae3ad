"""Tools for property-based tests against the twin: Hypothesis strategies and invariant checks.

A user's test looks like::

    from hypothesis import given, settings
    import twin
    from twin.testing import scenarios, check_invariants

    @settings(max_examples=20, deadline=None)
    @given(sc=scenarios(), seed=seeds())
    def test_my_city_never_loses_food(sc, seed):
        check_invariants(twin.run(sc, seed=seed, days=15))

:func:`scenarios` draws small valid generated cities (and, with ``explicit=True``, hand-built
chains) with random shocks; :func:`check_invariants` raises ``AssertionError`` naming the table,
row and quantity of the first broken identity.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from hypothesis import strategies as st

from twin.scenario import Scenario, parse_scenario

__all__ = ["check_invariants", "check_requests", "check_residents", "explicit_chains", "generated_cities", "requests_by_day", "scenarios",
           "seeds", "shocks"]

_NODE_TARGETS = ["sorting_centre", "supermarket", "wet_market", "front_warehouse", "transit_warehouse",
                 "wholesale_market", "out_of_province_base", "suburban_base"]


def seeds() -> st.SearchStrategy[int]:
    """Run seeds."""
    return st.integers(min_value=0, max_value=2**32 - 1)


@st.composite
def shocks(draw, max_day: int = 15) -> dict[str, Any]:
    """One shock of any kind, as scenario data, targeting node kinds (valid in any generated city)."""
    kind = draw(st.sampled_from(["closure", "capacity", "supply_cut", "demand_surge", "reserve_release",
                                 "confinement", "reinforcement", "price_cap", "fair_price", "subsidy",
                                 "anti_hoarding", "transport", "panic_buying"]))
    start = draw(st.integers(0, max_day - 1))
    end = draw(st.integers(start + 1, max_day + 5))
    spec: dict[str, Any] = {"kind": kind, "start_day": start, "end_day": end}
    if kind in ("closure", "capacity", "confinement", "reinforcement", "transport"):
        spec["kinds"] = [draw(st.sampled_from(_NODE_TARGETS))]
        spec["count"] = draw(st.integers(1, 3))
    if kind in ("confinement", "reinforcement"):
        spec["roles"] = draw(st.lists(st.sampled_from(["staff", "drivers", "couriers"]), max_size=2, unique=True))
    if kind in ("capacity", "supply_cut", "confinement", "transport"):
        spec["factor"] = draw(st.floats(0.0, 1.0))
    if kind == "transport":
        spec["roles"] = draw(st.lists(st.sampled_from(["drivers", "couriers"]), max_size=2, unique=True))
    if kind == "panic_buying":
        spec["panic_share"] = draw(st.floats(0.0, 1.0))
        spec["panic_stock_days"] = draw(st.floats(0.0, 14.0))
    if kind == "reinforcement":
        spec["factor"] = draw(st.floats(0.0, 1.0))
    if kind == "demand_surge":
        spec["factor"] = draw(st.floats(1.0, 3.0))
    if kind == "price_cap":
        spec["factor"] = draw(st.floats(1.0, 3.0))
    if kind in ("fair_price", "subsidy"):
        spec["factor"] = draw(st.floats(0.0, 1.0))
    if kind in ("price_cap", "fair_price", "subsidy"):
        spec["categories"] = draw(st.lists(st.sampled_from(["rice", "vegetables", "meat"]), max_size=2, unique=True))
    return spec


@st.composite
def generated_cities(draw, max_population: int = 40_000, max_shocks: int = 3) -> dict[str, Any]:
    """Scenario data of a small generated city (1-3 districts) with up to ``max_shocks`` shocks."""
    population = draw(st.integers(500, max_population))
    data: dict[str, Any] = {
        "name": "hypothesis_city",
        "city": {
            "population": population,
            "n_districts": draw(st.integers(1, 3)),
            "mean_compound_size": draw(st.integers(200, 3000)),
            "elderly_share": draw(st.floats(0.0, 0.5)),
            "offline_share": draw(st.floats(0.0, 0.5)),
            "household_stock_days": draw(st.floats(0.0, 7.0)),
            "layout_seed": draw(st.integers(0, 1000)),
        },
        "network": {
            "n_out_of_province_bases": draw(st.integers(1, 3)),
            "n_suburban_bases": draw(st.integers(0, 2)),
            "n_transit_warehouses": draw(st.integers(1, 2)),
            "n_wholesale_markets": draw(st.integers(0, 2)),
            "n_sorting_centres": draw(st.integers(1, 3)),
            "use_transfer_stations": draw(st.booleans()),
            "transfer_stations": draw(st.integers(1, 2)),
            "capacity_factor": draw(st.floats(0.5, 2.0)),
            "supply_factor": draw(st.floats(0.5, 1.5)),
        },
        "households": {"online_share": draw(st.floats(0.0, 1.0)),
                       "demand_noise_cv": draw(st.floats(0.0, 0.3)),
                       "panic_share": draw(st.floats(0.0, 1.0)),
                       "panic_stock_days": draw(st.floats(0.0, 14.0))},
        "prices": {"hoarding_propensity": draw(st.floats(0.0, 1.0)),
                   "max_rise_per_day": draw(st.floats(0.0, 1.0)),
                   "floor_index": draw(st.floats(0.1, 1.0)),
                   "ceiling_index": draw(st.floats(1.0, 10.0))},
        "shocks": draw(st.lists(shocks(), max_size=max_shocks)),
    }
    if draw(st.booleans()):
        data["epidemic"] = draw(epidemics())
    n_d = data["city"]["n_districts"]
    data["lockdowns"] = draw(st.lists(lockdowns([f"district_{i + 1:02d}" for i in range(n_d)]), max_size=2))
    return data


@st.composite
def epidemics(draw, max_days: int = 20) -> dict[str, Any]:
    """An ``[epidemic]`` section with an inline incidence series and random levers."""
    return {
        "incidence_per_100k": draw(st.lists(st.floats(0.0, 500.0), max_size=max_days)),
        "work_beta": draw(st.floats(0.0, 1.5)),
        "initial_infected_share": draw(st.floats(0.0, 0.2)),
        "routine_test_interval_days": draw(st.sampled_from([0.0, 1.0, 3.0])),
        "quarantine_days": draw(st.floats(1.0, 14.0)),
        "contacts_per_case": draw(st.floats(0.0, 10.0)),
        "dormitory_cluster_size": draw(st.floats(0.0, 50.0)),
        "closure_days_on_case": draw(st.floats(0.0, 5.0)),
        "closure_case_share": draw(st.floats(0.0, 0.2)),
        "bubble_kinds": draw(st.lists(st.sampled_from(_NODE_TARGETS), max_size=2, unique=True)),
        "pass_share": draw(st.floats(0.0, 1.0)),
        "entry_quarantine_days": draw(st.floats(0.0, 10.0)),
    }


@st.composite
def lockdowns(draw, districts: list[str], max_day: int = 15) -> dict[str, Any]:
    """A ``[[lockdowns]]`` entry over some of ``districts``."""
    start = draw(st.integers(0, max_day - 1))
    announce = draw(st.one_of(st.none(), st.integers(0, start)))
    grid = draw(st.one_of(st.none(), st.floats(0.05, 1.0)))   # a grid lockdown: a share of the compounds
    return {"level": draw(st.sampled_from(["normal", "limited", "static"])),
            **({"announce_day": announce} if announce is not None else {}),
            **({"compound_share": grid} if grid is not None else {}),
            "districts": draw(st.lists(st.sampled_from(districts), max_size=len(districts), unique=True)),
            "start_day": start, "end_day": draw(st.integers(start + 1, max_day + 5)),
            "trips_every_days": draw(st.floats(1.0, 7.0)), "online_share": draw(st.floats(0.0, 1.0)),
            "close_outlets": draw(st.booleans())}


@st.composite
def explicit_chains(draw) -> dict[str, Any]:
    """Scenario data of a hand-built chain: base -> hub -> sorter -> 1-3 outlets, 1-3 compounds."""
    n_out = draw(st.integers(1, 3))
    n_comm = draw(st.integers(1, 3))
    limited = draw(st.booleans())

    def staff() -> dict[str, float]:
        return {"staff": draw(st.floats(0.0, 5.0))} if limited else {}

    nodes = [{"id": "base", "kind": "out_of_province_base",
              "production_kg_per_day": draw(st.floats(0.0, 20_000.0))},
             {"id": "hub", "kind": "transit_warehouse", **staff()},
             {"id": "sorter", "kind": "sorting_centre", **staff()}]
    nodes += [{"id": f"shop{i}", "kind": "supermarket", **staff()} for i in range(n_out)]
    nodes.append({"id": "dark", "kind": "front_warehouse", **staff()})
    links = [{"src": "base", "dst": "hub", "travel_h": draw(st.floats(0.25, 30.0))},
             {"src": "hub", "dst": "sorter", "travel_h": draw(st.floats(0.25, 5.0))},
             {"src": "sorter", "dst": "dark", "travel_h": 0.5}]
    links += [{"src": "sorter", "dst": f"shop{i}", "travel_h": draw(st.floats(0.25, 4.0))} for i in range(n_out)]
    comms = [{"id": f"c{k}", "district": "d", "population": draw(st.integers(1, 5000)),
              "outlets": draw(st.lists(st.sampled_from([f"shop{i}" for i in range(n_out)]), min_size=0,
                                       max_size=n_out, unique=True)),
              "front_warehouse": draw(st.sampled_from(["dark", None])),
              "household_stock_days": draw(st.floats(0.0, 5.0))} for k in range(n_comm)]
    comms = [{k: v for k, v in c.items() if v is not None} for c in comms]
    sh = draw(st.lists(st.builds(lambda node, a, b: {"kind": "closure", "nodes": [node], "start_day": a,
                                                     "end_day": a + b},
                                 st.sampled_from([n["id"] for n in nodes]), st.integers(0, 10),
                                 st.integers(1, 10)), max_size=2))
    return {"name": "hypothesis_chain", "city": {"communities": comms},
            "network": {"nodes": nodes, "links": links}, "shocks": sh}


def scenarios(explicit: bool = True, **kwargs) -> st.SearchStrategy[Scenario]:
    """Valid small :class:`Scenario` objects: generated cities, and hand-built chains if ``explicit``."""
    data = generated_cities(**kwargs)
    if explicit:
        data = st.one_of(data, explicit_chains())
    return data.map(parse_scenario)


def check_invariants(result, rtol: float = 1e-9) -> None:
    """Assert the identities every run must satisfy.

    - mass balance on every ``balance`` row: inflow = consumed + spoiled + stock + in transit
      (relative ``rtol``);
    - no negative stock, flow or count in any table;
    - per community and day: delivered (offline + online) + unmet = demand; consumed <= need;
      shortfall = need - consumed; delivered <= demand;
    - cumulative columns never decrease;
    - every worker pool's compartments sum to its headcount, and no more work than its workers
      can do: a node's outflow never exceeds its handling capacity (active staff x productivity);
    - online orders (``orders``): placed = delivered + cancelled + backlog change per store and day,
      and couriers deliver no more than their capacity (:func:`check_orders`);
    - per resident group (``residents``, single precision): delivered <= demand, consumed <= need,
      shortfall = need - consumed; a compound's groups add up to its row of ``communities``
      (need, demand, every channel, consumed, spent);
    - safety-net requests (see :func:`check_requests`).
    """
    frames = result.frames() if hasattr(result, "frames") else result
    bal = frames["balance"]
    out = bal["cum_consumed_kg"] + bal["cum_spoiled_kg"] + bal["stock_kg"] + bal["in_transit_kg"]
    gap = (bal["cum_inflow_kg"] - out).abs() / np.maximum(bal["cum_inflow_kg"].abs(), 1.0)
    _require(gap <= rtol, bal, "mass balance broken (inflow != consumed + spoiled + stock + in transit)", "balance")
    for name, df in frames.items():
        for col in df.select_dtypes("number").columns:
            if name in ("events", "summary") and not col.endswith("_kg"):
                continue  # event factors and summary differences may be negative
            _require(df[col].fillna(0) >= -1e-9 * max(1.0, float(np.nanmax(np.abs(df[col].to_numpy(float)), initial=0))),
                     df, f"negative {col}", name)
    for col in ("cum_inflow_kg", "cum_consumed_kg", "cum_spoiled_kg"):
        steps = bal.sort_values("t_day").groupby("category", observed=True)[col].diff().fillna(0)
        _require(steps >= -1e-6, bal, f"{col} decreased", "balance")
    c = frames["communities"]
    delivered = c[[col for col in c.columns if col.startswith("delivered_") and col.endswith("_kg")]].sum(axis=1)
    tol = 1e-9 * np.maximum(c["demand_kg"].abs(), 1.0)
    _require((delivered + c["unmet_kg"] - c["demand_kg"]).abs() <= tol + 1e-6, c,
             "delivered + unmet != demand", "communities")
    _require(delivered <= c["demand_kg"] + tol + 1e-6, c, "delivered more than demand", "communities")
    _require(c["consumed_kg"] <= c["need_kg"] * (1 + 1e-9) + 1e-9, c, "consumed more than need", "communities")
    _require((c["need_kg"] - c["consumed_kg"] - c["shortfall_kg"]).abs() <= tol + 1e-6, c,
             "shortfall != need - consumed", "communities")
    if "residents" in frames:
        check_residents(frames["residents"], c)
    if "workforce" in frames:
        w = frames["workforce"]
        parts = w[["susceptible", "exposed", "infectious", "quarantined", "recovered"]].sum(axis=1)
        _require((parts - w["headcount"]).abs() <= 1e-6 * np.maximum(w["headcount"], 1.0), w,
                 "compartments do not sum to headcount", "workforce")
        _require(w["active"] <= w["headcount"] - w["quarantined"] + 1e-6 * np.maximum(w["headcount"], 1.0), w,
                 "more workers active than free", "workforce")
    n = frames["nodes"]
    slack = 1e-9 * np.maximum(n["outflow_kg"], 1.0) + 1e-6
    _require(n["outflow_kg"] <= n["capacity_kg_per_day"] + slack, n, "outflow above handling capacity", "nodes")
    if "orders" in frames:
        check_orders(frames["orders"], n)
    check_requests(frames)


def check_orders(orders: pd.DataFrame, nodes: pd.DataFrame) -> None:
    """Assert the identities of ``orders.parquet``: per store and day, placed = delivered +
    cancelled + (backlog - yesterday's backlog), in orders and in kg; orders = kg / kg per order;
    couriers deliver no more than their day's capacity (``nodes.courier_kg_per_day``)."""
    if orders.empty:
        return
    o = orders.sort_values(["node_id", "t_day"])
    for unit in ("orders", "kg"):
        cols = (("orders_placed", "orders_delivered", "orders_cancelled", "backlog_orders") if unit == "orders"
                else ("orders_placed_kg", "orders_delivered_kg", "orders_cancelled_kg", "backlog_kg"))
        placed, delivered, cancelled, backlog = (o[c].to_numpy(float) for c in cols)
        before = o.groupby("node_id", observed=True)[cols[3]].shift(1).fillna(0.0).to_numpy(float)
        gap = placed - delivered - cancelled - (backlog - before)
        scale = np.maximum.reduce([placed, delivered, backlog, before, np.ones(len(o))])
        _require(np.abs(gap) <= 1e-6 * scale, o, f"{unit} not conserved (placed != delivered + cancelled + "
                                                 "backlog change)", "orders")
    ratio = o["orders_placed"].to_numpy(float) * (o["orders_placed_kg"].sum() / max(o["orders_placed"].sum(), 1e-12))
    _require(np.abs(ratio - o["orders_placed_kg"].to_numpy(float)) <= 1e-6 * np.maximum(ratio, 1.0), o,
             "orders and kg disagree", "orders")
    cap = nodes.set_index([nodes["t_day"].to_numpy(), nodes["node_id"].astype(str).to_numpy()])["courier_kg_per_day"]
    key = list(zip(o["t_day"].to_numpy(), o["node_id"].astype(str).to_numpy()))
    limit = cap.reindex(key).to_numpy(float)
    got = o["orders_delivered_kg"].to_numpy(float)
    _require(got <= limit + 1e-9 * np.maximum(got, 1.0) + 1e-6, o,
             "front warehouse delivered more than its couriers carry", "orders")


def check_residents(residents: pd.DataFrame, communities: pd.DataFrame, rtol: float = 1e-5) -> None:
    """Assert the identities of the resident groups (``residents.parquet``, stored in single
    precision, hence ``rtol``) on every row, and that a compound's groups add up to its row of
    ``communities``."""
    r = residents
    kg = [col for col in r.columns if col.endswith("_kg")]
    vals = r[kg].astype(float)
    scale = np.maximum(vals["need_kg"].abs(), vals["demand_kg"].abs()) + 1e-3
    delivered = vals[[col for col in kg if col.startswith("delivered_")]].sum(axis=1)
    _require(delivered <= vals["demand_kg"] + rtol * scale, r, "group delivered more than its demand", "residents")
    _require(vals["consumed_kg"] <= vals["need_kg"] + rtol * scale, r, "group consumed more than its need", "residents")
    _require((vals["need_kg"] - vals["consumed_kg"] - vals["shortfall_kg"]).abs() <= rtol * scale, r,
             "group shortfall != need - consumed", "residents")
    cols = [col for col in ("need_kg", "demand_kg", "consumed_kg", "spent_cny", *kg) if col in communities
            and col in r and col != "shortfall_kg"]
    cols = list(dict.fromkeys(cols))
    summed = r.assign(**{col: r[col].astype(float) for col in cols}).groupby(
        [r["t_day"].to_numpy(), r["community_id"].astype(str).to_numpy()])[cols].sum()
    ref = communities.set_index([communities["t_day"].to_numpy(), communities["community_id"].astype(str).to_numpy()])
    ref = ref[cols].astype(float)
    summed, ref = summed.align(ref, join="outer", fill_value=0.0)
    gap = ((summed - ref).abs() <= rtol * (ref.abs() + 1e-3)).all(axis=1)
    _require(gap.to_numpy(), ref.reset_index(drop=True), "resident groups do not add up to their compound",
             "communities")


REQUEST_COUNTS = ("requests_created", "requests_served", "requests_pending", "requests_abandoned")


def requests_by_day(requests: pd.DataFrame, days) -> pd.DataFrame:
    """Cumulative request counts at the end of each day in ``days``, rebuilt from ``requests``.

    A request counts as created from ``created_h`` and as served, abandoned or dropped from
    ``created_h + wait_h`` (the desk's hourly tick that settled it); what is neither is pending.
    A day's counts are those at its end (the recorder's 23:45 comes after the desk's last tick,
    at 23:24, and after the day's last call, by 23:00).
    Columns: ``t_day``, ``requests_created``, ``_served``, ``_pending``, ``_abandoned``, ``_dropped``.
    """
    days = np.asarray(days, dtype=float)
    ends = 24.0 * (days + 1.0)
    n = requests["n_requests"].to_numpy(np.int64) if "n_requests" in requests else np.ones(len(requests), np.int64)
    created = requests["created_h"].to_numpy(float)
    settled = created + requests["wait_h"].to_numpy(float)
    outcome = requests["outcome"].astype(str).to_numpy()

    def upto(times: np.ndarray, weights: np.ndarray) -> np.ndarray:
        order = np.argsort(times, kind="stable")
        cum = np.r_[0, np.cumsum(weights[order])]
        return cum[np.searchsorted(times[order], ends, side="left")]

    out = {"t_day": days.astype(int), "requests_created": upto(created, n)}
    for o in ("served", "abandoned", "dropped"):
        sel = outcome == o
        out[f"requests_{o}"] = upto(settled[sel], n[sel])
    out["requests_pending"] = out["requests_created"] - out["requests_served"] - out["requests_abandoned"] \
        - out["requests_dropped"]
    return pd.DataFrame(out)


def check_requests(frames) -> None:
    """Assert the safety net's request accounting, when the ``city`` table counts requests.

    - on every day: created = served + pending + abandoned (+ dropped: the ``requests_dropped``
      column, or the dropped requests of ``requests.parquet`` when the city table lacks it);
    - ``requests.parquet`` (``n_requests`` per row) rebuilds the city table's counts on every day,
      so its totals by outcome are the last day's;
    - a served request was answered before it was served, after it was made, and its goods
      (``delivered_kg``) are the compounds' ``delivered_safety_net_kg`` of its day.
    """
    city = frames.get("city")
    if city is None or not set(REQUEST_COUNTS) <= set(city.columns):
        return
    city = city.sort_values("t_day").reset_index(drop=True)
    req = frames.get("requests")
    have_rows = req is not None and "outcome" in req and "wait_h" in req
    rebuilt = requests_by_day(req, city["t_day"]) if have_rows else None
    if "requests_dropped" in city:
        dropped = city["requests_dropped"]
    else:
        dropped = rebuilt["requests_dropped"] if rebuilt is not None else 0
    parts = city["requests_served"] + city["requests_pending"] + city["requests_abandoned"] + dropped
    _require(city["requests_created"] == parts, city, "requests created != served + pending + abandoned + dropped",
             "city")
    if rebuilt is None:
        return
    for col in (*REQUEST_COUNTS, "requests_dropped"):
        if col in city:
            _require(rebuilt[col].to_numpy() == city[col].to_numpy(), city,
                     f"{col} differs from requests.parquet ({rebuilt[col].tolist()})", "city")
    served = req[req["outcome"].astype(str) == "served"]
    if len(served) and "served_h" in served:
        ok = (served["answered_h"] >= served["created_h"] - 1e-9) & (served["served_h"] >= served["answered_h"] - 1e-9)
        _require(ok, served, "served before answered or answered before made", "requests")
    comm = frames.get("communities")
    if len(served) and "delivered_kg" in served and comm is not None and "delivered_safety_net_kg" in comm:
        day = (served["served_h"] // 24).astype(int)
        got = served.groupby([day.rename("t_day"), served["community_id"].astype(str)])["delivered_kg"].sum()
        c = comm.assign(community_id=comm["community_id"].astype(str)).set_index(["t_day", "community_id"])
        got, want = got.align(c["delivered_safety_net_kg"], fill_value=0.0)
        tol = 1e-6 * np.maximum(want.abs(), 1.0)
        _require(((got - want).abs() <= tol).to_numpy(), want.reset_index(),
                 "delivered_safety_net_kg differs from the served requests' delivered_kg", "communities")


def _require(ok: pd.Series, df: pd.DataFrame, what: str, table: str) -> None:
    ok = np.asarray(ok, dtype=bool)
    if not ok.all():
        row = int(np.flatnonzero(~ok)[0])
        raise AssertionError(f"{table}: {what} at row {row}: {df.iloc[row].to_dict()}")
