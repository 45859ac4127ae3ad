"""Grid lockdowns (a few compounds, not whole districts) and supply workers under a lockdown
in a scenario without an epidemic."""

from __future__ import annotations

import numpy as np
import pytest

import twin
from tests.conftest import run_cli
from twin.scenario import ScenarioError
from twin.testing import check_invariants

GRID = ["c01_0002", "c01_0005", "c02_0003"]


def _levels(res, day: int) -> dict[str, str]:
    c = res["communities"]
    return dict(zip(c.loc[c["t_day"] == day, "community_id"].astype(str), c.loc[c["t_day"] == day, "lockdown"]))


def test_grid_lockdown_of_three_named_compounds(small_city):
    grid = {"name": "grid", "level": "static", "communities": GRID, "start_day": 3, "end_day": 8}
    res = twin.run(small_city, days=10, overrides={"lockdowns": [grid]})
    c = res["communities"]
    on = c[c["t_day"].between(3, 7)]
    static = on[on["lockdown"] == "static"]
    # exactly those three compounds, on exactly the lockdown's days
    assert sorted(static["community_id"].astype(str).unique()) == GRID
    assert len(static) == 3 * 5
    assert set(_levels(res, 2).values()) == {"normal"} and set(_levels(res, 8).values()) == {"normal"}
    # they do not go out; their neighbours (same district, same outlets) still shop in person
    assert static["delivered_offline_kg"].sum() == 0.0
    neighbours = on[(on["district"] == "district_01") & (on["lockdown"] == "normal")]
    assert (neighbours["delivered_offline_kg"] > 0).all()
    # the district is open: no outlet closes, nobody is confined
    assert not res["events"]["event"].eq("closure").any()
    city = res["city"]
    assert np.allclose(city.loc[city["t_day"].between(3, 7), "static_share"],
                       on[on["lockdown"] == "static"].groupby("t_day")["population"].sum().to_numpy()
                       / c[c["t_day"] == 3]["population"].sum())
    check_invariants(res)


def test_grid_lockdown_draws_the_same_compounds_in_every_replicate(small_city):
    grid = {"name": "grid", "level": "limited", "districts": ["district_01", "district_02"],
            "compounds_per_district": 2, "start_day": 1, "end_day": 3}
    locked = []
    for seed in (1, 2):
        levels = _levels(twin.run(small_city, days=2, seed=seed, overrides={"lockdowns": [grid]}), 1)
        locked.append(sorted(k for k, v in levels.items() if v == "limited"))
    assert locked[0] == locked[1]
    assert [x[:3] for x in locked[0]] == ["c01", "c01", "c02", "c02"]
    share = {**grid, "compounds_per_district": None, "compound_share": 0.5, "districts": []}
    levels = _levels(twin.run(small_city, days=2, overrides={"lockdowns": [share]}), 1)
    # half of 9, 8 and 7 compounds: 4 (9/2 rounds to even), 4 and 4
    assert sum(v == "limited" for v in levels.values()) == 4 + 4 + 4


def test_unknown_compound_is_a_one_line_error(small_city):
    grid = {"level": "static", "communities": ["c01_0002", "c09_0001"], "start_day": 1, "end_day": 3}
    with pytest.raises(ScenarioError) as err:
        twin.run(small_city, days=2, overrides={"lockdowns": [grid]})
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith(f"{small_city}: lockdowns[0].communities: no compound named 'c09_0001'")
    assert "'c01_0001'" in msg
    out = run_cli("validate", str(small_city), "--set",
                  'lockdowns=[{level="static", communities=["c09_0001"], start_day=1, end_day=3}]')
    assert out.returncode == 2 and "lockdowns[0].communities: no compound named 'c09_0001'" in out.stderr


def test_grid_fields_are_exclusive(small_city):
    both = {"level": "static", "communities": ["c01_0002"], "compound_share": 0.2, "start_day": 1, "end_day": 3}
    with pytest.raises(ScenarioError, match=r"lockdowns\[0\]\.compound_share: a grid lockdown names compounds one way"):
        twin.run(small_city, days=2, overrides={"lockdowns": [both]})


def test_static_lockdown_without_epidemic_keeps_supply_workers_at_work(small_city):
    """Supply workers hold passes unless a scenario says otherwise (epidemic.pass_share = 1)."""
    lock = {"level": "static", "districts": ["district_01"], "start_day": 2, "end_day": 6}
    res = twin.run(small_city, days=5, overrides={"lockdowns": [lock]})
    w = res["workforce"]
    crews = w[w["role"] != "volunteers"]
    assert (crews["confined"] == 0).all()
    assert np.allclose(crews["active"], crews["headcount"])
    # the same lockdown with no passes keeps every crew living in district_01 at home
    res0 = twin.run(small_city, days=5, overrides={"lockdowns": [lock], "epidemic": {"pass_share": 0.0}})
    w0 = res0["workforce"]
    home = w0[(w0["role"] != "volunteers") & (w0["district"] == "district_01") & (w0["t_day"] == 3)]
    assert len(home) and np.allclose(home["confined"], home["headcount"]) and (home["active"] == 0).all()


def test_a_grid_lockdown_confines_its_share_of_the_districts_crews(small_city):
    """Without passes, a district's crews live in its compounds: locking a third of district_01's
    residents in keeps a third of its crews at home, and no crew elsewhere."""
    grid = {"level": "static", "compound_share": 0.34, "districts": ["district_01"], "start_day": 2, "end_day": 6}
    res = twin.run(small_city, days=4, overrides={"lockdowns": [grid], "epidemic": {"pass_share": 0.0}})
    c = res["communities"]
    day = c[(c["t_day"] == 3) & (c["district"] == "district_01")]
    share = day.loc[day["lockdown"] == "static", "population"].sum() / day["population"].sum()
    assert 0.1 < share < 0.9
    w = res["workforce"]
    crews = w[(w["role"] != "volunteers") & (w["t_day"] == 3)]
    local = crews[crews["district"] == "district_01"]
    assert np.allclose(local["confined"], local["headcount"] * share, rtol=1e-9)
    others = crews[crews["district"].isin(["district_02", "district_03"])]
    assert (others["confined"] == 0).all()


def test_volunteers_carry_goods_that_arrived_not_orders_no_seller_could_fill():
    """Under static management the volunteers' kg go to what reached the gate: panicking households
    asking for months of rice (priority 1) no seller has must still get the vegetables (priority 2)
    the shop does have. Before the fix their rice orders took the whole gate and they ate half."""
    data = {
        "name": "gate",
        "city": {"communities": [{"id": "c", "district": "d", "population": 1000, "outlets": ["shop"],
                                  "household_stock_days": 3.0}]},
        "network": {"nodes": [
            {"id": "base", "kind": "suburban_base", "production_kg_per_day": 1e6, "produces": ["vegetables"],
             "stock_days": 0},
            {"id": "shop", "kind": "supermarket", "stock_days": 1}],                 # nobody brings rice
            "links": [{"src": "base", "dst": "shop"}]},
        "categories": [
            {"name": "rice", "need_kg_per_person_day": 1.0, "spoilage_per_day": 0.0, "baseline_price_per_kg": 6.0,
             "priority": 1, "household_stock_factor": 20.0, "suburban_share": 1.0},
            {"name": "vegetables", "need_kg_per_person_day": 1.0, "spoilage_per_day": 0.0, "baseline_price_per_kg": 6.0,
             "priority": 2, "household_stock_factor": 0.5, "suburban_share": 1.0}],
        "households": {"demand_noise_cv": 0.0, "gate_delivery_share": 1.0, "panic_share": 1.0,
                       "panic_stock_days": 30.0},
        "workforce": {"volunteer_kg_per_day": 100.0},
        "run": {"days": 12},
        "lockdowns": [{"level": "static", "announce_day": 1, "start_day": 2, "end_day": 12}],
    }
    res = twin.run(data, seed=0)
    c = res["communities"].set_index("t_day")
    gate = c["delivered_gate_kg"] + c["delivered_online_kg"]
    later = c.loc[7:]
    assert (later["consumed_kg"] / later["need_kg"]).min() > 0.8      # rice from the pantry, vegetables through the gate
    assert gate.loc[7:].min() > 0.5 * 1000                            # (before the fix: 0.5 and nothing at the gate)
