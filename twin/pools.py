"""Worker pools: the crew of each role at each node, and each compound's volunteers.

A pool's workers are counted in compartments: susceptible ``S``, exposed ``E``, infectious at
large ``I``, quarantined (infected ``Qi``, contacts ``Qs``, held in cohorts released after
``quarantine_days``) and recovered ``R``. Reinforcements (``extra``) are counted apart: they
live in closed-loop camps and are assumed not to catch infection. Unlimited crews (headcount
``inf`` in hand-written networks) are not pools: their capacity stays unlimited.
"""

from __future__ import annotations

import math

import numpy as np

from twin.jit import kernel
from twin.network.model import Network
from twin.scenario.response import ROLES

__all__ = ["Pools", "build_pools"]

STAFF, DRIVERS, COURIERS, VOLUNTEERS = range(4)


class Pools:
    """Compartment arrays over P pools (node crews, then compound volunteers)."""

    def __init__(self, node: np.ndarray, comm: np.ndarray, role: np.ndarray, district: np.ndarray,
                 headcount: np.ndarray, quarantine_days: float, crew: np.ndarray | None = None):
        self.node, self.comm, self.role, self.district = node, comm, role, district
        #: the shift a pool's crew works (0 where a node works in one crew): crews are the unit of contact
        self.crew = np.zeros(len(headcount), dtype=np.int64) if crew is None else crew.astype(np.int64)
        self.headcount = headcount.astype(np.int64)
        p = len(headcount)
        self.S = self.headcount.copy()
        self.E = np.zeros(p, dtype=np.int64)
        self.I = np.zeros(p, dtype=np.int64)
        self.R = np.zeros(p, dtype=np.int64)
        slots = max(1, int(math.ceil(quarantine_days)))
        self.Qi = np.zeros((slots, p), dtype=np.int64)   # cohorts by day of entry (ring buffer)
        self.Qs = np.zeros((slots, p), dtype=np.int64)
        self.extra = np.zeros(p)                          # reinforcements at work
        self.confined_share = np.zeros(p)
        self.available = np.ones(p)                       # bubble and entry-quarantine losses
        self.new_infected = np.zeros(p, dtype=np.int64)
        self.new_detected = np.zeros(p, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.headcount)

    @property
    def quarantined(self) -> np.ndarray:
        return self.Qi.sum(axis=0) + self.Qs.sum(axis=0)

    @property
    def free(self) -> np.ndarray:
        """Workers not in quarantine (they may still be confined)."""
        return self.S + self.E + self.I + self.R

    def confined(self) -> np.ndarray:
        return self.free * self.confined_share

    def active(self) -> np.ndarray:
        """Workers at work: free and not confined, less capacity lost, plus reinforcements:
        ``(free * (1 - confined_share) + extra) * available``, in one compiled pass."""
        parts = (self.S, self.E, self.I, self.R, self.confined_share, self.extra, self.available)
        if all(a.ndim == 1 for a in parts) and all(a.dtype == np.int64 for a in parts[:4]) \
                and all(a.dtype == float for a in parts[4:]):
            return _active(*parts)
        return (self.free * (1.0 - self.confined_share) + self.extra) * self.available

    def per_node(self, role: int, n_nodes: int, base: np.ndarray) -> np.ndarray:
        """Active workers of ``role`` per node; nodes without a pool keep ``base`` (e.g. unlimited)."""
        sel = self.role == role
        out = base.astype(float).copy()
        nodes = self.node[sel]
        # a node's pools summed in order from 0, as np.add.at on a zeroed entry would
        out[nodes] = np.bincount(nodes, weights=self.active()[sel], minlength=n_nodes)[nodes]
        return out

    def per_crew(self, role: int, nodes: np.ndarray, n_crews: int) -> np.ndarray:
        """Share [len(nodes), n_crews] of each node's active workers of ``role`` in each crew (equal
        shares where a node has no such pool or nobody at work)."""
        slot = np.full(max(int(self.node.max(initial=-1)), int(np.max(nodes, initial=-1))) + 2, -1)
        slot[nodes] = np.arange(len(nodes))
        sel = (self.role == role) & (self.node >= 0)
        row = slot[self.node[sel]]
        keep = row >= 0
        cell = row[keep] * n_crews + np.minimum(self.crew[sel][keep], n_crews - 1)   # (node, crew), summed in order
        out = np.bincount(cell, weights=self.active()[sel][keep], minlength=len(nodes) * n_crews).reshape(len(nodes), n_crews)
        total = out.sum(axis=1, keepdims=True)
        return np.where(total > 0, out / np.where(total > 0, total, 1.0), 1.0 / n_crews)


def build_pools(net: Network, volunteers_per_1000: float, quarantine_days: float,
                crews: np.ndarray | None = None) -> Pools:
    """One pool per finite, non-empty crew of each node role, and one volunteer pool per compound.

    ``crews`` [N]: the shifts each node works (1 where unset); a node working in ``s`` shifts has
    ``s`` crews of each role, its headcount split as evenly as whole workers allow (the first
    crews take the remainder), each crew a pool of its own.
    """
    node, comm, role, district, head, crew = [], [], [], [], [], []
    n_crews = np.ones(net.n_nodes, dtype=np.int64) if crews is None else np.maximum(np.asarray(crews, np.int64), 1)
    for r, counts in ((STAFF, net.staff), (DRIVERS, net.drivers), (COURIERS, net.couriers)):
        sel = np.flatnonzero(np.isfinite(counts) & (counts > 0))
        whole = np.rint(counts[sel]).astype(np.int64)
        s = n_crews[sel]
        rows = np.repeat(np.arange(len(sel)), s)
        k = np.arange(len(rows)) - np.repeat(np.cumsum(s) - s, s)       # crew index within its node
        part = whole[rows] // s[rows] + (k < whole[rows] % s[rows])
        node.append(sel[rows])
        comm.append(np.full(len(rows), -1))
        role.append(np.full(len(rows), r))
        district.append(net.node_district[sel][rows])
        head.append(part.astype(float))
        crew.append(k)
    vol = np.rint(net.population * volunteers_per_1000 / 1000.0)
    k = np.arange(net.n_communities)
    node.append(np.full(len(k), -1))
    comm.append(k)
    role.append(np.full(len(k), VOLUNTEERS))
    district.append(net.comm_district)
    head.append(vol)
    crew.append(np.zeros(len(k), dtype=np.int64))
    cat = np.concatenate
    return Pools(cat(node).astype(np.int64), cat(comm).astype(np.int64), cat(role).astype(np.int8),
                 cat(district).astype(np.int64), cat(head), quarantine_days, cat(crew))


ROLE_NAMES = ROLES


@kernel
def _active(s, e, i, r, confined_share, extra, available):   # pragma: no cover (compiled)
    """:meth:`Pools.active` of int64 counts: the free count made a float, as numpy's product does."""
    out = np.empty(len(s))
    for k in range(len(s)):
        free = float(s[k] + e[k] + i[k] + r[k])
        out[k] = (free * (1.0 - confined_share[k]) + extra[k]) * available[k]
    return out
