"""Scenario section of the safety net (兜底): special groups served one by one.

(Scaffolding: the full section is being written; these fields are final names.)
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["SafetyNet"]


class SafetyNet(BaseModel):
    """Special groups, their needs, the hotline and the dispatch teams."""

    model_config = ConfigDict(extra="forbid", frozen=True)
