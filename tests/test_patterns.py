"""The city patterns A, B, C and policy switching differ only in the fields the README lists, and
a lever that adds nodes (transfer stations) shifts no other random stream (issue 13)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import twin
from twin.network.build import build_network
from twin.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
PATTERNS = ["city_a_empowered_market", "city_b_regulated_group_buying", "city_c_unified_supply",
            "policy_package_switching"]


def _flat(data: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in data.items():
        if isinstance(value, dict) and value:
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _readme_table() -> dict[str, set[str]]:
    """Per pattern, the fields its column of the README's pattern table fills in."""
    text = (ROOT / "README.md").read_text()
    lines = text[text.index("**The city patterns**"):].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| field"))
    end = next(i for i in range(start, len(lines)) if not lines[i].startswith("|"))
    head, rows = lines[start], [line for line in lines[start:end] if line.startswith("| `")]
    names = [re.search(r"`(\w+)`", cell).group(1) for cell in head.split("|")[2:6]]
    fields: dict[str, set[str]] = {n: set() for n in names}
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        field = cells[0].strip("`")
        for name, cell in zip(names, cells[1:5]):
            if cell:
                fields[name].add(field)
    return fields


def test_the_patterns_differ_from_their_common_ground_only_in_the_listed_fields():
    listed = _readme_table()
    assert set(listed) == set(PATTERNS)
    common = _flat(load_scenario(SCENARIOS / "city_patterns_common.toml").model_dump(mode="json"))
    for name in PATTERNS:
        sc = _flat(load_scenario(SCENARIOS / f"{name}.toml").model_dump(mode="json"))
        differ = {k for k in set(sc) | set(common) if sc.get(k) != common.get(k)} - {"name", "description"}
        assert differ == listed[name], (name, differ ^ listed[name])


def test_the_patterns_share_one_city_and_one_network_apart_from_transfer_stations():
    small = {"city.population": 300_000, "network.n_sorting_centres": 4, "network.n_transit_warehouses": 2,
             "network.n_out_of_province_bases": 3, "network.n_suburban_bases": 2}
    nets = {n: build_network(load_scenario(SCENARIOS / f"{n}.toml", small)) for n in PATTERNS}
    a = nets["city_a_empowered_market"]
    for name, net in nets.items():
        assert net.community_ids == a.community_ids and np.array_equal(net.population, a.population), name
        keep = [i for i, k in enumerate(net.node_ids) if not k.startswith("transfer_station")]
        assert tuple(net.node_ids[i] for i in keep) == a.node_ids, name


def test_transfer_stations_shift_no_other_random_stream():
    runs = {flag: twin.run(ROOT / "scenarios" / "tiny" / "small_outbreak.toml", seed=3, days=20,
                           overrides={"network.use_transfer_stations": flag}) for flag in (False, True)}
    net_off, net_on = (build_network(load_scenario(ROOT / "scenarios" / "tiny" / "small_outbreak.toml",
                                                   {"network.use_transfer_stations": f})) for f in (False, True))
    # the same city: every node but the stations in the same district, with the same id
    on_ids = [k for k in net_on.node_ids if not k.startswith("transfer_station")]
    assert tuple(on_ids) == net_off.node_ids
    w_off, w_on = (runs[f]["workforce"] for f in (False, True))
    # crews of every kind but the stations and the long-haul bases they serve (whose drivers are
    # sized on the new trips) draw their infections exactly as before
    skip = ("transfer_station", "out_of_province_base")
    keep_off = w_off[~w_off["kind"].astype(str).isin(skip)].set_index(["t_day", "pool"])["new_infected"]
    keep_on = w_on[~w_on["kind"].astype(str).isin(skip)].set_index(["t_day", "pool"])["new_infected"]
    assert keep_off.sum() > 0
    assert keep_on.reindex(keep_off.index).equals(keep_off)
    c_off, c_on = (runs[f]["communities"] for f in (False, True))
    assert np.array_equal(c_off["population"], c_on["population"])


@pytest.mark.parametrize("name", PATTERNS)
def test_every_pattern_uses_the_common_triggers(name):
    sc = load_scenario(SCENARIOS / f"{name}.toml")
    common = load_scenario(SCENARIOS / "city_patterns_common.toml")
    assert sc.regimes.triggers == common.regimes.triggers
    assert sc.regimes.switch_delay_days == common.regimes.switch_delay_days
    assert all(t.metric in ("infection_per_100k", "fill_of_need") for t in sc.regimes.triggers)


def test_compare_reads_several_seeds_per_pattern_with_bands_and_noise(tmp_path):
    from twin.compare import load_patterns
    from twin.metrics.patterns import pattern_differences, pattern_table

    cut = [{"name": "cut", "kind": "supply_cut", "factor": 0.1, "start_day": 3, "end_day": 12}]
    folders = []
    for name, floor in (("weak", 0.0), ("contracted", 0.0)):
        for seed in (1, 2, 3):
            out = tmp_path / f"{name}_{seed}"
            twin.run(ROOT / "scenarios" / "tiny" / "small_city.toml", seed=seed, days=14, out=out,
                     overrides={"name": name, "shocks": cut, "households.demand_noise_cv": 0.2,
                                "learning.contract_supply_floor": floor})
            folders.append(out)
    patterns = load_patterns(folders)
    assert [(p.label, len(p.runs)) for p in patterns] == [("weak", 3), ("contracted", 3)]
    table = pattern_table(patterns)
    cell = table.loc["Fill of need over the run (consumed / need) [share of need]", "weak (3 seeds)"]
    assert "[" in cell                                                  # mean [95% band]
    # the same scenario under two names: every difference is within the seeds' noise
    diff = pattern_differences(patterns)
    # ("-": the day never came in any run, e.g. no failure: nothing to compare)
    assert diff.iloc[:, 0].str.contains("within noise|not comparable").where(diff.iloc[:, 0] != "-", True).all()
    recovery = table.loc["Shock to lasting recovery (95% of pre-shock) [days]"].tolist()
    assert all(("never" in v) or v[0].isdigit() for v in recovery)      # never is a word, not a number
