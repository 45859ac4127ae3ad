"""Scenario sections of the allocation modes (MISSION.md section 3) and of the regimes that switch
them (section 6: normal, emergency and extreme states, each with its policy package)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from twin.scenario.base import Spec

__all__ = ["GroupBuying", "PolicyPackage", "Regimes", "Trigger", "Unified", "MODES", "REGIMES", "TRIGGER_METRICS"]

MODES = ("market", "group_buying", "unified", "safety_net")
REGIMES = ("normal", "emergency", "extreme")
#: figures of the day a trigger can watch: ``fill_of_need`` (consumed / need, what people eat) is the one
#: to watch for hunger; ``market_service_level`` (delivered / demand) falls as prices cut demand, not hunger
TRIGGER_METRICS = ("infection_per_100k", "fill_of_need", "market_service_level", "closed_share",
                   "failed_communities_share", "price_index")
Share = Annotated[float, Field(ge=0.0, le=1.0)]
NonNeg = Annotated[float, Field(ge=0.0)]


_Spec = Spec  # frozen, unknown fields are errors, numbers finite and bounded (twin/scenario/base.py)


class GroupBuying(_Spec):
    """Community group buying: collective demand, market supply (团购)."""

    leader_share: Share = Field(0.8, description="Share of compounds with a group leader (团长). Assumption.")
    household_size: float = Field(2.5, gt=0.0, description="Residents per household (Shanghai 2020 census: 2.3-2.6).")
    participation: Share = Field(
        0.9, description="Share of online-able households that join at first (The Paper poll 2022: ~96% in group chats).")
    min_orders: NonNeg = Field(30.0, description="Orders a group needs to be served (Shanghai 2022: 20-100 per compound).")
    purchase_share: Share = Field(0.6, description="Share of a member household's purchases bought through the group. Assumption.")
    distributor_kg_per_1000_day: NonNeg = Field(
        800.0, description="Distributors' delivery capacity to compound gates per 1,000 residents. Assumption.")
    markup: NonNeg = Field(0.25, description="Price over the market's (city B: most fresh food rose > 40%). Assumption.")
    qc_loss_share: Share = Field(0.05, description="Extra share of perishables lost to weak quality control. Assumption.")
    fatigue_per_day: NonNeg = Field(
        0.02, description="Fall of participation per day of group buying (city B: 45.8% in 6-10 groups). Assumption.")
    review_delay_days: NonNeg = Field(1.0, description="Registration and review by the neighbourhood committee. Assumption.")
    ban_on_infection: bool = Field(True, description="A compound bans its groups after a detected case among its volunteers.")
    ban_days: NonNeg = Field(7.0, description="Days a ban lasts. Assumption.")
    source_kinds: list[str] = Field(
        default_factory=lambda: ["supermarket", "front_warehouse", "community_supply_point", "wholesale_market",
                                 "transit_warehouse", "suburban_base"],
        description="Node kinds distributors buy from: a district's groups buy first from its own outlets, dark stores "
                    "and supply points, then from the city's hubs and producers (Shanghai 2022: supermarket chains, "
                    "grocery platforms, wholesalers and farms all took bulk group orders to compound gates).")


class Unified(_Spec):
    """Unified government supply: collective demand, government supply (统一保供)."""

    package_kg_per_person: dict[str, NonNeg] = Field(
        default_factory=lambda: {"rice": 1.0, "vegetables": 3.0, "meat": 0.6, "eggs_dairy": 0.6, "oil": 0.2},
        description="A standard package per person per interval: few item types (Xi'an 2021: ~2.2 kg/person/day "
                    "over 3 days; Wuhan 2020: 5-kg bags of 3 vegetables).")
    interval_days: float = Field(3.0, ge=1.0, description="Days between packages. Xi'an 2021: packages for 3 days.")
    admin_delay_days: NonNeg = Field(3.0, description="Days from switching on to the first package (bureaucracy). Assumption.")
    price_index: NonNeg = Field(0.0, description="Price paid, x baseline (0 = free). City C: free packages.")
    packing_speedup: float = Field(2.0, ge=1.0, description="Packing few item types vs picking orders. Assumption.")
    requisitioned_kg_per_1000_day: NonNeg = Field(
        600.0, description="Requisitioned vehicles (buses, postal, military) per 1,000 residents. Assumption.")
    joint_supply_kg_per_day_per_1000: NonNeg = Field(
        1000.0, description="Inter-provincial joint supply into reserves, per 1,000 residents (Wuhan 2020: 9 provinces). Assumption.")
    joint_supply_lead_days: NonNeg = Field(3.0, description="Lead time of joint supply. Assumption.")


class PolicyPackage(_Spec):
    """What a regime switches on: modes, their shares, lockdown level and levers."""

    modes: list[Literal[MODES]] = Field(default_factory=lambda: ["market"])  # type: ignore[valid-type]
    group_purchase_share: Share | None = Field(None, description="Overrides group_buying.purchase_share.")
    lockdown: Literal["normal", "limited", "static"] | None = Field(None, description="City-wide lockdown while in force.")
    pass_share: Share | None = Field(None, description="Overrides epidemic.pass_share (passes for supply workers).")
    bubble_kinds: list[str] | None = Field(None, description="Overrides epidemic.bubble_kinds (closed-loop management).")
    price_cap_index: float | None = Field(None, ge=1.0, description="Government price cap, x baseline.")
    anti_hoarding: bool = False
    reserve_release: bool = Field(False, description="Reserves feed sorting centres (market supply).")


class Trigger(_Spec):
    """Switch to ``to`` when ``metric`` (of the day just ended) is above or below ``threshold``."""

    to: Literal[REGIMES]  # type: ignore[valid-type]
    metric: Literal[TRIGGER_METRICS]  # type: ignore[valid-type]
    above: float | None = None
    below: float | None = None
    when_in: list[Literal[REGIMES]] = Field(default_factory=list,  # type: ignore[valid-type]
                                            description="Only from these regimes (default: any other).")

    @model_validator(mode="after")
    def _check(self) -> "Trigger":
        if (self.above is None) == (self.below is None):
            raise ValueError("above: give exactly one of above or below")
        return self


class ScheduledSwitch(_Spec):
    """Switch to ``to`` on ``day`` (a decision; it takes effect after the switching delay)."""

    day: float = Field(ge=0.0, le=100_000.0)
    to: Literal[REGIMES]  # type: ignore[valid-type]


class Regimes(_Spec):
    """Normal, emergency and extreme states with their policy packages and switching rules."""

    initial: Literal[REGIMES] = "normal"  # type: ignore[valid-type]
    switch_delay_days: NonNeg = Field(2.0, description="Days from decision to new policy in force: the city's agility. Assumption.")
    min_days_in_regime: NonNeg = Field(3.0, description="No new decision within this many days of a switch. Assumption.")
    normal: PolicyPackage = Field(default_factory=PolicyPackage)
    emergency: PolicyPackage = Field(default_factory=lambda: PolicyPackage(modes=["market", "safety_net"]))
    extreme: PolicyPackage = Field(default_factory=lambda: PolicyPackage(
        modes=["market", "group_buying", "unified", "safety_net"]))
    triggers: list[Trigger] = Field(default_factory=list, max_length=1000)
    schedule: list[ScheduledSwitch] = Field(default_factory=list, max_length=1000)
