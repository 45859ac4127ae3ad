"""Scenario section of evolvability (MISSION.md section 5): what the city keeps after a shock.

After each shock episode ends (the scheduled shocks and lockdowns that overlap or touch), the city
keeps the adaptations switched on here, so that a second, comparable shock meets a changed city.
The figure that reads them is evolvability: the second shock's loss against the same scenario and
seed with ``enabled = false`` (``twin.metrics.evolvability``).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Learning"]


class Learning(BaseModel):
    """Adaptations the city keeps after a shock episode (each a lever; 0 / false switches it off)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(False, description="Keep the adaptations below after each shock episode. Off: the city "
                                             "returns to its old state (the counterfactual of evolvability).")
    delay_days: float = Field(7.0, ge=0.0, description="Days from the end of an episode to the adaptations being in "
                                                       "place: stocks are rebuilt once the chain has recovered, not "
                                                       "while it is still short. Assumption.")
    reserve_stock_factor: float = Field(
        1.5, ge=1.0, description="Reserves refilled to a higher level: reserve warehouses' target stock x this "
                                 "(seed paper section 6: dispersed reserve warehouses per district). Assumption.")
    household_stock_days_added: float = Field(
        2.0, ge=0.0, description="Days of need households keep in stock on top of their old habit (seed paper "
                                 "section 6: household stockpiles). Assumption.")
    standing_passes_and_bubbles: bool = Field(
        True, description="Passes and closed-loop bubbles of the regimes the city went through become standing "
                          "practice in every regime (seed paper section 6: closed-loop management of drivers and "
                          "couriers). Assumption.")
    contract_supply_floor: float = Field(
        0.6, ge=0.0, le=1.0, description="Contingency contracts with large suppliers: a later supply cut leaves at "
                                         "least this share of out-of-province supply (seed paper section 6: "
                                         "contingency plans with large suppliers). Assumption.")
