"""Every check a run makes before it simulates, in one place: ``twin run`` and ``twin validate`` share it.

A scenario that passes the schema can still not run: a shock or lockdown naming a node or a
district the network does not have, links that form a cycle, a city too big for the machine.
:func:`preflight` finds all of these (one-line :class:`ScenarioError`) without simulating.

Size limits keep a run within the machine the project is tested on (2 cores, 24 GiB): memory
grows with the compounds and nodes recorded every day. The 25-million baseline city (9,999
compounds and 7,086 nodes) for 60 days records about 1 million compound- and node-days with a
peak of 0.63 GiB (measured: `/usr/bin/time -f %M twin run scenarios/baseline.toml`); the limit
allows ten times that, a few GiB.
"""

from __future__ import annotations

from twin.scenario.loading import ScenarioError, validate
from twin.scenario.schema import Run, Scenario

__all__ = ["MACHINE", "MAX_COMPOUNDS", "MAX_NODES", "MAX_ENTITY_DAYS", "check_days_seed", "estimated_size", "preflight"]

MACHINE = "2 cores, 24 GiB"
MAX_COMPOUNDS = 200_000
MAX_NODES = 200_000
MAX_ENTITY_DAYS = 10_000_000


def estimated_size(sc: Scenario) -> tuple[int, int]:
    """(compounds, nodes) the scenario's city will have, counted before anything is built."""
    city, net = sc.city, sc.network
    if net.nodes:
        nodes = len(net.nodes)
    else:
        pop = sum(d.population for d in city.districts) if city.districts else city.population
        nd = len(city.districts) or city.n_districts
        per_resident = (net.supermarkets_per_10k / 1e4 + net.wet_markets_per_10k / 1e4
                        + net.front_warehouses_per_100k / 1e5 + net.community_supply_points_per_10k / 1e4)
        nodes = int(pop * per_resident) + 6 * nd + net.n_sorting_centres + net.n_transit_warehouses \
            + net.n_wholesale_markets + net.transfer_stations + net.n_suburban_bases + net.n_out_of_province_bases
    if city.communities:
        compounds = len(city.communities)
    else:
        pop = sum(d.population for d in city.districts) if city.districts else city.population
        compounds = int(pop / city.mean_compound_size) + (len(city.districts) or city.n_districts)
    return compounds, nodes


def check_size(sc: Scenario, days: int, source: str) -> None:
    """A city too big for the machine is refused before it is built."""
    compounds, nodes = estimated_size(sc)
    where = "city.communities" if sc.city.communities else "city.population"
    if compounds > MAX_COMPOUNDS:
        raise ScenarioError(source, where, f"the city would have about {compounds:,} compounds; at most "
                                           f"{MAX_COMPOUNDS:,} fit a run on this machine ({MACHINE}): lower "
                                           "city.population or raise city.mean_compound_size")
    if nodes > MAX_NODES:
        raise ScenarioError(source, "network.nodes" if sc.network.nodes else "network",
                            f"the network would have about {nodes:,} nodes; at most {MAX_NODES:,} fit a run on "
                            f"this machine ({MACHINE}): lower the outlets per 10k residents or the population")
    if (compounds + nodes) * days > MAX_ENTITY_DAYS:
        raise ScenarioError(source, "run.days", f"{days} days of {compounds:,} compounds and {nodes:,} nodes "
                                                f"record {(compounds + nodes) * days:,} rows; at most "
                                                f"{MAX_ENTITY_DAYS:,} fit a run on this machine ({MACHINE}): "
                                                "run fewer days or a smaller city")


def check_days_seed(sc: Scenario, days: int | None, seed: int | None, source: str) -> None:
    """``--days`` and ``--seed`` obey the bounds of ``run.days`` and ``run.seed``."""
    data = sc.run.model_dump()
    given = {k: v for k, v in (("days", days), ("seed", seed)) if v is not None}
    if not given:
        return
    try:
        validate(Run, {**data, **given}, source)
    except ScenarioError as err:
        flag = err.field.split(".")[0]
        raise ScenarioError(source, f"--{flag} (run.{flag})" if flag in given else err.field, err.message) from None


def preflight(sc: Scenario, source: str = "<scenario>", days: int | None = None, seed: int | None = None):
    """Check that a validated scenario can run; return ``(network, shock plans, lockdown districts)``."""
    from twin.network import build_network
    from twin.processes.lockdowns import resolve_lockdowns
    from twin.processes.shocks import resolve_shocks
    from twin.scenario.safety_net import check_goods
    check_days_seed(sc, days, seed, source)
    check_size(sc, sc.run.days if days is None else days, source)
    if sc.network.nodes and not sc.network.links:
        raise ScenarioError(source, "network.links", f"the {len(sc.network.nodes)} explicit nodes have no links: "
                                                     "goods could never move; give [[network.links]]")
    net = build_network(sc, source)
    plans = resolve_shocks(sc, net, source)
    lock_districts = resolve_lockdowns(sc.lockdowns, net, source, sc.city.layout_seed)
    try:
        check_goods(sc.safety_net, net.categories)
    except ValueError as err:
        field, _, message = str(err).partition(": ")
        raise ScenarioError(source, field, message) from None
    return net, plans, lock_districts
