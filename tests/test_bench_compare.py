"""bench/compare.py's table check: a column that moved is named with its largest relative difference."""

from __future__ import annotations

import importlib.util

import pyarrow as pa
import pyarrow.parquet as pq

from tests.conftest import ROOT


def _compare():
    spec = importlib.util.spec_from_file_location("bench_compare", ROOT / "bench" / "compare.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_only_the_columns_that_moved_are_named_with_their_largest_relative_difference(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    base = {"day": [0, 1, 2], "kg": [1.0, 2.0, 4.0], "price": [1.0, float("nan"), 1.5], "kind": ["x", "y", "z"]}
    pq.write_table(pa.table(base), a / "nodes.parquet")
    pq.write_table(pa.table({**base, "kg": [1.0, 2.0, 4.0 * (1 + 1e-12)]}), b / "nodes.parquet")
    pq.write_table(pa.table({"x": [1.0]}), a / "summary.parquet")
    diffs = _compare().table_differences(a, b)
    assert [(t, c) for t, c, _ in diffs] == [("nodes", "kg"), ("summary", "(whole table)")]
    assert 0.5e-12 < diffs[0][2] < 2e-12
    assert diffs[1][2] == float("inf")
