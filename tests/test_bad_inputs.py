"""Every kind of bad input gets one line naming the file and field (or path), exit 2, no traceback,
and nothing written or destroyed (issue 10).

Each case builds its inputs in a fresh folder, calls the CLI in-process (``twin.cli.main``) from
that folder, and compares a snapshot of the folder before and after. ``CLASSES`` counts the cases.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

import twin
from tests.conftest import SCENARIOS
from twin.cli import main
from twin.recording.writer import folder_lock

TINY = (SCENARIOS / "tiny" / "one_of_each.toml").read_text()
SMALL = (SCENARIOS / "tiny" / "small_city.toml").read_text()
CSV_HEAD = "date,new_cases_total\n"
SHOCK = '\n[[shocks]]\nkind = "supply_cut"\nstart_day = 1\nend_day = 3\n'


@dataclass(frozen=True)
class Case:
    """A bad input: ``build(tmp)`` writes its files and returns the argv and the fragments the
    error line must hold (file or path first, then the field)."""

    name: str
    cls: str
    build: Callable[[Path], tuple[list[str], list[str]]]
    code: int = 2


CASES: list[Case] = []


def case(cls: str, name: str, code: int = 2):
    def add(build):
        CASES.append(Case(name, cls, build, code))
        return build
    return add


def write(tmp: Path, text: str | bytes, name: str = "s.toml") -> str:
    path = tmp / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return name


def scenario_case(cls: str, name: str, text: str, field: str, command: str = "validate", extra=()):
    """A scenario file that `twin validate` (or `twin run`) must refuse, naming ``field``."""
    @case(cls, name)
    def build(tmp: Path):
        f = write(tmp, text)
        args = [command, f, *extra] + (["--out", "out"] if command == "run" else [])
        return args, [f, field]
    return build


def set_case(cls: str, name: str, sets: list[str], field: str, base: str = "small_city.toml", command="run"):
    """``--set`` overrides on a shipped tiny scenario."""
    @case(cls, name)
    def build(tmp: Path):
        path = str(SCENARIOS / "tiny" / base)
        args = [command, path] + [a for s in sets for a in ("--set", s)] + (["--out", "o"] if command == "run" else [])
        return args, [path, field]
    return build


# ---- 1. malformed files -----------------------------------------------------------------------------------
scenario_case("malformed file", "toml_syntax", "[city\npopulation = 5\n", "malformed TOML")
scenario_case("malformed file", "duplicate_key", "name = 'a'\nname = 'b'\n", "malformed TOML")
scenario_case("malformed file", "csv_as_scenario", "a,b,c\n1,2,3\n", "malformed TOML")


@case("malformed file", "binary_bytes")
def _binary(tmp):
    return ["validate", write(tmp, bytes(range(256)) * 4)], ["s.toml", "UTF-8"]


@case("malformed file", "latin1_text")
def _latin1(tmp):
    return ["run", write(tmp, 'name = "café"\n'.encode("latin-1")), "--out", "o"], ["s.toml", "UTF-8"]


@case("malformed file", "directory_as_scenario")
def _dir_scenario(tmp):
    (tmp / "adir").mkdir()
    return ["validate", "adir"], ["adir", "is a folder"]


@case("malformed file", "missing_file")
def _missing(tmp):
    return ["run", "nope.toml", "--out", "o"], ["nope.toml", "file not found"]


@case("malformed file", "nested_too_deep")
def _deep(tmp):
    return ["validate", write(tmp, "a = " + "[" * 5000 + "]" * 5000 + "\n")], ["s.toml", "TOML"]


# ---- 2. unknown fields ----------------------------------------------------------------------------------------
for _n, _text, _field in [
    ("city_typo", "[city]\npopulaton = 5\n", "city.populaton"),
    ("top_level", "colour = 'red'\n", "colour"),
    ("run_typo", "[run]\ndayz = 3\n", "run.dayz"),
    ("shock_typo", SHOCK + "facter = 0.5\n", "shocks[0].facter"),
    ("node_typo", TINY.replace('kind = "transit_warehouse"', 'kind = "transit_warehouse"\nkindd = 1'),
     "network.nodes[1].kindd"),
    ("epidemic_typo", "[epidemic]\nbogus = 1\n", "epidemic.bogus"),
    ("regime_typo", "[regimes.normal]\nmodez = ['market']\n", "regimes.normal.modez"),
    ("group_typo", "[safety_net.groups.elderly_alone]\nshare = 0.1\nbogus = 2\n", "safety_net.groups.elderly_alone.bogus"),
    ("prices_typo", "[prices]\nceiling = 3\n", "prices.ceiling"),
    ("lockdown_typo", "[[lockdowns]]\nlevel = 'static'\nstart_day = 1\nend_day = 2\ndistrict = ['a']\n",
     "lockdowns[0].district"),
]:
    scenario_case("unknown field", _n, _text, _field)

# ---- 3. wrong types -----------------------------------------------------------------------------------------
for _n, _text, _field in [
    ("days_text", '[run]\ndays = "many"\n', "run.days"),
    ("population_text", '[city]\npopulation = "lots"\n', "city.population"),
    ("population_fraction", "[city]\npopulation = 1.5\n", "city.population"),
    ("shocks_not_list", 'shocks = "x"\n', "shocks"),
    ("factor_text", SHOCK + 'factor = "big"\n', "shocks[0].factor"),
    ("share_list", "[households]\nonline_share = [1]\n", "households.online_share"),
    ("districts_text", '[city]\ndistricts = "a"\n', "city.districts"),
    ("lockdown_level", "[[lockdowns]]\nlevel = 'total'\nstart_day = 1\nend_day = 2\n", "lockdowns[0].level"),
    ("start_date_int", "[run]\nstart_date = 20220101\n", "run.start_date"),
    ("city_is_number", "city = 5\n", "city"),
]:
    scenario_case("wrong type", _n, _text, _field)

# ---- 4. out-of-range values, non-finite numbers and dates ------------------------------------------------
for _n, _text, _field in [
    ("share_above_1", "[city]\nelderly_share = 1.5\n", "city.elderly_share"),
    ("negative_population", "[city]\npopulation = -5\n", "city.population"),
    ("zero_population", "[city]\npopulation = 0\n", "city.population"),
    ("huge_population", "[city]\npopulation = 1_000_000_000_000\n", "city.population"),
    ("zero_districts", "[city]\nn_districts = 0\n", "city.n_districts"),
    ("many_districts", "[city]\nn_districts = 5000\n", "city.n_districts"),
    ("zero_days", "[run]\ndays = 0\n", "run.days"),
    ("too_many_days", "[run]\ndays = 4000\n", "run.days"),
    ("month_13", '[run]\nstart_date = "2022-13-45"\n', "run.start_date"),
    ("feb_30", '[run]\nstart_date = "2022-02-30"\n', "run.start_date"),
    ("short_date", '[run]\nstart_date = "22-1-1"\n', "run.start_date"),
    ("end_before_start", SHOCK.replace("end_day = 3", "end_day = 0.5"), "shocks[0].end_day"),
    ("negative_factor", SHOCK + "factor = -1\n", "shocks[0].factor"),
    ("ceiling_below_1", "[prices]\nceiling_index = 0.5\n", "prices.ceiling_index"),
    ("zero_latent", "[epidemic]\nlatent_days = 0\n", "epidemic.latent_days"),
    ("tiny_compounds", "[city]\nmean_compound_size = 5\n", "city.mean_compound_size"),
    ("outlet_density", "[network]\nsupermarkets_per_10k = 1e9\n", "network.supermarkets_per_10k"),
    ("elasticity", TINY + '\n[[categories]]\nname = "rice"\nneed_kg_per_person_day = 1\nspoilage_per_day = 0\n'
                          'baseline_price_per_kg = 5\nelasticity = 6\n', "categories[0].elasticity"),
    ("name_dots", 'name = ".."\n', "name"),
    ("name_space", 'name = "my city"\n', "name"),
    ("negative_seed", "[run]\nseed = -1\n", "run.seed"),
    ("zero_travel", TINY.replace("travel_h = 10.0", "travel_h = 0.0"), "network.links[0].travel_h"),
    ("too_many_compounds", "[city]\npopulation = 100_000_000\nmean_compound_size = 10\n", "city.population"),
    ("too_many_rows", "[run]\ndays = 3650\n[city]\npopulation = 100_000_000\n", "run.days"),
    ("too_many_nodes", "[city]\npopulation = 100_000_000\n[network]\nsupermarkets_per_10k = 900\n", "network"),
    ("huge_number", "[workforce]\nsorter_kg_per_day = 1e300\n", "workforce.sorter_kg_per_day"),
    ("many_shocks", "".join(SHOCK for _ in range(1001)), "shocks"),
]:
    scenario_case("out of range", _n, _text, _field)

for _n, _text, _field in [  # NaN and infinities, one field of each kind
    ("factor_inf", SHOCK + "factor = inf\n", "shocks[0].factor"),
    ("factor_nan", SHOCK + "factor = nan\n", "shocks[0].factor"),
    ("end_day_inf", SHOCK.replace("end_day = 3", "end_day = inf"), "shocks[0].end_day"),
    ("ceiling_inf", "[prices]\nceiling_index = inf\n", "prices.ceiling_index"),
    ("stock_days_nan", "[city]\nhousehold_stock_days = nan\n", "city.household_stock_days"),
    ("share_nan", "[households]\nonline_share = nan\n", "households.online_share"),
    ("supply_factor_inf", "[network]\nsupply_factor = inf\n", "network.supply_factor"),
    ("kind_stock_days_nan", "[network.stock_days]\nsorting_centre = nan\n", "network.stock_days.sorting_centre"),
    ("productivity_inf", "[workforce]\nparcels_per_courier_day = inf\n", "workforce.parcels_per_courier_day"),
    ("incidence_nan", "[epidemic]\nincidence_per_100k = [1.0, nan]\n", "epidemic.incidence_per_100k[1]"),
    ("ascertainment_inf", "[epidemic]\nascertainment = inf\n", "epidemic.ascertainment"),
    ("markup_nan", "[group_buying]\nmarkup = nan\n", "group_buying.markup"),
    ("joint_supply_inf", "[unified]\njoint_supply_kg_per_day_per_1000 = inf\n",
     "unified.joint_supply_kg_per_day_per_1000"),
    ("switch_delay_nan", "[regimes]\nswitch_delay_days = nan\n", "regimes.switch_delay_days"),
    ("trigger_inf", "[[regimes.triggers]]\nto = 'emergency'\nmetric = 'service_level'\nbelow = -inf\n",
     "regimes.triggers[0]"),
    ("team_kg_inf", "[safety_net]\nteam_kg_per_day = inf\n", "safety_net.team_kg_per_day"),
    ("link_capacity_inf", TINY.replace("travel_h = 10.0", "travel_h = 10.0\ntruck_capacity_kg = inf"),
     "network.links[0].truck_capacity_kg"),
    ("production_nan", TINY.replace("production_kg_per_day = 3000.0", "production_kg_per_day = nan"),
     "network.nodes[0].production_kg_per_day"),
    ("lockdown_end_inf", "[[lockdowns]]\nlevel = 'static'\nstart_day = 1\nend_day = inf\n", "lockdowns[0].end_day"),
    ("package_nan", "[unified.package_kg_per_person]\nrice = nan\n", "unified.package_kg_per_person.rice"),
]:
    scenario_case("non-finite number", _n, _text, _field)

# ---- 5. references to missing nodes, districts, categories -------------------------------------------------
for _n, _text, _field, _cmd in [
    ("shock_node", TINY + '\n[[shocks]]\nkind = "closure"\nnodes = ["nowhere"]\nstart_day = 1\nend_day = 2\n',
     "shocks[0].nodes", "validate"),
    ("shock_district", SMALL + '\n[[shocks]]\nkind = "closure"\ndistricts = ["atlantis"]\nstart_day = 1\nend_day = 2\n',
     "shocks[0].districts", "validate"),
    ("lockdown_district_validate", SMALL + "\n[[lockdowns]]\nlevel = 'static'\ndistricts = ['atlantis']\n"
                                           "start_day = 1\nend_day = 2\n", "lockdowns[0].districts", "validate"),
    ("lockdown_district_run", SMALL + "\n[[lockdowns]]\nlevel = 'static'\ndistricts = ['atlantis']\n"
                                      "start_day = 1\nend_day = 2\n", "lockdowns[0].districts", "run"),
    ("link_dst", TINY.replace('dst = "hub"', 'dst = "hubb"'), "network.links[0].dst", "validate"),
    ("community_outlet", TINY.replace('outlets = ["market"]', 'outlets = ["shop"]'), "city.communities[0].outlets",
     "validate"),
    ("front_warehouse", TINY.replace('front_warehouse = "dark_store"', 'front_warehouse = "nowhere"'),
     "city.communities[0].outlets", "validate"),
    ("shock_category", SHOCK + 'categories = ["caviar"]\n', "shocks[0].categories", "validate"),
    ("safety_goods", "[safety_net.groups.x]\nshare = 0.1\n[safety_net.groups.x.goods_kg_per_day]\ncaviar = 1\n",
     "safety_net.groups.x.goods_kg_per_day", "validate"),
    ("package_category", "[unified.package_kg_per_person]\ncaviar = 1\n", "unified.package_kg_per_person", "validate"),
    ("close_kinds", "[epidemic]\nclose_on_case_kinds = ['spaceport']\n", "epidemic.close_on_case_kinds", "validate"),
    ("community_district", TINY.replace("[city]\n", "[city]\n[[city.districts]]\nname = 'north'\npopulation = 5\n"),
     "city.communities", "validate"),
    ("no_links", TINY[:TINY.index("[[network.links]]")], "network.links", "run"),
    ("cycle", TINY + '\n[[network.links]]\nsrc = "sorter"\ndst = "hub"\n', "network.links", "run"),
    ("bubble_kind", "[regimes.extreme]\nbubble_kinds = ['spaceport']\n", "regimes.extreme.bubble_kinds", "validate"),
]:
    scenario_case("missing reference", _n, _text, _field, command=_cmd)

# ---- 6. --set overrides ------------------------------------------------------------------------------------
set_case("--set override", "index_not_number", ["shocks[x].factor=1"], "--set shocks[x].factor")
set_case("--set override", "into_a_value", ["city.population.x=1"], "--set city.population.x")
set_case("--set override", "empty_piece", ["city..population=1"], "--set city..population")
set_case("--set override", "no_field", ["=5"], "--set")
set_case("--set override", "no_equals", ["novalue"], "--set")
set_case("--set override", "index_out_of_range", ["shocks[5].factor=1"], "--set shocks[5].factor")
set_case("--set override", "negative_index", ["shocks[-1].factor=1"], "--set shocks[-1].factor")
set_case("--set override", "bare_word", ["city.population=abc"], "city.population")
set_case("--set override", "nan_value", ["run.days=nan"], "run.days")
set_case("--set override", "share_too_big", ["households.online_share=2"], "households.online_share")
set_case("--set override", "validate_too", ["city.population=inf"], "city.population", command="validate")
set_case("--set override", "unknown_field", ["city.populaton=5"], "city.populaton")

# ---- 7. extends ----------------------------------------------------------------------------------------------


@case("extends", "cycle")
def _cycle(tmp):
    write(tmp, 'extends = "b.toml"\n', "a.toml")
    write(tmp, 'extends = "a.toml"\n', "b.toml")
    return ["validate", "a.toml"], ["a.toml", "extends", "cycle"]


@case("extends", "self")
def _self(tmp):
    return ["run", write(tmp, 'extends = "s.toml"\n'), "--out", "o"], ["s.toml", "extends", "cycle"]


@case("extends", "missing_parent")
def _missing_parent(tmp):
    write(tmp, 'extends = "gone.toml"\n')
    return ["validate", "s.toml"], ["gone.toml", "file not found"]


@case("extends", "not_text")
def _extends_number(tmp):
    return ["validate", write(tmp, "extends = 5\n")], ["s.toml", "extends"]


@case("extends", "parent_is_folder")
def _extends_dir(tmp):
    (tmp / "d").mkdir()
    return ["validate", write(tmp, 'extends = "d"\n')], ["d", "is a folder"]


@case("extends", "parent_binary")
def _extends_binary(tmp):
    write(tmp, b"\xff\xfe\x00garbage", "p.toml")
    return ["validate", write(tmp, 'extends = "p.toml"\n')], ["p.toml", "UTF-8"]


@case("extends", "long_chain")
def _extends_chain(tmp):
    for i in range(25):
        write(tmp, f'extends = "c{i + 1}.toml"\n', f"c{i}.toml")
    write(tmp, "", "c25.toml")
    return ["validate", "c0.toml"], ["extends", "more than 20"]


# ---- 8. incidence CSVs ----------------------------------------------------------------------------------------
def csv_case(name: str, csv: str | bytes | None, fragment: str, column: str = "new_cases_total",
             field: str = "epidemic.incidence_csv"):
    @case("incidence CSV", name)
    def build(tmp: Path):
        if csv is not None:
            write(tmp, csv, "cases.csv")
        text = f'[epidemic]\nincidence_csv = "cases.csv"\nincidence_column = "{column}"\n'
        return ["validate", write(tmp, text)], ["s.toml", field, fragment]
    return build


csv_case("missing", None, "file not found")
csv_case("non_numeric", CSV_HEAD + "2022-03-19,5\n2022-03-20,many\n", "row 3")
csv_case("bad_date", CSV_HEAD + "2022-03-19,5\n2022-13-45,6\n", "row 3")
csv_case("empty_date", CSV_HEAD + "2022-03-19,5\n,6\n", "row 3")
csv_case("empty_cases", CSV_HEAD + "2022-03-19,\n", "row 2")
csv_case("negative_cases", CSV_HEAD + "2022-03-19,-4\n", "row 2")
csv_case("inf_cases", CSV_HEAD + "2022-03-19,inf\n", "row 2")
csv_case("no_column", CSV_HEAD + "2022-03-19,5\n", "no column", column="cases", field="epidemic.incidence_column")
csv_case("no_date_column", "day,new_cases_total\n1,5\n", "no 'date' column")
csv_case("binary", bytes(range(256)), "UTF-8")
csv_case("header_only", CSV_HEAD, "no rows")
csv_case("empty_file", "", "cannot read")


@case("incidence CSV", "directory")
def _csv_dir(tmp):
    (tmp / "cases.csv").mkdir()
    return ["validate", write(tmp, '[epidemic]\nincidence_csv = "cases.csv"\n')], ["s.toml", "epidemic.incidence_csv",
                                                                                  "is a folder"]


# ---- 9. sweep files ------------------------------------------------------------------------------------------
SWEEP = f"""name = "bad"
base = "{(SCENARIOS / 'sweeps' / 'town.toml').as_posix()}"
days = 3
root_seed = 1
[sampler]
method = "latin"
samples = 3
[[uncertainties]]
field = "shocks[0].factor"
range = [0.2, 0.8]
"""


def sweep_case(name: str, text: str, field: str, extra=()):
    @case("sweep file", name)
    def build(tmp: Path):
        return ["sweep", "plan", write(tmp, text, "sw.toml"), "--out", "swp", *extra], ["sw.toml", field]
    return build


sweep_case("missing_base", SWEEP.replace("town.toml", "gone.toml"), "base")
sweep_case("unknown_field", SWEEP + "colour = 1\n", "colour")
sweep_case("sobol_not_power_of_2", SWEEP.replace('"latin"', '"sobol"'), "sampler.samples")
sweep_case("range_reversed", SWEEP.replace("[0.2, 0.8]", "[0.8, 0.2]"), "uncertainties[0].range")
sweep_case("range_nan", SWEEP.replace("[0.2, 0.8]", "[nan, 0.8]"), "uncertainties[0].range")
sweep_case("values_nan", SWEEP.replace("range = [0.2, 0.8]", "values = [0.5, nan]"), "uncertainties[0].values")
sweep_case("sd_inf", SWEEP.replace("range = [0.2, 0.8]", "distribution = {kind = 'normal', mean = 0.5, sd = inf}"),
           "uncertainties[0].distribution.sd")
sweep_case("zero_replicates", SWEEP + "replicates = 0\n", "replicates")
sweep_case("too_many_days", SWEEP.replace("days = 3", "days = 5000"), "days")
sweep_case("field_not_in_base", SWEEP.replace("shocks[0].factor", "shocks[9].factor"), "uncertainties[0].field")
sweep_case("negative_root_seed", SWEEP.replace("root_seed = 1", "root_seed = -1"), "root_seed")
sweep_case("too_many_samples", SWEEP.replace("samples = 3", "samples = 5_000_000"), "sampler.samples")
sweep_case("not_toml", "name = \n", "malformed TOML")
sweep_case("too_many_runs", SWEEP + "replicates = 10_000\n[[levers]]\nfield = 'households.online_share'\n"
                                    "range = [0.1, 0.9]\nlevels = 1000\n", "replicates")

_PACKAGE = "\n[[levers]]\nfield = 'regimes.emergency'\n"
sweep_case("table_for_a_number", SWEEP + "[[levers]]\nfield = 'households.online_share'\nvalues = [{a = 1}]\n",
           "levers[0].values")
sweep_case("table_unknown_key", SWEEP + _PACKAGE + "values = [{modes = ['market']}, {moods = ['market']}]\n",
           "levers[0].values[1]")
sweep_case("table_bad_mode", SWEEP + _PACKAGE + "values = [{modes = ['market', 'grup_buying']}]\n",
           "levers[0].values[0]")
sweep_case("labels_count", SWEEP + _PACKAGE + "labels = ['a']\nvalues = [{modes = ['market']}, {modes = ['unified']}]\n",
           "levers[0].labels")
sweep_case("labels_repeat", SWEEP + _PACKAGE + "labels = ['a', 'a']\nvalues = [{modes = ['market']}, {modes = ['unified']}]\n",
           "levers[0].labels")
sweep_case("labels_for_numbers", SWEEP + "[[levers]]\nfield = 'households.online_share'\nlabels = ['x']\nvalues = [0.2]\n",
           "levers[0].labels")
sweep_case("values_mixed_table_number", SWEEP + _PACKAGE + "values = [{modes = ['market']}, 3]\n", "levers[0].values")
sweep_case("merge_numbers", SWEEP + "[[levers]]\nfield = 'households.online_share'\nmerge = true\nvalues = [0.2]\n",
           "levers[0].merge")
sweep_case("scenario_with_base", SWEEP + "[[levers]]\nfield = 'scenario'\nvalues = ['x.toml']\n", "base")
sweep_case("scenario_not_toml", SWEEP + "[[levers]]\nfield = 'scenario'\nvalues = ['x.txt']\n", "levers[0].values[0]")
sweep_case("scenario_range", SWEEP + "[[levers]]\nfield = 'scenario'\nrange = [0, 1]\n", "levers[0].values")
sweep_case("no_base_no_scenario", SWEEP.split("\n", 2)[0] + "\n" + SWEEP.split("\n", 2)[2], "base")
_FILES = SWEEP.split("\n", 2)[0] + "\n" + SWEEP.split("\n", 2)[2] + "[[levers]]\nfield = 'scenario'\n"


@case("sweep file", "scenario_file_missing")
def _scenario_missing(tmp):
    write(tmp, f'extends = "{(SCENARIOS / "sweeps" / "town.toml").as_posix()}"\n', "a.toml")
    return ["sweep", "plan", write(tmp, _FILES + "values = ['a.toml', 'gone.toml']\n", "sw.toml"), "--out", "swp"], \
        ["sw.toml", "levers[0].values[1]", "gone.toml"]


@case("sweep file", "scenario_file_invalid")
def _scenario_invalid(tmp):
    write(tmp, f'extends = "{(SCENARIOS / "sweeps" / "town.toml").as_posix()}"\n', "a.toml")
    write(tmp, f'extends = "{(SCENARIOS / "sweeps" / "town.toml").as_posix()}"\n[city]\npopulation = -5\n', "b.toml")
    return ["sweep", "plan", write(tmp, _FILES + "values = ['a.toml', 'b.toml']\n", "sw.toml"), "--out", "swp"], \
        ["b.toml", "city.population"]


@case("sweep file", "scenario_files_other_start_date")
def _scenario_dates(tmp):
    town = (SCENARIOS / "sweeps" / "town.toml").as_posix()
    write(tmp, f'extends = "{town}"\n', "a.toml")
    write(tmp, f'extends = "{town}"\n[run]\nstart_date = "2022-04-01"\n', "b.toml")
    return ["sweep", "plan", write(tmp, _FILES + "values = ['a.toml', 'b.toml']\n", "sw.toml"), "--out", "swp"], \
        ["sw.toml", "levers[0].values[1]", "start_date"]


@case("sweep file", "scenario_file_lacks_field")
def _scenario_field(tmp):
    town = (SCENARIOS / "sweeps" / "town.toml").as_posix()
    write(tmp, f'extends = "{town}"\n', "a.toml")
    write(tmp, 'name = "bare"\n', "b.toml")          # no shocks: shocks[0].factor is not there
    return ["sweep", "plan", write(tmp, _FILES + "values = ['a.toml', 'b.toml']\n", "sw.toml"), "--out", "swp"], \
        ["sw.toml", "uncertainties[0].field", "shocks"]


@case("sweep file", "plan_out_is_file")
def _plan_out_file(tmp):
    write(tmp, "x", "afile")
    return ["sweep", "plan", write(tmp, SWEEP, "sw.toml"), "--out", "afile"], ["afile", "--out"]


@case("sweep file", "plan_out_user_folder")
def _plan_out_user(tmp):
    write(tmp, "notes", "mine/notes.txt")
    return ["sweep", "plan", write(tmp, SWEEP, "sw.toml"), "--out", "mine"], ["mine", "--out"]


# ---- 10. corrupt result and sweep folders ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def good_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("good") / "run"
    twin.run(SCENARIOS / "tiny" / "one_of_each.toml", days=2, out=out)
    return out


@pytest.fixture(scope="module")
def good_sweep(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sweep")
    (folder / "sw.toml").write_text(SWEEP)
    assert main(["sweep", "plan", str(folder / "sw.toml"), "--out", str(folder / "swp")]) == 0
    return folder / "swp"


def copy_tree(src: Path, dst: Path) -> None:
    import shutil
    shutil.copytree(src, dst)


def run_folder_case(name: str, damage: Callable[[Path], str], command: str = "report"):
    """A run folder damaged by ``damage`` (which returns the path the error must name)."""
    @case("corrupt folder", f"{command}_{name}")
    def build(tmp: Path):
        copy_tree(GOOD["run"], tmp / "r")
        where = damage(tmp / "r")
        argv = {"report": ["report", "r", "--no-progress"], "compare": ["compare", "r"]}[command]
        return argv, [where]
    return build


def _truncate(path: Path, size: int = 20) -> None:
    with open(path, "r+b") as fh:
        fh.truncate(size)


for _cmd in ("report", "compare"):
    run_folder_case("truncated_manifest", lambda r: (_truncate(r / "manifest.json"), "r/manifest.json")[1], _cmd)
    run_folder_case("no_manifest", lambda r: ((r / "manifest.json").unlink(), "r")[1], _cmd)
    run_folder_case("manifest_is_list", lambda r: ((r / "manifest.json").write_text("[1]"), "r/manifest.json")[1], _cmd)
    run_folder_case("truncated_parquet", lambda r: (_truncate(r / "nodes.parquet", 100), "r/nodes.parquet")[1], _cmd)
    run_folder_case("missing_parquet", lambda r: ((r / "summary.parquet").unlink(), "r/summary.parquet")[1], _cmd)
    run_folder_case("bad_scenario_json", lambda r: ((r / "scenario.json").write_text("{"), "r/scenario.json")[1], _cmd)


@case("corrupt folder", "report_no_such_folder")
def _report_missing(tmp):
    return ["report", "nowhere", "--no-progress"], ["nowhere", "no such folder"]


@case("corrupt folder", "compare_a_file")
def _compare_file(tmp):
    write(tmp, "x", "afile")
    return ["compare", "afile"], ["afile", "not a folder"]


def sweep_folder_case(name: str, damage: Callable[[Path], str], argv: list[str]):
    @case("corrupt folder", f"sweep_{name}")
    def build(tmp: Path):
        copy_tree(GOOD["sweep"], tmp / "swp")
        return argv, [damage(tmp / "swp")]
    return build


def _fake_chunk(swp: Path) -> str:
    chunk = swp / "chunks" / "r0000000-0000000"
    chunk.mkdir(parents=True)
    (chunk / "scalars.parquet").write_bytes(b"PAR1 truncated")
    return "swp/chunks/r0000000-0000000/scalars.parquet"


sweep_folder_case("status_truncated_chunk", _fake_chunk, ["sweep", "status", "swp"])
sweep_folder_case("status_truncated_manifest", lambda s: (_truncate(s / "manifest.json", 40), "swp/manifest.json")[1],
                  ["sweep", "status", "swp"])
sweep_folder_case("status_manifest_missing_keys",
                  lambda s: ((s / "manifest.json").write_text('{"kind": "twin-sweep"}'), "swp/manifest.json")[1],
                  ["sweep", "status", "swp"])
sweep_folder_case("run_corrupt_design", lambda s: (_truncate(s / "design.parquet", 60), "swp/design.parquet")[1],
                  ["sweep", "run", "swp", "--workers", "1", "--progress", "none"])
sweep_folder_case("run_corrupt_base", lambda s: ((s / "base_scenario.json").write_text("{"), "swp/base_scenario.json")[1],
                  ["sweep", "run", "swp", "--workers", "1", "--progress", "none"])
sweep_folder_case("analyze_unknown_outcome", lambda s: "swp", ["sweep", "analyze", "swp", "--outcome", "nope"])
sweep_folder_case("status_of_a_run_folder", lambda s: ((s / "manifest.json").write_text('{"kind": "run"}'), "swp")[1],
                  ["sweep", "status", "swp"])


@case("corrupt folder", "sweep_status_no_folder")
def _status_missing(tmp):
    return ["sweep", "status", "nowhere"], ["nowhere", "no such sweep folder"]


# ---- 11. --out targets ---------------------------------------------------------------------------------------
TINY_PATH = str(SCENARIOS / "tiny" / "one_of_each.toml")


def out_case(name: str, prepare: Callable[[Path], list[str]], fragment: str):
    @case("--out target", name)
    def build(tmp: Path):
        argv = prepare(tmp)
        return argv, [fragment]
    return build


out_case("user_folder", lambda t: (write(t, "mine", "mine/notes.txt"), ["run", TINY_PATH, "--out", "mine"])[1], "mine")
out_case("scenario_folder", lambda t: (write(t, TINY, "scen/x.toml"), ["run", "scen/x.toml", "--days", "2", "--out",
                                                                       "scen"])[1], "scen")
out_case("a_file", lambda t: (write(t, "data", "afile"), ["run", TINY_PATH, "--out", "afile"])[1], "afile")
out_case("empty_folder", lambda t: ((t / "empty").mkdir(), ["run", TINY_PATH, "--out", "empty"])[1], "empty")
out_case("under_a_file", lambda t: (write(t, "data", "afile"), ["run", TINY_PATH, "--out", "afile/run"])[1], "afile")
out_case("unwritable", lambda t: ["run", TINY_PATH, "--out", "/proc/twin-out"], "/proc/twin-out")
out_case("sweep_folder", lambda t: (copy_tree(GOOD["sweep"], t / "swp"), ["run", TINY_PATH, "--out", "swp"])[1], "swp")
out_case("run_with_foreign_file",
         lambda t: (copy_tree(GOOD["run"], t / "r"), write(t, "mine", "r/notes.txt"), ["run", TINY_PATH, "--out", "r"])[2],
         "notes.txt")
out_case("default_folder_of_another_file",
         lambda t: (copy_tree(GOOD["run"], t / "results" / "one_of_each"),
                    _set_source(t / "results" / "one_of_each", "/elsewhere/one_of_each.toml"),
                    ["run", TINY_PATH])[2], "another scenario file")
out_case("report_out_folder", lambda t: (copy_tree(GOOD["run"], t / "r"), (t / "rep.html").mkdir(),
                                         ["report", "r", "--out", "rep.html", "--no-progress"])[2], "rep.html")
out_case("report_out_toml", lambda t: (copy_tree(GOOD["run"], t / "r"), write(t, TINY, "keep.toml"),
                                       ["report", "r", "--out", "keep.toml", "--no-progress"])[2], "keep.toml")
out_case("report_figures_foreign", lambda t: (copy_tree(GOOD["run"], t / "r"), write(t, "x", "rep_figures/notes.txt"),
                                              ["report", "r", "--out", "rep.html", "--no-progress"])[2], "rep_figures")
out_case("compare_csv_folder", lambda t: (copy_tree(GOOD["run"], t / "r"), (t / "c.csv").mkdir(),
                                          ["compare", "r", "--csv", "c.csv"])[2], "c.csv")


def _set_source(run: Path, source: str) -> None:
    m = json.loads((run / "manifest.json").read_text())
    m["source"] = source
    (run / "manifest.json").write_text(json.dumps(m))


# ---- 12. concurrency: a second writer is refused before it starts -------------------------------------------
def locked_case(name: str, target: str, argv: Callable[[Path], list[str]]):
    @case("concurrency", name)
    def build(tmp: Path):
        return argv(tmp), [target, "another"]
    build.lock = target
    return build


locked_case("run_out", "out", lambda t: ["run", TINY_PATH, "--days", "2", "--out", "out"])
locked_case("run_default", "results/one_of_each", lambda t: ["run", TINY_PATH])
locked_case("sweep_run", "swp", lambda t: (copy_tree(GOOD["sweep"], t / "swp"),
                                           ["sweep", "run", "swp", "--workers", "1", "--progress", "none"])[1])
locked_case("report", "r/report.html", lambda t: (copy_tree(GOOD["run"], t / "r"), ["report", "r", "--no-progress"])[1])

# ---- 13. command-line flags ---------------------------------------------------------------------------------
for _n, _argv, _frag in [
    ("days_too_many", ["run", TINY_PATH, "--days", "10000000", "--out", "o"], "--days"),
    ("days_zero", ["run", TINY_PATH, "--days", "0", "--out", "o"], "--days"),
    ("days_text", ["run", TINY_PATH, "--days", "abc", "--out", "o"], "--days"),
    ("seed_negative", ["run", TINY_PATH, "--seed", "-1", "--out", "o"], "--seed"),
    ("seed_huge", ["run", TINY_PATH, "--seed", str(2 ** 70), "--out", "o"], "--seed"),
    ("unknown_command", ["frobnicate"], "frobnicate"),
    ("missing_argument", ["run"], "scenario"),
    ("report_threshold", ["report", "r", "--threshold", "2"], "--threshold"),
    ("sweep_workers_zero", ["sweep", "run", "swp", "--workers", "0"], "--workers"),
    ("unknown_flag", ["validate", TINY_PATH, "--colour"], "--colour"),
]:
    CASES.append(Case(_n, "command-line flag", (lambda a, f: lambda tmp: (a, [f]))(_argv, _frag)))

GOOD: dict[str, Path] = {}
CLASSES = Counter(c.cls for c in CASES)


def snapshot(root: Path) -> dict[str, str]:
    """Every file and folder under ``root`` with a hash of its bytes (hidden ones included)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            out[os.path.relpath(os.path.join(dirpath, d), root)] = "dir"
        for f in filenames:
            p = os.path.join(dirpath, f)
            out[os.path.relpath(p, root)] = hashlib.sha1(open(p, "rb").read()).hexdigest()
    return out


def test_there_are_at_least_100_cases_in_every_class():
    assert len(CASES) >= 100, len(CASES)
    assert len({c.name + c.cls for c in CASES}) == len(CASES)
    assert len(CLASSES) >= 12 and min(CLASSES.values()) >= 3, CLASSES


@pytest.mark.parametrize("c", CASES, ids=[f"{c.cls}:{c.name}".replace(" ", "_") for c in CASES])
def test_bad_input_is_one_line_exit_2_nothing_touched(c: Case, tmp_path: Path, monkeypatch, capsys,
                                                      good_run, good_sweep):
    GOOD.update(run=good_run, sweep=good_sweep)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    argv, fragments = c.build(work)
    lock = getattr(c.build, "lock", None)
    before = snapshot(work)
    capsys.readouterr()
    if lock:
        with folder_lock(work / lock):
            before = snapshot(work)
            code = main(argv)
            after = snapshot(work)
    else:
        code = main(argv)
        after = snapshot(work)
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == c.code, err
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and "Traceback" not in err and "internal error" not in err, err
    for frag in fragments:
        assert frag in lines[0], (frag, lines[0])
    assert after == before, "files were written or changed"
