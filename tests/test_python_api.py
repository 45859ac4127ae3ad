"""The Python-first analysis API: plots, key figures, declared columns, dates, editing and diffing
scenarios (issue 16)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from matplotlib.figure import Figure

import twin
import twin.plot
from tests.conftest import ROOT, SCENARIOS, run_cli
from twin.recording.columns import COLUMNS, column_info

SN_CITY = {"name": "sn_city", "city": {"population": 200_000, "n_districts": 2}, "regimes": {"initial": "emergency"}}


@pytest.fixture(scope="module")
def outbreak():
    """Two replicates of a small outbreak and a normal small city (one written and read back)."""
    return [twin.run(SCENARIOS / "tiny" / "small_outbreak.toml", days=14, seed=s) for s in (1, 2)]


@pytest.fixture(scope="module")
def calm(tmp_path_factory):
    out = tmp_path_factory.mktemp("calm") / "small_city"
    twin.run(SCENARIOS / "tiny" / "small_city.toml", days=14, out=out)
    return twin.load_results(out)


@pytest.fixture(scope="module")
def with_requests():
    return twin.run(SN_CITY, days=6)


def _data_lines(ax):
    return [ln for ln in ax.get_lines() if ln.get_gid() and "|" in ln.get_gid()]


# -- plots ------------------------------------------------------------------------------------------------
def test_one_run_draws_one_line_per_series_with_the_run_s_numbers(calm):
    ax = twin.plot.fill(calm)
    (line,) = _data_lines(ax)
    c = calm["communities"].groupby("t_day")[["consumed_kg", "need_kg"]].sum()
    assert np.allclose(line.get_ydata(), c["consumed_kg"] / c["need_kg"])
    assert line.get_xdata().tolist() == list(range(14))
    ax = twin.plot.channels(calm)
    assert [ln.get_label() for ln in _data_lines(ax)] == ["offline", "online", "gate", "group", "unified", "safety_net"]
    kg = calm["communities"].groupby("t_day")["delivered_online_kg"].sum() / 1000
    assert np.allclose(_data_lines(ax)[1].get_ydata(), kg)


def test_replicates_are_drawn_as_their_mean_within_a_band_and_other_runs_overlaid(outbreak, calm):
    ax = twin.plot.fill([*outbreak, calm])
    lines = _data_lines(ax)
    assert len(lines) == 2                        # the outbreak's mean and the calm city
    f = [twin.plot.series(r, "fill")[r.manifest["scenario"]][0]["fill of need"] for r in outbreak]
    assert np.allclose(lines[0].get_ydata(), (f[0] + f[1]) / 2)
    (band,) = ax.collections                      # one band: only the outbreak has replicates
    lo, hi = np.minimum(f[0], f[1]), np.maximum(f[0], f[1])
    verts = band.get_paths()[0].vertices
    assert np.isclose(verts[:, 1].min(), lo.min()) and np.isclose(verts[:, 1].max(), hi.max())
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["small_outbreak (2 runs)", "small_city"]
    assert not (f[0] == f[1]).all()               # the seeds differ: the band is not a line


def test_overview_has_a_panel_per_series_and_labels_choose_replicates(outbreak, calm):
    fig = twin.plot.overview([*outbreak, calm], x="date")
    assert isinstance(fig, Figure)
    assert [a.get_title() for a in fig.axes] == ["fill", "channels", "stocks", "prices", "workforce", "cascade"]
    ax = twin.plot.stocks(outbreak, labels=["a", "b"])      # different labels: overlaid, no band
    assert not ax.collections
    assert len(_data_lines(ax)) == 2 * len(twin.plot.series(outbreak[0], "stocks")["small_outbreak"][0].columns)
    assert outbreak[0].plot(panels=["prices"]).axes[0].get_ylabel() == "price index (1 = baseline)"


def test_bad_arguments_name_what_is_allowed(calm):
    with pytest.raises(ValueError, match="choose one of fill"):
        twin.plot.series(calm, "nope")
    with pytest.raises(ValueError, match="band"):
        twin.plot.fill(calm, band=(0.9, 0.1))
    with pytest.raises(TypeError, match="not a DataFrame"):
        twin.plot.fill(calm["communities"])


# -- declared columns, dates, key figures ------------------------------------------------------------------
def test_every_column_of_every_table_has_a_declared_unit_and_description(outbreak, with_requests):
    seen = set()
    for res in (outbreak[0], with_requests):
        for name, table in res.tables.items():
            for field in table.schema:
                unit, text = column_info(name, field.name)         # KeyError: undeclared
                assert field.metadata[b"unit"].decode() == unit and field.metadata[b"description"].decode() == text
                assert unit and text
                seen.add((name, field.name))
    assert with_requests.tables["requests"].num_rows > 0
    assert set(res.tables) <= set(COLUMNS)
    # spot checks of what suffixes got wrong
    assert column_info("summary", "days")[0] == "day" and column_info("summary", "min_fill_day")[0] == "day"
    assert column_info("summary", "peak_price_day")[0] == "day"
    assert "over the run" in column_info("summary", "need_kg")[1]
    assert "this day" in column_info("communities", "need_kg")[1]


def test_daily_tables_carry_dates_and_requests_timestamps(with_requests, tmp_path):
    out = tmp_path / "sn"
    twin.run(SN_CITY, days=6, out=out)
    start = pd.Timestamp(json.loads((out / "manifest.json").read_text())["start_date"])
    for name in ("balance", "nodes", "communities", "prices", "workforce", "city", "events"):
        t = pq.read_table(out / f"{name}.parquet")
        assert str(t.schema.field("date").type) == "date32[day]", name
        df = t.to_pandas(date_as_object=False)
        want = start + pd.to_timedelta(df["t_day"], unit="D")
        assert (df["date"] == want).all(), name
    req = pq.read_table(out / "requests.parquet").to_pandas()
    served = req[req["outcome"] == "served"]
    assert len(served)
    assert (served["served_at"] == start + pd.to_timedelta(served["served_h"], unit="h")).all()
    assert req.loc[req["served_h"].isna(), "served_at"].isna().all()


def test_key_figures_is_one_row_per_summary_column_with_units(outbreak, calm):
    kf = twin.key_figures(outbreak[0])
    summary = outbreak[0]["summary"]
    assert list(kf.columns) == ["metric", "value", "unit", "description"]
    assert kf["metric"].tolist() == list(summary.columns)
    assert (kf["unit"] != "").all() and (kf["description"] != "").all()
    row = kf.set_index("metric").loc["fill_of_need"]
    assert row["value"] == summary["fill_of_need"].item() and row["unit"] == "1"
    both = twin.key_figures([outbreak[0], calm], labels=["outbreak", "calm"])
    wide = both.pivot(index="metric", columns="run", values="value")
    assert wide.loc["fill_of_need", "calm"] == calm["summary"]["fill_of_need"].item()
    # two weeks in, pantries and the network's adaptations still feed the outbreak town fully, but its
    # shops serve less of what people ask for
    assert wide.loc["market_service_level", "outbreak"] < wide.loc["market_service_level", "calm"]


def test_twin_columns_lists_the_declarations():
    r = run_cli("columns", "summary", "--json")
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert {"table": "summary", "column": "need_kg", "unit": "kg",
            "description": "what residents needed to eat, over the run"} in rows
    assert any(row["column"] == "peak_price_index_<category>" for row in rows)


# -- editing and diffing scenarios ---------------------------------------------------------------------------
def test_with_makes_a_validated_copy_and_leaves_the_original():
    sc = twin.load_scenario(SCENARIOS / "city_c_unified_supply.toml")
    small = sc.with_({"city.population": 1_000_000}, run__days=12)
    assert (small.city.population, small.run.days) == (1_000_000, 12)
    assert (sc.city.population, sc.run.days) == (25_000_000, 90)
    with pytest.raises(twin.ScenarioError, match="city.population"):
        sc.with_({"city.population": -5})
    assert twin.edit(sc, {"lockdowns[0].end_day": 40}).lockdowns[0].end_day == 40


def test_diff_lists_exactly_the_fields_that_differ_through_extends():
    a, c = SCENARIOS / "city_a_empowered_market.toml", SCENARIOS / "city_c_unified_supply.toml"
    d = twin.diff(a, c)
    sa, sc = twin.load_scenario(a), twin.load_scenario(c)
    assert d.set_index("field").loc["regimes.emergency.price_cap_index"].tolist() == [
        sa.regimes.emergency.price_cap_index, sc.regimes.emergency.price_cap_index]
    assert twin.diff(a, a).empty
    edited = twin.diff(sa, sa.with_({"households.online_share": 0.5, "run.days": 9}))
    assert edited.to_dict("records") == [
        {"field": "run.days", "a": sa.run.days, "b": 9},
        {"field": "households.online_share", "a": sa.households.online_share, "b": 0.5}]
    r = run_cli("diff", str(a), str(c))
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == f"{len(d)} fields differ ({a} -> {c}):"
    assert any(line.split()[0] == "regimes.emergency.price_cap_index" for line in r.stdout.splitlines()[1:])


def test_fields_marks_required_fields_instead_of_pydantic_internals():
    r = run_cli("fields", "city.districts")
    assert r.returncode == 0 and "PydanticUndefined" not in r.stdout
    assert "city.districts[i].name = (required)" in r.stdout
