"""The scenario schema: frozen, validated specification of one simulated city.

Every default names its source in its description: the seed paper (Rong & Chen), a published
statistic (see README, "Sources"), or "assumption". Units are in the field names.
The clock unit of the whole model is the hour; days are 24 hours; ``t_day`` counts from 0.
"""

from __future__ import annotations

import datetime as dt

from typing import Annotated, Literal

from pydantic import Field, field_serializer, field_validator, model_validator

from twin.scenario.base import Spec
from twin.scenario.learning import Learning
from twin.scenario.modes import GroupBuying, Regimes, Unified
from twin.scenario.orders import Orders, Shifts
from twin.scenario.residents import Residents
from twin.scenario.response import (DURATION_DAYS, END_DAY, ROLES, Epidemic, Lockdown, dump_end,
                                   resolve_end)
from twin.scenario.safety_net import SafetyNet, check_goods
from twin.scenario.surge import Surge

__all__ = [
    "Category",
    "Epidemic",
    "Lockdown",
    "CityGen",
    "Community",
    "District",
    "Households",
    "Link",
    "NetworkGen",
    "Node",
    "NODE_KINDS",
    "Prices",
    "Reserves",
    "Residents",
    "Run",
    "Scenario",
    "Shock",
    "Workforce",
    "default_categories",
]

NODE_KINDS = (
    "out_of_province_base",
    "suburban_base",
    "transfer_station",
    "transit_warehouse",
    "wholesale_market",
    "reserve_warehouse",
    "sorting_centre",
    "front_warehouse",
    "supermarket",
    "wet_market",
    "community_supply_point",
)
NodeKind = Literal[NODE_KINDS]  # type: ignore[valid-type]


def check_kinds(field: str, kinds) -> None:
    """Raise the scenario error for the first of ``kinds`` that is not a node kind."""
    bad = [k for k in kinds if k not in NODE_KINDS]
    if bad:
        raise ValueError(f"{field}: unknown node kind {bad[0]!r} (allowed: {', '.join(NODE_KINDS)})")

Share = Annotated[float, Field(ge=0.0, le=1.0)]
Positive = Annotated[float, Field(gt=0.0)]
NonNeg = Annotated[float, Field(ge=0.0)]

#: upper bounds of counts and sizes: a run stays within the machine (2 cores, 24 GiB); see twin/preflight.py
MAX_POPULATION = 100_000_000   # four times the seed paper's city
MAX_ENTITIES = 200_000         # compounds or nodes given by hand
MAX_COUNT = 10_000             # hubs, bases, sorting centres of the generated network
MAX_DAY = 100_000.0            # a shock or lockdown day (runs are at most 3650 days)
Days = Annotated[float, Field(ge=0.0, le=3650.0)]   # a stock or a time in days
PerResidents = Annotated[float, Field(ge=0.0, le=1000.0)]   # outlets per 10k (or 100k) residents




class Run(Spec):
    """How long and with which seed a scenario runs (CLI flags override)."""

    days: int = Field(60, ge=1, le=3650, description="Simulated days. Assumption: two months covers a lockdown wave.")
    seed: int = Field(1, ge=0, lt=2 ** 63, description="Root seed of the run's random streams.")
    start_date: str = Field("2022-03-19", pattern=r"^\d{4}-\d{2}-\d{2}$",
                            description="Calendar date of day 0 (first day of the Shanghai 2022 case series).")

    @field_validator("start_date")
    @classmethod
    def _real_date(cls, value: str) -> str:
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"must be a real date YYYY-MM-DD, got {value!r}") from None
        return value
    compare_to: str | None = Field(
        None, description="Run folder of the same shock with no regime switch: `twin report` reads adaptability "
                          "against it when no --baseline is given (relative to the working directory).")


class Category(Spec):
    """A goods category: how much a person needs, how fast it spoils, what it costs."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    need_kg_per_person_day: NonNeg
    spoilage_per_day: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        description="Share of stock lost per day at ambient temperature.")
    baseline_price_per_kg: Positive
    suburban_share: Share = Field(0.0, description="Share of need produced by suburban bases (short chain).")
    max_stock_days: Days | None = Field(
        None, description="No node targets more days of stock than this (perishables).")
    elasticity: Annotated[float, Field(ge=0.0, le=5.0)] = Field(
        0.5, description="Own-price elasticity of demand, absolute value (Andreyeva, Long & Brownell 2010).")
    priority: int = Field(
        2, ge=0, le=9, description="Households' priority when money, couriers or volunteers are short: lower first "
                                   "(medicine and formula, then staples, then fresh food, then the rest). Assumption.")
    household_stock_factor: NonNeg = Field(
        1.0, description="Days of this category households hold, x the compound's household stock days (staples "
                         "keep, fresh food does not). Assumption.")
    substitute: str | None = Field(
        None, description="A category households eat or buy instead when this one is short or dear (flour for "
                          "rice, eggs for meat); none = no substitute.")
    substitution_share: Share = Field(
        0.0, description="Most of this category's missing need (or of its demand, as its price runs above the "
                         "substitute's) that the substitute can stand in for. Assumption.")


def default_categories() -> list[Category]:
    """Ten categories summing to the paper's 2 kg per person per day.

    Needs follow the Chinese Dietary Guidelines 2022 (balanced diet pagoda: cereals 200-300 g,
    vegetables 300-500 g, fruit 200-350 g, meat/fish/eggs 120-200 g, dairy 300-500 g, oil 25-30 g),
    scaled so the total is the seed paper's 2 kg/person/day of goods. Spoilage per day is derived
    from distribution losses without cold chain (NDRC cold-chain plan 2010: fruit and vegetables
    20-30%, meat 12%, aquatic 15%) spread over the 5-7 days a perishable spends in the chain;
    staples are assumption. Maximum stock days of perishables: assumption.
    Baseline prices are assumption (Shanghai retail, 2021, CNY/kg). Suburban shares: Shanghai's
    own farms supplied about 30% of its vegetables (assumption from the 70% wholesale figure).
    Elasticities (absolute) from the meta-analysis of Andreyeva, Long & Brownell (2010, Am. J.
    Public Health): cereals 0.60, vegetables 0.58, fruit 0.70, pork 0.72, fats and oils 0.48,
    eggs 0.27 and dairy 0.65 (eggs_dairy 0.46); infant formula 0.2, medicine 0.1, other 0.5: assumption.
    Priorities (0 first: medicine and formula; 1 staples; 2 vegetables, meat, eggs and dairy; 3 fruit
    and the rest), household stock factors (staples and oil keep for weeks, fresh food a day or
    two; the need-weighted mean is about 1, so a compound's stock days keep their meaning) and
    substitutes (flour and rice for each other; eggs and dairy for meat and back; vegetables and
    fruit for each other, in part): assumption.
    """
    rows = [
        # name, kg/person/day, spoilage/day, CNY/kg, suburban share, max stock days, elasticity,
        # priority, household stock factor, substitute, substitution share
        ("rice", 0.30, 0.0005, 6.0, 0.05, None, 0.60, 1, 2.0, "flour", 0.8),
        ("flour", 0.15, 0.0005, 5.0, 0.0, None, 0.60, 1, 2.0, "rice", 0.8),
        ("oil", 0.05, 0.0002, 15.0, 0.0, None, 0.48, 1, 3.0, None, 0.0),
        ("vegetables", 0.55, 0.04, 6.0, 0.30, 1.0, 0.58, 2, 0.5, "fruit", 0.3),
        ("fruit", 0.38, 0.02, 10.0, 0.10, 2.0, 0.70, 3, 0.5, "vegetables", 0.3),
        ("meat", 0.20, 0.015, 30.0, 0.05, 2.0, 0.72, 2, 1.0, "eggs_dairy", 0.5),
        ("eggs_dairy", 0.36, 0.01, 12.0, 0.20, 3.0, 0.46, 2, 0.7, "meat", 0.5),
        ("infant_formula", 0.0015, 0.0002, 300.0, 0.0, None, 0.20, 0, 2.0, None, 0.0),
        ("medicine", 0.005, 0.0002, 200.0, 0.0, None, 0.10, 0, 2.0, None, 0.0),
        ("other_groceries", 0.0035, 0.001, 20.0, 0.0, None, 0.50, 3, 2.0, None, 0.0),
    ]
    return [Category(name=n, need_kg_per_person_day=k, spoilage_per_day=s, baseline_price_per_kg=p,
                     suburban_share=sub, max_stock_days=cap, elasticity=e, priority=pr, household_stock_factor=f,
                     substitute=st, substitution_share=ss)
            for n, k, s, p, sub, cap, e, pr, f, st, ss in rows]


class District(Spec):
    """A district given by hand (overrides the generator's district list)."""

    name: str = Field(min_length=1, max_length=100)
    population: int = Field(gt=0, le=MAX_POPULATION)
    elderly_share: Share | None = None
    offline_share: Share | None = None
    household_stock_days: Days | None = None


class Community(Spec):
    """A residential compound given by hand; with any of these the generator is not used."""

    id: str = Field(min_length=1, max_length=100)
    district: str = Field(min_length=1, max_length=100)
    population: int = Field(gt=0, le=MAX_POPULATION)
    elderly_share: Share = Field(0.234, description="Share aged 60+. Shanghai 7th census 2020: 23.4%.")
    offline_share: Share = Field(0.10, description="Share who cannot order online. Assumption.")
    household_stock_days: Days = Field(3.0, description="Days of need held at home. Assumption.")
    low_income_share: Share = Field(0.10, description="Share of low-income residents. Assumption.")
    outlets: list[str] = Field(default_factory=list, max_length=100, description="Outlets its residents shop at.")
    front_warehouse: str | None = Field(None, description="Dark store whose couriers serve it.")


class CityGen(Spec):
    """A city built from a few numbers; explicit ``districts``/``communities`` override it."""

    population: int = Field(25_000_000, gt=0, le=MAX_POPULATION, description="Residents. Seed paper: a city of 25 million.")
    n_districts: int = Field(16, ge=1, le=1000, description="Shanghai has 16 districts.")
    mean_compound_size: int = Field(2500, ge=10, le=MAX_POPULATION, description="Residents per compound. Assumption (Shanghai: ~13,000 compounds).")
    elderly_share: Share = Field(0.234, description="Share aged 60+. Shanghai 7th census 2020: 23.4%.")
    offline_share: Share = Field(0.10, description="Share who cannot order online (mostly elderly). Assumption.")
    household_stock_days: Days = Field(3.0, description="Days of need held at home in normal times. Assumption.")
    low_income_share: Share = Field(0.10, description="Share of low-income residents. Assumption.")
    layout_seed: int = Field(0, ge=0, lt=2 ** 63, description="Seed of the city layout (not of the run): replicates share one city.")
    districts: list[District] = Field(default_factory=list, max_length=1000)
    communities: list[Community] = Field(default_factory=list, max_length=MAX_ENTITIES)

    @model_validator(mode="after")
    def _unique_names(self) -> "CityGen":
        _check_unique([d.name for d in self.districts], "districts", "name")
        _check_unique([c.id for c in self.communities], "communities", "id")
        return self


class Node(Spec):
    """A network node given by hand."""

    id: str = Field(min_length=1, max_length=100)
    kind: NodeKind
    district: str | None = None
    staff: NonNeg | None = Field(None, description="Handling workers (sorters, store staff, pickers); unset = unlimited.")
    drivers: NonNeg | None = Field(None, description="Truck drivers based here; unset = unlimited.")
    couriers: NonNeg | None = Field(None, description="Couriers based here (front warehouses); unset = unlimited.")
    production_kg_per_day: NonNeg = Field(0.0, description="Bases only: output at full capacity, split over `produces` by need.")
    produces: list[str] | None = Field(None, description="Bases only: categories produced (default: all).")
    stock_days: Days | None = Field(None, description="Target stock in days of the demand it serves (kind default if unset).")


class Link(Spec):
    """A transport link: trucks carry goods from ``src`` to ``dst``."""

    src: str
    dst: str
    travel_h: Annotated[float, Field(gt=0.0, le=24 * 365)] = Field(1.0, description="Hours a truck takes (rounded up to quarter hours).")
    truck_capacity_kg: Positive = Field(10_000.0, description="Assumption: a 10-t urban delivery truck.")
    weight: Positive = Field(1.0, description="Share of dst's orders placed on this link (normalised over dst's open links).")
    standby: bool = Field(False, description="Used only while a reserve_release shock targets src.")


class NetworkGen(Spec):
    """Counts and sizing of the generated network (MISSION.md section 1)."""

    n_out_of_province_bases: int = Field(20, ge=0, le=MAX_COUNT, description="Production bases in other provinces. Assumption.")
    n_suburban_bases: int = Field(10, ge=0, le=MAX_COUNT, description="Suburban farms and bases (short chain). Assumption.")
    suburban_share: Share | None = Field(
        None, description="Share of every category's need produced by suburban bases (short-chain lever); unset = "
                          "each category's own suburban_share.")
    n_transit_warehouses: int = Field(12, ge=1, le=MAX_COUNT, description="City hubs for out-of-province goods. Assumption.")
    n_wholesale_markets: int = Field(6, ge=0, le=MAX_COUNT, description="Shanghai: ~7,000 t/day of vegetables through wholesale markets.")
    n_sorting_centres: int = Field(24, ge=1, le=MAX_COUNT, description="Sorting and distribution centres. Assumption.")
    transfer_stations: int = Field(5, ge=0, le=MAX_COUNT, description="Peripheral transfer stations (Wuhan 2020: 5). Used when use_transfer_stations.")
    use_transfer_stations: bool = Field(False, description="Route out-of-province trucks through edge transfer stations (no contact).")
    transfer_handling_h: Annotated[float, Field(ge=0.0, le=24 * 365)] = Field(2.0, description="Extra hours to unload and reload at a transfer station. Assumption.")
    reserve_warehouse_per_district: bool = True
    supermarkets_per_10k: PerResidents = Field(2.0, description="Assumption.")
    wet_markets_per_10k: PerResidents = Field(0.4, description="Shanghai: ~1,000 standard wet markets for 25 M. Assumption-level.")
    front_warehouses_per_100k: PerResidents = Field(4.0, description="Dark stores. Assumption.")
    community_supply_points_per_10k: PerResidents = Field(
        0.0, description="Community supply points (15-minute life circles turned into supply points, the paper's "
                         "lever); dormant until a collective mode (group buying, unified supply) is in force, then "
                         "stocked from the sorting centres and drawn on by both modes.")
    supply_point_need_share: Share = Field(
        0.25, description="Share of its district's need a district's supply points are stocked and staffed for once "
                          "active. Assumption.")
    outlets_per_community: int = Field(2, ge=1, le=10, description="Outlets within a 15-minute walk. Assumption.")
    key_items_first: bool = Field(
        True, description="When staff or trucks are short, nodes load the key items of the orders (categories of "
                          "priority 0: medicine and infant formula) first and cut the rest alike (the key-item lists "
                          "of the seed paper's safety net); false = every category cut alike.")
    sorting_centres_per_outlet: int = Field(
        2, ge=1, le=5, description="Upstream sorting centres of each supermarket, front warehouse and supply point "
                                   "(wholesale markets of each wet market): orders move to the others when one "
                                   "closes or runs short. Assumption (chains and platforms run several DCs).")
    supply_factor: Positive = Field(1.15, description="Base production capacity / city need. Assumption.")
    capacity_factor: Positive = Field(1.4, description="Staff and fleet capacity / planned flow. Assumption.")
    city_radius_km: Positive = Field(30.0, description="Assumption (Shanghai built-up area).")
    truck_speed_kmh: Positive = Field(30.0, description="Urban truck speed. Assumption.")
    out_of_province_travel_h: Positive = Field(12.0, description="Mean trip from another province. Assumption.")
    truck_capacity_kg: Positive = Field(10_000.0, description="City truck payload. Assumption.")
    regional_truck_capacity_kg: Positive = Field(25_000.0, description="Long-haul truck payload. Assumption.")
    demand_smoothing: Share = Field(0.2, description="Weight of today's orders in a node's demand forecast (EWMA). Assumption.")
    max_forecast_factor: float = Field(3.0, ge=1.0, description="Forecast cap, as a multiple of planned flow. Assumption.")
    stock_days: dict[str, Days] = Field(default_factory=lambda: {
        "out_of_province_base": 2.0, "suburban_base": 1.0, "transfer_station": 0.0,
        "transit_warehouse": 3.0, "wholesale_market": 1.5, "reserve_warehouse": 10.0,
        "sorting_centre": 1.5, "front_warehouse": 1.5, "supermarket": 2.0, "wet_market": 1.0,
        "community_supply_point": 0.0,
    }, description="Target stock in days of the demand served, by kind. Reserve: 10 days is Shanghai's "
                   "vegetable-reserve rule of thumb (assumption); others assumption.")
    nodes: list[Node] = Field(default_factory=list, max_length=MAX_ENTITIES,
                              description="Explicit nodes: replaces the generated network.")
    links: list[Link] = Field(default_factory=list, max_length=10 * MAX_ENTITIES)

    @model_validator(mode="after")
    def _check_explicit(self) -> "NetworkGen":
        check_kinds("stock_days", self.stock_days)
        if self.links and not self.nodes:
            raise ValueError("links: explicit links need explicit nodes")
        ids = [n.id for n in self.nodes]
        _check_unique(ids, "nodes", "id")
        known = set(ids)
        for i, link in enumerate(self.links):
            for end in ("src", "dst"):
                if getattr(link, end) not in known:
                    raise ValueError(f"links[{i}].{end}: no node named {getattr(link, end)!r} "
                                     f"(known nodes: {', '.join(sorted(known)[:8])}{', ...' if len(known) > 8 else ''})")
        return self


#: Workers per 10,000 residents by node kind and role, for generated cities (``workforce.crews = "per_10k"``).
#: Couriers: about 80,000 active delivery riders in a 25-million city (Shanghai, spring 2022, China
#: Daily 2022-04-06), i.e. 32 per 10k, who turn from meals to groceries in a crisis. Every other figure
#: is an assumption: the crew that handles the city's planned flow of 2 kg/person/day at the default
#: productivities with a 1.4x margin (what ``crews = "flow"`` gives for the 25-million city). Emergency
#: nodes (transfer stations, community supply points) are staffed for the flow they are set up for, and
#: production bases for the output they are built for (``network.supply_factor``, the short-chain share).
CREWS_PER_10K: dict[str, dict[str, float]] = {
    "transit_warehouse": {"staff": 6.8, "drivers": 0.9},
    "wholesale_market": {"staff": 0.9, "drivers": 0.12},
    "reserve_warehouse": {"staff": 1.75, "drivers": 0.24},
    "sorting_centre": {"staff": 6.6, "drivers": 0.9},
    "front_warehouse": {"staff": 3.3, "couriers": 32.0},
    "supermarket": {"staff": 12.6},
    "wet_market": {"staff": 2.5},
}


class Workforce(Spec):
    """Productivity of the worker pools and the size of generated nodes' crews.

    ``crews = "per_10k"`` (default): a generated city has a given workforce, ``crews_per_10k``
    workers of each role per 10,000 residents for each node kind, spread over the nodes of the
    kind in proportion to their planned flow; productivity, attrition and reinforcements act on
    that pool. ``crews = "flow"``: each node's crew is sized on its planned flow x
    ``network.capacity_factor`` / productivity (productivity then only rescales headcounts).
    Explicit nodes keep the headcounts they give.
    """

    crews: Literal["per_10k", "flow"] = Field(
        "per_10k", description="How generated nodes' crews are sized: a given workforce per 10k residents, or "
                               "from planned flow. Assumption (a city's workforce is given, not planned per node).")
    crews_per_10k: dict[str, dict[Literal["staff", "drivers", "couriers"], NonNeg]] = Field(
        default_factory=lambda: {k: dict(v) for k, v in CREWS_PER_10K.items()},
        description="Workers per 10,000 residents by node kind and role (staff, drivers, couriers); kinds or roles "
                    "left out are sized from flow. Couriers: ~80,000 riders in a 25-million city (Shanghai 2022, "
                    "China Daily); the rest assumption (flow sizing at default productivities, 25 M city).")

    sorter_kg_per_day: Positive = Field(4_000.0, description="Kg handled per sorter or warehouse worker per day. Assumption.")
    store_staff_kg_per_day: Positive = Field(1_500.0, description="Kg sold per outlet worker per day. Assumption.")
    picker_kg_per_day: Positive = Field(2_500.0, description="Kg picked per front-warehouse worker per day. Assumption.")
    parcels_per_courier_day: Positive = Field(100.0, description="Seed paper: 100 parcels per courier per day.")
    kg_per_parcel: Positive = Field(5.0, description="Seed paper: 5 kg per parcel.")
    truck_trips_per_driver_day: Positive = Field(3.0, description="City round trips per driver per shift. Assumption.")
    regional_trips_per_driver_day: Positive = Field(0.5, description="Long-haul: one trip in two days. Assumption.")
    volunteers_per_1000: NonNeg = Field(
        10.0, description="Volunteers per 1,000 residents for the last 100 m (Shanghai 2022: ~45,000 for "
                          "350,000 elderly living alone; general volunteers assumption).")
    volunteer_kg_per_day: NonNeg = Field(
        250.0, description="Kg a volunteer carries from gate to door per day (50 parcels of 5 kg). Assumption.")

    @model_validator(mode="after")
    def _check_crews(self) -> "Workforce":
        check_kinds("crews_per_10k", self.crews_per_10k)
        return self


class Households(Spec):
    """How households buy."""

    online_share: Share = Field(0.30, description="Share of purchases ordered online by those who can. Assumption.")
    demand_noise_cv: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        0.05, description="Day-to-day coefficient of variation of a community's need. Assumption.")
    mutual_aid_share: Share = Field(
        0.3, description="Under lockdown, share of offline-only residents whose orders neighbours place online. Assumption.")
    panic_share: Share = Field(0.5, description="Share of households that stockpile when a lockdown is announced. Assumption.")
    panic_stock_days: Days = Field(7.0, description="Stock target of panicking households, in days of need. Assumption.")
    panic_days_after_start: NonNeg = Field(2.0, description="Days panic lasts after the lockdown starts. Assumption.")
    gate_delivery_share: Share = Field(
        0.5, description="Share of a shop's staff capacity that serves orders delivered to compound gates while static "
                         "management closes it to shoppers; 0 = shops stay shut (Shanghai 2022: supermarkets turned to "
                         "bulk delivery to compounds). Share: assumption.")


class Prices(Spec):
    """Price formation (MISSION.md section 2.1: scarcity raises prices; food demand is inelastic)."""

    max_rise_per_day: NonNeg = Field(0.15, description="Largest daily price rise (share). Assumption.")
    max_fall_per_day: Share = Field(0.10, description="Largest daily price fall (share). Assumption.")
    floor_index: Annotated[float, Field(gt=0.0, le=1.0)] = Field(0.7, description="Lowest price, x baseline. Assumption.")
    ceiling_index: float = Field(5.0, ge=1.0, description="Highest market price, x baseline. Assumption.")
    subsistence_share: Share = Field(
        0.8, description="Share of today's need households buy whatever the price (elasticities hold above it). Assumption.")
    hoarding_propensity: Share = Field(
        0.1, description="Share of outlet and wholesale stock traders hold back per 100% price rise. Assumption.")
    low_income_elasticity_ratio: float = Field(
        1.4, ge=0.0, description="Elasticity of low-income vs other residents (Green et al. 2013, BMJ: "
                                 "cereals 0.61 vs 0.43, meat 0.78 vs 0.60).")
    platform_markup: NonNeg = Field(
        0.1, description="Online platforms' price over the shops' for the same goods (delivery fees, surcharges), "
                         "share. Assumption.")
    chain_pricing: Literal["uniform", "local"] = Field(
        "uniform", description="How chain stores (supermarkets, front warehouses) price. 'uniform': one price "
                               "across the city, cleared on the city's demand and supply, while wet-market "
                               "stalls price their district's (US retail chains charge nearly uniform prices "
                               "across stores whatever local demand, DellaVigna and Gentzkow 2019, Q. J. Econ. "
                               "134(4)); a district's price is the two weighted by their share of its retail "
                               "flow. 'local': every seller clears its district's demand and supply.")
    scarcity: Literal["shelves", "delivered"] = Field(
        "shelves", description="What prices clear against. 'shelves': the need the sellers' goods failed to meet "
                               "(a seller prices its stock and rations by quantity when only the labour to hand "
                               "it over is short, or when households rush to refill pantries: after the 2010 "
                               "Chile and 2011 Japan disasters product availability fell sharply while prices "
                               "barely moved, Cavallo, Cavallo and Rigobon 2014, Rev. Income Wealth 60(S2)); "
                               "'delivered': every request not delivered, so a courier or gate bottleneck and "
                               "pantry refills also raise prices (buyers bid for slots).")


ShockKind = Literal["closure", "capacity", "supply_cut", "demand_surge", "reserve_release", "confinement",
                    "reinforcement", "price_cap", "fair_price", "subsidy", "anti_hoarding", "transport", "panic_buying"]
TRANSPORT_ROLES = ("drivers", "couriers")
Role = Literal[ROLES]  # type: ignore[valid-type]


class Shock(Spec):
    """A scheduled disturbance active on days ``start_day <= t_day < end_day`` (or give its length,
    ``duration_days``, instead of ``end_day``).

    - ``closure``: the targeted nodes neither ship, receive nor sell;
    - ``capacity``: their handling, fleet and courier capacity is multiplied by ``factor``;
    - ``transport``: only what their drivers' trucks carry and their couriers deliver is multiplied
      by ``factor`` (``roles`` = ["drivers"] or ["couriers"] narrows it); handling is unchanged:
      road closures, checkpoints, fuel or vehicle shortages;
    - ``supply_cut``: output of out-of-province bases (or the targeted bases) is multiplied by ``factor``;
    - ``demand_surge``: need of residents (of ``districts`` if given) is multiplied by ``factor``:
      they eat more (e.g. guests, heat), and buy more only because they eat more;
    - ``panic_buying``: households of ``districts`` (all if empty) stockpile: a share
      ``panic_share`` raises its stock target to ``panic_stock_days`` (``[households]`` defaults),
      as when a lockdown is announced; what they eat is unchanged (``factor`` is not used);
    - ``reserve_release``: standby links out of the targeted reserve warehouses carry goods;
    - ``confinement``: a share ``factor`` of the targeted workers (``roles``) cannot come to work,
      e.g. their housing is locked down;
    - ``reinforcement``: the targeted pools (``roles``) gain ``factor`` x their headcount from
      neighbouring regions, arriving ``epidemic.reinforcement_lead_days`` after ``start_day``;
    - ``price_cap``: market prices in ``districts`` (all if empty) of ``categories`` (all if
      empty) may not exceed ``factor`` x baseline;
    - ``fair_price``: a share ``factor`` of what residents buy there is sold at baseline price
      (fair-price outlets, fair-price vegetable packs);
    - ``subsidy``: vouchers pay a share ``factor`` of what residents spend there;
    - ``anti_hoarding``: traders there cannot hold stock back.
    Targets: ``nodes`` (ids), ``kinds`` and ``districts``; a node is targeted if it matches
    every filter given. ``count`` keeps only the first ``count`` matches (in id order).
    """

    kind: ShockKind
    start_day: float = Field(ge=0.0, le=MAX_DAY)
    end_day: float | None = Field(None, gt=0.0, le=MAX_DAY, description=END_DAY)  # set at validation
    duration_days: float | None = Field(None, gt=0.0, le=MAX_DAY, description=DURATION_DAYS)
    factor: NonNeg = Field(1.0, description="Size of the shock; its meaning depends on `kind` (see above).")
    nodes: list[str] = Field(default_factory=list, max_length=MAX_ENTITIES)
    kinds: list[NodeKind] = Field(default_factory=list)  # type: ignore[valid-type]
    districts: list[str] = Field(default_factory=list, max_length=1000)
    count: int | None = Field(None, ge=1, le=MAX_ENTITIES)
    roles: list[Role] = Field(default_factory=list, description="Worker roles (confinement, reinforcement, transport); empty = all.")  # type: ignore[valid-type]
    categories: list[str] = Field(default_factory=list, description="Goods categories (price levers); empty = all.")
    name: str = ""
    panic_share: Share | None = Field(
        None, description="panic_buying: share of households that stockpile; unset = households.panic_share.")
    panic_stock_days: NonNeg | None = Field(
        None, description="panic_buying: their stock target in days of need; unset = households.panic_stock_days.")

    @field_serializer("end_day")
    def _dump_end(self, end_day: float | None) -> float | None:
        return dump_end(self, end_day)

    @model_validator(mode="after")
    def _check(self) -> "Shock":
        resolve_end(self)
        if self.kind == "transport":
            for r in self.roles:
                if r not in TRANSPORT_ROLES:
                    raise ValueError(f"roles: a transport shock acts on {' or '.join(TRANSPORT_ROLES)}, got {r!r}")
        if self.kind == "panic_buying" and (self.nodes or self.kinds or self.count is not None):
            field = "nodes" if self.nodes else "kinds" if self.kinds else "count"
            raise ValueError(f"{field}: a panic_buying shock targets households by districts only")
        if self.kind != "panic_buying" and (self.panic_share is not None or self.panic_stock_days is not None):
            field = "panic_share" if self.panic_share is not None else "panic_stock_days"
            raise ValueError(f"{field}: only a panic_buying shock takes it, got kind {self.kind!r}")
        if self.kind == "closure" and not (self.nodes or self.kinds or self.districts):
            raise ValueError("nodes: a closure needs a target (nodes, kinds or districts)")
        return self


class Reserves(Spec):
    """Price-triggered releases of the city's reserves by category (MISSION.md section 6; central and local
    reserves of grain, edible oil and frozen pork are released in batches against price spikes, NDRC and
    Ministry of Commerce, CALIBRATION.md).

    Each morning, after prices move, in every district where a category of ``categories`` costs
    at least ``release_index`` x baseline, the district's reserve warehouses sell
    ``release_share_per_day`` of their stock of it to the district's supermarkets and wet markets
    (in proportion to the need they serve), within the reserves' handling and fleet capacity, until
    the price is back under the trigger. An empty ``categories`` switches the rule off.
    """

    categories: list[str] = Field(default_factory=lambda: ["rice", "flour", "oil", "meat"],
                                  description="Categories held in reserve and released: grain, oil and frozen pork "
                                              "(NDRC, CALIBRATION.md).")
    release_index: float = Field(1.3, ge=1.0, description="Price index at which a release starts. Assumption.")
    release_share_per_day: Share = Field(0.15, description="Share of the reserve's stock of a category released per "
                                                           "day while the price is over the trigger. Assumption.")


class SupplyResponse(Spec):
    """Extra inbound supply drawn in by scarcity (MISSION.md section 6: regional fleets on call,
    contingency plans with large suppliers).

    Each day the city's need-weighted market price index sets a target of extra output and extra
    long-haul drivers at the bases of ``kinds``: none up to ``trigger_index``, ``max_extra`` of
    normal at ``full_index`` and above; the extra arrives ``lead_days`` later and fades the same
    way when prices fall. The partners' drivers face entry quarantine like the bases' own.
    ``max_extra = 0`` switches the response off.
    """

    max_extra: NonNeg = Field(1.0, le=10.0, description="Largest extra output and long-haul fleet, share of normal "
                                                        "(nine-province joint supply, Wuhan 2020). Size: assumption.")
    trigger_index: float = Field(1.2, ge=1.0, description="Price index above which partners start to send more. Assumption.")
    full_index: float = Field(2.0, ge=1.0, description="Price index at which the full response is drawn. Assumption.")
    lead_days: NonNeg = Field(3.0, le=60.0, description="Days from the price signal to extra trucks arriving. Assumption.")
    kinds: list[str] = Field(default_factory=lambda: ["out_of_province_base", "suburban_base"],
                             description="Node kinds that answer (their output and drivers).")

    @model_validator(mode="after")
    def _check(self) -> "SupplyResponse":
        if self.full_index <= self.trigger_index:
            raise ValueError(f"full_index: must be greater than trigger_index ({self.trigger_index:g}), got {self.full_index:g}")
        check_kinds("kinds", self.kinds)
        return self


class Scenario(Spec):
    """A whole scenario file."""

    name: str = Field("scenario", pattern=r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*$", max_length=100)
    description: str = ""
    run: Run = Field(default_factory=Run)
    city: CityGen = Field(default_factory=CityGen)
    categories: list[Category] = Field(default_factory=default_categories, min_length=1, max_length=100)
    network: NetworkGen = Field(default_factory=NetworkGen)
    workforce: Workforce = Field(default_factory=Workforce)
    households: Households = Field(default_factory=Households)
    prices: Prices = Field(default_factory=Prices)
    shocks: list[Shock] = Field(default_factory=list, max_length=1000)
    epidemic: Epidemic | None = Field(None, description="Infection among workers; none = nobody falls ill.")
    lockdowns: list[Lockdown] = Field(default_factory=list, max_length=1000)
    regimes: Regimes = Field(default_factory=Regimes)
    group_buying: GroupBuying = Field(default_factory=GroupBuying)
    unified: Unified = Field(default_factory=Unified)
    safety_net: SafetyNet = Field(default_factory=SafetyNet)
    supply_response: SupplyResponse = Field(default_factory=SupplyResponse)
    surge: Surge = Field(default_factory=Surge)
    shifts: Shifts = Field(default_factory=Shifts)
    orders: Orders = Field(default_factory=Orders)
    learning: Learning = Field(default_factory=Learning)
    residents: Residents = Field(default_factory=Residents)
    reserves: Reserves = Field(default_factory=Reserves)

    @model_validator(mode="after")
    def _check(self) -> "Scenario":
        _check_unique([c.name for c in self.categories], "categories", "name")
        names = {c.name for c in self.categories}
        check_goods(self.safety_net, names)
        for i, cat in enumerate(self.categories):
            if cat.substitute is not None and (cat.substitute not in names or cat.substitute == cat.name):
                others = ", ".join(sorted(names - {cat.name})) or "none: the scenario has one category"
                raise ValueError(f"categories[{i}].substitute: no other category {cat.substitute!r} (allowed: {others})")
        explicit_reserves = "categories" in self.reserves.model_fields_set   # defaults skip absent categories
        for c in self.reserves.categories if explicit_reserves else ():
            if c not in names:
                raise ValueError(f"reserves.categories: no category {c!r} (allowed: {', '.join(sorted(names))})")
        for i, s in enumerate(self.shocks):
            for c in s.categories:
                if c not in names:
                    raise ValueError(f"shocks[{i}].categories: no category {c!r} (allowed: {', '.join(sorted(names))})")
        for reg in ("normal", "emergency", "extreme"):
            check_kinds(f"regimes.{reg}.bubble_kinds", getattr(self.regimes, reg).bubble_kinds or [])
        explicit = "package_kg_per_person" in self.unified.model_fields_set   # defaults skip absent categories
        for k in self.unified.package_kg_per_person if explicit else ():
            if k not in names:
                raise ValueError(f"unified.package_kg_per_person: no category {k!r} (allowed: {', '.join(sorted(names))})")
        check_kinds("group_buying.source_kinds", self.group_buying.source_kinds)
        if self.epidemic is not None:
            for field in ("close_on_case_kinds", "bubble_kinds", "outside_city_kinds"):
                check_kinds(f"epidemic.{field}", getattr(self.epidemic, field))
        if self.city.communities:
            districts = {c.district for c in self.city.communities}
            named = {d.name for d in self.city.districts}
            if named and not districts <= named:
                bad = sorted(districts - named)[0]
                raise ValueError(f"city.communities: district {bad!r} is not in city.districts")
            nodes = {n.id for n in self.network.nodes}
            if not nodes:
                raise ValueError("city.communities: explicit communities need explicit network.nodes")
            for i, c in enumerate(self.city.communities):
                for o in c.outlets + ([c.front_warehouse] if c.front_warehouse else []):
                    if o not in nodes:
                        raise ValueError(f"city.communities[{i}].outlets: no node named {o!r}")
        return self

    def with_(self, changes: dict | None = None, /, **fields) -> "Scenario":
        """A validated copy with dotted fields set: ``sc.with_({"city.population": 1e6})`` or
        ``sc.with_(city__population=1e6)`` (see :func:`twin.scenario.edit.edit`)."""
        from twin.scenario.edit import edit
        return edit(self, changes, **fields)


def _check_unique(values: list[str], field: str, key: str) -> None:
    seen: set[str] = set()
    for i, v in enumerate(values):
        if v in seen:
            raise ValueError(f"{field}[{i}].{key}: duplicate {key} {v!r}")
        seen.add(v)
