"""Scenario sections for a major sudden risk: the epidemic among workers, and resident lockdowns."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from twin.scenario.base import Spec

__all__ = ["Epidemic", "Lockdown", "ROLES", "LOCKDOWN_LEVELS", "check_window"]


def check_window(start_day: float, end_day: float) -> None:
    """A shock or lockdown must end after it starts."""
    if end_day <= start_day:
        raise ValueError(f"end_day: must be greater than start_day ({start_day:g}), got {end_day:g}")

ROLES = ("staff", "drivers", "couriers", "volunteers")
LOCKDOWN_LEVELS = ("normal", "limited", "static")
Role = Literal[ROLES]  # type: ignore[valid-type]
Share = Annotated[float, Field(ge=0.0, le=1.0)]
NonNeg = Annotated[float, Field(ge=0.0)]


_Spec = Spec  # frozen, unknown fields are errors, numbers finite and bounded (twin/scenario/base.py)


class Epidemic(_Spec):
    """Infection, detection, quarantine and confinement of the worker pools (MISSION.md section 2).

    Infection pressure on a worker = the city's incidence per resident per day x
    ``ascertainment`` x ``pressure_scale`` (x ``bubble_exposure`` under closed-loop management),
    plus transmission at work: ``work_beta`` x the infectious share of the worker's crew.
    """

    incidence_csv: str | None = Field(
        None, description="CSV of daily reported cases (path relative to the scenario file), e.g. "
                          "data/shanghai_2022_daily_cases.csv (Shanghai Municipal Health Commission, 2022).")
    incidence_column: str = Field("new_cases_total", description="Column of the CSV with daily cases.")
    incidence_population: int = Field(25_000_000, gt=0, le=10_000_000_000, description="Residents behind the series (Shanghai: ~25 M).")
    incidence_per_100k: list[NonNeg] = Field(
        default_factory=list, max_length=20_000, description="Daily cases per 100k residents from day 0 (filled from the CSV on loading).")
    incidence_source: str = Field("", description="Where the inline series came from (set on loading).")
    ascertainment: float = Field(3.0, ge=1.0, description="Infections per reported case. Assumption.")
    pressure_scale: NonNeg = Field(1.0, description="Multiplier on the incidence series (scenario lever).")
    work_beta: NonNeg = Field(0.25, description="Daily transmission at work per infectious co-worker share. Assumption.")
    latent_days: float = Field(3.0, gt=0.0, description="Mean days exposed before infectious (Omicron ~3). Assumption-level.")
    infectious_days: float = Field(7.0, gt=0.0, description="Mean days infectious if never detected. Assumption.")
    symptom_detect_per_day: Share = Field(0.15, description="Daily chance an infectious worker is found without routine tests. Assumption.")
    routine_test_interval_days: NonNeg = Field(0.0, description="Days between routine tests of supply workers; 0 = none (lever).")
    test_sensitivity: Share = Field(0.8, description="Share of infectious workers a test finds. Assumption (PCR, Omicron).")
    test_delay_days: NonNeg = Field(1.0, description="Days from swab to result. Assumption.")
    quarantine_days: float = Field(14.0, gt=0.0, description="Days in quarantine (China 2022: 14 days central + home). Assumption-level.")
    contacts_per_case: NonNeg = Field(3.0, description="Close co-workers quarantined with each detected case. Assumption.")
    dormitory_cluster_size: NonNeg = Field(
        20.0, description="Workers sharing a dormitory: all are quarantined with a case (seed paper: one "
                          "infection takes out a dormitory). Assumption.")
    shared_dormitory_roles: list[Role] = Field(  # type: ignore[valid-type]
        default_factory=lambda: ["couriers"], description="Roles housed in shared dormitories (lever: dedicated housing = []).")
    close_on_case_kinds: list[str] = Field(
        default_factory=lambda: ["sorting_centre", "front_warehouse", "transit_warehouse", "wholesale_market",
                                 "supermarket", "wet_market"],
        description="Node kinds closed for disinfection when a worker case is detected there.")
    closure_days_on_case: NonNeg = Field(3.0, description="Days a node closes after a detected case. Assumption.")
    closure_case_share: Share = Field(
        0.0, description="A node closes when the day's detected cases reach this share of its crew (at least one case; "
                         "0 = any case closes it).")
    bubble_kinds: list[str] = Field(default_factory=list,
                                    description="Node kinds under closed-loop (bubble) management: they stay open on a case.")
    bubble_exposure: Share = Field(0.2, description="Community exposure of bubble workers relative to others. Assumption.")
    bubble_capacity_loss: Share = Field(0.1, description="Capacity lost to living on site under a bubble. Assumption.")
    pass_share: Share = Field(0.0, description="Share of supply workers with passes exempting them from confinement (lever).")
    entry_quarantine_days: NonNeg = Field(
        0.0, description="Quarantine on entry for cross-region drivers while any district is locked down (0 = none); "
                         "not applied when loads are handed over at transfer stations.")
    regional_trip_days: float = Field(2.0, gt=0.0, description="Days of a long-haul round trip. Assumption.")
    reinforcement_lead_days: NonNeg = Field(3.0, description="Days from request to arrival of reinforcements. Assumption.")
    initial_infected_share: Share = Field(0.0, description="Share of workers infectious on day 0.")

    @model_validator(mode="after")
    def _check(self) -> "Epidemic":
        if self.incidence_csv:
            raise ValueError("incidence_csv: must be read by twin.load_scenario (or twin.run) before validation")
        return self


class Lockdown(_Spec):
    """A lockdown of residents in ``districts`` (all if empty) on ``start_day <= t_day < end_day``.

    - ``limited``: one shopping trip per household every ``trips_every_days`` days;
    - ``static``: no shopping trips; goods stop at the compound gate and volunteers carry them
      the last 100 metres; outlets in the district close if ``close_outlets``.
    Workers living in a district under ``static`` management cannot come to work (unless they hold
    passes: ``epidemic.pass_share``).
    """

    level: Literal[LOCKDOWN_LEVELS]  # type: ignore[valid-type]
    start_day: float = Field(ge=0.0, le=100_000.0)
    end_day: float = Field(gt=0.0, le=100_000.0)
    districts: list[str] = Field(default_factory=list, max_length=1000)
    trips_every_days: float = Field(3.0, ge=1.0, description="Limited level: days between a household's trips. Assumption.")
    online_share: Share = Field(0.5, description="Limited level: share of purchases ordered online by those who can. Assumption.")
    close_outlets: bool = Field(True, description="Static level closes supermarkets and wet markets in the district.")
    announce_day: float | None = Field(None, ge=0.0, description="Day the lockdown is announced (panic buying).")
    name: str = ""

    @model_validator(mode="after")
    def _check(self) -> "Lockdown":
        check_window(self.start_day, self.end_day)
        if self.announce_day is not None and self.announce_day > self.start_day:
            raise ValueError(f"announce_day: must be at most start_day ({self.start_day:g}), got {self.announce_day:g}")
        return self
