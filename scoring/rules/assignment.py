"""The seeded, optimized draw of experts for works (随机抽取), category by category.

:func:`draw_assignment` gives each work exactly ``per_work`` experts whose expertise covers
its category, never with a conflict of interest, within capacities, with the most balanced
loads that exist, and with a connected rater–work graph in every category so that rater
bias is identifiable. It is incremental: kept (already scored) assignments never move; only
the gaps are filled. The same seed gives the same assignment. See docs/assignment.md.

Steps: conflicts (:mod:`.conflicts`) -> feasibility checks that name the category ->
balanced quotas per category × expert (:mod:`.assignment_balance`, max flow + convex
cycle cancelling) -> per category, a maximum flow on a random sparse graph of candidate
(work, expert) pairs realizes the quotas exactly -> swaps of new pairs join any separate
components -> report (:mod:`.assignment_report`).
"""
from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components, maximum_flow

from .assignment_balance import InfeasibleAssignment, balanced_quotas
from .assignment_report import AssignmentReport, build_report
from .conflicts import ConflictRules, Expert, Recusal, Work, find_conflicts

__all__ = ["AssignmentResult", "InfeasibleAssignment", "draw_assignment", "Progress"]

#: progress(step, done, total): "conflicts", "quotas", "category", "done"
Progress = Callable[[str, int, int], None]
_ALL_PAIRS_LIMIT = 400_000  # below this many (work, expert) pairs a category uses every pair
_GLOBAL_PAIRS_LIMIT = 8_000_000  # above this many (work, expert) pairs the fallback stays per category
_SWAP_TRIES = 2000
_JOIN_CHECKS = 200  # valid swaps tried (one component count each) before moving a pair instead  # swap proposals per join before giving up (the report then says so)
_SHUFFLE_PASSES = 8  # switch proposals per new pair; enough to forget the solver's order


@dataclass(frozen=True)
class AssignmentResult:
    """The drawn assignment: new pairs to write, kept pairs, loads and the report."""

    seed: int
    per_work: int
    new: tuple[tuple[Hashable, Hashable], ...]  # (expert_id, work_id) to create
    kept: tuple[tuple[Hashable, Hashable], ...]  # (expert_id, work_id) passed in as existing
    loads: dict[Hashable, int]  # expert_id -> total load (kept + new)
    report: AssignmentReport

    @property
    def pairs(self) -> tuple[tuple[Hashable, Hashable], ...]:
        """Every (expert_id, work_id) of the round after the draw."""
        return self.kept + self.new


class _Instance:
    """Integer-coded instance: positions of experts and works, forbidden pair keys."""

    def __init__(self, experts, works, existing, conflicts):
        self.experts, self.works = list(experts), list(works)
        self.n_w = len(self.works)
        self.expert_pos = {x.id: i for i, x in enumerate(self.experts)}
        self.work_pos = {w.id: i for i, w in enumerate(self.works)}
        self.categories = sorted({w.category for w in self.works})
        cat_pos = {c: i for i, c in enumerate(self.categories)}
        self.work_cat = np.array([cat_pos[w.category] for w in self.works], dtype=np.int64)
        self.covers = np.zeros((len(self.categories), len(self.experts)), bool)
        for e, expert in enumerate(self.experts):
            for c in expert.categories:
                if c in cat_pos:
                    self.covers[cat_pos[c], e] = True
        self.conflicts = conflicts
        keys = []
        for expert_id, work_id in existing:
            if expert_id not in self.expert_pos or work_id not in self.work_pos:
                raise ValueError(f"existing assignment names unknown expert {expert_id!r} or work {work_id!r}")
            e, w = self.expert_pos[expert_id], self.work_pos[work_id]
            codes = conflicts.codes_of(e, w)
            if codes:
                raise ValueError(f"existing assignment of expert {expert_id!r} to work {work_id!r} is a conflict "
                                 f"({', '.join(codes)}); recuse it before drawing")
            keys.append(e * self.n_w + w)
        self.kept_keys = np.array(sorted(keys), dtype=np.int64)
        if len(np.unique(self.kept_keys)) != len(keys):
            raise ValueError("an existing assignment is listed twice")
        self.forbidden = np.union1d(conflicts.keys, self.kept_keys)
        cap = np.array([x.capacity if x.capacity is not None else np.iinfo(np.int32).max
                        for x in self.experts], dtype=np.int64)
        if (cap < 0).any():
            raise ValueError("an expert's capacity is negative")
        self.capacity = cap

    def forbidden_mask(self, e: np.ndarray, w: np.ndarray) -> np.ndarray:
        """Is each (e, w) conflicted or already assigned."""
        key = e.astype(np.int64) * self.n_w + w
        pos = np.minimum(np.searchsorted(self.forbidden, key), max(len(self.forbidden) - 1, 0))
        return self.forbidden[pos] == key if len(self.forbidden) else np.zeros(key.shape, bool)


def _check_pools(inst: _Instance, need: np.ndarray, spare: np.ndarray, per_work: int) -> None:
    """Fail, naming the category, when some work cannot find enough eligible experts."""
    fe, fw = inst.forbidden // inst.n_w, inst.forbidden % inst.n_w
    counts = inst.covers[inst.work_cat[fw], fe] & (spare[fe] > 0)
    blocked = np.bincount(fw[counts], minlength=inst.n_w)  # pool experts who may not take the work
    for c, name in enumerate(inst.categories):
        open_works = np.flatnonzero((inst.work_cat == c) & (need > 0))
        if not open_works.size:
            continue
        pool = int(np.count_nonzero(inst.covers[c] & (spare > 0)))
        if pool < need[open_works].max():
            raise InfeasibleAssignment(
                name, per_work, pool,
                f"{name}: each work needs {per_work} experts, but only {pool} experts with free capacity "
                f"cover this category (每部作品需要 {per_work} 名专家，该类别仅有 {pool} 名可用专家)")
        # a work's own kept experts count as available for it
        available = pool - blocked[open_works] + (per_work - need[open_works])
        worst = int(np.argmin(available))
        if available[worst] < per_work:
            work, has = inst.works[open_works[worst]], int(available[worst])
            raise InfeasibleAssignment(
                name, per_work, has,
                f"{name}: work {work.id!r} needs {per_work} experts without a conflict, but only {has} of "
                f"the experts covering this category qualify (作品需要 {per_work} 名无回避关系的专家，仅有 {has} 名)")


def _room(inst: _Instance, need: np.ndarray, spare: np.ndarray) -> np.ndarray:
    """room[c, e]: how many open works of category c expert e may still take."""
    open_count = np.bincount(inst.work_cat[need > 0], minlength=len(inst.categories))
    room = np.where(inst.covers & (spare > 0)[None, :], open_count[:, None], 0).astype(np.int64)
    e, w = inst.forbidden // inst.n_w, inst.forbidden % inst.n_w
    keep = need[w] > 0
    np.subtract.at(room, (inst.work_cat[w[keep]], e[keep]), inst.covers[inst.work_cat[w[keep]], e[keep]])
    return np.maximum(room, 0)


@dataclass(frozen=True)
class _Shortfall:
    """A max flow that could not serve every work: how much it served and which works it left short."""

    served: int
    short_works: np.ndarray


def _flow(inst: _Instance, works: np.ndarray, experts: np.ndarray, caps: np.ndarray, need: np.ndarray,
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


class _NotExact(Exception):
    """The category totals cannot be realized work by work (conflicts of particular pairs)."""


def _realize(inst: _Instance, c: int, need: np.ndarray, quota: np.ndarray, other: np.ndarray, left: np.ndarray,
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
        raise _NotExact(c)
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


def _shortfall_error(inst: _Instance, shortfall: _Shortfall, needed: int) -> InfeasibleAssignment:
    """The error for a max flow that left works short: their categories, ratings needed and possible."""
    names = "、".join(inst.categories[c] for c in np.unique(inst.work_cat[shortfall.short_works]))
    return InfeasibleAssignment(
        names, needed, shortfall.served,
        f"{names}: {needed} ratings needed, but conflicts and capacities between particular works and experts allow "
        f"only {shortfall.served} (需要 {needed} 次评审，回避和容量限制下最多只能安排 {shortfall.served} 次)")


def _realize_globally(inst: _Instance, need: np.ndarray, kept_load: np.ndarray, spare: np.ndarray,
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


def _direct_moves(inst: _Instance, e: np.ndarray, w: np.ndarray, kept_load: np.ndarray) -> None:
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


def _shuffle(inst: _Instance, e: np.ndarray, w: np.ndarray, rng: np.random.Generator, passes: int) -> int:
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


def _connect(inst: _Instance, kept_e, kept_w, new_e, new_w, rng, total_load,
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


def _move_across(inst: _Instance, new_e, new_w, label, main, load, assigned) -> bool:
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


def draw_assignment(experts: Sequence[Expert], works: Sequence[Work], *, per_work: int, seed: int,
                    rules: ConflictRules = ConflictRules(), existing: Iterable[tuple[Hashable, Hashable]] = (),
                    recusals: Iterable[Recusal] = (), progress: Progress | None = None) -> AssignmentResult:
    """Draw ``per_work`` experts for every work (keeping ``existing`` pairs); raises InfeasibleAssignment."""
    started = time.perf_counter()
    if per_work < 1:
        raise ValueError(f"per_work must be at least 1, got {per_work}")
    if not works:
        raise ValueError("no works to assign")
    tell = progress or (lambda step, done, total: None)
    existing, recusals = list(existing), list(recusals)
    tell("conflicts", 0, 1)
    conflicts = find_conflicts(experts, works, rules=rules, recusals=recusals)
    inst = _Instance(experts, works, existing, conflicts)
    tell("conflicts", 1, 1)
    rng = np.random.default_rng(seed)
    kept_e, kept_w = inst.kept_keys // inst.n_w, inst.kept_keys % inst.n_w
    have = np.bincount(kept_w, minlength=inst.n_w)
    need = np.maximum(per_work - have, 0)
    kept_load = np.bincount(kept_e, minlength=len(inst.experts))
    spare = np.maximum(inst.capacity - kept_load, 0)
    _check_pools(inst, need, spare, per_work)
    tell("quotas", 0, 1)
    room = _room(inst, need, spare)
    demand = np.bincount(inst.work_cat, weights=need, minlength=len(inst.categories)).astype(np.int64)
    # experts in a seeded random order, so ties in the balancing fall randomly but reproducibly
    order = rng.permutation(len(inst.experts))
    quotas = np.zeros_like(room)
    quotas[:, order] = balanced_quotas(demand, room[:, order], kept_load[order], inst.capacity[order],
                                       category_names=inst.categories, rng=rng)
    tell("quotas", 1, 1)
    new_e, new_w, swaps, inexact = [], [], 0, []
    def realize_all(exact_only: bool):
        realized = []
        for c in range(len(inst.categories)):
            tell("category", c, len(inst.categories))
            # what each expert carries elsewhere and may still take here, if the quotas cannot be met exactly
            left = spare - quotas.sum(axis=0) + quotas[c]
            other = kept_load + quotas.sum(axis=0) - quotas[c]
            realized.append(_realize(inst, c, need, quotas[c], other, left, per_work, rng, exact_only))
        return realized

    try:
        realized = realize_all(exact_only=True)
    except _NotExact:
        # conflicts of particular pairs defeat the category totals: one flow over every eligible
        # pair of the round when that is affordable, else category by category
        if np.count_nonzero(need) * np.count_nonzero(spare) <= _GLOBAL_PAIRS_LIMIT:
            realized = _realize_globally(inst, need, kept_load, spare, rng)
        else:
            realized = realize_all(exact_only=False)
    moves: list[int] = []
    total_load = kept_load + np.bincount(np.concatenate([r[0] for r in realized]), minlength=len(inst.experts))
    for c, (e, w, exact) in enumerate(realized):
        _shuffle(inst, e, w, rng, _SHUFFLE_PASSES)
        if not exact:
            inexact.append(inst.categories[c])
        in_c = inst.work_cat[kept_w] == c
        n_swaps = 0
        if per_work >= 2:  # with one expert per work the graph is a set of stars and cannot connect
            e, w, n_swaps = _connect(inst, kept_e[in_c], kept_w[in_c], e, w, rng, total_load, moves)
        new_e.append(e)
        new_w.append(w)
        swaps += n_swaps
    tell("category", len(inst.categories), len(inst.categories))
    new_e, new_w = np.concatenate(new_e), np.concatenate(new_w)
    if inexact or moves:  # pairs moved after the balancing: restore "no direct move to two below"
        _direct_moves(inst, new_e, new_w, kept_load)
    by_work = np.lexsort((new_e, new_w))
    new_e, new_w = new_e[by_work], new_w[by_work]
    load = kept_load + np.bincount(new_e, minlength=len(inst.experts))
    new = tuple((inst.experts[e].id, inst.works[w].id) for e, w in zip(new_e.tolist(), new_w.tolist()))
    kept = tuple((inst.experts[e].id, inst.works[w].id) for e, w in zip(kept_e.tolist(), kept_w.tolist()))
    report = build_report(inst, kept_e, kept_w, new_e, new_w, seed=seed, per_work=per_work, swaps=swaps,
                          inexact=tuple(inexact), seconds=time.perf_counter() - started)
    tell("done", 1, 1)
    return AssignmentResult(seed=seed, per_work=per_work, new=new, kept=kept,
                            loads={x.id: int(load[i]) for i, x in enumerate(inst.experts)}, report=report)
