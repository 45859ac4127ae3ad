"""Scenario sections for a major sudden risk: the epidemic among workers, and resident lockdowns."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_serializer, model_validator

from twin.scenario.base import Spec

__all__ = ["Epidemic", "Lockdown", "ROLES", "LOCKDOWN_LEVELS", "check_window", "resolve_end"]


def check_window(start_day: float, end_day: float) -> None:
    """A shock or lockdown must end after it starts."""
    if end_day <= start_day:
        raise ValueError(f"end_day: must be greater than start_day ({start_day:g}), got {end_day:g}")


def resolve_end(spec: Spec) -> None:
    """Give a validated shock or lockdown given as ``start_day`` + ``duration_days`` its ``end_day``.

    Exactly one of ``end_day`` and ``duration_days`` is given; the window is then checked. The
    model keeps ``duration_days``, and dumps ``end_day`` unset (see :func:`dump_end`), so a dumped
    scenario reads back the same and moving ``start_day`` (say in a sweep) holds the length.
    """
    end, length = spec.end_day, spec.duration_days  # type: ignore[attr-defined]
    if end is None and length is None:
        raise ValueError("end_day: give end_day or duration_days")
    if end is not None and length is not None:
        raise ValueError(f"duration_days: give end_day ({end:g}) or duration_days ({length:g}), not both")
    if end is None:
        object.__setattr__(spec, "end_day", spec.start_day + length)  # type: ignore[attr-defined]
    check_window(spec.start_day, spec.end_day)  # type: ignore[attr-defined]


def dump_end(spec: Spec, end_day: float | None) -> float | None:
    """``end_day`` as the user gave it: unset when the window was given by ``duration_days``."""
    return None if spec.duration_days is not None else end_day  # type: ignore[attr-defined]

ROLES = ("staff", "drivers", "couriers", "volunteers")
LOCKDOWN_LEVELS = ("normal", "limited", "static")
END_DAY = "First day it is no longer in force; give this or `duration_days`."
DURATION_DAYS = ("Days it is in force, from `start_day` (end_day = start_day + duration_days); give this or "
                 "`end_day`, so a sweep can move the start and hold the length.")
Role = Literal[ROLES]  # type: ignore[valid-type]
Share = Annotated[float, Field(ge=0.0, le=1.0)]
NonNeg = Annotated[float, Field(ge=0.0)]


_Spec = Spec  # frozen, unknown fields are errors, numbers finite and bounded (twin/scenario/base.py)


class Epidemic(_Spec):
    """Infection, detection, quarantine and confinement of the worker pools (MISSION.md section 2).

    Infection pressure on a worker = the incidence per resident per day where the worker lives (the
    district's with a district series, else the city's; after the series' end by ``after_series``) x
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
    pass_share: Share = Field(
        1.0, description="Share of supply workers (node crews, not volunteers) holding passes that exempt them from "
                         "confinement under static lockdown. Default 1: supply workers are essential and keep working "
                         "unless a scenario says otherwise (Shanghai 2022: passes and 'whitelists' for supply and "
                         "logistics firms' vehicles and staff; that all hold one is an assumption). Lower it (lever) "
                         "for workers stuck in locked compounds.")
    outside_city_kinds: list[str] = Field(
        default_factory=lambda: ["out_of_province_base"],
        description="Node kinds whose crews (handling staff and long-haul drivers) live outside the city, so the "
                    "city's lockdowns never confine them (they still face entry quarantine). Seed paper: bases in "
                    "other provinces feed the city; assumption that their workers do not live in its compounds.")
    entry_quarantine_days: NonNeg = Field(
        0.0, description="Quarantine on entry for cross-region drivers while any district is locked down (0 = none); "
                         "not applied when loads are handed over at transfer stations.")
    regional_trip_days: float = Field(2.0, gt=0.0, description="Days of a long-haul round trip. Assumption.")
    reinforcement_lead_days: NonNeg = Field(3.0, description="Days from request to arrival of reinforcements. Assumption.")
    initial_infected_share: Share = Field(0.0, description="Share of workers infectious on day 0.")
    district_incidence_csv: str | None = Field(
        None, description="CSV of daily reported cases per district (columns date, `district_column` and "
                          "`incidence_column`; path relative to the scenario file), e.g. "
                          "data/shanghai_2022_district_daily_cases.csv (Shanghai Municipal Health Commission, 2022). "
                          "Pools of a district then feel their district's incidence (see README, Workers).")
    district_column: str = Field("district", description="Column of the district CSV naming the district.")
    district_cases: dict[str, list[NonNeg]] = Field(
        default_factory=dict, description="Daily reported cases per district of the CSV from day 0 (filled from the "
                                          "CSV on loading).")
    after_series: Literal["zero", "hold", "decay"] = Field(
        "decay", description="Incidence after the series' last day: `zero`, `hold` (the mean of its last 7 days) or "
                             "`decay` (that mean halving every `after_series_half_life_days`). Default decay: an "
                             "epidemic does not stop with the data (assumption).")
    after_series_half_life_days: float = Field(
        5.0, gt=0.0, description="Half-life of the incidence after the series (decay). Shanghai's cases halved about "
                                 "every 5 days over the series' last three weeks (7,189 on 30 April, 819 on 20 May 2022).")

    @model_validator(mode="after")
    def _check(self) -> "Epidemic":
        for field in ("incidence_csv", "district_incidence_csv"):
            if getattr(self, field):
                raise ValueError(f"{field}: must be read by twin.load_scenario (or twin.run) before validation")
        lengths = {len(v) for v in self.district_cases.values()}
        if len(lengths) > 1:
            raise ValueError("district_cases: every district's series must have the same length, got "
                             f"{', '.join(str(n) for n in sorted(lengths))}")
        return self


class Lockdown(_Spec):
    """A lockdown of residents in ``districts`` (all if empty) on ``start_day <= t_day < end_day``.

    - ``limited``: one shopping trip per household every ``trips_every_days`` days;
    - ``static``: no shopping trips; goods stop at the compound gate and volunteers carry them
      the last 100 metres; outlets in the district close if ``close_outlets``.
    Workers living in a district under ``static`` management cannot come to work (unless they hold
    passes: ``epidemic.pass_share``).

    A grid lockdown (the seed paper's "close a grid early, at low cost") covers only some compounds:
    the ``communities`` named, or ``compounds_per_district`` / ``compound_share`` of the compounds of
    each of ``districts``, drawn once per city (stream of ``city.layout_seed`` named after the
    lockdown, so replicates lock the same compounds and no other random stream shifts). Only those
    compounds change level; their neighbours stay open, and no outlet closes (the district is open).
    """

    level: Literal[LOCKDOWN_LEVELS]  # type: ignore[valid-type]
    start_day: float = Field(ge=0.0, le=100_000.0)
    end_day: float | None = Field(None, gt=0.0, le=100_000.0, description=END_DAY)  # set at validation
    duration_days: float | None = Field(None, gt=0.0, le=100_000.0, description=DURATION_DAYS)
    districts: list[str] = Field(default_factory=list, max_length=1000)
    trips_every_days: float = Field(3.0, ge=1.0, description="Limited level: days between a household's trips. Assumption.")
    online_share: Share = Field(0.5, description="Limited level: share of purchases ordered online by those who can. Assumption.")
    close_outlets: bool = Field(True, description="Static level closes supermarkets and wet markets in the district.")
    announce_day: float | None = Field(None, ge=0.0, description="Day the lockdown is announced (panic buying).")
    name: str = ""
    communities: list[str] = Field(
        default_factory=list, description="Grid lockdown: only these compounds (ids), in any district.")
    compounds_per_district: int | None = Field(
        None, ge=1, description="Grid lockdown: this many compounds of each of `districts` (all if empty), drawn "
                                "once per city from city.layout_seed.")
    compound_share: Share | None = Field(
        None, description="Grid lockdown: this share of the compounds of each of `districts` (at least one), drawn "
                          "once per city from city.layout_seed.")

    @field_serializer("end_day")
    def _dump_end(self, end_day: float | None) -> float | None:
        return dump_end(self, end_day)

    @model_validator(mode="after")
    def _check(self) -> "Lockdown":
        resolve_end(self)
        grid = [f for f in ("communities", "compounds_per_district", "compound_share") if getattr(self, f)]
        if len(grid) > 1:
            raise ValueError(f"{grid[1]}: a grid lockdown names compounds one way only, got {grid[0]} and {grid[1]}")
        if self.communities and self.districts:
            raise ValueError("districts: a lockdown of named communities takes no districts (their compounds' "
                             "districts are known)")
        if self.compound_share is not None and self.compound_share == 0:
            raise ValueError("compound_share: must be greater than 0, got 0")
        if self.announce_day is not None and self.announce_day > self.start_day:
            raise ValueError(f"announce_day: must be at most start_day ({self.start_day:g}), got {self.announce_day:g}")
        return self
