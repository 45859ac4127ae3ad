"""The safety net (兜底): special groups' requests through the hotline, served by dispatch teams.

(Scaffolding with the final interface: the full mechanism is being written.)
"""

from __future__ import annotations

import pyarrow as pa

from twin.recording.tables import make_table
from twin.world import World

__all__ = ["SafetyNetDesk"]


class SafetyNetDesk:
    """Hotline, queue and dispatch teams of one run; holds every request's record."""

    def __init__(self, world: World, seed):
        self.world = world

    def process(self, env):
        """The desk's SimPy process."""
        yield env.timeout(0)

    def daily_counts(self) -> dict[str, int]:
        """Cumulative request counts for the city table (created = served + pending + abandoned)."""
        return {"requests_created": 0, "requests_served": 0, "requests_pending": 0, "requests_abandoned": 0}

    def table(self, meta: dict) -> pa.Table:
        """``requests.parquet``: one row per request batch."""
        return make_table({"request_id": pa.array([], pa.int64())}, meta)
