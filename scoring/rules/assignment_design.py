"""Realizing quotas work by work: max flows, random switches, connectivity swaps.

Helpers of :func:`scoring.rules.assignment.draw_assignment` over its integer-coded instance
(positions of experts and works, ``forbidden_mask`` for conflicted or already assigned pairs,
``covers``, ``work_cat``, ``capacity``). See docs/assignment.md for the guarantees.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components, maximum_flow

from .assignment_balance import InfeasibleAssignment

__all__ = ["NotExact", "realize", "realize_globally", "direct_moves", "shuffle", "connect"]

_ALL_PAIRS_LIMIT = 400_000  # below this many (work, expert) pairs a category uses every pair
_SWAP_TRIES = 2000  # swap proposals per join before giving up (the report then says so)
_JOIN_CHECKS = 200  # valid swaps tried (one component count each) before moving a pair instead


@dataclass(frozen=True)
class _Shortfall:
    """A max flow that could not serve every work: how much it served and which works it left short."""

    served: int
    short_works: np.ndarray


def _flow(inst, works: np.ndarray, experts: np.ndarray, caps: np.ndarray, need: np.ndarray,
          rng: np.random.Generator, sample: int | None, eligible: np.ndarray | None = None):
    """Max flow works -> experts (each pair at most once, no forbidden pair); (experts, works) or None."""
    if sample is not None:
        ex = rng.choice(experts.size, size=(works.size, sample), p=caps / caps.sum())
        ex.sort(axis=1)
        fresh = np.ones_like(ex, dtype=bool)
        fresh[:, 1:] = ex[:, 1:] != ex[:, :-1]
        wi = np.broadcast_to(np.arange(works.size)[:, None], ex.shape)[fresh]
        ei = ex[fresh]
    elif eligible is None:
        wi = np.repeat(np.arange(works.size), experts.size)
        ei = np.tile(np.arange(experts.size), works.size)
    else:
        wi, ei = np.nonzero(eligible)
    ok = ~inst.forbidden_mask(experts[ei], works[wi])
    wi, ei = wi[ok], ei[ok]
    n_w, n_e = works.size, experts.size
    s, t = 0, n_w + n_e + 1
    rows = np.concatenate([np.zeros(n_w, np.int64), 1 + wi, 1 + n_w + np.arange(n_e)])
    cols = np.concatenate([1 + np.arange(n_w), 1 + n_w + ei, np.full(n_e, t)])
    caps_all = np.concatenate([need[works], np.ones(wi.size, np.int64), caps]).astype(np.int32)
    graph = sparse.csr_matrix((caps_all, (rows, cols)), shape=(t + 1, t + 1))
    result = maximum_flow(graph, s, t, method="dinic")
    flow = result.flow.tocsr()
    if result.flow_value < need[works].sum():
        served = np.asarray(flow[0, 1 + np.arange(n_w)].todense()).ravel()
        return _Shortfall(int(result.flow_value), works[served < need[works]])
    used = np.asarray(flow[1 + wi, 1 + n_w + ei]).ravel() > 0
    return experts[ei[used]], works[wi[used]]


class NotExact(Exception):
    """The category totals cannot be realized work by work (conflicts of particular pairs)."""


def realize(inst, c: int, need: np.ndarray, quota: np.ndarray, other: np.ndarray, left: np.ndarray,
             per_work: int, rng: np.random.Generator, exact_only: bool) -> tuple[np.ndarray, np.ndarray, bool]:
    """(experts, works, quotas met exactly) of new pairs in category c: a max flow meeting every need.

    ``other`` is each expert's load outside this category's new pairs, ``left`` what it may
    still take here. The quotas are met exactly unless conflicts between particular works and
    experts (which the category totals cannot see) forbid it; then the highest load in the
    category is minimized instead (binary search over a load ceiling, one max flow each) and
    direct moves to experts two or more below finish the balancing.
    """
    works = rng.permutation(np.flatnonzero((inst.work_cat == c) & (need > 0)))
    if not works.size:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), True
    quota_experts = rng.permutation(np.flatnonzero(quota > 0))
    caps = quota[quota_experts]
    if works.size * quota_experts.size > _ALL_PAIRS_LIMIT:
        found = _flow(inst, works, quota_experts, caps, need, rng, min(quota_experts.size, 4 * per_work + 8))
        if not isinstance(found, _Shortfall):
            return (*found, True)
    found = _flow(inst, works, quota_experts, caps, need, rng, None)
    if not isinstance(found, _Shortfall):
        return (*found, True)
    if exact_only:
        raise NotExact(c)
    pool = rng.permutation(np.flatnonzero(inst.covers[c] & (left > 0)))
    total = int(need[works].sum())
    lo, hi = int(other[pool].min()) + 1, int((other[pool] + left[pool]).max())
    best = _flow(inst, works, pool, np.minimum(left[pool], total), need, rng, None)
    if isinstance(best, _Shortfall):
        raise _shortfall_error(inst, best, total)
    while lo < hi:  # the lowest ceiling on total load that still serves every work
        mid = (lo + hi) // 2
        found = _flow(inst, works, pool, np.clip(mid - other[pool], 0, left[pool]), need, rng, None)
        if isinstance(found, _Shortfall):
            lo = mid + 1
        else:
            hi, best = mid, found
    return (*best, False)


def _shortfall_error(inst, shortfall: _Shortfall, needed: int) -> InfeasibleAssignment:
    """The error for a max flow that left works short: their categories, ratings needed and possible."""
    names = "、".join(inst.categories[c] for c in np.unique(inst.work_cat[shortfall.short_works]))
    return InfeasibleAssignment(
        names, needed, shortfall.served,
        f"{names}: {needed} ratings needed, but conflicts and capacities between particular works and experts allow "
        f"only {shortfall.served} (需要 {needed} 次评审，回避和容量限制下最多只能安排 {shortfall.served} 次)")


def realize_globally(inst, need: np.ndarray, kept_load: np.ndarray, spare: np.ndarray,
                      rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray, bool]]:
    """All categories in one max flow over every eligible pair, highest load minimized.

    Used only when conflicts tie particular works to particular experts so tightly that the
    category totals mislead (small or conflict-dense pools); exact but heavier.
    """
    works = rng.permutation(np.flatnonzero(need > 0))
    pool = rng.permutation(np.flatnonzero(spare > 0))
    total = int(need.sum())
    eligible = inst.covers[inst.work_cat[works]][:, pool]  # works × pool

    def flow(caps):
        return _flow(inst, works, pool, caps, need, rng, None, eligible)

    best = flow(np.minimum(spare[pool], total))
    if isinstance(best, _Shortfall):
        raise _shortfall_error(inst, best, total)
    lo, hi = int(kept_load[pool].min()) + 1, int((kept_load[pool] + spare[pool]).max())
    while lo < hi:
        mid = (lo + hi) // 2
        found = flow(np.clip(mid - kept_load[pool], 0, spare[pool]))
        if isinstance(found, _Shortfall):
            lo = mid + 1
        else:
            hi, best = mid, found
    e_all, w_all = best
    return [(e_all[inst.work_cat[w_all] == c], w_all[inst.work_cat[w_all] == c], False)
            for c in range(len(inst.categories))]


def direct_moves(inst, e: np.ndarray, w: np.ndarray, kept_load: np.ndarray) -> None:
    """Move new pairs to an eligible expert with at least two fewer ratings until none can move."""
    load = kept_load.copy()
    np.add.at(load, e, 1)
    assigned = set((e.astype(np.int64) * inst.n_w + w).tolist())
    moved = True
    while moved:
        moved = False
        for k in np.argsort(-load[e], kind="stable"):
            a, work = e[k], w[k]
            takers = np.flatnonzero(inst.covers[inst.work_cat[work]] & (load < inst.capacity) & (load <= load[a] - 2))
            takers = takers[~inst.forbidden_mask(takers, np.full(takers.size, work))]
            takers = [b for b in takers[np.argsort(load[takers], kind="stable")]
                      if int(b) * inst.n_w + work not in assigned]
            if takers:
                b = takers[0]
                assigned.discard(int(a) * inst.n_w + work)
                assigned.add(int(b) * inst.n_w + work)
                e[k] = b
                load[a] -= 1
                load[b] += 1
                moved = True


def shuffle(inst, e: np.ndarray, w: np.ndarray, rng: np.random.Generator, passes: int) -> int:
    """Random switches (w1, a), (w2, b) -> (w1, b), (w2, a) of new pairs: degrees, loads and constraints kept.

    The switch chain on bipartite graphs with fixed degrees (Kannan, Tetali & Vempala, Random
    Structures & Algorithms 14, 1999) turns the max-flow solution, whose structure follows
    the solver's search order, into a random design among those with the same quotas.
    """
    accepted = 0
    if e.size < 2:
        return 0
    for _ in range(passes):
        current = np.sort(e.astype(np.int64) * inst.n_w + w)
        perm = rng.permutation(e.size)
        i, j = perm[0:e.size - 1:2], perm[1:e.size:2]
        k1 = e[j].astype(np.int64) * inst.n_w + w[i]
        k2 = e[i].astype(np.int64) * inst.n_w + w[j]
        ok = (e[i] != e[j]) & (w[i] != w[j])
        ok &= ~inst.forbidden_mask(e[j], w[i]) & ~inst.forbidden_mask(e[i], w[j])
        ok &= ~np.isin(k1, current) & ~np.isin(k2, current)
        proposed = np.concatenate([k1[ok], k2[ok]])
        keys, counts = np.unique(proposed, return_counts=True)
        clash = np.isin(k1, keys[counts > 1]) | np.isin(k2, keys[counts > 1])
        ok &= ~clash
        i, j = i[ok], j[ok]
        e[i], e[j] = e[j], e[i].copy()
        accepted += int(ok.sum())
    return accepted


def _components(e: np.ndarray, w: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """Components of the bipartite graph of pairs; labels per pair (via its work) and per node."""
    wu, wi = np.unique(w, return_inverse=True)
    eu, ei = np.unique(e, return_inverse=True)
    graph = sparse.csr_matrix((np.ones(len(w), np.int8), (wi, len(wu) + ei)), shape=(len(wu) + len(eu),) * 2)
    n, labels = connected_components(graph, directed=False)
    return n, labels[wi], labels


def connect(inst, kept_e, kept_w, new_e, new_w, rng, total_load,
             moves: list) -> tuple[np.ndarray, np.ndarray, int]:
    """Swap new pairs between components (loads and conflicts unchanged) until one remains.

    Swapping (w1, a) in one component with (w2, b) in another to (w1, b), (w2, a) joins them
    unless both pairs were bridges of their components; ``a`` must rate another work of the
    category (else the swap only exchanges two leaves), and each swap is checked.
    """
    swaps = 0
    assigned = set((np.concatenate([kept_e, new_e]) * inst.n_w + np.concatenate([kept_w, new_w])).tolist())
    all_w = np.concatenate([kept_w, new_w])
    last = None
    while True:
        all_e = np.concatenate([kept_e, new_e])
        n, pair_label, _ = _components(all_e, all_w)
        if n <= 1 or (last is not None and n >= last):  # joined, or a move split what it joined
            return new_e, new_w, swaps
        last = n
        degree = np.bincount(all_e, minlength=len(inst.experts))
        label = pair_label[len(kept_e):]
        main = int(np.argmax(np.bincount(pair_label, minlength=n)))
        inside, outside = np.flatnonzero(label == main), np.flatnonzero(label != main)
        if inside.size * outside.size <= _SWAP_TRIES:  # small: every pair, in random order
            tries = rng.permutation(inside.size * outside.size)
            tries = zip(inside[tries // outside.size], outside[tries % outside.size])
        else:
            tries = zip(rng.choice(inside, _SWAP_TRIES), rng.choice(outside, _SWAP_TRIES))
        checks, joined = 0, False
        for i, j in tries:
            if degree[new_e[j]] >= 2 and degree[new_e[i]] < 2:
                i, j = j, i  # the expert who keeps another work plays ``a``
            a, w1, b, w2 = new_e[i], new_w[i], new_e[j], new_w[j]
            if a == b or degree[a] < 2 or (b * inst.n_w + w1) in assigned or (a * inst.n_w + w2) in assigned:
                continue
            if inst.forbidden_mask(np.array([b, a]), np.array([w1, w2])).any():
                continue
            new_e[i], new_e[j] = b, a
            checks += 1
            if _components(np.concatenate([kept_e, new_e]), all_w)[0] >= n:  # both pairs were bridges
                new_e[i], new_e[j] = a, b
                if checks > _JOIN_CHECKS:
                    break
                continue
            assigned -= {a * inst.n_w + w1, b * inst.n_w + w2}
            assigned |= {b * inst.n_w + w1, a * inst.n_w + w2}
            swaps += 1
            joined = True
            break
        if not joined:
            moved = _move_across(inst, new_e, new_w, label, main, total_load, assigned)
            if not moved:
                return new_e, new_w, swaps
            swaps += 1
            moves.append(1)


def _move_across(inst, new_e, new_w, label, main, load, assigned) -> bool:
    """When no swap can join, hand one new pair to an expert on the other side with one rating fewer.

    Conflicts can make every load-keeping swap impossible (e.g. every work on one side is
    conflicted for every expert on the other). Moving a rating from an expert with L ratings
    to one with L - 1 only exchanges two loads, so the balance guarantee is kept; if no such
    move exists either, the category stays in parts and the report says so.
    """
    best = None
    for k in range(len(new_e)):
        b, work = new_e[k], new_w[k]
        side = label[k] == main
        receivers = np.unique(new_e[(label == main) != side])
        receivers = receivers[inst.covers[inst.work_cat[work], receivers] & (load[receivers] < inst.capacity[receivers])]
        receivers = receivers[~inst.forbidden_mask(receivers, np.full(receivers.size, work))]
        receivers = [a for a in receivers if int(a) * inst.n_w + int(work) not in assigned and load[a] < load[b]]
        for a in receivers:
            cost = (load[a] - load[b], int(a), k)
            if best is None or cost < best[0]:
                best = (cost, a, k)
    if best is None:
        return False
    _, a, k = best
    load[a] += 1
    load[new_e[k]] -= 1
    assigned.discard(int(new_e[k]) * inst.n_w + int(new_w[k]))
    assigned.add(int(a) * inst.n_w + int(new_w[k]))
    new_e[k] = a
    return True
