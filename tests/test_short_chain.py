"""The suburban short chain (issue 11, item 7): suburban bases sell to every city hub, so they
deliver their share of the city's need, more when the lever is raised, and cushion a cut of
out-of-province supply (which they do not share).

A generated city of 500,000 residents; hubs split each category's orders over the bases by
what each produces (``network.suburban_share`` of need for every category when set).
"""

from __future__ import annotations

import pytest

import twin
from twin.testing import check_invariants


def _city(share: float | None = None, cut: bool = False) -> dict:
    data = {"name": "short_chain", "city": {"population": 500_000, "n_districts": 4},
            "network": {"n_sorting_centres": 9, "n_transit_warehouses": 4, "n_wholesale_markets": 2,
                        "n_out_of_province_bases": 4, "n_suburban_bases": 2},
            "run": {"days": 30}}
    if share is not None:
        data["network"]["suburban_share"] = share
    if cut:   # out-of-province output down to 30% for three weeks; no extra supply drawn in by prices,
        # so that the short chain alone cushions the cut
        data["shocks"] = [{"kind": "supply_cut", "factor": 0.3, "start_day": 5, "end_day": 26}]
        data["supply_response"] = {"max_extra": 0.0}
    return data


def _suburban(res) -> tuple[float, float]:
    """Suburban bases' output as a share of all bases' output, and of residents' need (days 5+)."""
    n, c = res["nodes"], res["communities"]
    n, c = n[n["t_day"] >= 5], c[c["t_day"] >= 5]
    bases = n[n["kind"].isin(["suburban_base", "out_of_province_base"])]
    sub = bases.loc[bases["kind"] == "suburban_base", "outflow_kg"].sum()
    return sub / bases["outflow_kg"].sum(), sub / c["need_kg"].sum()


def _fill(res) -> float:
    c = res["communities"]
    c = c[c["t_day"] >= 5]
    return c["consumed_kg"].sum() / c["need_kg"].sum()


@pytest.mark.parametrize("share", [0.3, 0.6])
def test_suburban_bases_deliver_their_share_of_need(share):
    res = twin.run(_city(share), seed=1)
    check_invariants(res)
    of_bases, of_need = _suburban(res)
    assert of_bases == pytest.approx(share, abs=0.02)
    # bases also ship what spoils on the way: a little more than the share of what is eaten
    assert share * 0.98 <= of_need <= share * 1.25
    assert _fill(res) > 0.99


def test_default_categories_put_about_a_sixth_of_need_on_the_short_chain():
    # need-weighted suburban shares of the ten default categories: 0.30 kg of 2 kg = 15%
    res = twin.run(_city(), seed=1)
    of_bases, of_need = _suburban(res)
    assert 0.14 <= of_bases <= 0.20
    assert 0.14 <= of_need <= 0.20


def test_short_chain_cushions_an_out_of_province_cut():
    none = _fill(twin.run(_city(0.0, cut=True), seed=1))
    default = _fill(twin.run(_city(cut=True), seed=1))
    strong = twin.run(_city(0.5, cut=True), seed=1)
    assert none < 0.87
    assert default > none + 0.05
    assert _fill(strong) > 0.98
    # suburban bases make up part of the gap: they ship more than their normal share
    assert _suburban(strong)[0] > 0.55
