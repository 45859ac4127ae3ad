"""Fixed-seed golden summaries: a change that moves results must rewrite them on purpose
(``python bench/update_baselines.py``)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

import twin
from tests.conftest import ROOT

FILES = sorted((ROOT / "tests" / "baselines").glob("*.json"))


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_summary_matches_golden(path: Path):
    golden = json.loads(path.read_text())
    res = twin.run(ROOT / golden["scenario"], seed=golden["seed"], days=golden["days"])
    row = res.tables["summary"].to_pylist()[0]
    assert set(row) == set(golden["summary"])
    for key, want in golden["summary"].items():
        if key == "max_balance_error_rel":
            assert row[key] < 1e-9
        elif want is None:                                          # a day that never came
            assert row[key] is None, key
        else:
            assert math.isclose(row[key], want, rel_tol=1e-9, abs_tol=1e-9), (key, row[key], want)
