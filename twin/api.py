"""The Python API: ``twin.run`` and ``twin.load_results``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from twin.recording.tables import unit_of
from twin.recording.writer import write_run_dir
from twin.scenario import Scenario, load_scenario, parse_scenario
from twin.sim import Result, simulate

__all__ = ["load_results", "run"]


def run(scenario: str | Path | Scenario | Mapping[str, Any], *, seed: int | np.random.SeedSequence | None = None,
        days: int | None = None, out: str | Path | None = None,
        overrides: Mapping[str, Any] | None = None, source: str | None = None) -> Result:
    """Run a scenario (a file, a :class:`Scenario` or a dict) and return its tables.

    ``overrides`` set dotted fields (``{"city.population": 50_000}``) before validation.
    With ``out`` the run folder is also written (atomically). ``source`` names the scenario in
    error messages (the file name, when a file is given).

    >>> import twin
    >>> res = twin.run("scenarios/tiny/one_of_each.toml", days=3)   # doctest: +SKIP
    >>> res["summary"]["service_level"].item()                       # doctest: +SKIP
    """
    source = source or (str(scenario) if isinstance(scenario, (str, Path)) else "<scenario>")
    if isinstance(scenario, (str, Path)):
        sc = load_scenario(scenario, overrides)
    elif isinstance(scenario, Scenario):
        sc = scenario if not overrides else parse_scenario(_apply(scenario.model_dump(), overrides), source)
    else:
        sc = parse_scenario(_apply(dict(scenario), overrides or {}), source)
    result = simulate(sc, seed=seed, days=days, source=source)
    if out is not None:
        write_run_dir(out, result.tables, result.manifest,
                      {"scenario.json": sc.model_dump(mode="json")})
    return result


def load_results(path: str | Path) -> dict[str, pd.DataFrame]:
    """Read a run folder back: one DataFrame per table.

    Ids are categoricals; ``t_day`` is kept and a ``date`` column is added from the run's start
    date; each frame's ``attrs["units"]`` maps columns to units.
    """
    path = Path(path)
    manifest = json.loads((path / "manifest.json").read_text())
    start = pd.Timestamp(manifest.get("start_date", "2022-01-01"))
    frames = {}
    for name, info in manifest["tables"].items():
        table = pq.read_table(path / info["file"])
        df = table.to_pandas()
        if "t_day" in df.columns:
            df["date"] = start + pd.to_timedelta(df["t_day"], unit="D")
        df.attrs["units"] = {f.name: (f.metadata or {}).get(b"unit", unit_of(f.name).encode()).decode()
                             for f in table.schema}
        df.attrs["manifest"] = manifest
        frames[name] = df
    return frames


def _apply(data: dict, overrides: Mapping[str, Any]) -> dict:
    from twin.scenario import set_field
    for key, value in overrides.items():
        data = set_field(data, key, value)
    return data
