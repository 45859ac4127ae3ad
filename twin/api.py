"""The Python API: ``twin.run`` and ``twin.load_results``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from twin.recording.tables import unit_of
from twin.recording.writer import check_run_target, clean_stale, describe_run, folder_lock, write_run_dir
from twin.scenario import Scenario, ScenarioError, load_scenario, parse_scenario
from twin.sim import Result, simulate

__all__ = ["load_results", "run", "run_to_folder"]


def run(scenario: str | Path | Scenario | Mapping[str, Any], *, seed: int | np.random.SeedSequence | None = None,
        days: int | None = None, out: str | Path | None = None,
        overrides: Mapping[str, Any] | None = None, source: str | None = None, progress: bool | str = False) -> Result:
    """Run a scenario (a file, a :class:`Scenario` or a dict) and return its tables.

    ``overrides`` set dotted fields (``{"city.population": 50_000}``) before validation.
    With ``out`` the run folder is also written (atomically): a new folder, or one holding a
    twin run, which is replaced; anything else is refused before simulating (``ScenarioError``).
    ``source`` names the scenario in error messages (the file name, when a file is given).
    ``progress``: days simulated on stderr (True: a bar on a terminal, lines otherwise; see
    :mod:`twin.progress`).

    >>> import twin
    >>> res = twin.run("scenarios/tiny/one_of_each.toml", days=3)   # doctest: +SKIP
    >>> res["summary"]["fill_of_need"].item()                        # doctest: +SKIP
    """
    source = source or (str(scenario) if isinstance(scenario, (str, Path)) else "<scenario>")
    if isinstance(scenario, (str, Path)):
        sc = load_scenario(scenario, overrides)
    elif isinstance(scenario, Scenario):
        sc = scenario if not overrides else parse_scenario(_apply(scenario.model_dump(), overrides), source)
    else:
        sc = parse_scenario(_apply(dict(scenario), overrides or {}), source)
    if out is None:
        return simulate(sc, seed=seed, days=days, source=source, progress=progress)
    scenario_file = str(Path(scenario).resolve()) if isinstance(scenario, (str, Path)) else None
    return run_to_folder(sc, out, seed=seed, days=days, source=source, progress=progress,
                         scenario_file=scenario_file)[0]


def run_to_folder(sc: Scenario, out: str | Path, *, seed=None, days: int | None = None, source: str = "<scenario>",
                  progress: bool | str = False, scenario_file: str | None = None,
                  same_source: str | None = None) -> tuple[Result, str | None]:
    """Simulate ``sc`` and write its run folder at ``out``; return the result and what was replaced
    (a description of the older run, or None).

    The rules (README, "Where runs are written"): ``out`` is locked for the whole run (a second
    writer is refused at once); it must be new or a twin run folder holding only files twin wrote
    (with ``same_source``, one written from that scenario file), else the run is refused before
    simulating; stale temporaries of killed writers are removed; the folder appears whole.
    """
    out = Path(out)
    with folder_lock(out, "twin run"):
        clean_stale(out)
        check_run_target(out, same_source)
        result = simulate(sc, seed=seed, days=days, source=source, progress=progress)
        replaced = describe_run(out) if check_run_target(out, same_source) else None  # still ours to replace?
        manifest = {**result.manifest, **({"source": scenario_file} if scenario_file else {})}
        try:
            write_run_dir(out, result.tables, manifest, {"scenario.json": sc.model_dump(mode="json")})
        except OSError as err:
            raise ScenarioError(str(out), "", f"cannot write the run folder: {err.strerror or err}") from None
    return result, replaced


def load_results(path: str | Path) -> dict[str, pd.DataFrame] | pd.DataFrame:
    """Read a run folder back: one DataFrame per table (a sweep folder: one frame for the sweep).

    - ids and labels (``*_id``, ``kind``, ``district``, ``status``, ``category``, ``event``, ``group``,
      ``outcome``, ``regime`` ...) are categoricals; ``status``, ``outcome``, ``regime`` and
      ``lockdown`` are ordered (by severity);
    - ``t_day`` (int) is kept and ``date`` (in the daily tables' Parquet since issue 16) is
      datetime64, from the run's start date;
    - ``attrs["units"]`` maps every column to its unit, ``attrs["descriptions"]`` to its meaning,
      ``attrs["manifest"]`` is the run's manifest;
    - tables are those of ``manifest.json`` plus any other ``*.parquet`` in the folder.

    A folder holding ``design.parquet`` is a sweep: it is read by ``twin.sweep.load_sweep`` into one
    frame, a row per run (and day), with the run's parameters as columns.

    >>> res = load_results("results/supply_shock")                      # doctest: +SKIP
    >>> res["communities"].groupby("date")["unmet_kg"].sum()             # doctest: +SKIP
    """
    path = Path(path)
    if (path / "design.parquet").exists():
        try:
            from twin.sweep import load_sweep
        except ImportError as err:
            raise ImportError(f"{path} is a sweep folder (it has design.parquet) but twin.sweep, which "
                              f"reads sweeps, cannot be imported: {err}") from err
        return load_sweep(path)
    if not (path / "manifest.json").is_file():
        raise FileNotFoundError(f"{path}: not a run folder (no manifest.json); write one with `twin run`")
    manifest = json.loads((path / "manifest.json").read_text())
    start = pd.Timestamp(manifest.get("start_date", "2022-01-01"))
    files = {name: path / info["file"] for name, info in manifest.get("tables", {}).items()}
    files.update({f.stem: f for f in sorted(path.glob("*.parquet")) if f.stem not in files})
    labels = {"kind", "district", "status", "category", "event", "shock", "pool", "role", "group", "outcome",
              "regime", "lockdown", "channel", "size_class"}
    ordered = {"status": ["open", "degraded", "starved", "closed"], "regime": ["normal", "emergency", "extreme"],
               "lockdown": ["normal", "limited", "static"], "outcome": ["served", "pending", "abandoned", "dropped"]}
    frames = {}
    for name, file in files.items():
        table = pq.read_table(file)
        df = table.to_pandas()
        for col in df.columns:
            if (col.endswith("_id") or col in labels) and not isinstance(df[col].dtype, pd.CategoricalDtype) \
                    and pd.api.types.is_string_dtype(df[col]):
                df[col] = df[col].astype("category")
            if col in ordered and isinstance(df[col].dtype, pd.CategoricalDtype) \
                    and set(df[col].cat.categories) <= set(ordered[col]):
                df[col] = df[col].cat.set_categories(ordered[col], ordered=True)
        if "t_day" in df.columns:
            df["date"] = start + pd.to_timedelta(df["t_day"], unit="D")
        meta = {f.name: f.metadata or {} for f in table.schema}
        df.attrs["units"] = {c: m.get(b"unit", unit_of(c).encode()).decode() for c, m in meta.items()}
        df.attrs["units"].update({c: u for c, u in (("t_day", "day"), ("date", "date")) if c in df.columns})
        df.attrs["units"].update({c: "person-day" for c in df.columns if c.endswith("_person_days")})
        df.attrs["descriptions"] = {c: m[b"description"].decode() for c, m in meta.items() if b"description" in m}
        df.attrs["manifest"] = manifest
        frames[name] = df
    return frames


def _apply(data: dict, overrides: Mapping[str, Any]) -> dict:
    from twin.scenario import set_field
    for key, value in overrides.items():
        data = set_field(data, key, value)
    return data
