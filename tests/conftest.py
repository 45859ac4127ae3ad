"""Shared fixtures: paths and a quick way to run the CLI in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"

# "ci" (the default) draws the same examples on every run, so CI is reproducible; use
# HYPOTHESIS_PROFILE=explore to search afresh (and more) when changing the model.
settings.register_profile("ci", deadline=None, max_examples=25, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("explore", deadline=None, max_examples=200,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run ``twin ARGS`` as a user would, capturing output."""
    return subprocess.run([sys.executable, "-m", "twin.cli", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, timeout=600)


@pytest.fixture
def tiny() -> Path:
    return SCENARIOS / "tiny" / "one_of_each.toml"


@pytest.fixture
def small_city() -> Path:
    return SCENARIOS / "tiny" / "small_city.toml"
