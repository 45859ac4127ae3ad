"""Scenario section of the resident groups inside every compound (who goes without).

Every compound's residents fall into groups (MISSION.md section 5: who goes without -- the
elderly, people who cannot order online, low-income and migrant households): a group is a
column of the households' arrays ([K compounds, G groups, C categories]), not an agent. Each
group has its own share of the compound, household stock, channel access, budget and price
elasticity. Every default names its source in its description (CALIBRATION.md) or "assumption".
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from twin.scenario.base import Spec

__all__ = ["CRISES", "GROUPS", "DEFAULT_GROUPS", "ResidentGroup", "Residents", "default_resident_groups"]

Share = Annotated[float, Field(ge=0.0, le=1.0)]
NonNeg = Annotated[float, Field(ge=0.0)]

#: the resident groups, in the order of the arrays' group axis; membership is assigned in this
#: order (an elderly resident living alone is counted there, not among the offline residents)
GROUPS = ("elderly_alone", "offline", "low_income", "lost_income", "others")
#: why a group turns to the safety net (``safety_net.crisis_uptake``)
CRISES = ("shops_closed", "stock_below_one_day", "income_lost", "medicine_short")


_Spec = Spec  # frozen, unknown fields are errors, numbers finite and bounded (twin/scenario/base.py)


class ResidentGroup(_Spec):
    """How the members of one group buy, hold stock and pay."""

    online: bool = Field(True, description="Members order online and join app-based group buying themselves; "
                                           "offline members order only through neighbours (`households.mutual_aid_share`).")
    stock_factor: NonNeg = Field(1.0, description="Household stock, relative to the compound's average (the factors are "
                                                  "normalised so the compound keeps its `household_stock_days`).")
    elasticity_ratio: NonNeg | None = Field(
        None, description="Price elasticity relative to the category's; unset: `prices.low_income_elasticity_ratio` "
                          "for groups with a budget, 1 otherwise.")
    budget_share: NonNeg | None = Field(
        None, description="Most a member spends on food a day, x the baseline cost of a day's need; unset: no limit.")
    budget_when: Literal["always", "lockdown"] = Field(
        "always", description="When the budget binds: always, or only while the compound is under a lockdown "
                              "(income lost).")


def default_resident_groups() -> dict[str, ResidentGroup]:
    """The groups of the issue with their default figures (all shares and factors assumption unless named).

    elderly_alone: offline (Shanghai 2022: the elderly living alone could not use the buying apps),
    depend on neighbours, volunteers and the safety net. offline: residents who cannot order online,
    other than the elderly living alone. low_income: a food budget of 1.5x the baseline cost of a
    day's need (food takes over half of a low-income household's spending: assumption built on
    China's Engel coefficient of about 30% on average), less room to stock (0.7). lost_income: migrant
    and gig workers whose pay stops under a lockdown: savings pay for a day's need at baseline prices (1x)
    while locked down, little room to stock (shared rooms: 0.7). others: everyone else.
    """
    return {
        "elderly_alone": ResidentGroup(online=False, stock_factor=1.0),
        "offline": ResidentGroup(online=False, stock_factor=1.0),
        "low_income": ResidentGroup(stock_factor=0.7, budget_share=1.5, budget_when="always"),
        "lost_income": ResidentGroup(stock_factor=0.7, budget_share=1.0, budget_when="lockdown"),
        "others": ResidentGroup(),
    }


DEFAULT_GROUPS = default_resident_groups()


class Residents(_Spec):
    """Resident groups inside every compound.

    Members of compound ``k`` (shares of its residents, assigned in the order of :data:`GROUPS`):
    elderly living alone = elderly share x ``elderly_alone_share``; offline = the compound's
    offline share less the elderly living alone; low-income = the compound's low-income share of
    the rest; lost income = ``lost_income_share`` of the rest; others = the rest. ``groups``
    changes a group's figures field by field (``residents.groups.low_income.budget_share = 1.2``).
    """

    elderly_alone_share: Share = Field(
        0.06, description="Share of the elderly (60+) who live alone. Shanghai 2022: about 350,000 of 5.85 M aged 60+ "
                          "(CALIBRATION.md).")
    lost_income_share: Share = Field(
        0.14, description="Share of the residents not in the groups before who lose their income under a lockdown "
                          "(migrant and gig workers). Shanghai 7th census 2020: 42% of residents are migrants; a third "
                          "of them losing pay is an assumption.")
    groups: dict[str, ResidentGroup] = Field(default_factory=default_resident_groups,
                                             description="Figures of each group (see `default_resident_groups`).")

    @model_validator(mode="before")
    @classmethod
    def _merge_defaults(cls, data):
        if isinstance(data, dict) and isinstance(data.get("groups"), dict):
            merged = {name: g.model_dump() for name, g in DEFAULT_GROUPS.items()}
            for name, spec in data["groups"].items():
                if name not in merged:
                    raise ValueError(f"groups.{name}: unknown group (allowed: {', '.join(GROUPS)})")
                merged[name] = {**merged[name], **spec} if isinstance(spec, dict) else spec
            data = {**data, "groups": merged}
        return data

    def ordered(self) -> list[ResidentGroup]:
        """The groups' figures in the order of :data:`GROUPS`."""
        return [self.groups[name] for name in GROUPS]
