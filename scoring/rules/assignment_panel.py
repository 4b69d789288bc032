"""Panels for small categories: K experts who each rate every item of the category (a complete
block design), or the most balanced incomplete block design that capacity and conflicts allow.

Why: the sparse draw of :mod:`.assignment` spreads a small category's ratings over many
experts, so each rates one or two of its items and no rater's bias can be estimated (the
demo's dissemination-case round gave 20 experts one or two cases each). A small category
(``small_category_max`` items or fewer, config/stages.toml) is small enough for a real panel.

In block-design terms (Cochran & Cox, *Experimental Designs*, 1957, ch. 9–11; John & Williams,
*Cyclic and Computer Generated Designs*, 1995) the items are the treatments and each expert is
a block: the items they rate. Every item is replicated ``per_work`` times. With ``k_e`` items
for expert ``e`` the number of (item pair, shared expert) incidences is fixed,
Σ_e k_e(k_e − 1)/2, so the concurrences λ_ij (experts rating both i and j) are as equal as they
can be exactly when Σ λ_ij² is least; all λ equal is a balanced incomplete block design (BIBD),
all within one of each other the closest design when the mean λ is not a whole number
(a "regular graph design", John & Mitchell, JRSS B 39, 1977).

:func:`design_panel` (one category, integer-coded):

1. order the candidates: experts already rating the category (kept pairs: a re-run keeps its
   panel), then those who can take every open item (no conflict, enough capacity), then by how
   many they can take, then by load, then at random (seeded);
2. the smallest prefix of that order for which a maximum flow gives every item its ratings,
   less any member the others can do without, is the panel (K experts with every item when K
   candidates can take them all: the complete design; an expert with a conflict on one item of
   the category is simply not picked then);
3. the highest number of items per panel expert is minimized (binary search, one flow each),
   and direct moves even the rest out;
4. seeded simulated annealing over swaps (i1, a), (i2, b) -> (i2, a), (i1, b), which keep every
   replication, every block size, conflicts and kept pairs, lowers Σ λ² until it meets the
   lower bound (every λ the floor or the ceiling of the mean) or the budget ends.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import maximum_flow

__all__ = ["PanelDesign", "design_panel", "pair_bound", "small_category_panels"]

_ANNEAL_STEPS = 40  # proposals per new rating in one annealing run (at least 4,000, at most 40,000)
_ANNEAL_RUNS = 6  # runs, each reheating from the best design so far, until Σλ² meets its bound


@dataclass(frozen=True)
class PanelDesign:
    """What :func:`design_panel` built for one category (sizes count kept and new ratings)."""

    experts: int  # panel experts rating the category
    items_min: int  # fewest items of the category a panel expert rates
    items_max: int
    pair_min: int  # fewest experts two items of the category share (λ)
    pair_max: int
    pair_bound_reached: bool  # Σλ² at its lower bound: a BIBD when the mean λ is whole, else the closest
    conflicted: int  # experts covering the category with a conflict on one of its open items (never on a full panel)


def pair_bound(block_sizes: np.ndarray, items: int) -> int:
    """The least Σ_{i<j} λ_ij² any design with these block sizes over ``items`` items can have."""
    pairs = items * (items - 1) // 2
    if pairs == 0:
        return 0
    total = int(np.sum(block_sizes * (block_sizes - 1) // 2))
    q, rem = divmod(total, pairs)
    return (pairs - rem) * q * q + rem * (q + 1) * (q + 1)


def _flow(allowed: np.ndarray, need: np.ndarray, caps: np.ndarray) -> np.ndarray | None:
    """Max flow items -> experts (each pair at most once where allowed); the incidence, or None if short."""
    n_i, n_e = allowed.shape
    ii, ee = np.nonzero(allowed)
    s, t = 0, n_i + n_e + 1
    rows = np.concatenate([np.zeros(n_i, np.int64), 1 + ii, 1 + n_i + np.arange(n_e)])
    cols = np.concatenate([1 + np.arange(n_i), 1 + n_i + ee, np.full(n_e, t)])
    caps_all = np.concatenate([need, np.ones(ii.size, np.int64), caps]).astype(np.int32)
    graph = sparse.csr_matrix((caps_all, (rows, cols)), shape=(t + 1, t + 1))
    result = maximum_flow(graph, s, t, method="dinic")
    if result.flow_value < need.sum():
        return None
    used = np.asarray(result.flow.tocsr()[1 + ii, 1 + n_i + ee]).ravel() > 0
    incidence = np.zeros_like(allowed)
    incidence[ii[used], ee[used]] = True
    return incidence


def _even_out(new: np.ndarray, kept: np.ndarray, allowed: np.ndarray, room: np.ndarray) -> None:
    """Move new ratings from a panel expert to one with two or more fewer items (in place)."""
    moved = True
    while moved:
        moved = False
        size = new.sum(axis=0) + kept.sum(axis=0)
        for a in np.argsort(-size, kind="stable"):
            for b in np.argsort(size, kind="stable"):
                if size[b] > size[a] - 2:
                    break
                if new[:, b].sum() >= room[b]:
                    continue
                movable = np.flatnonzero(new[:, a] & allowed[:, b] & ~new[:, b] & ~kept[:, b])
                if movable.size:
                    i = movable[0]
                    new[i, a], new[i, b] = False, True
                    moved = True
                    break
            if moved:
                break


def _anneal(new: np.ndarray, kept: np.ndarray, allowed: np.ndarray, rng: np.random.Generator) -> None:
    """Lower Σ λ² by swaps of new ratings between two experts (replications and block sizes kept; in place)."""
    full = (new | kept).astype(np.int64)
    lam = full @ full.T
    np.fill_diagonal(lam, 0)
    n_items = full.shape[0]
    bound = pair_bound(full.sum(axis=0), n_items)
    score = int(np.sum(np.triu(lam, 1) ** 2))
    best, best_new = score, new.copy()
    ii, ee = np.nonzero(new)
    if ii.size < 2 or score == bound:
        return
    steps = int(np.clip(_ANNEAL_STEPS * ii.size, 4000, 40000))
    temperature = np.tile(np.geomspace(2.0, 0.02, steps), _ANNEAL_RUNS)
    picks = rng.integers(0, ii.size, size=(steps * _ANNEAL_RUNS, 2))
    coins = rng.random(steps * _ANNEAL_RUNS)
    for step in range(steps * _ANNEAL_RUNS):
        if step and step % steps == 0:  # reheat from the best design found so far
            new[:] = best_new
            full = (new | kept).astype(np.int64)
            lam = full @ full.T
            np.fill_diagonal(lam, 0)
            score = best
            ii, ee = np.nonzero(new)
        p, q = picks[step]
        i1, a, i2, b = ii[p], ee[p], ii[q], ee[q]
        if a == b or i1 == i2 or full[i2, a] or full[i1, b] or not (allowed[i2, a] and allowed[i1, b]):
            continue
        d1 = full[:, b] - full[:, a]  # row i1 loses a's other items, gains b's
        d1[[i1, i2]] = 0
        d2 = -d1
        delta = int(2 * lam[i1] @ d1 + d1 @ d1 + 2 * lam[i2] @ d2 + d2 @ d2)
        if delta > 0 and coins[step] >= np.exp(-delta / temperature[step]):
            continue
        lam[i1] += d1
        lam[:, i1] += d1
        lam[i2] += d2
        lam[:, i2] += d2
        full[i1, a], full[i2, a], full[i2, b], full[i1, b] = 0, 1, 0, 1
        new[i1, a], new[i2, a], new[i2, b], new[i1, b] = False, True, False, True
        ii[p], ii[q] = i2, i1
        score += delta
        if score < best:
            best, best_new = score, new.copy()
            if best == bound:
                break
    new[:] = best_new


def design_panel(need: np.ndarray, allowed: np.ndarray, kept: np.ndarray, room: np.ndarray, load: np.ndarray,
                 rng: np.random.Generator) -> tuple[np.ndarray, PanelDesign] | None:
    """New ratings (items × candidates, bool) giving item i ``need[i]`` more experts, as a panel.

    ``allowed[i, e]``: expert e may newly rate item i (expertise, no conflict, not already on it);
    ``kept[i, e]``: e already rates i; ``room[e]``: how many more ratings e may take (capacity);
    ``load[e]``: e's ratings in the whole round so far (the tie-break toward the less loaded).
    None when no panel serves every item (the caller falls back to the sparse draw).
    """
    need = np.asarray(need, np.int64)
    n_items, n_cand = allowed.shape
    if need.sum() == 0 or n_cand == 0:
        return None
    allowed = allowed & ~kept
    open_items = need > 0
    takeable = np.minimum(np.count_nonzero(allowed & open_items[:, None], axis=0), room)
    # can complete the category: every open item it does not already rate, within capacity
    missing = np.count_nonzero(open_items[:, None] & ~kept & ~allowed, axis=0)
    full = (missing == 0) & (takeable >= np.count_nonzero(open_items[:, None] & ~kept, axis=0))
    in_category = kept.sum(axis=0)
    order = np.lexsort((rng.random(n_cand), load, -takeable, ~full, -in_category))
    order = order[(takeable[order] > 0) | (in_category[order] > 0)]

    def panel(b: int) -> np.ndarray | None:
        members = order[:b]
        return _flow(allowed[:, members], need, takeable[members])

    lo = max(int(need.max()), 1)
    if order.size < lo or panel(order.size) is None:
        return None
    hi = order.size
    while lo < hi:  # the fewest experts (in the preferred order) that can serve every item
        mid = (lo + hi) // 2
        if panel(mid) is None:
            lo = mid + 1
        else:
            hi = mid
    members = list(order[:lo])
    for candidate in reversed(order[:lo]):  # drop any member the others can do without (least preferred first)
        if kept[:, candidate].any() or len(members) <= int(need.max()):
            continue
        rest = np.array([m for m in members if m != candidate])
        if _flow(allowed[:, rest], need, takeable[rest]) is not None:
            members = list(rest)
    members = np.array(members)
    sub_allowed, sub_kept = allowed[:, members], kept[:, members]
    base = sub_kept.sum(axis=0)
    low, high = int(base.min()) + 1, int((base + takeable[members]).max())
    best = _flow(sub_allowed, need, takeable[members])
    while low < high:  # the lowest ceiling on items per panel expert
        mid = (low + high) // 2
        found = _flow(sub_allowed, need, np.clip(mid - base, 0, takeable[members]))
        if found is None:
            low = mid + 1
        else:
            high, best = mid, found
    _even_out(best, sub_kept, sub_allowed, takeable[members])
    _anneal(best, sub_kept, sub_allowed, rng)
    new = np.zeros((n_items, n_cand), bool)
    new[:, members] = best
    whole = (best | sub_kept).astype(np.int64)
    sizes = whole.sum(axis=0)
    lam = whole @ whole.T
    upper = lam[np.triu_indices(n_items, 1)]
    design = PanelDesign(
        experts=int(members.size), items_min=int(sizes.min()), items_max=int(sizes.max()),
        pair_min=int(upper.min()) if upper.size else 0, pair_max=int(upper.max()) if upper.size else 0,
        pair_bound_reached=int(np.sum(upper.astype(np.int64) ** 2)) == pair_bound(sizes, n_items),
        conflicted=int(np.count_nonzero((missing > 0) & (in_category == 0))))
    return new, design


def small_category_panels(inst, need: np.ndarray, spare: np.ndarray, kept_load: np.ndarray, *, largest: int,
                          rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, dict[str, PanelDesign]]:
    """Panels for every category of ``inst`` with at most ``largest`` works and open slots.

    ``inst`` is the integer-coded instance of :mod:`.assignment` (``work_cat``, ``covers``,
    ``forbidden_mask``, ``kept_keys``, ``n_w``). Categories are served scarcest first (fewest
    experts able to take every open item, relative to the ratings an item needs), ties at random;
    each panel's ratings count toward the loads and capacities of the next. Returns the new
    (expert, work) positions and the design of each category that got a panel; a category no
    panel can serve is left to the sparse draw.
    """
    sizes = np.bincount(inst.work_cat, minlength=len(inst.categories))
    kept_e, kept_w = inst.kept_keys // inst.n_w, inst.kept_keys % inst.n_w
    room = spare.copy()
    load = kept_load.copy()
    chosen = []  # (slack, works, candidates, allowed, kept) of each small category with open slots
    for c in range(len(inst.categories)):
        works = np.flatnonzero(inst.work_cat == c)
        if sizes[c] > largest or not need[works].any():
            continue
        candidates = np.flatnonzero(inst.covers[c])
        if not candidates.size:
            continue
        grid_e = np.repeat(candidates, works.size)
        grid_w = np.tile(works, candidates.size)
        allowed = ~inst.forbidden_mask(grid_e, grid_w).reshape(candidates.size, works.size).T
        kept = np.zeros((works.size, candidates.size), bool)
        in_c = inst.work_cat[kept_w] == c
        pos_w = {int(w): i for i, w in enumerate(works)}
        pos_e = {int(e): j for j, e in enumerate(candidates)}
        for e, w in zip(kept_e[in_c].tolist(), kept_w[in_c].tolist()):
            if e in pos_e:
                kept[pos_w[w], pos_e[e]] = True
        complete = np.count_nonzero(allowed.sum(axis=0) + kept.sum(axis=0) == works.size)
        chosen.append((int(complete - need[works].max()), works, candidates, allowed, kept))
    tie = rng.random(len(chosen))
    new_e, new_w, designs = [], [], {}
    for index in np.lexsort((tie, [slack for slack, *_ in chosen])):
        _, works, candidates, allowed, kept = chosen[index]
        found = design_panel(need[works], allowed, kept, room[candidates], load[candidates], rng)
        if found is None:
            continue
        incidence, design = found
        ii, jj = np.nonzero(incidence)
        experts = candidates[jj]
        new_e.append(experts)
        new_w.append(works[ii])
        np.subtract.at(room, experts, 1)
        np.add.at(load, experts, 1)
        designs[inst.categories[int(inst.work_cat[works[0]])]] = design
    if not new_e:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), {}
    return np.concatenate(new_e).astype(np.int64), np.concatenate(new_w).astype(np.int64), designs
