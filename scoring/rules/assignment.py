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
components -> report (:mod:`.assignment_report`). The work-by-work steps live in
:mod:`.assignment_design`.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from .assignment_balance import InfeasibleAssignment, balanced_quotas
from .assignment_design import NotExact, connect, direct_moves, realize, realize_globally, shuffle
from .assignment_panel import small_category_panels
from .assignment_report import AssignmentReport, build_report
from .conflicts import ConflictRules, Expert, Recusal, Work, find_conflicts

__all__ = ["AssignmentResult", "InfeasibleAssignment", "draw_assignment", "Progress"]

#: progress(step, done, total): "conflicts", "quotas", "category", "done"
Progress = Callable[[str, int, int], None]
_GLOBAL_PAIRS_LIMIT = 8_000_000  # above this many (work, expert) pairs the fallback stays per category
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


def draw_assignment(experts: Sequence[Expert], works: Sequence[Work], *, per_work: int, seed: int,
                    rules: ConflictRules = ConflictRules(), existing: Iterable[tuple[Hashable, Hashable]] = (),
                    recusals: Iterable[Recusal] = (), progress: Progress | None = None,
                    small_category_max: int = 0) -> AssignmentResult:
    """Draw ``per_work`` experts for every work (keeping ``existing`` pairs); raises InfeasibleAssignment.

    A category with at most ``small_category_max`` works gets a panel design
    (:mod:`.assignment_panel`: K experts who each rate all of it, or the most balanced
    incomplete block design capacity and conflicts allow); 0 draws every category sparsely.
    """
    started = time.perf_counter()
    if per_work < 1:
        raise ValueError(f"per_work must be at least 1, got {per_work}")
    if small_category_max < 0:
        raise ValueError(f"small_category_max must not be negative, got {small_category_max}")
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
    panel_e, panel_w, designs, dropped = np.zeros(0, np.int64), np.zeros(0, np.int64), {}, False
    if small_category_max:
        have = np.bincount(kept_w, minlength=inst.n_w)
        kept_load = np.bincount(kept_e, minlength=len(inst.experts))
        panel_e, panel_w, designs = small_category_panels(
            inst, np.maximum(per_work - have, 0), np.maximum(inst.capacity - kept_load, 0), kept_load,
            largest=small_category_max, rng=rng)
    if panel_e.size:
        # the rest of the round is drawn around the panels, whose pairs it keeps like scored ones
        paneled = _Instance(experts, works, existing + [(inst.experts[e].id, inst.works[w].id)
                                                        for e, w in zip(panel_e.tolist(), panel_w.tolist())], conflicts)
        try:
            new_e, new_w, swaps, inexact = _draw_sparse(paneled, per_work, rng, tell)
        except InfeasibleAssignment:  # the panels took capacity the other categories need: none then
            panel_e, panel_w, designs, dropped = np.zeros(0, np.int64), np.zeros(0, np.int64), {}, True
            rng = np.random.default_rng([seed, 1])
    if not panel_e.size:
        new_e, new_w, swaps, inexact = _draw_sparse(inst, per_work, rng, tell)
    new_e, new_w = np.concatenate([panel_e, new_e]), np.concatenate([panel_w, new_w])
    by_work = np.lexsort((new_e, new_w))
    new_e, new_w = new_e[by_work], new_w[by_work]
    load = np.bincount(np.concatenate([kept_e, new_e]), minlength=len(inst.experts))
    new = tuple((inst.experts[e].id, inst.works[w].id) for e, w in zip(new_e.tolist(), new_w.tolist()))
    kept = tuple((inst.experts[e].id, inst.works[w].id) for e, w in zip(kept_e.tolist(), kept_w.tolist()))
    report = build_report(inst, kept_e, kept_w, new_e, new_w, seed=seed, per_work=per_work, swaps=swaps,
                          inexact=tuple(inexact), seconds=time.perf_counter() - started, panels=designs,
                          small_category_max=small_category_max, panels_dropped=dropped)
    tell("done", 1, 1)
    return AssignmentResult(seed=seed, per_work=per_work, new=new, kept=kept,
                            loads={x.id: int(load[i]) for i, x in enumerate(inst.experts)}, report=report)


def _draw_sparse(inst: _Instance, per_work: int, rng: np.random.Generator,
                 tell: Progress) -> tuple[np.ndarray, np.ndarray, int, list[str]]:
    """Fill every open slot of ``inst`` (the steps of the module docstring); (experts, works, swaps, inexact)."""
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
            realized.append(realize(inst, c, need, quotas[c], other, left, per_work, rng, exact_only))
        return realized

    try:
        realized = realize_all(exact_only=True)
    except NotExact:
        # conflicts of particular pairs defeat the category totals: one flow over every eligible
        # pair of the round when that is affordable, else category by category
        if np.count_nonzero(need) * np.count_nonzero(spare) <= _GLOBAL_PAIRS_LIMIT:
            realized = realize_globally(inst, need, kept_load, spare, rng)
        else:
            realized = realize_all(exact_only=False)
    moves: list[int] = []
    total_load = kept_load + np.bincount(np.concatenate([r[0] for r in realized]), minlength=len(inst.experts))
    for c, (e, w, exact) in enumerate(realized):
        shuffle(inst, e, w, rng, _SHUFFLE_PASSES)
        if not exact:
            inexact.append(inst.categories[c])
        in_c = inst.work_cat[kept_w] == c
        n_swaps = 0
        if per_work >= 2:  # with one expert per work the graph is a set of stars and cannot connect
            e, w, n_swaps = connect(inst, kept_e[in_c], kept_w[in_c], e, w, rng, total_load, moves)
        new_e.append(e)
        new_w.append(w)
        swaps += n_swaps
    tell("category", len(inst.categories), len(inst.categories))
    new_e, new_w = np.concatenate(new_e), np.concatenate(new_w)
    if inexact or moves:  # pairs moved after the balancing: restore "no direct move to two below"
        direct_moves(inst, new_e, new_w, kept_load)
    return new_e.astype(np.int64), new_w.astype(np.int64), swaps, inexact
