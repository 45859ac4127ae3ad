"""twin: a discrete-event digital twin of how a megacity feeds itself under a major sudden risk."""

__version__ = "0.1.0"

from twin.api import load_results, run  # noqa: E402
from twin.scenario import Scenario, ScenarioError, load_scenario  # noqa: E402

__all__ = ["Scenario", "ScenarioError", "__version__", "load_results", "load_scenario", "run"]
