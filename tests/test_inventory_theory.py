"""The order-up-to rule against inventory theory, with the numbers worked by hand (issue 18).

Every network here is explicit and has one non-perishable category, so a reader can follow the
kilograms. Dispatch waves (``twin.sim.PHASE_HOURS``): bases 01:00, transfer stations 03:00,
hubs 05:00, sorting centres 07:00; households shop at 10:00. A node's cover is
``stock_days + 1 (review) + own times an order misses on its way``.
"""

from __future__ import annotations

import numpy as np
import pytest

import twin
from twin.metrics import daily_service
from twin.network import build_network
from twin.scenario import parse_scenario
from twin.testing import check_invariants
from twin.world import level_days

D = 1000.0   # kg a day: 1,000 residents x 1 kg


def _scenario(nodes, links, communities=None, days=20, **extra) -> dict:
    data = {
        "name": "theory",
        "city": {"communities": communities or [
            {"id": "c", "district": "d", "population": 1000, "outlets": ["shop"], "household_stock_days": 0.0}]},
        "network": {"nodes": nodes, "links": links},
        "categories": [{"name": "rice", "need_kg_per_person_day": 1.0, "spoilage_per_day": 0.0,
                        "baseline_price_per_kg": 6.0}],
        "households": {"demand_noise_cv": 0.0},
        "run": {"days": days},
    }
    data.update(extra)
    return data


def _nodes(res, kind_or_id: str):
    n = res["nodes"]
    return n[(n["node_id"] == kind_or_id) | (n["kind"] == kind_or_id)].set_index("t_day")


def _serial_chain() -> dict:
    """base --10 h--> hub --20 h--> shop."""
    return _scenario(
        nodes=[{"id": "base", "kind": "out_of_province_base", "production_kg_per_day": 1e6, "stock_days": 1},
               {"id": "hub", "kind": "transit_warehouse", "stock_days": 1},
               {"id": "shop", "kind": "supermarket", "stock_days": 0}],
        links=[{"src": "base", "dst": "hub", "travel_h": 10}, {"src": "hub", "dst": "shop", "travel_h": 20}])


def test_cover_days_of_a_serial_chain():
    """base: 1 + 1 review; hub: leaves 01:00, arrives 11:00, misses its 05:00 wave -> 1 + 1 + 1;
    shop: leaves 05:00, arrives 01:00 next day, misses the 10:00 shoppers -> 0 + 1 + 1."""
    sc = parse_scenario(_serial_chain())
    assert level_days(build_network(sc))[:, 0].tolist() == [2.0, 3.0, 2.0]


def test_serial_chain_steady_state_exact():
    """Constant demand D = 1,000 kg at 10:00. Levels: base 2D, hub 3D, shop 2D.

    Shop: at 05:00 it holds D (arrived 01:00), orders 2D - D = D, sells D at 10:00 -> at the
    end of the day 0 on hand, D on the road. Hub: at 01:00 holds 2D, orders 3D - 2D = D, ships D
    at 05:00, receives D at 11:00 -> 2D on hand, nothing on the road. Base: makes 2D - D = D at
    00:30, ships D at 01:00 -> D on hand. Everyone is served.
    """
    res = twin.run(_serial_chain(), seed=0)
    check_invariants(res)
    late = slice(3, None)
    assert np.allclose(_nodes(res, "shop")["stock_kg"].loc[late], 0.0, atol=1e-6)
    assert np.allclose(_nodes(res, "hub")["stock_kg"].loc[late], 2 * D)
    assert np.allclose(_nodes(res, "base")["stock_kg"].loc[late], D)
    assert np.allclose(_nodes(res, "base")["inflow_kg"].loc[late], D)          # production = demand
    in_transit = res["balance"].set_index("t_day")["in_transit_kg"].loc[late]
    assert np.allclose(in_transit, D)                                          # the shop's order, on its 20 h trip
    assert np.allclose(daily_service(res["communities"])["fill_of_need"], 1.0)


def test_outlet_behind_a_20_hour_trip_fills_all_of_constant_demand():
    """The issue's case: with a whole day of cover for the missed 10:00 (not 20/24 of one) the
    shop fills 1.0 of demand every day (the trip-as-fraction rule filled 0.913)."""
    res = twin.run(_serial_chain(), seed=0)
    c = res["communities"].set_index("t_day")
    assert np.allclose(c["unmet_kg"], 0.0, atol=1e-6)
    assert np.allclose(c["consumed_kg"], D)


def test_transfer_station_behind_a_12_hour_haul_passes_all_demand():
    """Station (stock_days 0): order leaves 01:00, arrives 13:00, misses its 03:00 wave -> cover
    2 days. It passes D a day to the hub, every day, and fills every order."""
    data = _scenario(
        nodes=[{"id": "base", "kind": "out_of_province_base", "production_kg_per_day": 1e6},
               {"id": "station", "kind": "transfer_station", "stock_days": 0},
               {"id": "hub", "kind": "transit_warehouse", "stock_days": 1},
               {"id": "shop", "kind": "supermarket", "stock_days": 1}],
        links=[{"src": "base", "dst": "station", "travel_h": 12}, {"src": "station", "dst": "hub", "travel_h": 1},
               {"src": "hub", "dst": "shop", "travel_h": 1}], days=25)
    sc = parse_scenario(data)
    assert level_days(build_network(sc))[1, 0] == 2.0
    res = twin.run(data, seed=0)
    check_invariants(res)
    station = _nodes(res, "station")
    assert np.allclose(station["unfilled_kg"], 0.0, atol=1e-6)
    assert np.allclose(station["outflow_kg"].loc[3:], D)
    assert np.allclose(res["communities"]["unmet_kg"], 0.0, atol=1e-6)


def test_two_suppliers_weighted_cover_is_exactly_enough():
    """A shop fed 1:1 by two sorting centres (07:00): one trip arrives 09:00 (misses nothing),
    the other 11:00 (misses the 10:00 shoppers). Cover = 1 + (0 + 1) / 2 = 1.5 days.

    Steady state: at 07:00 the shop holds x and orders 1.5D - x, half on each link; at 10:00 it
    holds x + (1.5D - x) / 2, which is D exactly when x = D / 2; the late half brings it back to
    D / 2 at 11:00. So every resident is served and the shop ends each day with D / 2: the
    weighted mean is enough, and no more.
    """
    data = _scenario(
        nodes=[{"id": "base", "kind": "out_of_province_base", "production_kg_per_day": 1e6},
               {"id": "near", "kind": "sorting_centre", "stock_days": 1},
               {"id": "far", "kind": "sorting_centre", "stock_days": 1},
               {"id": "shop", "kind": "supermarket", "stock_days": 0}],
        links=[{"src": "base", "dst": "near", "travel_h": 2}, {"src": "base", "dst": "far", "travel_h": 2},
               {"src": "near", "dst": "shop", "travel_h": 2}, {"src": "far", "dst": "shop", "travel_h": 4}])
    sc = parse_scenario(data)
    assert level_days(build_network(sc))[3, 0] == 1.5
    res = twin.run(data, seed=0)
    check_invariants(res)
    assert np.allclose(res["communities"]["unmet_kg"], 0.0, atol=1e-6)
    assert np.allclose(_nodes(res, "shop")["stock_kg"].loc[3:], D / 2)


def _lognormal_fill(level: float, mean: float, cv: float) -> float:
    """Standard fill rate of a period with lognormal demand and stock ``level`` (lost sales):
    1 - E[(X - S)+] / E[X], the loss function integrated numerically."""
    sigma = np.sqrt(np.log1p(cv * cv))
    mu = np.log(mean) - sigma * sigma / 2
    x = np.linspace(1e-9, mean * 12, 400_001)
    pdf = np.exp(-(np.log(x) - mu) ** 2 / (2 * sigma * sigma)) / (x * sigma * np.sqrt(2 * np.pi))
    loss = np.trapezoid(np.maximum(x - level, 0.0) * pdf, x)
    return 1.0 - loss / mean


def test_single_stage_lognormal_demand_matches_the_loss_function():
    """100 shops, each alone behind a base whose 1-hour trip lands before the shoppers (cover =
    0.2 target days + 1 review = 1.2 days), each facing one compound's lognormal demand
    (mean 1,000 kg, cv 0.3; what is not served is lost: no household stock). Forecasts are
    frozen (``demand_smoothing = 0``) and prices do not move demand (elasticity 0), so every
    morning each shop holds exactly S = 1,200 kg: the fill is the loss-function result, 0.9479."""
    k, days = 100, 100
    comms = [{"id": f"c{i}", "district": "d", "population": 1000, "outlets": [f"shop{i}"],
              "household_stock_days": 0.0} for i in range(k)]
    nodes = [{"id": "base", "kind": "out_of_province_base", "production_kg_per_day": 1e9, "stock_days": 5}]
    nodes += [{"id": f"shop{i}", "kind": "supermarket", "stock_days": 0.2} for i in range(k)]
    links = [{"src": "base", "dst": f"shop{i}", "travel_h": 1} for i in range(k)]
    data = _scenario(nodes, links, comms, days=days, households={"demand_noise_cv": 0.3})
    data["categories"][0]["elasticity"] = 0.0
    data["network"]["demand_smoothing"] = 0.0
    data["prices"] = {"hoarding_propensity": 0.0}
    data["residents"] = {"groups": {"low_income": {"budget_share": None}}}   # no budget cuts what is bought
    res = twin.run(data, seed=11)
    check_invariants(res)
    c = res["communities"]
    c = c[c["t_day"] >= 1]
    fill = c["consumed_kg"].sum() / c["need_kg"].sum()
    expected = _lognormal_fill(1.2 * D, D, 0.3)
    assert expected == pytest.approx(0.9479, abs=5e-4)
    assert abs(fill - expected) < 0.01, (fill, expected)
    assert np.allclose(c["consumed_kg"], np.minimum(c["need_kg"], 1.2 * D))   # S on the shelf every morning


def _closed_hub(days: int = 40) -> dict:
    """base --12 h--> hub --1 h--> sorter --1 h--> shop, default target days (hub 3, sorter 1.5,
    shop 2); the hub is closed on days 5 to 9. Households hold 3 days of need."""
    data = _scenario(
        nodes=[{"id": "base", "kind": "out_of_province_base", "production_kg_per_day": 1e6},
               {"id": "hub", "kind": "transit_warehouse"},
               {"id": "sorter", "kind": "sorting_centre"},
               {"id": "shop", "kind": "supermarket"}],
        links=[{"src": "base", "dst": "hub", "travel_h": 12}, {"src": "hub", "dst": "sorter", "travel_h": 1},
               {"src": "sorter", "dst": "shop", "travel_h": 1}], days=days,
        shocks=[{"kind": "closure", "nodes": ["hub"], "start_day": 5, "end_day": 10}])
    data["city"]["communities"][0]["household_stock_days"] = 3.0
    return data


def test_a_closed_node_stops_ordering_and_catches_up_on_reopening():
    """While closed the hub neither orders nor receives, and the base makes nothing for it; on
    reopening the hub and the sorter order their whole gap at once and residents are served."""
    res = twin.run(_closed_hub(), seed=0)
    check_invariants(res)
    hub, base = _nodes(res, "hub"), _nodes(res, "base")
    assert np.allclose(hub["inflow_kg"].loc[5:9], 0.0)
    assert np.allclose(base["inflow_kg"].loc[6:10], 0.0)           # nothing to replace: nothing shipped
    assert base["inflow_kg"].loc[11:13].sum() > 3 * D               # the catch-up
    assert np.allclose(daily_service(res["communities"])["fill_of_need"], 1.0)   # household stock bridged it


def test_catch_up_after_a_reopening_shows_a_bounded_bullwhip():
    """Shown on purpose: suppliers forecast on the orders they get, catch-up included. After the
    reopening the sorter's catch-up order lifts the hub's forecast, hence its level, and the hub
    overstocks; the base then makes nothing until the hub has sold its surplus.

    Bounded: the hub never holds more than its cover (3 target + 1 review + 1 missed 05:00 wave =
    5 days) x the forecast cap (``max_forecast_factor`` 3) x D = 15,000 kg. Settling: forecasts
    decay at ``demand_smoothing`` 0.2 a day, so within 20 days of the reopening the hub is back to
    its steady 4,000 kg on hand (5 days less the day's D that has left) and the base makes D again.
    """
    res = twin.run(_closed_hub(), seed=0)
    hub, base = _nodes(res, "hub"), _nodes(res, "base")
    steady = 4 * D
    assert hub["stock_kg"].max() > 3 * steady                       # the bullwhip is there
    assert hub["stock_kg"].max() <= 5 * 3 * D + 1e-6                 # and bounded by the forecast cap
    assert base["inflow_kg"].loc[16:25].max() == 0.0                 # upstream starves of orders meanwhile
    assert hub["stock_kg"].loc[30:].sub(steady).abs().max() < 0.01 * steady
    assert base["inflow_kg"].loc[36:].between(0.99 * D, D).all()
    assert np.allclose(daily_service(res["communities"])["fill_of_need"], 1.0)   # residents never notice


def test_a_smaller_forecast_cap_damps_the_bullwhip():
    """The lever: with ``max_forecast_factor`` 1.2 the same catch-up lifts the hub at most to
    5 x 1.2 x D = 6,000 kg."""
    data = _closed_hub()
    data["network"]["max_forecast_factor"] = 1.2
    hub = _nodes(twin.run(data, seed=0), "hub")
    assert hub["stock_kg"].max() <= 5 * 1.2 * D + 1e-6
