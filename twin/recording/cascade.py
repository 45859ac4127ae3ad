"""Cascade failure of one day: failed nodes by tier, and how far failure travelled along the network.

A node has *failed* when it is closed or starved; a compound when its residents ate less than
:data:`FAILED_FILL` of their need. A failure *follows* a supplier's when the customer is starved
(a closure is a cause of its own, never a consequence), its supplier (a link into it; for a compound,
an outlet it shops at or its front warehouse) has failed too, and the customer's failure began on
or after the supplier's. The *cascade depth* is the number of links in the longest chain of
failures each following the one before; two failures that do not follow each other have depth 0.
"""

from __future__ import annotations

import numpy as np

from twin.jit import kernel

__all__ = ["FAILED_FILL", "CascadeState", "cascade_depth", "chain_depths", "failed_by_tier"]

#: a compound has failed on a day when it eats less than this share of its need (assumption)
FAILED_FILL = 0.95


def failed_by_tier(tier: np.ndarray, failed: np.ndarray, n_tiers: int) -> np.ndarray:
    """Count failed (closed or starved) nodes per tier.

    >>> failed_by_tier(np.array([0, 3, 3, 4]), np.array([False, True, True, True]), 5).tolist()
    [0, 0, 0, 2, 1]
    """
    return np.bincount(tier[failed].astype(np.int64), minlength=n_tiers)[:n_tiers]


def chain_depths(failed: np.ndarray, follows: np.ndarray, onset: np.ndarray, src: np.ndarray, dst: np.ndarray,
                 tier: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Depth of every node's failure chain and the tiers the chain passes through.

    ``failed`` [N], ``follows`` [N] (may fail because a supplier did: starved, not closed), ``onset``
    [N] day the current failure began, ``src -> dst`` the links, ``tier`` [N]. Returns ``depth`` [N]
    (-1 not failed, 0 a failure of its own, ``d`` the end of a chain of ``d`` links) and ``tiers``
    [N], a bit mask of the tiers of every failed node on its longest chains (its own tier included).

    >>> tier = np.array([2, 3, 4, 3, 4])                       # hub -> sorting centre -> outlet; two others
    >>> src, dst = np.array([0, 1, 0, 3]), np.array([1, 2, 3, 4])
    >>> failed = np.array([True, True, True, False, True])
    >>> follows = np.array([False, True, True, True, True])  # the hub closed; the rest starved
    >>> depth, tiers = chain_depths(failed, follows, np.zeros(5), src, dst, tier)
    >>> depth.tolist(), tiers.tolist()                        # outlet 4 failed on its own: its supplier is fine
    ([0, 1, 2, -1, 0], [4, 12, 28, 0, 16])
    """
    depth = np.where(failed, 0, -1).astype(np.int64)
    tiers = np.where(failed, np.left_shift(1, tier.astype(np.int64)), 0).astype(np.int64)
    ok = _following(failed, follows, onset, src, dst)
    s_all, d_all = src[ok], dst[ok]
    for k in np.unique(tier[s_all]) if len(s_all) else ():
        for _ in range(2):                                   # links within a tier (hub -> reserve)
            sel = tier[s_all] == k
            s, d = s_all[sel], d_all[sel]
            np.maximum.at(depth, d, depth[s] + 1)
            np.bitwise_or.at(tiers, d, tiers[s])
    return depth, tiers


def _following(failed: np.ndarray, follows: np.ndarray, onset: np.ndarray, src: np.ndarray,
               dst: np.ndarray) -> np.ndarray:
    """Links ``src -> dst`` along which a failure follows its supplier's (bool [L]):
    ``failed[src] & failed[dst] & follows[dst] & (onset[dst] >= onset[src])``, in one compiled pass
    for the recorder's arrays (the expression itself for others)."""
    if failed.dtype == np.bool_ and follows.dtype == np.bool_ and onset.dtype == np.float64 \
            and src.dtype.kind == "i" and dst.dtype.kind == "i":
        return _following_links(failed, follows, onset, src, dst)
    return failed[src] & failed[dst] & follows[dst] & (onset[dst] >= onset[src])


@kernel
def _following_links(failed, follows, onset, src, dst):   # pragma: no cover (compiled)
    """:func:`_following` of bool ``failed``, ``follows``, float ``onset`` and integer links."""
    ok = np.zeros(len(src), dtype=np.bool_)
    for link in range(len(src)):
        a, b = src[link], dst[link]
        ok[link] = failed[a] and failed[b] and follows[b] and onset[b] >= onset[a]
    return ok


def cascade_depth(failed_per_tier: np.ndarray) -> int:
    """Layers with a failure below the first (the old count; kept for reading old runs).

    >>> cascade_depth(np.array([0, 0, 0, 2, 1, 7]))
    2
    """
    hit = np.flatnonzero(np.asarray(failed_per_tier) > 0)
    return int(len(hit) - 1) if len(hit) else 0


class CascadeState:
    """Failure onsets carried from day to day and the day's cascade along the network.

    ``day(...)`` returns the cascade depth (longest chain of failures, compounds included) and, per
    node tier, the share of compounds cut off through it: failed, with a failed supplier whose chain
    passes through a failed node of that tier.
    """

    def __init__(self, src: np.ndarray, dst: np.ndarray, tier: np.ndarray, n_tiers: int,
                 edge_comm: np.ndarray, edge_outlet: np.ndarray, comm_fw: np.ndarray, n_communities: int):
        self.src, self.dst, self.tier, self.n_tiers = src, dst, tier, n_tiers
        has_fw = comm_fw >= 0
        #: compound <- supplier pairs: the outlets it shops at and its front warehouse
        self.c_comm = np.concatenate([edge_comm, np.flatnonzero(has_fw)]).astype(np.int64)
        self.c_node = np.concatenate([edge_outlet, comm_fw[has_fw]]).astype(np.int64)
        self.n_comm = n_communities
        self.node_onset = np.full(len(tier), np.inf)
        self.comm_onset = np.full(n_communities, np.inf)

    def day(self, day: int, failed: np.ndarray, starved: np.ndarray, comm_failed: np.ndarray) -> tuple[int, np.ndarray]:
        """Update onsets with today's failures; return ``(depth, cut_off_share [n_tiers])``."""
        self.node_onset = np.where(failed, np.minimum(self.node_onset, day), np.inf)
        self.comm_onset = np.where(comm_failed, np.minimum(self.comm_onset, day), np.inf)
        depth, tiers = chain_depths(failed, starved, self.node_onset, self.src, self.dst, self.tier)
        c_longest, through = _through(failed, comm_failed, self.comm_onset, self.node_onset, self.c_node, self.c_comm,
                                      depth, tiers, self.n_comm, self.n_tiers)
        longest = max(int(depth.max(initial=-1)), c_longest, 0)
        return longest, through / max(self.n_comm, 1)


def _through_reference(failed, comm_failed, comm_onset, node_onset, n, k, depth, tiers, n_comm, n_tiers):
    """The compounds' side of :meth:`CascadeState.day` in numpy (the reference of :func:`_through`):
    the longest chain ending at a compound (-1: none) and how many compounds each tier cut off."""
    ok = failed[n] & comm_failed[k] & (comm_onset[k] >= node_onset[n])
    c_depth = np.full(n_comm, -1, dtype=np.int64)
    c_tiers = np.zeros(n_comm, dtype=np.int64)
    np.maximum.at(c_depth, k[ok], depth[n[ok]] + 1)
    np.bitwise_or.at(c_tiers, k[ok], tiers[n[ok]])
    through = np.array([(np.bitwise_and(c_tiers, 1 << t) > 0).sum() for t in range(n_tiers)], dtype=float)
    return int(c_depth.max(initial=-1)), through


@kernel
def _through(failed, comm_failed, comm_onset, node_onset, n, k, depth, tiers, n_comm, n_tiers):   # pragma: no cover (compiled)
    """:func:`_through_reference` in one pass over the compound <- supplier pairs."""
    c_depth = np.full(n_comm, -1, dtype=np.int64)
    c_tiers = np.zeros(n_comm, dtype=np.int64)
    for p in range(len(n)):
        a, b = n[p], k[p]
        if failed[a] and comm_failed[b] and comm_onset[b] >= node_onset[a]:
            c_depth[b] = max(c_depth[b], depth[a] + 1)
            c_tiers[b] |= tiers[a]
    through = np.zeros(n_tiers)
    longest = -1
    for b in range(n_comm):
        longest = max(longest, c_depth[b])
        for t in range(n_tiers):
            if (c_tiers[b] >> t) & 1:
                through[t] += 1.0
    return longest, through
