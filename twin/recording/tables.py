"""Arrow tables with units in column names and in field metadata.

Units follow the column name's suffix (``_kg``, ``_h``, ``_days`` ...), written once here.
Id columns are dictionary-encoded, so pandas reads them as categoricals.
"""

from __future__ import annotations

import json
from typing import Mapping, Sequence

import numpy as np
import pyarrow as pa

__all__ = ["SCHEMA_VERSION", "DESCRIPTIONS", "categorical", "make_table", "unit_of"]

SCHEMA_VERSION = "1"

_SUFFIX_UNITS = (
    ("_kg_per_day", "kg/day"), ("_per_kg", "CNY/kg"), ("_kg", "kg"), ("_h", "hour"), ("_person_days", "person-day"),
    ("_days", "day"), ("_below_one_day", "1"), ("_day", "day"), ("cascade_depth", "link"), ("_cny", "CNY"),
    ("_per_100k", "1/100k residents"), ("_s", "second"), ("_share", "1"),
    ("_level", "1"), ("_rel", "1"), ("t_day", "day"), ("population", "person"),
)

DESCRIPTIONS = {
    "t_day": "simulated day, 0 = run.start_date; values are end-of-day (23:45) snapshots or day totals",
    "t_h": "simulated hour since the start of day 0",
    "cum_inflow_kg": "everything that entered the city system so far: initial stock plus production",
    "cum_consumed_kg": "eaten by households so far",
    "cum_spoiled_kg": "lost to spoilage so far (nodes and households)",
    "stock_kg": "held at nodes (and, in balance, in households)",
    "in_transit_kg": "on trucks between nodes",
    "inflow_kg": "received (or produced) this day",
    "outflow_kg": "shipped or sold this day",
    "unfilled_kg": "requested from the node this day but not served (stock or capacity short)",
    "spoiled_kg": "lost to spoilage this day",
    "trucks": "truck trips dispatched this day",
    "staff_active": "workers at work this day (handling staff, drivers and couriers)",
    "capacity_kg_per_day": "handling capacity this day (staff x productivity x capacity multiplier)",
    "status": "open, degraded (capacity cut or crew under 90%), starved (under 10% of target stock and turning "
              "requests away) or closed",
    "need_kg": "what residents need to eat this day",
    "demand_kg": "what households tried to buy: need plus the gap to their stock target",
    "delivered_offline_kg": "bought in person at outlets",
    "delivered_gate_kg": "ordered from outlets closed to shoppers by static management, delivered to the compound gate",
    "delivered_online_kg": "delivered by couriers from front warehouses",
    "unmet_kg": "demand minus delivered",
    "consumed_kg": "eaten this day",
    "shortfall_kg": "need minus consumed: food missing on the table",
    "hh_stock_days": "household stock at day's end in days of normal need",
    "stock_below_one_day": "household stock at day's end below one day of normal need (food insecure)",
    "spent_cny": "what residents paid for what they got this day",
    "baseline_cost_cny": "what it would have cost at baseline prices",
    "paid_per_kg": "average price paid per kg this day (null if nothing bought)",
    "price_paid_index": "spent / baseline cost: 1 = baseline prices",
    "price_per_kg": "market price this day (before fair-price shares and vouchers)",
    "group": "resident group inside the compound: elderly_alone, offline, low_income, lost_income, others",
    "paid_index_offline": "price index paid in person at shops this day (city): spent / baseline cost",
    "paid_index_online": "price index paid online this day (city): shop price plus the platforms' markup",
    "paid_index_gate": "price index paid for shop orders delivered to compound gates this day (city)",
    "paid_index_group": "price index paid through group buying this day (city): market price plus the markup",
    "paid_index_unified": "price index paid for unified-supply packages this day (city): the set price",
    "paid_index_safety_net": "price index paid for safety-net goods this day (city): the set price",
    "price_index": "price / baseline price",
    "cascade_depth": "links in the longest chain of failures (closed or starved nodes, compounds eating under 95% "
                     "of need) in which each failure follows its supplier's; 0: no failure follows another",
    "supply_workers_active_share": "supply workers at work / supply workers (crews of nodes: staff, drivers, couriers)",
    "volunteers_active_share": "compound volunteers at work / volunteers",
    "fill_of_need": "consumed / need: what residents ate against what they need (the primary performance figure)",
    "market_service_level": "delivered / demand: purchases served against purchases asked for (secondary; demand "
                            "falls as prices rise)",
    "resilience_loss_person_days": "person-days of food missing below the pre-shock fill of need over the shock "
                                   "episodes (sum max(0, L need - consumed) / kg a person needs a day)",
    "shortfall_person_days": "person-days of food missing: sum (need - consumed) / kg a person needs a day",
    "time_to_failure_days": "days from the shock to the first day under 95% of the pre-shock fill of need "
                            "(null: never failed)",
    "recovery_days": "days from the shock to a lasting return to 95% of the pre-shock fill of need "
                     "(0: never failed; null: never recovered)",
    "shock_start_day": "first scheduled shock, lockdown or forced regime (null: no shock)",
}
DESCRIPTIONS.update({f"cut_off_share_tier{t}": f"share of compounds failed through a chain of failures that passes "
                                               f"through tier {t}" for t in range(5)})


def unit_of(name: str) -> str:
    """Unit of a column from its name.

    >>> unit_of("stock_kg"), unit_of("travel_h"), unit_of("trucks")
    ('kg', 'hour', '1')
    """
    for suffix, unit in _SUFFIX_UNITS:
        if name.endswith(suffix):
            return unit
    return "1"


def categorical(codes: np.ndarray, labels: Sequence[str]) -> pa.DictionaryArray:
    """A dictionary-encoded string column (pandas categorical)."""
    return pa.DictionaryArray.from_arrays(pa.array(np.asarray(codes, dtype=np.int32)), pa.array(list(labels), pa.string()))


def make_table(columns: Mapping[str, object], meta: Mapping[str, object] | None = None) -> pa.Table:
    """A table whose fields carry ``unit`` and ``description`` metadata; ``meta`` goes in the schema.

    Columns declared in :mod:`twin.recording.columns` for the table ``meta["table"]`` (a sweep's
    ``scalars`` are summary columns) get their declared unit and description; others (and every
    column of a run's tables until :func:`~twin.recording.columns.finish_tables` stamps them) the
    unit of their suffix.
    """
    from twin.recording.columns import column_info
    declared = {"scalars": "summary"}.get((meta or {}).get("table"), (meta or {}).get("table"))
    arrays, fields = [], []
    for name, values in columns.items():
        # NaN means "undefined" (nothing bought, nothing asked): stored as null, read back as NaN
        arr = values if isinstance(values, (pa.Array, pa.ChunkedArray)) else pa.array(values, from_pandas=True)
        try:
            unit, text = column_info(str(declared), name)
            field_meta = {"unit": unit, "description": text}
        except KeyError:
            field_meta = {"unit": unit_of(name)}
            if name in DESCRIPTIONS:
                field_meta["description"] = DESCRIPTIONS[name]
        arrays.append(arr)
        fields.append(pa.field(name, arr.type, metadata=field_meta))
    schema_meta = {"twin": json.dumps({"schema_version": SCHEMA_VERSION, **(meta or {})}, sort_keys=True)}
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields, metadata=schema_meta))
