"""How many works of each category each expert rates: the most balanced loads that exist.

The draw first decides quotas on the aggregate category × expert network (11 categories ×
the pool, a few thousand arcs), then realizes them work by work
(:mod:`scoring.rules.assignment`). The quota problem is a transportation problem: category
``c`` must hand out ``demand[c]`` new ratings; expert ``e`` can take at most ``room[c, e]``
of them (the open works of ``c`` it may rate: expertise, no conflict, not already on the
work) and at most ``spare[e]`` in all (capacity). Among all feasible quota matrices we want
the one whose expert loads (kept + new) are *decreasingly minimal*: the largest load as small
as possible, then the next, and so on. For load vectors of a transportation problem (an
M-convex set) that is the same as the least sum of squared loads, and a load vector is
optimal exactly when no rating can be moved — directly, or through a chain of experts who
each pass one rating on in another category — from an expert to one with at least two
fewer (Frank & Murota, "Discrete decreasing minimization", Math. Programming 2022).

Feasibility is decided by a maximum flow (:func:`scipy.sparse.csgraph.maximum_flow`); the
min cut names the categories that cannot be served. Loads are then balanced by cycle
cancelling for the convex (squared) cost: each step finds, on the category graph, the
steepest improving chain and moves as many ratings along it as halve the gap.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import maximum_flow

__all__ = ["InfeasibleAssignment", "balanced_quotas"]


class InfeasibleAssignment(ValueError):
    """No assignment meets every constraint; nothing was assigned."""

    def __init__(self, category: str, needed: int, available: int, message: str):
        self.category, self.needed, self.available = category, needed, available
        super().__init__(message)


@dataclass
class _Network:
    demand: np.ndarray  # (C,)
    room: np.ndarray  # (C, E)
    load: np.ndarray  # (E,) current loads (kept + quota so far)
    cap: np.ndarray  # (E,) capacity of total load


def _max_flow(demand: np.ndarray, room: np.ndarray, spare: np.ndarray):
    """Maximum flow source -> category -> expert -> sink; returns (value, quotas, residual-reach)."""
    n_cat, n_exp = room.shape
    s, t = 0, 1 + n_cat + n_exp
    cats, exps = 1 + np.arange(n_cat), 1 + n_cat + np.arange(n_exp)
    ci, ei = np.nonzero(room)
    rows = np.concatenate([np.zeros(n_cat, int), cats[ci], exps])
    cols = np.concatenate([cats, exps[ei], np.full(n_exp, t)])
    caps = np.concatenate([demand, room[ci, ei], spare]).astype(np.int32)
    graph = sparse.csr_matrix((caps, (rows, cols)), shape=(t + 1, t + 1))
    result = maximum_flow(graph, s, t, method="dinic")
    flow = result.flow.tocsr()
    quotas = np.zeros_like(room)
    quotas[ci, ei] = np.asarray(flow[cats[ci], exps[ei]]).ravel()
    # residual reachability from the source, for the min cut
    residual = (graph - flow).tocsr()
    residual.data = np.maximum(residual.data, 0)
    residual.eliminate_zeros()
    reached = np.zeros(t + 1, bool)
    reached[s] = True
    queue = deque([s])
    while queue:
        u = queue.popleft()
        for v in residual.indices[residual.indptr[u]:residual.indptr[u + 1]]:
            if not reached[v]:
                reached[v] = True
                queue.append(v)
    return int(result.flow_value), quotas, reached[cats]


def _water_fill(net: _Network, rng: np.random.Generator) -> np.ndarray:
    """A good starting point: each category, scarcest first, raises its lowest loads evenly."""
    n_cat, _ = net.room.shape
    quotas = np.zeros_like(net.room)
    load = net.load.copy()
    pressure = net.demand / np.maximum(net.room.sum(axis=1), 1)
    for c in np.argsort(-pressure, kind="stable"):
        need = int(net.demand[c])
        pool = np.flatnonzero(net.room[c] > 0)
        if need == 0 or pool.size == 0:
            continue
        upper = np.minimum(net.room[c, pool], np.maximum(net.cap[pool] - load[pool], 0))
        base = load[pool]
        lo, hi = int(base.min()), int((base + upper).max())
        if np.minimum(np.maximum(hi - base, 0), upper).sum() < need:
            return None  # bounds bind; start from the max-flow solution instead
        while lo < hi:  # smallest level whose fill reaches the need
            mid = (lo + hi) // 2
            if np.minimum(np.maximum(mid - base, 0), upper).sum() >= need:
                hi = mid
            else:
                lo = mid + 1
        take = np.minimum(np.maximum(lo - 1 - base, 0), upper)
        rest = need - int(take.sum())
        at_level = np.flatnonzero(np.minimum(np.maximum(lo - base, 0), upper) > take)
        take[rng.permutation(at_level)[:rest]] += 1
        quotas[c, pool] = take
        load[pool] += take
    return quotas


def _improve(net: _Network, quotas: np.ndarray) -> int:
    """Cycle-cancel until no chain can move a rating to an expert with two fewer; returns steps."""
    room, load, cap = net.room, net.load, net.cap
    n_cat = room.shape[0]
    steps = 0
    while True:
        give = quotas > 0
        relay_take = quotas < room
        take = relay_take & (load < cap)[None, :]
        give_load = np.where(give, load[None, :], -1)
        best_giver = give_load.argmax(axis=1)
        giver_load = give_load.max(axis=1)
        take_load = np.where(take, load[None, :], np.iinfo(np.int64).max)
        best_taker = take_load.argmin(axis=1)
        taker_load = take_load.min(axis=1)
        # link[c1, c2]: some expert can take one more of c1 and give one of c2
        link = (relay_take.astype(np.int32) @ give.T.astype(np.int32)) > 0
        best = (0, None, None)
        for c_end in range(n_cat):
            if taker_load[c_end] == np.iinfo(np.int64).max:
                continue
            parent = _reach_back(link, c_end)
            starts = [c for c in range(n_cat) if parent[c] != -2]
            c_start = max(starts, key=lambda c: giver_load[c])
            gap = giver_load[c_start] - taker_load[c_end]
            if gap >= 2 and gap > best[0]:
                best = (gap, c_start, (c_end, parent))
        if best[1] is None:
            return steps
        gap, c_start, (c_end, parent) = best
        giver, taker = best_giver[c_start], best_taker[c_end]
        path = [c_start]
        while path[-1] != c_end:
            path.append(parent[path[-1]])
        moves = [(c_start, giver, -1)]
        amount = min(gap // 2, quotas[c_start, giver], room[c_end, taker] - quotas[c_end, taker],
                     cap[taker] - load[taker])
        for c1, c2 in zip(path, path[1:]):
            spare = np.minimum(room[c1] - quotas[c1], quotas[c2])
            relay = int(spare.argmax())
            amount = min(amount, spare[relay])
            moves += [(c1, relay, +1), (c2, relay, -1)]
        moves.append((c_end, taker, +1))
        for c, e, sign in moves:
            quotas[c, e] += sign * amount
        load[giver] -= amount
        load[taker] += amount
        steps += 1


def _reach_back(link: np.ndarray, c_end: int) -> list[int]:
    """For every category that reaches ``c_end`` on the link graph, its next step (-1 at the end, -2 none)."""
    parent = [-2] * link.shape[0]
    parent[c_end] = -1
    queue = deque([c_end])
    while queue:
        c2 = queue.popleft()
        for c1 in np.flatnonzero(link[:, c2]):
            if parent[c1] == -2:
                parent[c1] = c2
                queue.append(c1)
    return parent


def balanced_quotas(demand: np.ndarray, room: np.ndarray, load: np.ndarray, capacity: np.ndarray, *,
                    category_names: Sequence[str], rng: np.random.Generator) -> np.ndarray:
    """Quota matrix (category × expert) meeting every demand with decreasingly minimal loads.

    ``load`` is each expert's kept load and ``capacity`` its most total load; raises
    :class:`InfeasibleAssignment` naming the category when the demand cannot be met.
    """
    demand = np.asarray(demand, dtype=np.int64)
    room = np.asarray(room, dtype=np.int64)
    load = np.asarray(load, dtype=np.int64).copy()
    capacity = np.asarray(capacity, dtype=np.int64)
    spare = np.maximum(capacity - load, 0)
    total, flow_quotas, cut = _max_flow(demand, room, np.minimum(spare, int(demand.sum())))
    if total < demand.sum():
        short = [c for c in range(len(demand)) if cut[c] and demand[c] > 0]
        experts = np.flatnonzero(room[short].sum(axis=0) > 0)
        takeable = int(np.minimum(room[short][:, experts].sum(axis=0), spare[experts]).sum())
        needed = int(demand[short].sum())
        names = "、".join(category_names[c] for c in short)
        raise InfeasibleAssignment(
            names, needed, takeable,
            f"{names}: {needed} ratings needed, but the {experts.size} experts without a conflict who cover "
            f"{'it' if len(short) == 1 else 'them'} can take only {takeable} more within their capacities "
            f"(需要 {needed} 次评审，可用专家 {experts.size} 人在容量内最多还能承担 {takeable} 次)")
    net = _Network(demand, room, load, capacity)
    quotas = _water_fill(net, rng)
    if quotas is None:
        quotas = flow_quotas
    net.load = load + quotas.sum(axis=0)
    _improve(net, quotas)
    return quotas
