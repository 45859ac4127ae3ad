"""twin: a discrete-event digital twin of how a megacity feeds itself under a major sudden risk."""

__version__ = "0.1.0"

from twin.api import load_results, run  # noqa: E402
from twin.scenario import Scenario, ScenarioError, diff, edit, load_scenario  # noqa: E402
from twin.key_figures import key_figures  # noqa: E402

__all__ = ["Scenario", "ScenarioError", "__version__", "diff", "edit", "key_figures", "load_results", "load_scenario",
           "plot", "run"]


def __getattr__(name: str):
    """``twin.plot`` is imported on first use (it loads matplotlib)."""
    if name == "plot":
        import importlib
        return importlib.import_module("twin.plot")
    raise AttributeError(f"module 'twin' has no attribute {name!r}")
