"""Random streams: one seed per run, one named stream per component."""

from __future__ import annotations

import numpy as np

import twin
from tests.conftest import SCENARIOS
from twin.rng import name_key, stream


def test_streams_are_stable_and_independent():
    a = stream(5, "demand").random(4)
    assert np.array_equal(a, stream(5, "demand").random(4))
    assert not np.array_equal(a, stream(5, "supply").random(4))
    assert not np.array_equal(a, stream(6, "demand").random(4))
    assert name_key("demand") == 2016753944  # BLAKE2b, the same on every machine and Python


def test_spawned_seed_sequences_are_distinct_runs():
    root = 42
    s1 = np.random.SeedSequence(root, spawn_key=(0, 0))
    s2 = np.random.SeedSequence(root, spawn_key=(0, 1))
    assert not np.array_equal(stream(s1, "demand").random(3), stream(s2, "demand").random(3))


def test_layout_does_not_depend_on_the_run_seed():
    a = twin.run(SCENARIOS / "tiny" / "small_city.toml", days=2, seed=1)
    b = twin.run(SCENARIOS / "tiny" / "small_city.toml", days=2, seed=2)
    assert a.network.node_ids == b.network.node_ids
    assert np.array_equal(a.network.population, b.network.population)
    assert not a.tables["communities"].equals(b.tables["communities"])
