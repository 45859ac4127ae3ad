"""Scenario sections for work inside the day: shift patterns (crews) and online orders queued at front warehouses."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from twin.scenario.base import Spec

__all__ = ["DEFAULT_PROFILE", "FrontWarehouseShifts", "Orders", "ShiftPattern", "Shifts", "SortingCentreShifts"]

#: share of a day's online grocery orders placed in each clock hour (00:00 ... 23:00): a morning peak
#: before work and an evening peak after it, little at night. Assumption (the shape fresh-food platforms
#: report, e.g. Dingdong Maicai's pre-work and after-work peaks), not a measured series.
DEFAULT_PROFILE = [0.5, 0.3, 0.2, 0.2, 0.3, 0.8, 2.5, 5.0, 7.0, 7.0, 6.0, 5.5,
                   5.0, 4.0, 3.5, 4.0, 5.5, 7.5, 8.0, 7.0, 5.0, 3.5, 2.0, 1.2]

Hour = Annotated[int, Field(ge=0, le=23)]


class ShiftPattern(Spec):
    """The shifts of one node kind: each starts at a clock hour and lasts ``hours``. Every node of the
    kind splits each worker pool (handling staff, drivers, couriers) into one crew per shift."""

    starts_h: list[Hour] = Field(min_length=1, max_length=6, description="Clock hour each shift starts (0-23).")
    hours: int = Field(ge=1, le=24, description="Hours a shift lasts.")

    @field_validator("starts_h")
    @classmethod
    def _distinct(cls, v: list[int]) -> list[int]:
        if len(set(v)) != len(v):
            raise ValueError(f"must be distinct hours, got {v}")
        return v


class FrontWarehouseShifts(ShiftPattern):
    """Dark stores' courier (and picker) shifts."""

    starts_h: list[Hour] = Field(
        default_factory=lambda: [6, 14], min_length=1, max_length=6,
        description="Clock hours the shifts start: 06:00 and 14:00. Assumption: platforms deliver from about 06:00 "
                    "to midnight, two crews overlapping over the afternoon.")
    hours: int = Field(10, ge=1, le=24, description="Hours a shift lasts: 10. Assumption.")


class SortingCentreShifts(ShiftPattern):
    """Sorting centres' shifts."""

    starts_h: list[Hour] = Field(
        default_factory=lambda: [6, 18], min_length=1, max_length=6,
        description="Clock hours the shifts start: 06:00 and 18:00, round the clock. Assumption.")
    hours: int = Field(12, ge=1, le=24, description="Hours a shift lasts: 12. Assumption.")


class Shifts(Spec):
    """Shift patterns of the node kinds that work in shifts (``twin.queues``). A crew is the unit of
    contact: a detected case quarantines close contacts in its own crew (and dormitory) only, and
    with ``disinfect_between_shifts`` the node keeps working with its other crews."""

    front_warehouse: FrontWarehouseShifts = Field(
        default_factory=FrontWarehouseShifts,
        description="Dark stores: two 10-hour courier shifts, 06:00-16:00 and 14:00-24:00 (overlapping over the "
                    "afternoon). Assumption: platforms deliver from about 06:00 to midnight.")
    sorting_centre: SortingCentreShifts = Field(
        default_factory=SortingCentreShifts,
        description="Sorting centres: two 12-hour shifts round the clock. Assumption.")
    disinfect_between_shifts: bool = Field(
        True, description="A node working in shifts disinfects between shifts instead of closing on a detected "
                          "case: the case's crew goes into quarantine with its close contacts and the other crew "
                          "keeps working. Assumption (Shanghai 2022 practice of split teams in essential supply).")


class Orders(Spec):
    """Online orders inside the day (``twin.queues``): the day's orders, decided at the households'
    phase, reach the front warehouse over the next 24 hours by ``hourly_profile`` (or all at
    ``slot_release_h`` where slots are released); the store picks them at once and queues them
    first come first served; couriers on shift take batches in hourly rounds; an order not taken
    within ``patience_h`` is cancelled and its household turns to another channel."""

    hourly_profile: list[Annotated[float, Field(ge=0.0)]] = Field(
        default_factory=lambda: list(DEFAULT_PROFILE), min_length=24, max_length=24,
        description="Relative weight of each clock hour (00:00-23:00) in the day's online orders. Assumption: "
                    "morning and evening peaks of fresh-food e-commerce.")
    patience_h: int = Field(
        48, ge=1, le=240, description="Hours an order waits before the household cancels it and turns to another "
                                      "channel. Assumption (Shanghai April 2022: orders waited 1-3 days).")
    slot_release_when: Literal["never", "lockdown", "always"] = Field(
        "lockdown", description="When front warehouses release the coming day's delivery slots at `slot_release_h` "
                                "instead of taking orders around the clock: never, where most of a store's "
                                "customers are locked down, or always. Shanghai April 2022: platforms opened "
                                "ordering at 06:00 and slots were gone within minutes.")
    slot_release_h: Hour = Field(
        6, description="Clock hour slots are released (Shanghai 2022: Dingdong Maicai and Meituan Maicai at 06:00).")
    courier_round_h: Annotated[float, Field(gt=0.0, le=24.0)] = Field(
        0.5, description="Hours from a round's departure (hh:35) to the door: the lead time of an order is its wait "
                         "plus this. Dingdong Maicai's promise: 29 minutes.")

    @field_validator("hourly_profile")
    @classmethod
    def _some_weight(cls, v: list[float]) -> list[float]:
        if sum(v) <= 0:
            raise ValueError("must have a positive weight in at least one hour")
        return v
