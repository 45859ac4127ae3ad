"""Editing and comparing scenarios from Python: validated copies and field-by-field differences.

>>> import twin
>>> a = twin.load_scenario("scenarios/city_a_empowered_market.toml")
>>> small = a.with_({"city.population": 1_000_000, "run.days": 20})     # a validated copy
>>> small.city.population, a.city.population
(1000000, 25000000)
>>> d = twin.diff(a, small)
>>> d.to_dict("records")
[{'field': 'run.days', 'a': 90, 'b': 20}, {'field': 'city.population', 'a': 25000000, 'b': 1000000}]

``twin diff A.toml B.toml`` prints the same, with both files resolved through ``extends``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, Iterator, Mapping

import pandas as pd

from twin.scenario.loading import load_scenario, parse_scenario, set_field
from twin.scenario.schema import Scenario

__all__ = ["diff", "edit", "flatten", "register"]

_ABSENT = "(absent)"


def edit(scenario: Scenario, changes: Mapping[str, Any] | None = None, /, **fields: Any) -> Scenario:
    """A validated copy of ``scenario`` with dotted fields set (the original is unchanged).

    ``changes`` maps dotted paths (as ``--set`` and sweep files name them: ``city.population``,
    ``shocks[0].end_day``) to values; keyword arguments do the same with ``__`` for the dots
    (``city__population=1e6``). A bad value raises :class:`twin.ScenarioError` naming the field.

    >>> sc = Scenario()
    >>> edit(sc, city__population=2_000_000, name="smaller").city.population
    2000000
    """
    data = scenario.model_dump()
    for key, value in {**(changes or {}), **{k.replace("__", "."): v for k, v in fields.items()}}.items():
        data = set_field(data, key, value)
    return parse_scenario(data, f"<{scenario.name} edited>")


def flatten(data: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Leaf values of nested scenario data as ``(dotted path, value)``; lists by index (``a[0].b``).

    >>> list(flatten({"city": {"population": 5}, "shocks": [{"kind": "closure"}]}))
    [('city.population', 5), ('shocks[0].kind', 'closure')]
    """
    if isinstance(data, Mapping):
        for key, value in data.items():
            yield from flatten(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(data, list) and data and all(isinstance(v, (Mapping, list)) for v in data):
        for i, value in enumerate(data):
            yield from flatten(value, f"{prefix}[{i}]")
    else:
        yield prefix, data


def _resolve(scenario: Scenario | str | Path | Mapping[str, Any]) -> Scenario:
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, (str, Path)):
        return load_scenario(scenario)
    return parse_scenario(dict(scenario))


def diff(a: Scenario | str | Path | Mapping[str, Any], b: Scenario | str | Path | Mapping[str, Any],
         include_name: bool = False) -> pd.DataFrame:
    """The fields whose values differ, one row each: ``field``, ``a``, ``b``.

    Both sides are fully resolved (files through ``extends``, every default filled in), so a field
    shows up whether a file sets it or inherits it. A list item present on one side only shows as
    ``(absent)`` on the other. ``name`` and ``description`` are left out unless ``include_name``.
    """
    fa = dict(flatten(_resolve(a).model_dump(mode="json")))
    fb = dict(flatten(_resolve(b).model_dump(mode="json")))
    rows = []
    for key in list(dict.fromkeys([*fa, *fb])):
        if not include_name and key in ("name", "description"):
            continue
        va, vb = fa.get(key, _ABSENT), fb.get(key, _ABSENT)
        if va != vb and not _empty_list_vs_items(va, vb):
            rows.append({"field": key, "a": va, "b": vb})
    return pd.DataFrame(rows, columns=["field", "a", "b"])


def _empty_list_vs_items(va: Any, vb: Any) -> bool:
    """An empty list against a list whose items show as their own rows (``shocks[0].kind`` ...)."""
    return (va == [] and vb == _ABSENT) or (vb == [] and va == _ABSENT)


def register(subparsers) -> None:
    """Add ``twin diff``."""
    p = subparsers.add_parser("diff", help="print the fields in which two scenarios differ (through extends)",
                              description="Print every field whose resolved value differs between two scenario "
                                          "files (extends followed, defaults filled in).")
    p.add_argument("a", type=Path, metavar="A.toml")
    p.add_argument("b", type=Path, metavar="B.toml")
    p.add_argument("--json", action="store_true", help="print JSON lines (field, a, b)")
    p.set_defaults(func=_cmd_diff)


def _cmd_diff(args: argparse.Namespace) -> int:
    frame = diff(args.a, args.b)
    if args.json:
        for row in frame.to_dict("records"):
            print(json.dumps(row))
        return 0
    if frame.empty:
        print(f"{args.a} and {args.b}: no field differs")
        return 0
    width = max(len(f) for f in frame["field"])
    print(f"{len(frame)} fields differ ({args.a} -> {args.b}):")
    for row in frame.itertuples(index=False):
        print(f"  {row.field:<{width}}  {_text(row.a)} -> {_text(row.b)}")
    return 0


def _text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."
