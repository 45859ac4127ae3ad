"""The safety net (兜底): special groups' requests through the hotline, served by dispatch teams.

Mesoscopic: requests travel in batches of identical requests (one compound, one group, one
channel, one call time), queues are arrays, and the desk works in one hourly tick; no request is
a SimPy process or event of its own. Every request has an id; a batch holds the consecutive ids
``first .. first + n - 1``, and when part of a batch moves on, it takes the lowest ids.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from twin.network.model import group_sum
from twin.policies.safety_net import LATER_H, crisis_rates, overflow, refill_credit, request_rates
from twin.policies.safety_net_fast import expired_batches, first_come, priority_keys, serve_in_order, spread_goods
from twin.pools import VOLUNTEERS
from twin.recording.tables import categorical, make_table
from twin.rng import stream
from twin.scenario.loading import ScenarioError
from twin.scenario.residents import CRISES, GROUPS
from twin.scenario.safety_net import check_goods
from twin.world import World

__all__ = ["CHANNELS", "OUTCOMES", "SafetyNetDesk", "TICK_OFFSET_H"]

#: the desk's hourly tick falls at hh:24, an instant no daily phase uses (see twin.sim)
TICK_OFFSET_H = 0.4
CHANNELS = ("hotline", "online")
OUTCOMES = ("served", "pending", "abandoned", "dropped")
SERVED, PENDING, ABANDONED, DROPPED = range(4)


#: a batch of identical requests: the ids first .. first + n - 1 of one compound, group and
#: channel, made at ``created`` and answered at ``answered`` (NaN while not)
BATCH = np.dtype([("first", "i8"), ("n", "i8"), ("comm", "i4"), ("group", "i2"), ("channel", "i1"),
                  ("created", "f8"), ("answered", "f8")])


#: a batch as raw bytes: numpy copies structured records field by field, raw ones 10-20x faster
#: (the same bytes): every move of whole batches below goes through :func:`_pick` and :func:`_join`
_RAW = np.dtype((np.void, BATCH.itemsize))


def _empty() -> np.ndarray:
    return np.zeros(0, BATCH)


def _pick(b: np.ndarray, which) -> np.ndarray:
    """``b[which]`` (a mask, indices or a slice) as a new array of batches."""
    return b.view(_RAW)[which].copy().view(BATCH) if isinstance(which, slice) else b.view(_RAW)[which].view(BATCH)


def _join(parts) -> np.ndarray:
    """The batches of ``parts`` one after the other (``np.concatenate``)."""
    return np.concatenate([_empty().view(_RAW), *(p.view(_RAW) for p in parts)]).view(BATCH)


def _front(b: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first ``k`` requests of each batch, and the rest (empty batches left out of both)."""
    head, rest = _pick(b, k > 0), _pick(b, b["n"] > k)
    head["n"] = k[k > 0]
    rest["first"] += k[b["n"] > k]
    rest["n"] -= k[b["n"] > k]
    return head, rest


def _head(b: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_front` when ``k`` takes whole batches from the start, then part of one, then none
    (the rest is a view of ``b``, changed in place)."""
    full = (k == b["n"]) & (k > 0)
    j = len(b) if full.all() else int(np.argmin(full))
    part = j < len(b) and k[j] > 0
    head, rest = _pick(b, slice(0, j + part)), b[j:]
    if part:
        head["n"][-1] = k[j]
        rest["first"][0] += k[j]
        rest["n"][0] -= k[j]
    return head, rest


def _back(b: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The last ``k`` requests of each batch, and the rest, row for row (empty ones kept)."""
    tail, rest = _pick(b, slice(None)), _pick(b, slice(None))
    tail["first"] += b["n"] - k
    tail["n"] = k
    rest["n"] -= k
    return _pick(tail, k > 0), rest


class SafetyNetDesk:
    """Hotline, online intake, dispatch queues and teams of one run; holds every request's record.

    Every hour (at hh:24), while ``world.mode_on("safety_net")``:

    1. requests are made: each day, a Poisson number per compound and group (members x uptake /
       days between requests), each batch at a random time between ``calls_from_h`` and
       ``calls_to_h``, by hotline or online (binomial split by the group's online share);
    2. intake, per channel: calls waiting longer than the channel's patience are abandoned; the
       hour's calls join the queue; up to the channel's capacity are answered, green channel
       first, then oldest; if more than the queue's room are left waiting, the newest of the
       hour's calls are dropped (busy line);
    3. dispatch, per district: answered requests waiting longer than their group's patience are
       abandoned; at the start of each of the teams' rounds, the district's teams (teams per 1M x
       the share of the district's volunteers at work) serve requests in the same order, within
       their drops and van kg per round, within the goods in stock (the district's reserve warehouses, then any reserve,
       then, after the households' shopping, the compound's front warehouse, each within its
       handling staff's capacity left today) and, under static management, within what the
       compound's volunteers can still carry to the doors (``door_by_volunteers``). A request
       whose goods are out of stock waits; it does not hold up the others.

    When the mode is off no request is made; requests already queued are still worked off.
    """

    def __init__(self, world: World, seed):
        self.world = world
        net, spec = world.net, world.sc.safety_net
        self.spec = spec
        try:
            check_goods(spec, net.categories)
        except ValueError as err:
            field, _, message = str(err).partition(": ")
            raise ScenarioError("<scenario>", field, message) from None
        self.rng = stream(seed, "safety_net")
        self._groups(spec, net)
        pop_m = float(net.population.sum()) / 1e6
        chans = (spec.hotline, spec.online)
        self.intake_per_tick = np.array([c.calls_per_hour_per_1m * pop_m for c in chans])
        self.queue_room = np.array([max(1.0, c.max_queue_per_1m * pop_m) for c in chans])
        self.intake_patience = np.array([[c.patience_h] * len(spec.groups) for c in chans])   # [channel, group]
        nd = len(net.districts)
        hours = np.arange(24) + TICK_OFFSET_H
        work = np.flatnonzero((hours >= spec.team_from_h) & (hours < spec.team_to_h))
        rounds = min(spec.team_rounds, len(work))
        self.round_ticks = set(work[(np.arange(rounds) * len(work)) // rounds].tolist())   # hours of day
        self.rounds = rounds
        self.teams = spec.teams_per_1m * group_sum(net.comm_district, net.population.astype(float), nd) / 1e6
        self.team_largest = np.array([self.effort.max(initial=0.0), self.kg.max(initial=0.0)])
        self._sources(net)
        # state
        self.future = _empty()                 # calls of the day not yet made, by the tick taking them
        self.future_tick = np.zeros(0, np.int64)
        self.intake = [_empty(), _empty()]     # per channel, waiting to be answered
        self.queue = _empty()                  # answered, waiting for a team, in serving order
        self.inbox: list[np.ndarray] = []      # answered since the last round, joining the queue at the next
        self.intake_credit = np.zeros(2)
        self.team_credit = np.zeros((nd, 2))
        self.generated_day = -1
        self.next_id = 0
        self.counts = {"created": 0, "served": 0, "abandoned": 0, "dropped": 0}
        self.resolved: list[tuple[np.ndarray, int, float]] = []
        self.now = 0.0

    def _groups(self, spec, net) -> None:
        groups = list(spec.groups.values())
        self.group_names = list(spec.groups)
        every = np.array([spec.prescription_days if g.every_days == "prescription" else g.every_days for g in groups])
        cats = list(net.categories)
        self.goods = np.zeros((len(groups), net.n_categories))   # kg per request [G, C]
        for i, g in enumerate(groups):
            for name, kg in g.goods_kg_per_day.items():
                if name in cats:   # default goods adapt to the scenario's categories
                    self.goods[i, cats.index(name)] = kg * every[i]
        self.kg = self.goods.sum(axis=1)
        self.used_cats = np.flatnonzero(self.goods.sum(axis=0) > 0)
        self.goods_used = self.goods[:, self.used_cats]   # [G, used categories]
        self.effort = np.array([g.team_effort for g in groups])
        self.load = np.stack([self.effort, self.kg], axis=1)   # of one request [S, 2]: team effort, kg
        self.green = np.array([g.green_channel for g in groups], dtype=bool)
        self.online_share = np.array([g.online_share for g in groups])
        self.patience = np.array([g.patience_h for g in groups])
        shares, of_elderly = np.array([g.share for g in groups]), np.array([g.of == "elderly" for g in groups])
        pop = net.population.astype(float)
        self.rate = request_rates(pop, net.elderly_share, shares, of_elderly, np.array([g.uptake for g in groups]), every)
        self.rate_max = request_rates(pop, net.elderly_share, shares, of_elderly, np.ones(len(groups)), every)
        # special groups living in one resident group: the elderly living alone; the others live in every group
        self.res_group = np.array([GROUPS.index(name) if name in GROUPS else -1 for name in self.group_names])
        self.crisis_gain = np.array([spec.crisis_uptake.get(c, 0.0) for c in CRISES])

    def _sources(self, net) -> None:
        """Where goods come from, in order: district reserves, any reserve, the compound's dark store."""
        from twin.sim import PHASE_HOURS   # the desk is built by the simulation, after twin.sim loaded

        self.reserves = net.nodes_of("reserve_warehouse")
        self.fws = np.unique(net.comm_fw[net.comm_fw >= 0])
        self.fw_after_h = PHASE_HOURS["households"]   # dark stores serve households first

    # -- the process ------------------------------------------------------------------------------
    def process(self, env):
        """The desk's SimPy process: one tick an hour, at hh:24."""
        yield env.timeout(TICK_OFFSET_H)
        while True:
            self.tick(float(env.now))
            yield env.timeout(1.0)

    def tick(self, now: float) -> None:
        """One hour of the desk at time ``now``: new requests, intake, dispatch."""
        self.now = now
        day = int(now // 24)
        hour = now - 24.0 * day
        if self.world.mode_on("safety_net"):
            if self.generated_day != day:
                self._make_requests(day, hour)
                self.generated_day = day
        else:
            keep = self.future_tick <= int(now)   # calls not yet made are never made
            self.future, self.future_tick = _pick(self.future, keep), self.future_tick[keep]
            self.generated_day = -1
            if not (len(self.future) or len(self.queue) or any(map(len, self.intake)) or any(map(len, self.inbox))):
                return   # nothing to do while the safety net is off and its queues are empty
        self.inbox.append(self._intake(now, self._arrivals(now)))
        self._dispatch(now, hour)

    def _make_requests(self, day: int, hour: float) -> None:
        """Today's requests (from ``hour`` on, if the mode came into force during the day)."""
        spec = self.spec
        lo, hi = max(spec.calls_from_h, hour), spec.calls_to_h
        if hi <= lo or not self.rate.size:
            return
        counts = self.rng.poisson(self._rates() * (hi - lo) / (hi - spec.calls_from_h))
        comm, group = np.nonzero(counts)
        n = counts[comm, group]
        online = self.rng.binomial(n, self.online_share[group])
        created = 24.0 * day + self.rng.uniform(lo, hi, len(n))
        b = np.zeros(2 * len(n), BATCH)
        b["n"] = np.concatenate([n - online, online])
        b["comm"], b["group"], b["created"] = np.tile(comm, 2), np.tile(group, 2), np.tile(created, 2)
        b["channel"] = np.repeat([0, 1], len(n))
        b["answered"] = np.nan
        b = _pick(b, b["n"] > 0)
        tick = np.ceil(b["created"] - TICK_OFFSET_H).astype(np.int64)   # the hour whose tick takes the call
        order = np.argsort((tick - 24 * day).astype(np.int16), kind="stable")   # radix sort
        self.future = _join([self.future, _pick(b, order)])
        self.future_tick = np.concatenate([self.future_tick, tick[order]])

    def _rates(self) -> np.ndarray:
        """Today's expected requests [K, special groups]: uptake rises with the crises the members'
        resident group is in (yesterday's, :func:`twin.policies.safety_net.crisis_rates`)."""
        w = self.world
        return crisis_rates(self.rate, self.rate_max, w.crisis, w.members, self.res_group, self.crisis_gain)

    def _arrivals(self, now: float) -> np.ndarray:
        """Calls made up to ``now``: they get their ids and count as created."""
        k = int(np.searchsorted(self.future_tick, int(now), side="right"))
        new, self.future, self.future_tick = _pick(self.future, slice(0, k)), self.future[k:], self.future_tick[k:]
        total = int(new["n"].sum())
        new["first"] = self.next_id + np.cumsum(new["n"]) - new["n"]
        self.next_id += total
        self.counts["created"] += total
        return new

    # -- intake -----------------------------------------------------------------------------------
    def _intake(self, now: float, arrivals: np.ndarray) -> np.ndarray:
        """Answer what each channel can this hour; return the answered requests."""
        answered = []
        for c in range(len(CHANNELS)):
            q = self._give_up(self.intake[c], now, self.intake_patience[c])
            q, at = self._merge(q, _pick(arrivals, arrivals["channel"] == c))
            self.intake_credit[c] = refill_credit(self.intake_credit[c], self.intake_per_tick[c], 1.0)
            if not len(q):
                self.intake[c] = q
                continue
            take = first_come(q["n"], self.intake_credit[c])
            self.intake_credit[c] -= take.sum()
            if q["n"].sum() - take.sum() > self.queue_room[c]:
                is_new = np.zeros(len(q), bool)
                is_new[at] = True
                dropped, q = _back(q, overflow(q["n"] - take, is_new, q["created"], self.queue_room[c]))
                self._resolve(dropped, DROPPED, now)
                took, rest = _head(q, take)
                took, rest = _pick(took, took["n"] > 0), _pick(rest, rest["n"] > 0)
            else:
                took, rest = _head(q, take)
            self.intake[c] = rest
            took["answered"] = now
            answered.append(took)
        return _join(answered)

    def _merge(self, q: np.ndarray, new: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Insert ``new`` into ``q`` kept in serving order (:func:`priority_key`: green channel
        first, then oldest call); also return where the new batches went."""
        if not len(new):
            return _pick(q, slice(None)), np.zeros(0, np.int64)
        key = self._key(new)
        order = np.argsort(key, kind="stable")
        idx = np.searchsorted(self._key(q), key[order], side="right")   # after equal keys: stable
        at = idx + np.arange(len(new))   # where the new batches go in the merged queue
        out = np.empty(len(q) + len(new), BATCH)
        old = np.ones(len(out), bool)
        old[at] = False
        raw = out.view(_RAW)
        raw[at] = new.view(_RAW)[order]
        raw[old] = q.view(_RAW)
        return out, at

    def _key(self, b: np.ndarray) -> np.ndarray:
        return priority_keys(b["created"], b["group"], self.green, LATER_H)

    def _give_up(self, q: np.ndarray, now: float, patience: np.ndarray) -> np.ndarray:
        """Batches that waited longer than their group's ``patience`` are abandoned; the others are returned."""
        gone = np.empty(len(q), bool)
        if not expired_batches(q["created"], q["group"], patience, now, gone):
            return q
        self._resolve(_pick(q, gone), ABANDONED, now)
        return _pick(q, ~gone)

    # -- dispatch ---------------------------------------------------------------------------------
    def _dispatch(self, now: float, hour: float) -> None:
        """Teams serve the queue at the start of their rounds; the impatient give up at any hour."""
        self.queue = self._give_up(self.queue, now, self.patience)
        self.inbox = [self._give_up(b, now, self.patience) for b in self.inbox]
        if int(hour) not in self.round_ticks:
            return
        q, _ = self._merge(self.queue, _join(self.inbox))
        self.queue, self.inbox = q, []
        if not len(q):
            return
        w, net = self.world, self.world.net
        # by district, then priority: the pools of teams and district reserves are contiguous
        district = net.comm_district[q["comm"]]
        by_district = np.argsort(district.astype(np.int16 if len(self.teams) < 2**15 else np.int64), kind="stable")
        # the columns needed, in that order (not the whole records)
        n, comm, group = q["n"][by_district], q["comm"][by_district], q["group"][by_district]
        district = district[by_district]
        position = np.empty(len(q), np.int64)   # where each batch of the queue went
        position[by_district] = np.arange(len(q))
        per_tick = self.teams[:, None] * self._team_strength()[:, None] * np.array(
            [self.spec.team_requests_per_day, self.spec.team_kg_per_day]) / self.rounds
        self.team_credit = refill_credit(self.team_credit, per_tick, self.team_largest)
        load = self.load   # of one request of each group [S, 2]: team effort, kg
        gate = self.spec.door_by_volunteers and bool(np.isfinite(w.gate_left[comm]).any())
        served = np.zeros(len(q), np.int64)
        has_goods = self.kg[group] > 0
        for tier in range(3):
            rows = np.flatnonzero((n > served) & (has_goods | (tier == 0)))
            if not len(rows) or (tier == 2 and hour < self.fw_after_h):
                continue
            if tier > 0:   # city-wide pools: back to priority order across districts (no sort: a permutation)
                mark = np.zeros(len(q), bool)
                mark[by_district[rows]] = True
                rows = position[np.flatnonzero(mark)]
            pool, nodes, node_pool, avail, cap = self._stock(tier, comm[rows], district[rows])
            ledgers = [(district[rows], load, self.team_credit), (pool, self.goods_used, cap[:, self.used_cats])]
            if gate:
                ledgers.append((comm[rows], load[:, 1:], w.gate_left[:, None]))
            s = serve_in_order((n - served)[rows], group[rows], ledgers)
            if not s.any():
                continue
            served[rows] += s
            got = s > 0   # only served rows: adding their zeros would change no sum
            rows, s, pool = rows[got], s[got], pool[got]
            used = group_sum(district[rows], s[:, None] * load[group[rows]], len(self.teams))
            self.team_credit = np.maximum(self.team_credit - used, 0.0)
            self._hand_over(s, comm[rows], self.goods_used[group[rows]], pool, nodes, node_pool, avail, cap,
                            self.res_group[group[rows]])
        in_order = np.empty_like(served)
        in_order[by_district] = served
        done, self.queue = _front(self.queue, in_order)
        self._resolve(done, SERVED, now)

    def _team_strength(self) -> np.ndarray:
        """Share of each district's volunteers at work (infection, quarantine): the teams' strength."""
        p, net = self.world.pools, self.world.net
        sel = p.role == VOLUNTEERS
        nd = len(net.districts)
        head = group_sum(p.district[sel], p.headcount[sel].astype(float), nd)
        active = group_sum(p.district[sel], np.minimum(p.active()[sel], p.headcount[sel]), nd)
        return np.where(head > 0, active / np.where(head > 0, head, 1.0), 1.0)

    def _stock(self, tier: int, comm: np.ndarray, district: np.ndarray):
        """Pool of each batch [B], source nodes, their pools, their available kg [len(nodes), C] and
        the pools' available kg [P, C], for source tier 0 (district reserves), 1 (any reserve) and
        2 (the compound's dark store). Available: open nodes' stock on offer, within what their
        handling staff (and a dark store's couriers) can still move today."""
        w, net = self.world, self.world.net
        if tier == 2:
            nodes = self.fws
            limit = np.minimum(w.handling_left()[nodes], np.maximum(w.courier_kg()[nodes] - w.day_courier_out[nodes], 0.0))
            node_pool, n_pools = nodes, net.n_nodes + 1
            fw = net.comm_fw[comm]
            pool = np.where(fw >= 0, fw, net.n_nodes)
        else:
            nodes = self.reserves if tier == 1 else self.reserves[net.node_district[self.reserves] >= 0]
            limit = w.handling_left()[nodes]
            if tier == 0:
                node_pool, n_pools, pool = net.node_district[nodes], len(net.districts), district
            else:
                node_pool, n_pools, pool = np.zeros(len(nodes), np.int64), 1, np.zeros(len(comm), np.int64)
        held = w.offered()[nodes] * ~w.shut[nodes, None]
        total = held.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            avail = held * np.where(total > limit, limit / np.where(total > 0, total, 1.0), 1.0)[:, None]
        return pool, nodes, node_pool, avail, group_sum(node_pool, avail, n_pools)

    def _hand_over(self, s, comm, goods, pool, nodes, node_pool, avail, cap, res_group) -> None:
        """Take the served goods from the pools' nodes (in proportion to what each has available)
        and give them to the compounds: to the resident group ``res_group`` [B] the request came
        from, or per head over the compound's groups (-1)."""
        w, net = self.world, self.world.net
        cats = self.used_cats
        kg = s[:, None] * goods   # goods: of the used categories
        if kg.sum() <= 0:
            return
        used = group_sum(pool, kg, cap.shape[0])
        held = cap[node_pool][:, cats]
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(held > 0, avail[:, cats] / np.where(held > 0, held, 1.0), 0.0)
        taken = np.zeros(avail.shape)
        taken[:, cats] = used[node_pool] * share
        k, g = net.n_communities, len(GROUPS)
        one = res_group >= 0
        spread = group_sum(comm[~one], kg[~one], k)
        one_kg = (group_sum(comm[one] * g + res_group[one], kg[one], k * g) if one.any()
                  else np.zeros((0, len(cats))))
        to, got, spent, total = spread_goods(spread, one_kg, w.members, cats, net.price_per_kg,
                                             float(self.spec.price_index), net.n_categories)
        w.hand_over(nodes, taken, got, "safety_net", pushed=True, spent_cny=spent, rows=to)
        if nodes is self.fws:          # a dark store's couriers take the drops to the doors
            w.day_courier_out[nodes] += taken.sum(axis=1)
        if self.spec.door_by_volunteers:
            w.gate_left = np.maximum(w.gate_left - total, 0.0)

    # -- records ----------------------------------------------------------------------------------
    def _resolve(self, b: np.ndarray, outcome: int, now: float) -> None:
        if len(b):
            self.resolved.append((b, outcome, now))
            self.counts[OUTCOMES[outcome]] += int(b["n"].sum())

    def _pending(self) -> np.ndarray:
        return _join([*self.intake, self.queue, *self.inbox])

    def daily_counts(self) -> dict[str, int]:
        """Cumulative request counts for the city table: created = served + pending + abandoned + dropped."""
        c = self.counts
        return {"requests_created": c["created"], "requests_served": c["served"],
                "requests_pending": int(self._pending()["n"].sum()), "requests_abandoned": c["abandoned"],
                "requests_dropped": c["dropped"]}

    def table(self, meta: dict) -> pa.Table:
        """``requests.parquet``: one row per batch of identical requests with one fate, by request id."""
        parts = [b for b, _, _ in self.resolved] + [self._pending()]
        sizes = [len(p) for p in parts]
        order = np.argsort(np.concatenate([_empty()["first"], *(p["first"] for p in parts)]))   # ids are unique

        def column(name: str) -> np.ndarray:   # one column at a time: no copy of the whole records
            return np.concatenate([_empty()[name], *(p[name] for p in parts)])[order]

        outcome = np.repeat(np.array([o for _, o, _ in self.resolved] + [PENDING], np.int8), sizes)[order]
        served = outcome == SERVED
        at = np.repeat(np.array([t for _, _, t in self.resolved] + [self.now]), sizes)[order]
        net = self.world.net
        cols: dict[str, object] = {"request_id": column("first")}
        n = column("n")
        cols["n_requests"] = n.astype(np.int32)
        comm = column("comm")
        cols["community_id"] = categorical(comm, net.community_ids)
        cols["district"] = categorical(net.comm_district[comm], net.districts)
        del comm
        group = column("group")
        cols["group"] = categorical(group, self.group_names)
        cols["channel"] = categorical(column("channel"), CHANNELS)
        created = column("created")
        cols["created_h"] = created
        cols["answered_h"] = column("answered")
        cols["served_h"] = np.where(served, at, np.nan)
        at -= created
        cols["wait_h"] = at
        del at, created
        cols["outcome"] = categorical(outcome, OUTCOMES)
        cols["delivered_kg"] = np.where(served, n * self.kg[group], 0.0)
        return make_table(cols, meta)
