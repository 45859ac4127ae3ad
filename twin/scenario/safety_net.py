"""Scenario section of the safety net (兜底): special groups served one by one (MISSION.md section 3).

Special groups live in every compound in proportion to its residents (or to its elderly). While
the ``safety_net`` mode is in force their members ask for help through the hotline or online
channels; requests queue at intake (answered within a capacity per hour, dropped when the queue
is full, abandoned after ``patience_h``), then wait for a dispatch team of their district (acute
groups on the green channel first) until the goods are in stock and a team is free, or until the
member gives up. ``docs/safety_net.md`` explains the mechanism and ``requests.parquet``.

Every default names its source in its description: a published figure (CALIBRATION.md) or
"assumption". Units are in the field names; per-1M fields scale with the city's population.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Mapping

from pydantic import Field, model_validator

from twin.scenario.base import Spec

__all__ = ["Channel", "DEFAULT_CHANNELS", "DEFAULT_GROUPS", "SafetyNet", "SpecialGroup", "check_goods", "default_groups"]

Share = Annotated[float, Field(ge=0.0, le=1.0)]
NonNeg = Annotated[float, Field(ge=0.0)]
Positive = Annotated[float, Field(gt=0.0)]
Hour = Annotated[float, Field(ge=0.0, le=24.0)]
Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]


_Spec = Spec  # frozen, unknown fields are errors, numbers finite and bounded (twin/scenario/base.py)


class Channel(_Spec):
    """One intake channel (hotline or online): capacity, queue room and callers' patience."""

    calls_per_hour_per_1m: NonNeg = Field(
        description="Requests answered (taken down and passed to dispatch) per hour per 1M residents, 24 hours a day.")
    max_queue_per_1m: NonNeg = Field(
        description="Requests that can wait to be answered at once (callers on hold or redialling), per 1M residents "
                    "(at least 1); more are dropped.")
    patience_h: NonNeg = Field(description="Hours a request waits to be answered before it is abandoned.")


class SpecialGroup(_Spec):
    """A special group: who is in it, what one request asks for and how often a member asks."""

    share: Share = Field(description="Members per resident, or per elderly resident (aged 60+) when `of` = 'elderly'.")
    of: Literal["residents", "elderly"] = Field("residents", description="What `share` is a share of.")
    uptake: Share = Field(
        1.0, description="Share of members who turn to the safety net while it is in force (others have family, "
                         "neighbours, stock or the market).")
    every_days: Positive | Literal["prescription"] = Field(
        7.0, description="Days between two requests of a member; 'prescription' = `safety_net.prescription_days`.")
    goods_kg_per_day: dict[Name, NonNeg] = Field(
        default_factory=dict, description="Goods per member per day covered, by category; a request carries "
                                          "`every_days` of them. Empty = a service (a treatment trip), no goods.")
    team_effort: Positive = Field(1.0, description="Dispatch-team work of one request, in doorstep drops.")
    green_channel: bool = Field(False, description="Acute: answered and dispatched before every other request.")
    online_share: Share = Field(0.3, description="Share of requests made online; the rest phone the hotline.")
    patience_h: Positive = Field(
        48.0, description="Hours from the request after which an unserved request is abandoned.")


# kg per person per day of the default categories (Chinese Dietary Guidelines 2022, scaled to the
# seed paper's 2 kg; twin.scenario.schema.default_categories): an elderly food drop covers them
_FOOD_DROP = {"rice": 0.30, "vegetables": 0.55, "meat": 0.20, "eggs_dairy": 0.36, "oil": 0.05}


def default_groups() -> dict[str, SpecialGroup]:
    """The special groups of MISSION.md section 3 with their default figures.

    elderly_alone: Shanghai, March-April 2022: about 350,000 elderly people living alone in a
    25-million city (CALIBRATION.md) = 6% of the 5.85 M aged 60+ (23.4%, 7th census); weekly food
    drops of the default need of staples, vegetables, meat, eggs and dairy, oil; uptake assumption.
    disabled: China's 2nd national sample survey on disability (2006): 6.34% of residents disabled;
    about a third of them severely (grades 1-2: assumption-level): 2%; uptake (most live with
    family) assumption.
    chronic_patients: China Hypertension Survey 2012-2015 (Wang et al. 2018, Circulation): 23.2% of
    adults hypertensive, 40.7% of them treated; diabetes 12.8% of adults (Li et al. 2020, BMJ): about
    10% of residents on long-term medication (assumption built on these); refills every
    prescription; 20 g of medicine a day; uptake (most refill at pharmacies, through family or
    online drug delivery) assumption.
    pregnant_women: China 2021, 7.52 births per 1,000 residents (NBS) x 0.75 year of pregnancy:
    0.56%; prenatal checks every 2-4 weeks (a treatment trip): assumption.
    infants: infants under one (7.5 per 1,000) who depend on formula (about half: assumption); 120 g
    of powder a day (label dosing for 0-6 months, ~900 ml of milk: assumption), about a can a week.
    dialysis_patients: China, 379 haemodialysis patients per million in 2017 (China DOPPS 5
    baseline, Sci. Rep. 2020, doi 10.1038/s41598-020-79531-4), rising: 0.04%; three sessions a week.
    acute_patients: cancer treatment, cardio-cerebrovascular follow-up, trauma: assumption.
    Team effort (a drop = 1; a hospital round trip = 3; light medicine or formula drops 0.5),
    online shares and patience: assumption.
    """
    food = dict(_FOOD_DROP)
    return {
        "elderly_alone": SpecialGroup(share=0.06, of="elderly", uptake=0.3, every_days=7.0, goods_kg_per_day=food,
                                      online_share=0.1, patience_h=48.0),
        "disabled": SpecialGroup(share=0.02, uptake=0.1, every_days=7.0, goods_kg_per_day=dict(food),
                                 online_share=0.3, patience_h=48.0),
        "chronic_patients": SpecialGroup(share=0.10, uptake=0.05, every_days="prescription",
                                         goods_kg_per_day={"medicine": 0.02}, team_effort=0.5, online_share=0.4,
                                         patience_h=72.0),
        "pregnant_women": SpecialGroup(share=0.0056, uptake=0.5, every_days=14.0, team_effort=3.0,
                                       green_channel=True, online_share=0.8, patience_h=48.0),
        "infants": SpecialGroup(share=0.004, uptake=0.5, every_days=7.0, goods_kg_per_day={"infant_formula": 0.12},
                                team_effort=0.5, online_share=0.8, patience_h=48.0),
        "dialysis_patients": SpecialGroup(share=0.0004, uptake=0.8, every_days=7.0 / 3.0, team_effort=3.0,
                                          green_channel=True, online_share=0.3, patience_h=24.0),
        "acute_patients": SpecialGroup(share=0.001, every_days=7.0, team_effort=3.0, green_channel=True,
                                       online_share=0.2, patience_h=24.0),
    }


DEFAULT_GROUPS = default_groups()
DEFAULT_CHANNELS = {"hotline": Channel(calls_per_hour_per_1m=80.0, max_queue_per_1m=1000.0, patience_h=12.0),
                    "online": Channel(calls_per_hour_per_1m=40.0, max_queue_per_1m=2000.0, patience_h=24.0)}


class SafetyNet(_Spec):
    """Special groups, their needs, the hotline and online intake, and the dispatch teams.

    ``groups`` is keyed by group name. An entry for a default group changes it field by field
    (its ``goods_kg_per_day`` is replaced as a whole), so ``safety_net.groups.infants.uptake = 0.8``
    keeps the infants' other figures; a new name adds a group; ``share = 0`` removes one. The
    channels too: ``safety_net.hotline.calls_per_hour_per_1m = 20`` keeps the hotline's queue and
    patience.
    """

    groups: dict[Name, SpecialGroup] = Field(default_factory=default_groups, max_length=100,
                                            description="Special groups by name (see `default_groups`).")
    prescription_days: float = Field(
        7.0, ge=7.0, le=90.0, description="Days of medicine a refill covers: the prescription-length lever. China "
                                          "prescription rules (2021): standard 7 days, long-term up to 12 weeks.")
    calls_from_h: Hour = Field(7.0, description="Members make their requests between this hour ... Assumption.")
    calls_to_h: float = Field(22.0, gt=0.0, le=23.0, description="... and this one (at most 23:00). Assumption.")
    hotline: Channel = Field(
        default_factory=lambda: DEFAULT_CHANNELS["hotline"],
        description="The 12345 hotline's safety-net calls. For scale: a 25-M city's hotline answered ~45,000 calls a "
                    "day on average and ~80,000 on its busiest day in spring 2022 (75 and 133 per hour per 1M; "
                    "Shanghai 12345 hotline, press report of 2022-05-30, conf. M); the share spent on safety-net "
                    "calls, the queue and "
                    "callers' patience (redialling for half a day) are assumption.")
    online: Channel = Field(
        default_factory=lambda: DEFAULT_CHANNELS["online"],
        description="Apps and mini-programs. For scale: online requests to the same hotline rose from ~2,000 to "
                    "~9,000 a day in spring 2022 (15 per hour per 1M; same report); capacity, queue and patience "
                    "assumption.")
    teams_per_1m: NonNeg = Field(
        80.0, description="Dispatch teams (a vehicle, a driver and a community worker) per 1M residents, each working "
                          "for its own district. Assumption.")
    team_requests_per_day: Positive = Field(
        40.0, description="Doorstep drops a team makes in a shift (a request counts its group's team_effort). Assumption.")
    team_kg_per_day: Positive = Field(800.0, description="Kg a team's van carries in a shift. Assumption.")
    team_from_h: Hour = Field(8.0, description="Teams work from this hour ... Assumption.")
    team_to_h: Hour = Field(20.0, description="... to this one (12-hour shifts, as the 2022 hotline staff). Assumption.")
    team_rounds: int = Field(
        4, ge=1, le=24, description="Rounds a team makes in a shift (load the van, deliver, come back), evenly spread "
                                    "over the shift; requests are dispatched at the start of a round. Assumption: a "
                                    "round every 3 hours.")
    door_by_volunteers: bool = Field(
        True, description="Under static management goods reach the door through the compound's volunteers (their "
                          "capacity is shared with every other channel); false: teams carry them to the door.")
    price_index: NonNeg = Field(
        1.0, description="Price residents pay for safety-net goods, x baseline (0 = free). Assumption: fixed prices.")
    crisis_uptake: dict[str, NonNeg] = Field(
        default_factory=lambda: {"shops_closed": 0.5, "stock_below_one_day": 2.0, "income_lost": 1.0,
                                 "medicine_short": 2.0},
        description="Relative rise of a group's uptake per crisis its members are in (shops closed to them, stock "
                    "below a day of need, income lost, medicine for less than a day), added up; uptake never "
                    "exceeds 1. Keys: shops_closed, stock_below_one_day, income_lost, medicine_short. Assumption.")

    @model_validator(mode="before")
    @classmethod
    def _merge_defaults(cls, data: Any) -> Any:
        """Groups and channels given change the defaults field by field (see the class docstring)."""
        if not isinstance(data, Mapping):
            return data
        data = dict(data)
        if isinstance(data.get("groups"), Mapping):
            merged: dict[str, Any] = {name: g.model_dump() for name, g in DEFAULT_GROUPS.items()}
            for name, spec in data["groups"].items():
                merged[name] = {**merged[name], **spec} if isinstance(spec, Mapping) and name in merged else spec
            data["groups"] = merged
        for name, default in DEFAULT_CHANNELS.items():
            if isinstance(data.get(name), Mapping):
                data[name] = {**default.model_dump(), **data[name]}
        return data

    @model_validator(mode="after")
    def _check(self) -> "SafetyNet":
        from twin.scenario.residents import CRISES

        for key in self.crisis_uptake:
            if key not in CRISES:
                raise ValueError(f"crisis_uptake: unknown crisis {key!r} (allowed: {', '.join(CRISES)})")
        if self.calls_to_h <= self.calls_from_h:
            raise ValueError(f"calls_to_h: must be greater than calls_from_h ({self.calls_from_h:g}), "
                             f"got {self.calls_to_h:g}")
        if self.team_to_h - self.team_from_h < 1.0:
            raise ValueError(f"team_to_h: teams must work at least an hour after team_from_h "
                             f"({self.team_from_h:g}), got {self.team_to_h:g}")
        return self


def check_goods(safety_net: SafetyNet, categories: set[str] | list[str] | tuple[str, ...],
                field: str = "safety_net") -> None:
    """Raise ``ValueError("<field>.groups.<name>.goods_kg_per_day: ...")`` for goods naming an
    unknown category (the Scenario validator calls it with the scenario's category names).

    A default group whose goods were left as they are adapts instead: categories the scenario
    lacks are left out of its requests (as the unified package does).

    >>> check_goods(SafetyNet(), {"rice"})
    >>> check_goods(SafetyNet(groups={"infants": {"goods_kg_per_day": {"formula": 0.1}}}), {"rice"})
    Traceback (most recent call last):
    ...
    ValueError: safety_net.groups.infants.goods_kg_per_day: no category 'formula' (allowed: rice)
    """
    names = set(categories)
    for gname, group in safety_net.groups.items():
        default = DEFAULT_GROUPS.get(gname)
        if default is not None and group.goods_kg_per_day == default.goods_kg_per_day:
            continue
        for cat in group.goods_kg_per_day:
            if cat not in names:
                raise ValueError(f"{field}.groups.{gname}.goods_kg_per_day: no category {cat!r} "
                                 f"(allowed: {', '.join(sorted(names))})")
