"""Workers: infection, detection, quarantine, confinement, and the closures detected cases cause."""

from __future__ import annotations

import numpy as np

from twin.network.model import KIND_CODE
from twin.policies.epidemic import (contacts_quarantined, daily_prob, detection_prob, entry_quarantine_factor,
                                    infection_prob, pool_incidence, scenario_district_incidence)
from twin.pools import DRIVERS, VOLUNTEERS
from twin.rng import stream
from twin.scenario.response import ROLES
from twin.world import World

__all__ = ["workforce"]


def workforce(env, world: World, hour: float, seed):
    """Every day at ``hour``, before anything moves, update every worker pool.

    1. quarantine cohorts that have served ``quarantine_days`` come back (infected ones recovered);
    2. susceptible workers are infected by the pressure where they live (their district's incidence
       with a district series, else the city's; ``twin.policies.epidemic.pool_incidence``; less inside a bubble) and by
       infectious co-workers at work; exposed become infectious after ``latent_days`` on average;
    3. infectious workers are detected (symptoms or routine tests) and quarantined with their
       close contacts (the whole dormitory where a role shares one); others recover;
    4. a node where a case was detected closes for ``closure_days_on_case`` unless it runs a bubble
       or works in shifts and disinfects between them (``shifts.disinfect_between_shifts``): then
       only the case's crew is out (quarantined with its close contacts, who are its crew-mates:
       every crew is a pool of its own) and the other crews keep working;
    5. confinement: workers living in districts under static lockdown stay home unless they hold
       passes; confinement shocks add to it; while any district is locked down, cross-region
       drivers who enter the city lose time to entry quarantine; then capacities are recomputed.
    """
    epi, pools, net = world.epi, world.pools, world.net
    crews = pools.node >= 0
    kind = np.where(crews, net.kind[np.maximum(pools.node, 0)], -1)
    rng = KindStreams(seed, kind)
    shared = np.isin(pools.role, [ROLES.index(r) for r in epi.shared_dormitory_roles])
    per_case = np.where(shared, epi.dormitory_cluster_size, epi.contacts_per_case)
    p_detect = detection_prob(epi.symptom_detect_per_day, epi.routine_test_interval_days, epi.test_sensitivity,
                              epi.test_delay_days)
    entry_factor = _entry_factor(world)
    crew_size = np.zeros(net.n_nodes)
    np.add.at(crew_size, pools.node[crews], pools.headcount[crews])
    supply_worker = crews  # passes exempt supply workers, not volunteers (who work inside their compound)
    d_pop = np.bincount(net.comm_district, weights=net.population, minlength=len(net.districts))
    by_district = scenario_district_incidence(epi, net.districts, d_pop)
    scale = epi.ascertainment * epi.pressure_scale / 1e5
    if epi.initial_infected_share > 0:
        seeded = rng.binomial(pools.S, epi.initial_infected_share)
        pools.S -= seeded
        pools.I += seeded
    closed_until = np.zeros(net.n_nodes)
    # nodes working in shifts disinfect between shifts: a case takes out its crew, not the node
    split_crews = (world.n_crews > 1) & world.sc.shifts.disinfect_between_shifts
    yield env.timeout(hour)
    while True:
        day = int(env.now // 24)
        pressure = pool_incidence(day, epi, by_district, pools.district, d_pop) * scale
        bubble_kinds = world.policy_value("bubble_kinds", epi.bubble_kinds)
        bubble = crews & np.isin(kind, [KIND_CODE[k] for k in bubble_kinds])
        exposure = np.where(bubble, epi.bubble_exposure, 1.0)
        closable = net.is_kind(*epi.close_on_case_kinds) & ~net.is_kind(*bubble_kinds) & ~split_crews
        _release(pools, day)
        _infect(pools, rng, pressure * exposure, epi)
        detected = _detect(pools, rng, p_detect, per_case, epi, day)
        cases = np.bincount(pools.node[crews], weights=detected[crews], minlength=net.n_nodes)
        hit = np.flatnonzero(closable & (cases > 0) & (cases >= epi.closure_case_share * crew_size))
        closed_until[hit] = np.maximum(closed_until[hit], day + epi.closure_days_on_case)
        world.set_closed("case", closed_until > day, "case_detected")
        lock = _static_share(world)
        passes = np.where(supply_worker, world.policy_value("pass_share", epi.pass_share), 1.0)
        pools.confined_share = 1.0 - (1.0 - lock * (1.0 - passes)) * (1.0 - world.shock_confined)
        partners = np.where((pools.role == DRIVERS) & crews, world.response[np.maximum(pools.node, 0)], 0.0)
        pools.extra = (world.reinforce + partners) * pools.headcount
        pools.available = np.where(bubble, 1.0 - epi.bubble_capacity_loss, 1.0) * (entry_factor if (world.district_level > 0).any() else 1.0)
        world.refresh_workforce()
        world.reset_gate()
        yield env.timeout(24.0)


class KindStreams:
    """Binomial draws for the pools, one random stream per node kind (and one for volunteers), so a
    lever that adds nodes of a kind (transfer stations) leaves every other pool's draws unchanged.

    >>> a = KindStreams(1, np.array([0, 0, 3]))
    >>> b = KindStreams(1, np.array([0, 5, 0, 3]))          # a pool of a new kind in between
    >>> x, y = a.binomial(np.array([50, 50, 50]), 0.5), b.binomial(np.array([50, 9, 50, 50]), 0.5)
    >>> bool((x == y[[0, 2, 3]]).all())
    True
    """

    def __init__(self, seed, kind: np.ndarray):
        self.groups = [(np.flatnonzero(kind == k), stream(seed, "workforce" if k < 0 else f"workforce/{int(k)}"))
                       for k in np.unique(kind)]

    def binomial(self, n: np.ndarray, p) -> np.ndarray:
        """Draws for pools of ``n`` workers with chance ``p``. Pools with no one (``n`` 0) or no chance
        (``p`` 0) are not drawn: numpy gives them 0 without using the stream, so leaving them out
        leaves every other pool's draw as it was."""
        out = np.zeros(len(n), dtype=np.int64)
        p = np.broadcast_to(np.asarray(p, dtype=float), np.shape(n))
        live = (n != 0) & (p != 0)
        for idx, rng in self.groups:
            sel = idx[live[idx]]
            if len(sel):
                out[sel] = rng.binomial(n[sel], p[sel])
        return out


def _release(pools, day: int) -> None:
    slot = day % pools.Qi.shape[0]
    pools.R += pools.Qi[slot]
    pools.S += pools.Qs[slot]
    pools.Qi[slot] = 0
    pools.Qs[slot] = 0


def _infect(pools, rng, community_pressure: np.ndarray, epi) -> None:
    at_work = 1.0 - pools.confined_share
    p_inf = infection_prob(community_pressure, np.ones(len(pools)), epi.work_beta,
                           pools.I * at_work, pools.free * at_work)
    new_e = rng.binomial(pools.S, p_inf)
    new_i = rng.binomial(pools.E, daily_prob(1.0 / epi.latent_days))
    pools.S -= new_e
    pools.E += new_e - new_i
    pools.I += new_i
    pools.new_infected = new_e


def _detect(pools, rng, p_detect: float, per_case: np.ndarray, epi, day: int) -> np.ndarray:
    slot = day % pools.Qi.shape[0]
    detected = rng.binomial(pools.I, p_detect)
    pools.I -= detected
    recovered = rng.binomial(pools.I, daily_prob(1.0 / epi.infectious_days))
    pools.I -= recovered
    pools.R += recovered
    contacts = contacts_quarantined(detected, pools.S, per_case)
    pools.S -= contacts
    pools.Qi[slot] += detected
    pools.Qs[slot] += contacts
    pools.new_detected = detected
    return detected


def _static_share(world: World) -> np.ndarray:
    """Share of each pool's workers living under static lockdown.

    Crews of a district's nodes live in that district, in its compounds: the district's
    population share under static management (a whole-district lockdown: all; a grid lockdown of
    a few compounds: their share); crews of city-wide nodes (hubs, transfer stations, suburban
    bases) live anywhere in the city (the city's share); crews of ``epidemic.outside_city_kinds``
    (out-of-province bases and their long-haul drivers) live outside the city and are never
    confined by its lockdowns. Volunteers work inside their own compound.
    """
    p, net = world.pools, world.net
    nd = len(net.districts)
    pop = np.bincount(net.comm_district, weights=net.population, minlength=nd)
    locked = np.bincount(net.comm_district, weights=net.population * (world.comm_level == 2), minlength=nd)
    static = np.where(pop > 0, locked / np.where(pop > 0, pop, 1.0), (world.district_level == 2).astype(float))
    city = float(locked.sum() / pop.sum()) if pop.sum() > 0 else 0.0
    share = np.where(p.district >= 0, static[np.maximum(p.district, 0)], city)
    outside = net.is_kind(*world.epi.outside_city_kinds)[np.maximum(p.node, 0)] & (p.node >= 0)
    return np.where((p.role == VOLUNTEERS) | outside, 0.0, share)


def _entry_factor(world: World) -> np.ndarray:
    """Cross-region drivers who enter the city lose time to entry quarantine; those who hand over
    at a transfer station do not."""
    p, net, epi = world.pools, world.net, world.epi
    factor = np.ones(len(p))
    if epi.entry_quarantine_days <= 0:
        return factor
    stations = net.is_kind("transfer_station")
    enters = np.zeros(net.n_nodes, dtype=bool)
    direct = ~stations[net.link_dst]
    enters[net.link_src[direct]] = True
    regional = (p.role == DRIVERS) & (p.node >= 0)
    regional &= net.is_kind("out_of_province_base")[np.maximum(p.node, 0)] & enters[np.maximum(p.node, 0)]
    factor[regional] = entry_quarantine_factor(epi.regional_trip_days, epi.entry_quarantine_days)
    return factor
