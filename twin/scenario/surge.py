"""Scenario section for surge capacity: how much harder crews can work, for how long, at what cost."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from twin.scenario.base import Spec

__all__ = ["Surge"]

NonNeg = Annotated[float, Field(ge=0.0)]


class Surge(Spec):
    """Overtime, extra shifts and borrowed staff when a node's load exceeds its crews' capacity.

    A crew (handling staff, drivers, couriers of one node) whose day's load exceeds its normal
    capacity adds up to ``max_extra`` of it (``courier_max_extra`` for couriers) while its
    budget of ``budget_days`` days of full surge lasts; a day at a share ``u`` of the full surge
    spends ``u`` days and restores ``recovery_per_day x (1 - u)`` (``twin.policies.surge``).
    Overtime is recorded in worker-hours (used share x extra x ``shift_h`` x workers at work)
    and paid at ``wage_cny_per_h x overtime_premium``. ``max_extra = 0`` switches surges off.
    """

    max_extra: NonNeg = Field(
        0.5, description="Extra capacity of staff and drivers in a surge, share of normal: 12-hour days instead of 8 "
                         "(China Labour Law art. 41 caps overtime at 3 h/day and 36 h/month in normal times; art. 42 "
                         "lifts the caps in emergencies such as disasters and threats to life and health). Assumption.")
    courier_max_extra: NonNeg = Field(
        1.0, description="Extra capacity of couriers in a surge: about 100 orders a rider a day in practice, up to "
                         "about 200 under pressure (Shanghai government briefing, April 2022; Wuhan 2020).")
    budget_days: NonNeg = Field(
        14.0, description="Days of full surge a rested crew can work before fatigue returns it to normal hours. "
                          "Assumption (two weeks of 12-hour days).")
    recovery_per_day: NonNeg = Field(
        0.5, description="Days of surge budget restored by a day at normal load. Assumption, chosen so the surge a "
                         "crew can hold indefinitely, r / (1 + r) = 1/3 of the full surge (about 1.3 h overtime a "
                         "day, 40 h a month), is close to Labour Law art. 41's 36 h a month.")
    shift_h: float = Field(8.0, gt=0.0, description="Normal working day in hours (China Labour Law art. 36: 8 h a day).")
    wage_cny_per_h: NonNeg = Field(
        35.0, description="Normal hourly wage of a logistics worker, CNY. Assumption (Shanghai's minimum hourly wage "
                          "was 23 CNY from July 2021).")
    overtime_premium: float = Field(
        1.5, ge=1.0, description="Overtime pay as a multiple of the normal wage (China Labour Law art. 44: at least "
                                 "150% on working days, 200% on rest days).")
