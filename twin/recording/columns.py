"""Every column of every table a run writes, with its unit and meaning, declared once.

``COLUMNS[table][column] = (unit, description)``. :func:`finish_tables` stamps these into the
Parquet field metadata (keys ``unit`` and ``description``) and adds the calendar columns: ``date``
(``run.start_date`` + ``t_day``) in every daily table and ``created_at``, ``answered_at``,
``served_at`` (timestamps) in ``requests``. ``twin columns`` lists them; :func:`twin.key_figures`
uses the summary's. Families whose names depend on the scenario (one column per goods category)
are declared as patterns in :data:`PATTERNS`.

Units: ``kg``, ``kg/day``, ``CNY``, ``CNY/kg``, ``hour``, ``day`` (a duration or a day number),
``person``, ``person-day``, ``worker``, ``node``, ``community``, ``request``, ``order``, ``truck trip``,
``1`` for shares, ratios and indices, ``date`` and ``timestamp``, ``text`` for labels.
"""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import pyarrow as pa

__all__ = ["COLUMNS", "PATTERNS", "column_info", "column_rows", "finish_tables"]

_CHANNEL_TEXT = {
    "offline": "bought in person at outlets (supermarkets, wet markets)",
    "online": "delivered by couriers from front warehouses (dark stores)",
    "gate": "ordered from outlets closed to shoppers by static management, delivered to the compound gate",
    "group": "bought through group buying (leader's bulk orders trucked to the gate)",
    "unified": "standard packages of unified (government) supply",
    "safety_net": "delivered to special groups through the safety-net hotline",
}
_CHANNELS = tuple(_CHANNEL_TEXT)
_DAY = ("day", "simulated day, 0 = run.start_date; values are end-of-day (23:45) snapshots or day totals")
_DATE = ("date", "calendar date of t_day: run.start_date + t_day days")
_DISTRICT = ("text", "district")
_CATEGORY = ("text", "goods category (rice, flour, oil, vegetables ...; the scenario's [[categories]])")

_BALANCE = {
    "t_day": _DAY, "date": _DATE, "category": _CATEGORY,
    "cum_inflow_kg": ("kg", "everything that entered the city system so far: initial stock, production and joint "
                            "(inter-provincial) supply"),
    "cum_consumed_kg": ("kg", "eaten by households so far"),
    "cum_spoiled_kg": ("kg", "lost to spoilage so far (nodes and households)"),
    "stock_kg": ("kg", "held at nodes, in households and in online orders picked and waiting for couriers at "
                       "day's end"),
    "in_transit_kg": ("kg", "on trucks between nodes at day's end"),
}

_NODES = {
    "t_day": _DAY, "date": _DATE,
    "node_id": ("text", "node id, e.g. sorting_centre_001"),
    "kind": ("text", "node kind: base, transfer station, hub, reserve, sorting centre, outlet, front warehouse ..."),
    "tier": ("1", "supply tier: 0 bases, 1 transfer stations, 2 hubs and reserves, 3 sorting centres, "
                  "4 outlets, front warehouses and community supply points"),
    "district": ("text", "district the node serves ((city) for city-wide nodes)"),
    "status": ("text", "open, degraded (capacity cut or crew under 90%), starved (under 10% of target stock and "
                       "turning requests away) or closed"),
    "stock_kg": ("kg", "held at the node at day's end"),
    "inflow_kg": ("kg", "received (or produced) this day"),
    "outflow_kg": ("kg", "shipped or sold this day"),
    "unfilled_kg": ("kg", "requested from the node this day but not served (stock or capacity short)"),
    "spoiled_kg": ("kg", "lost to spoilage at the node this day"),
    "trucks": ("truck trip", "truck trips dispatched this day"),
    "staff_active": ("worker", "workers at work this day (handling staff, drivers and couriers)"),
    "capacity_kg_per_day": ("kg/day", "handling capacity this day (staff x productivity x capacity multiplier; "
                                      "inf = unlimited, 0 = shut)"),
    "fleet_kg_per_day": ("kg/day", "what its drivers and trucks can move this day (inf = unlimited, 0 = shut)"),
    "courier_kg_per_day": ("kg/day", "what its couriers can deliver to doors this day (front warehouses; "
                                     "inf = unlimited, 0 = shut or no couriers)"),
    "surge_used": ("1", "share of the full surge (overtime, extra shifts) its most-pressed crew worked this day"),
    "surge_left_days": ("day", "days of full surge its least-rested crew has left"),
    "overtime_h": ("hour", "worker-hours of overtime worked this day"),
    "overtime_cny": ("CNY", "what this day's overtime cost at the overtime rate"),
}

_COMMUNITIES = {
    "t_day": _DAY, "date": _DATE,
    "community_id": ("text", "compound (residential community) id"),
    "district": _DISTRICT,
    "population": ("person", "residents of the compound"),
    "elderly_share": ("1", "share of residents aged 60 and over"),
    "offline_share": ("1", "share of residents who cannot order online"),
    "low_income_share": ("1", "share of low-income residents (more price-elastic)"),
    "lockdown": ("text", "lockdown level this day: normal, limited or static"),
    "need_kg": ("kg", "what residents need to eat this day"),
    "demand_kg": ("kg", "what households tried to buy this day: need plus the gap to their stock target"),
    **{f"delivered_{ch}_kg": ("kg", f"{text}, this day") for ch, text in _CHANNEL_TEXT.items()},
    "unmet_kg": ("kg", "demand minus delivered this day"),
    "consumed_kg": ("kg", "eaten this day"),
    "shortfall_kg": ("kg", "need minus consumed this day: food missing on the table"),
    "spent_cny": ("CNY", "what residents paid for what they got this day"),
    "baseline_cost_cny": ("CNY", "what the same goods would have cost at baseline prices"),
    "paid_per_kg": ("CNY/kg", "average price paid per kg this day (NaN if nothing bought)"),
    "price_paid_index": ("1", "spent / baseline cost this day: 1 = baseline prices (NaN if nothing bought)"),
    "hh_stock_days": ("day", "household stock at day's end in days of normal need"),
    "stock_below_one_day": ("1", "true when household stock at day's end is below one day of normal need "
                                 "(food insecure)"),
}

_RESIDENTS = {
    "t_day": _DAY, "date": _DATE,
    "community_id": ("text", "compound (residential community) id"),
    "group": ("text", "resident group inside the compound: elderly_alone, offline, low_income, lost_income, others "
                      "(docs/residents.md)"),
    "population": ("person", "residents of the group in the compound"),
    "need_kg": ("kg", "what the group needs to eat this day"),
    "demand_kg": ("kg", "what the group tried to buy this day: need plus the gap to its stock target, within its "
                        "budget and channels"),
    **{f"delivered_{ch}_kg": ("kg", f"{text}, to the group this day") for ch, text in _CHANNEL_TEXT.items()},
    "consumed_kg": ("kg", "eaten by the group this day"),
    "shortfall_kg": ("kg", "need minus consumed this day: food missing on the group's table"),
    "spent_cny": ("CNY", "what the group paid for what it got this day"),
    "baseline_cost_cny": ("CNY", "what the same goods would have cost at baseline prices"),
    "price_paid_index": ("1", "spent / baseline cost this day: 1 = baseline prices (NaN if nothing bought)"),
    "hh_stock_days": ("day", "the group's household stock at day's end in days of its normal need"),
    "stock_below_one_day": ("1", "true when the group's household stock at day's end is below one day of normal "
                                 "need (food insecure)"),
}

_PRICES = {
    "t_day": _DAY, "date": _DATE, "category": _CATEGORY, "district": _DISTRICT,
    "price_per_kg": ("CNY/kg", "market price this day (before fair-price shares and vouchers)"),
    "baseline_price_per_kg": ("CNY/kg", "the category's baseline price"),
    "price_index": ("1", "price / baseline price"),
}

_WORKFORCE = {
    "t_day": _DAY, "date": _DATE,
    "pool": ("text", "pool: node kind / district / role"),
    "kind": ("text", "node kind of the crews (community: compounds' volunteers)"),
    "district": _DISTRICT,
    "role": ("text", "role: handling staff, drivers, couriers or volunteers"),
    "headcount": ("worker", "workers in the pools (reinforcements included)"),
    "susceptible": ("worker", "never infected"),
    "exposed": ("worker", "infected, not yet infectious"),
    "infectious": ("worker", "infectious (detected or not)"),
    "quarantined": ("worker", "in quarantine (cases and close contacts)"),
    "confined": ("worker", "staying home under a lockdown (no pass)"),
    "recovered": ("worker", "recovered and immune"),
    "active": ("worker", "at work this day"),
    "new_infected": ("worker", "infected this day"),
    "new_detected": ("worker", "cases detected this day"),
}

_CITY = {
    "t_day": _DAY, "date": _DATE,
    "regime": ("text", "regime in force: normal, emergency or extreme"),
    "infection_per_100k": ("1/100k residents", "daily new cases in the city per 100,000 residents (the "
                                               "incidence series times ascertainment)"),
    "static_share": ("1", "share of residents under static management"),
    "limited_share": ("1", "share of residents under limited movement"),
    "closed_nodes": ("node", "nodes closed this day"),
    "starved_nodes": ("node", "nodes starved this day"),
    **{f"failed_nodes_tier{k}": ("node", f"tier-{k} nodes closed or starved this day") for k in range(5)},
    "failed_communities": ("community", "compounds whose residents ate under 95% of their need this day"),
    "cascade_depth": ("1", "longest chain of supplier -> customer failures along real links, each following its "
                           "supplier's (0: no failure)"),
    **{f"cut_off_share_tier{k}": ("1", f"share of compounds cut off through a failure at tier {k}") for k in range(5)},
    "supply_workers_active_share": ("1", "supply workers (node crews) at work / headcount"),
    **{f"paid_index_{ch}": ("1", f"price index paid through channel {ch} this day, city-wide: spent / baseline cost "
                                 "(shops' price; online plus the platforms' markup; group buying plus its markup; "
                                 "unified and safety net at their set price; null on a day the channel carried nothing)") for ch in _CHANNELS},
    "volunteers_active_share": ("1", "compound volunteers at work / headcount"),
    "requests_created": ("request", "safety-net requests made so far"),
    "requests_served": ("request", "safety-net requests served so far"),
    "requests_pending": ("request", "safety-net requests waiting at day's end"),
    "requests_abandoned": ("request", "safety-net requests abandoned so far (callers gave up)"),
    "requests_dropped": ("request", "safety-net requests dropped so far (queue full)"),
    "orders_placed": ("order", "online orders placed at front warehouses this day (orders of workforce.kg_per_parcel)"),
    "orders_delivered": ("order", "online orders couriers delivered this day"),
    "orders_cancelled": ("order", "online orders cancelled this day after waiting orders.patience_h"),
    "backlog_orders": ("order", "online orders waiting at front warehouses at day's end"),
    "orders_lead_time_p50_h": ("hour", "median lead time (placement to door) of the orders delivered this day, "
                                       "city-wide (null: none delivered)"),
    "orders_lead_time_p95_h": ("hour", "95th percentile of the lead time of the orders delivered this day, city-wide "
                                       "(null: none delivered)"),
}

_ORDERS = {
    "t_day": _DAY, "date": _DATE,
    "node_id": ("text", "front warehouse (dark store) id"),
    "district": ("text", "district the store serves ((city) for none)"),
    "orders_placed": ("order", "orders households placed this day (the day's orders, decided at the 10:00 shopping "
                               "phase, picked at once and placed over the next 24 hours by orders.hourly_profile or "
                               "at the slot release); an order is workforce.kg_per_parcel kg"),
    "orders_placed_kg": ("kg", "kg of the orders placed this day"),
    "orders_delivered": ("order", "orders couriers delivered this day"),
    "orders_delivered_kg": ("kg", "kg of the orders delivered this day"),
    "orders_cancelled": ("order", "orders cancelled this day after waiting orders.patience_h (goods back on the "
                                  "shelf; households turn to another channel)"),
    "orders_cancelled_kg": ("kg", "kg of the orders cancelled this day"),
    "backlog_orders": ("order", "orders waiting at day's end: placed = delivered + cancelled + backlog change"),
    "backlog_kg": ("kg", "kg of the orders waiting at day's end (picked goods, part of the balance's stock)"),
    "lead_time_p50_h": ("hour", "median lead time (placement to door: wait for a round, plus orders.courier_round_h) "
                                "of the orders delivered this day (null: none delivered)"),
    "lead_time_p95_h": ("hour", "95th percentile of the lead time of the orders delivered this day (null: none)"),
}

_EVENTS = {
    "t_h": ("hour", "simulated hour since the start of day 0"),
    "t_day": ("day", "simulated day of the event, 0 = run.start_date"),
    "date": _DATE,
    "event": ("text", "what happened, e.g. supply_cut_start, closure, reopening, starved, restocked, regime_switch"),
    "shock": ("text", "the shock, lockdown or rule behind it (cascade: node status changes)"),
    "target": ("text", "what it hit: node ids, districts or kinds"),
    "factor": ("1", "the shock's factor (capacity or supply multiplier ...; NaN when none)"),
}

_REQUESTS = {
    "request_id": ("text", "first request id of the batch of identical requests"),
    "n_requests": ("request", "requests in the batch (same compound, group, channel, times and fate)"),
    "community_id": ("text", "compound the requests came from"),
    "district": _DISTRICT,
    "group": ("text", "special group (e.g. elderly alone, chronic patients, infants)"),
    "channel": ("text", "how the request came in: hotline or online"),
    "created_h": ("hour", "hour the request was made (since the start of day 0)"),
    "answered_h": ("hour", "hour the desk took it (NaN if never)"),
    "served_h": ("hour", "hour the goods reached the door (NaN unless served)"),
    "wait_h": ("hour", "hours from creation to its fate (served, abandoned, dropped) or to the run's end (pending)"),
    "outcome": ("text", "served, pending, abandoned or dropped"),
    "delivered_kg": ("kg", "goods delivered to the requesters"),
    "created_at": ("timestamp", "created_h as a date and time (run.start_date at 00:00 + created_h)"),
    "answered_at": ("timestamp", "answered_h as a date and time"),
    "served_at": ("timestamp", "served_h as a date and time"),
}

_RUN_TOTAL = "over the run"
_SUMMARY = {
    "days": ("day", "days simulated"),
    "population": ("person", "residents on the first day"),
    "need_kg": ("kg", f"what residents needed to eat, {_RUN_TOTAL}"),
    "demand_kg": ("kg", f"what households tried to buy, {_RUN_TOTAL}"),
    "delivered_kg": ("kg", f"delivered through every channel, {_RUN_TOTAL}"),
    **{f"delivered_{ch}_kg": ("kg", f"{text}, {_RUN_TOTAL}") for ch, text in _CHANNEL_TEXT.items()},
    "unmet_kg": ("kg", f"demand minus delivered, {_RUN_TOTAL}"),
    "consumed_kg": ("kg", f"eaten, {_RUN_TOTAL}"),
    "shortfall_kg": ("kg", f"need minus consumed, {_RUN_TOTAL}"),
    "fill_of_need": ("1", "consumed / need over the run (food on the table): the primary performance figure"),
    "min_fill_of_need": ("1", "the city's fill of need on its worst day"),
    "min_fill_day": ("day", "the worst day (t_day of min_fill_of_need)"),
    "market_service_level": ("1", "delivered / demand over the run (purchases served, every channel): a market "
                                  "service figure, which high prices flatter by cutting demand"),
    "min_market_service_level": ("1", "the city's market service level on its worst day"),
    "shortfall_person_days": ("person-day", "shortfall_kg / kg a person needs a day: days of food missing"),
    "spoiled_kg": ("kg", f"lost to spoilage, {_RUN_TOTAL}"),
    "peak_closed_nodes": ("node", "most nodes closed on one day"),
    "peak_starved_nodes": ("node", "most nodes starved on one day"),
    "max_balance_error_rel": ("1", "largest relative gap of inflow - (consumed + spoiled + stock + in transit) "
                                   "(mass balance check: ~1e-12)"),
    "mode_share_market": ("1", "share of delivered kg through the market (offline, online, gate)"),
    "mode_share_group_buying": ("1", "share of delivered kg through group buying"),
    "mode_share_unified": ("1", "share of delivered kg through unified supply"),
    "mode_share_safety_net": ("1", "share of delivered kg through the safety net"),
    "shock_start_day": ("day", "t0: the first scheduled shock, lockdown or regime forced on schedule (null: none; "
                               "case closures start nothing)"),
    "pre_shock_fill_of_need": ("1", "L: mean fill of need from the warm-up to the shock"),
    "time_to_failure_days": ("day", "first episode: from its start to the first day under 95% of L (null: never "
                                    "failed)"),
    "recovery_days": ("day", "first episode: from its start to the lasting return to 95% of L, after the last dip "
                             "(0: never fell; null: not back by the end)"),
    "resilience_loss_person_days": ("person-day", "the resilience triangle over every episode: sum over days of "
                                                  "max(0, L x need - consumed) / need per person per day"),
    **{f"peak_failed_nodes_tier{k}": ("node", f"most tier-{k} nodes failed (closed or starved) on one day")
       for k in range(5)},
    "peak_cascade_depth": ("1", "deepest cascade: the longest chain of supplier -> customer failures along real "
                                "links, each following its supplier's, on one day"),
    **{f"peak_cut_off_share_tier{k}": ("1", f"largest share of compounds cut off through a tier-{k} failure on one "
                                            "day") for k in range(5)},
    "tier_down_days": ("day", "days on which half or more of some node tier had failed"),
    "min_district_fill_of_need": ("1", "lowest fill of need of any district on any day"),
    "gini_fill_of_need": ("1", "Gini coefficient of fill of need (consumed / need from the shock on) across "
                               "compounds, population-weighted (0: all alike)"),
    "food_insecure_person_days": ("person-day", "residents x days of compounds eating under 90% of need"),
    "n_shock_episodes": ("1", "shock episodes (overlapping shocks merged)"),
    "second_shock_loss_person_days": ("person-day", "resilience loss of the second shock episode"),
    "second_over_first_loss_ratio": ("1", "second episode's loss / first's (not learning: compare with a run "
                                          "without learning for evolvability)"),
    "n_switches": ("1", "regime switches and policy changes"),
    "first_switch_delay_days": ("day", "from the shock to the first switch (inf: none after it)"),
    "switch_gain_level": ("1", "mean change of service level over a week after each switch against the week "
                               "before"),
    "days_emergency": ("day", "days in the emergency regime"),
    "days_extreme": ("day", "days in the extreme regime"),
    "peak_price_index": ("1", "highest city price index (mean over categories and districts) on one day"),
    "peak_price_day": ("day", "day of peak_price_index"),
    "max_category_price_index": ("1", "highest price index of any category in any district on any day"),
    "share_paid_up_40pct": ("1", "share of residents whose compound paid over 1.4 x baseline cost over the run"),
    "share_paid_up_100pct": ("1", "share of residents whose compound paid over 2 x baseline cost over the run"),
    "share_paid_within_5pct": ("1", "share of residents whose compound paid within 5% of baseline cost"),
    "low_stock_person_days": ("person-day", "residents x days ending with household stock under one day of need"),
    "peak_price_paid_index": ("1", "highest daily mean price paid / baseline (weighted by kg delivered)"),
    "min_supply_workers_active_share": ("1", "lowest share of supply workers (node crews) at work on one day"),
    "min_supply_workers_active_day": ("day", "day of min_supply_workers_active_share"),
    "min_volunteers_active_share": ("1", "lowest share of compound volunteers at work on one day"),
    "min_volunteers_active_day": ("day", "day of min_volunteers_active_share"),
    "min_active_workforce_share": ("1", "lowest share of all workers at work on one day (tables without roles)"),
    "min_active_workforce_day": ("day", "day of min_active_workforce_share"),
    "overtime_h": ("hour", "worker-hours of overtime and extra shifts worked in surges, over the run"),
    "overtime_cny": ("CNY", "what that overtime cost at the overtime rate"),
    "peak_surge_nodes": ("node", "most nodes working above normal capacity on one day"),
    "exhausted_node_days": ("node-day", "node-days ending with under one day of full surge left"),
    "peak_infectious": ("worker", "most supply workers infectious on one day"),
    "peak_quarantined": ("worker", "most supply workers in quarantine on one day"),
    "n_requests": ("request", "safety-net requests made"),
    "served_requests": ("request", "safety-net requests served"),
    "pending_requests": ("request", "safety-net requests still waiting at the end"),
    "abandoned_requests": ("request", "safety-net requests abandoned (callers gave up)"),
    "dropped_requests": ("request", "safety-net requests dropped (queue full)"),
    "served_request_share": ("1", "served / all requests"),
    "response_time_p50_h": ("hour", "median time from request to delivery (served requests)"),
    "response_time_p95_h": ("hour", "95th percentile of the time from request to delivery (served requests)"),
    "orders_placed": ("order", "online orders placed at front warehouses, over the run"),
    "orders_delivered": ("order", "online orders delivered, over the run"),
    "orders_cancelled": ("order", "online orders cancelled after the patience, over the run"),
    "orders_cancelled_share": ("1", "cancelled / (delivered + cancelled) online orders, over the run"),
    "orders_lead_time_p50_h": ("hour", "median lead time of online orders: the delivery-weighted median of the city's "
                                       "daily medians"),
    "orders_lead_time_p95_h_worst_day": ("hour", "highest daily 95th percentile of the city's online lead time"),
    "backlog_orders_max": ("order", "most online orders waiting at the end of a day, city-wide"),
    "backlog_days_max": ("day", "that backlog in days of the city's orders placed on a normal day (the run's first "
                                "day)"),
    **{f"paid_index_p{q}": ("1", f"{q}th percentile (over residents) of the price index each compound's group paid "
                                 "over the shock period") for q in (10, 50, 90)},
}

#: ``COLUMNS[table][column] = (unit, description)`` for every table of a run folder
COLUMNS: dict[str, dict[str, tuple[str, str]]] = {
    "balance": _BALANCE, "nodes": _NODES, "communities": _COMMUNITIES, "prices": _PRICES,
    "workforce": _WORKFORCE, "city": _CITY, "events": _EVENTS, "requests": _REQUESTS, "summary": _SUMMARY,
    "residents": _RESIDENTS, "orders": _ORDERS,
}

#: families of columns named after the scenario's goods categories: (table, regex, unit, description)
_GROUP = r"(?P<group>elderly_alone|offline|low_income|lost_income|others)"
PATTERNS: list[tuple[str, re.Pattern, str, str]] = [
    ("summary", re.compile(rf"fill_of_need_{_GROUP}"), "1", "consumed / need of the {group} group over the shock "
                                                           "period"),
    ("summary", re.compile(rf"food_insecure_person_days_{_GROUP}"), "person-day",
     "members of the {group} group x days eating under 90% of need, over the shock period"),
    ("summary", re.compile(rf"ever_below_one_day_share_{_GROUP}"), "1",
     "share of the {group} group whose household stock fell below one day of need at least once in the shock period"),
    ("summary", re.compile(rf"insecurity_odds_ratio_{_GROUP}"), "1",
     "odds of a food-insecure person-day in the {group} group against the others group"),
    ("summary", re.compile(rf"price_paid_index_{_GROUP}"), "1",
     "spent / baseline cost of the {group} group over the shock period"),
    ("summary", re.compile(r"peak_price_index_(?P<category>.+)"), "1",
     "highest price index of {category} (mean over districts) on one day"),
]

#: tables with one row per day (or per day and something): they get a ``date`` column
DAILY = ("balance", "nodes", "communities", "residents", "prices", "workforce", "city", "events", "orders")
_TIMES = {"created_h": "created_at", "answered_h": "answered_at", "served_h": "served_at"}


def column_info(table: str, column: str) -> tuple[str, str]:
    """``(unit, description)`` of a column; KeyError when it is not declared.

    >>> column_info("summary", "need_kg")
    ('kg', 'what residents needed to eat, over the run')
    >>> column_info("summary", "peak_price_index_rice")[1]
    'highest price index of rice (mean over districts) on one day'
    """
    declared = COLUMNS.get(table, {})
    if column in declared:
        return declared[column]
    for tab, pattern, unit, text in PATTERNS:
        m = pattern.fullmatch(column)
        if tab == table and m:
            return unit, text.format(**m.groupdict())
    raise KeyError(f"{table}.{column}: no unit and description declared in twin/recording/columns.py")


def column_rows(table: str | None = None) -> list[dict[str, str]]:
    """Declared columns as rows ``table, column, unit, description`` (``twin columns``)."""
    rows = []
    for tab, cols in COLUMNS.items():
        if table is None or tab == table:
            rows += [{"table": tab, "column": c, "unit": u, "description": d} for c, (u, d) in cols.items()]
            rows += [{"table": tab, "column": p.pattern.replace("(?P<category>.+)", "<category>"), "unit": u,
                      "description": d.replace("{category}", "<category>")}
                     for t, p, u, d in PATTERNS if t == tab]
    return rows


def finish_tables(tables: dict[str, pa.Table], start_date: date | str) -> dict[str, pa.Table]:
    """The run's tables with calendar columns added and every declared column's unit and description
    in its field metadata (columns not declared keep the metadata they had)."""
    start = np.datetime64(str(start_date), "D")
    out = {}
    for name, table in tables.items():
        if name in DAILY and "t_day" in table.column_names and "date" not in table.column_names:
            # date32 counts days since 1970-01-01: the start's count plus t_day (no datetime64 array)
            days = table.column("t_day").to_numpy().astype(np.int32) + np.int32(start.astype("int64"))
            table = table.add_column(table.column_names.index("t_day") + 1, "date", pa.array(days).cast(pa.date32()))
        if name == "requests":
            for hours, stamp in _TIMES.items():
                if hours in table.column_names and stamp not in table.column_names:
                    h = table.column(hours).to_numpy(zero_copy_only=False).astype(float)
                    secs = np.where(np.isnan(h), 0, np.round(h * 3600.0)).astype("int64")
                    values = start.astype("datetime64[s]") + secs.astype("timedelta64[s]")
                    table = table.append_column(stamp, pa.array(values, pa.timestamp("s"), mask=np.isnan(h)))
        out[name] = _stamp(name, table)
    return out


def _stamp(name: str, table: pa.Table) -> pa.Table:
    fields = []
    for f in table.schema:
        try:
            unit, text = column_info(name, f.name)
        except KeyError:
            fields.append(f)
            continue
        fields.append(f.with_metadata({**(f.metadata or {}), b"unit": unit.encode(), b"description": text.encode()}))
    return pa.Table.from_arrays(table.columns, schema=pa.schema(fields, metadata=table.schema.metadata))


def register(subparsers) -> None:
    """Add ``twin columns``."""
    p = subparsers.add_parser("columns", help="list every column of the tables a run writes, with unit and meaning")
    p.add_argument("table", nargs="?", choices=list(COLUMNS), help="only this table")
    p.add_argument("--json", action="store_true", help="print JSON lines (table, column, unit, description)")
    p.set_defaults(func=_cmd_columns)


def _cmd_columns(args) -> int:
    import json
    rows = column_rows(args.table)
    for r in rows:
        if args.json:
            print(json.dumps(r))
        else:
            print(f"{r['table']}.{r['column']} [{r['unit']}]  {r['description']}")
    return 0
