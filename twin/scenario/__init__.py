"""Scenario: the frozen specification of a run (schema and loading)."""

from twin.scenario.loading import (ScenarioError, load_scenario, parse_scenario, read_toml,
                                   scenario_hash, set_field)
from twin.scenario.schema import NODE_KINDS, Scenario, Shock
from twin.scenario.edit import diff, edit  # noqa: E402  (edit imports loading and schema)

__all__ = ["NODE_KINDS", "Scenario", "ScenarioError", "Shock", "diff", "edit", "load_scenario", "parse_scenario",
           "read_toml", "scenario_hash", "set_field"]
