"""Evolvability as a mechanism: the adaptations a city keeps after a shock, each a lever, read
against the same scenario and seed without learning (common random numbers). Issue 13."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import twin
from twin.metrics import evolvability_of, run_episodes

SMALL = Path(__file__).resolve().parents[1] / "scenarios" / "tiny" / "small_city.toml"
CUTS = [{"name": "first", "kind": "supply_cut", "factor": 0.2, "start_day": 5, "end_day": 11},
        {"name": "second", "kind": "supply_cut", "factor": 0.2, "start_day": 22, "end_day": 28}]
ONLY = {"reserve_stock_factor": 1.0, "household_stock_days_added": 0.0, "standing_passes_and_bubbles": False,
        "contract_supply_floor": 0.0}


# the cuts bite: no short chain, no extra supply drawn in by prices, no overtime to cushion them
BITE = {"network.suburban_share": 0.0, "supply_response.max_extra": 0.0, "surge.max_extra": 0.0}


def _pair(**levers):
    out = {}
    for enabled in (True, False):
        learning = {**ONLY, "enabled": enabled, "delay_days": 2.0, **levers}
        res = twin.run(SMALL, seed=4, days=34, overrides={"shocks": CUTS, "learning": learning, **BITE})
        out[enabled] = {name: res[name] for name in res.tables}
    return out[True], out[False]


def _same_until(a, b, day: int) -> bool:
    ca, cb = a["communities"], b["communities"]
    return np.array_equal(ca.loc[ca["t_day"] < day, "consumed_kg"], cb.loc[cb["t_day"] < day, "consumed_kg"])


# (a bigger household pantry is no such lever here: households still refilling it when the second cut
# comes compete for scarce goods, and food sits in some pantries while other households go short)
@pytest.mark.parametrize("lever", [{"contract_supply_floor": 0.8}])
def test_a_kept_adaptation_makes_the_second_shock_cost_less(lever):
    learned, unlearned = _pair(**lever)
    # common random numbers: the two runs are the same city until the adaptations take effect (day 13)
    assert _same_until(learned, unlearned, 13)
    assert not _same_until(learned, unlearned, 34)
    figures = evolvability_of(learned, unlearned, 2.0)
    assert figures["second_shock_loss_without_learning_person_days"] > 0
    assert figures["second_shock_loss_avoided_person_days"] > 0 and figures["evolvability"] > 0
    kept = learned["events"][learned["events"]["event"] == "adaptation_kept"]
    assert len(kept) == 2 and (kept["t_day"] == [13, 30]).all()          # after each episode, 2 days on


def test_without_learning_evolvability_is_zero_whatever_the_first_shock_left():
    _, unlearned = _pair()
    t0, _, eps, table = run_episodes(unlearned, 2.0)
    assert eps == [(5.0, 11.0), (22.0, 28.0)]
    # the second identical cut costs more than the first (stocks still depleted): that is not learning
    first, second = table["loss_person_days"]
    assert second > first
    assert evolvability_of(unlearned, unlearned, 2.0)["evolvability"] == 0.0


def test_reserves_are_refilled_higher_and_passes_become_standing():
    regimes = {"initial": "normal", "switch_delay_days": 0, "schedule": [{"day": 5, "to": "emergency"},
                                                                          {"day": 11, "to": "normal"}],
               "emergency": {"modes": ["market", "safety_net"], "pass_share": 0.9,
                             "bubble_kinds": ["sorting_centre"]}}
    res = twin.run(SMALL, seed=4, days=20, overrides={
        "regimes": regimes, "learning": {**ONLY, "enabled": True, "delay_days": 0.0, "reserve_stock_factor": 2.0,
                                         "standing_passes_and_bubbles": True}})
    kept = res["events"][res["events"]["event"] == "adaptation_kept"]
    assert set(kept["shock"]) == {"reserves_refilled_higher", "standing_passes", "standing_bubbles"}
    assert kept.loc[kept["shock"] == "standing_passes", "factor"].item() == 0.9
    nodes = res["nodes"]
    reserves = nodes[nodes["kind"] == "reserve_warehouse"].groupby("t_day")["stock_kg"].sum()
    assert reserves.loc[19] > 1.5 * reserves.loc[10]                     # refilled to twice the old level
