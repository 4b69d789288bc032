"""What a draw produced, for the secretariat and the audit log: coverage, loads, conflicts
avoided, connectivity and co-rating per category, and the seed that reproduces it."""
from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from .conflicts import CONFLICT_REASONS

__all__ = ["CategoryReport", "AssignmentReport", "build_report", "shared_work_pairs"]


@dataclass(frozen=True)
class CategoryReport:
    """One category of a draw."""

    category: str
    works: int
    covered: int  # works with exactly per_work experts
    experts: int  # experts who rate at least one of its works
    pool: int  # experts whose expertise covers it
    pool_load_min: int  # total loads of the pool's experts with free capacity left
    pool_load_max: int
    components: int  # connected components of its rater–work graph (1: connected)
    sharing_pairs: int  # pairs of experts who share at least one of its works
    co_raters_min: int  # fewest distinct experts an expert shares its works with
    co_raters_median: float
    quotas_exact: bool  # False: conflicts forced a departure from the balanced quotas

    @property
    def connected(self) -> bool:
        return self.components == 1


@dataclass(frozen=True)
class AssignmentReport:
    """The whole draw; ``lines(lang)`` renders it for the command line."""

    seed: int
    per_work: int
    works: int
    covered: int
    ratings_new: int
    ratings_kept: int
    load_histogram: dict[int, int]  # total load -> number of experts (experts covering a category of the round)
    conflicts_avoided: dict[str, int]  # reason code -> pairs excluded that expertise would have allowed
    categories: tuple[CategoryReport, ...]
    swaps: int  # connectivity swaps made
    seconds: float

    @property
    def coverage(self) -> float:
        return self.covered / self.works if self.works else 1.0

    @property
    def connected(self) -> bool:
        return all(c.connected for c in self.categories)

    def lines(self, lang: str = "zh") -> list[str]:
        """Plain-text report lines in Chinese (``"zh"``) or English (``"en"``)."""
        zh = lang == "zh"
        loads = " ".join(f"{k}:{v}" for k, v in sorted(self.load_histogram.items()))
        out = [f"随机种子 {self.seed}（用同一种子重新运行可得到相同分配）" if zh else
               f"seed {self.seed} (re-running with this seed gives the same assignment)",
               (f"每部作品 {self.per_work} 名专家；覆盖 {self.covered}/{self.works} 部作品；新分配 {self.ratings_new}，保留 {self.ratings_kept}"
                if zh else f"{self.per_work} experts per work; {self.covered}/{self.works} works covered; "
                f"{self.ratings_new} new, {self.ratings_kept} kept"),
               ("工作量分布（评审数:专家数）" if zh else "load histogram (load:experts) ") + loads]
        avoided = [f"{CONFLICT_REASONS[c][0 if zh else 1]} {n}" for c, n in self.conflicts_avoided.items() if n]
        out.append(("已回避：" if zh else "conflicts avoided: ") + ("；".join(avoided) if avoided else ("无" if zh else "none")))
        for c in self.categories:
            state = ("连通" if zh else "connected") if c.connected else \
                (f"分为 {c.components} 个互不相连的组" if zh else f"{c.components} separate groups")
            if zh:
                out.append(f"{c.category}：{c.covered}/{c.works} 部，{c.experts} 名专家（专家库 {c.pool}），"
                           f"工作量 {c.pool_load_min}–{c.pool_load_max}，{state}，共评专家对 {c.sharing_pairs}，"
                           f"每名专家至少与 {c.co_raters_min} 名其他专家共评" + ("" if c.quotas_exact else "（因回避未能完全均衡）"))
            else:
                out.append(f"{c.category}: {c.covered}/{c.works} works, {c.experts} experts (pool {c.pool}), "
                           f"loads {c.pool_load_min}-{c.pool_load_max}, {state}, {c.sharing_pairs} expert pairs share "
                           f"works, each expert shares works with at least {c.co_raters_min} others"
                           + ("" if c.quotas_exact else " (conflicts prevented exact balance)"))
        return out


def _co_raters(e: np.ndarray, w: np.ndarray) -> tuple[int, np.ndarray]:
    """Distinct pairs of experts sharing a work, and each expert's number of distinct co-raters."""
    if not e.size:
        return 0, np.zeros(0, int)
    order = np.lexsort((e, w))
    e, w = e[order], w[order]
    starts = np.flatnonzero(np.r_[True, w[1:] != w[:-1]])
    sizes = np.diff(np.r_[starts, len(w)])
    a_list, b_list = [], []
    for size in np.unique(sizes):  # works of one size at a time, vectorized
        block = e[(starts[sizes == size][:, None] + np.arange(size)[None, :])]
        i, j = np.triu_indices(size, 1)
        a_list.append(block[:, i].ravel())
        b_list.append(block[:, j].ravel())
    a, b = np.concatenate(a_list), np.concatenate(b_list)
    keys = np.unique(np.minimum(a, b) * (e.max() + 1) + np.maximum(a, b))
    first, second = keys // (e.max() + 1), keys % (e.max() + 1)
    per_expert = np.bincount(np.r_[first, second], minlength=e.max() + 1)[np.unique(e)]
    return len(keys), per_expert


def shared_work_pairs(pairs: Iterable[tuple[Hashable, Hashable]]) -> dict[tuple[Hashable, Hashable], int]:
    """For each pair of experts (in first-seen order) that share works, how many works they share."""
    raters: dict[Hashable, list[Hashable]] = {}
    for expert_id, work_id in pairs:
        raters.setdefault(work_id, []).append(expert_id)
    shared: Counter = Counter()
    for experts in raters.values():
        for i, a in enumerate(experts):
            for b in experts[i + 1:]:
                shared[(a, b)] += 1
    return dict(shared)


def build_report(inst, kept_e: np.ndarray, kept_w: np.ndarray, new_e: np.ndarray, new_w: np.ndarray, *,
                 seed: int, per_work: int, swaps: int, inexact: tuple[str, ...], seconds: float) -> AssignmentReport:
    """The report of a draw over the integer-coded instance of :mod:`.assignment`."""
    all_e, all_w = np.concatenate([kept_e, new_e]), np.concatenate([kept_w, new_w])
    n_e = len(inst.experts)
    per_work_count = np.bincount(all_w, minlength=inst.n_w)
    load = np.bincount(all_e, minlength=n_e)
    free = load < inst.capacity
    in_round = inst.covers.any(axis=0)
    fe, fw = inst.conflicts.keys // inst.n_w, inst.conflicts.keys % inst.n_w
    relevant = inst.covers[inst.work_cat[fw], fe]
    mask = inst.conflicts.mask[relevant]
    avoided = {code: int(np.count_nonzero(mask & (1 << i))) for i, code in enumerate(CONFLICT_REASONS)}
    categories = []
    for c, name in enumerate(inst.categories):
        works = np.flatnonzero(inst.work_cat == c)
        sel = inst.work_cat[all_w] == c
        e, w = all_e[sel], all_w[sel]
        if e.size:
            wu, wi = np.unique(w, return_inverse=True)
            eu, ei = np.unique(e, return_inverse=True)
            graph = sparse.csr_matrix((np.ones(e.size, np.int8), (wi, len(wu) + ei)), shape=(len(wu) + len(eu),) * 2)
            # works without any rater are components of their own
            components = connected_components(graph, directed=False)[0] + len(works) - len(wu)
        else:
            eu, components = np.zeros(0, int), len(works)
        n_pairs, co = _co_raters(e, w)
        pool = inst.covers[c]
        pool_free = pool & free
        loads = load[pool_free] if pool_free.any() else load[pool]
        categories.append(CategoryReport(
            category=name, works=len(works), covered=int(np.count_nonzero(per_work_count[works] >= per_work)),
            experts=len(eu), pool=int(pool.sum()), pool_load_min=int(loads.min()) if loads.size else 0,
            pool_load_max=int(loads.max()) if loads.size else 0, components=int(components),
            sharing_pairs=n_pairs, co_raters_min=int(co.min()) if co.size else 0,
            co_raters_median=float(np.median(co)) if co.size else 0.0, quotas_exact=name not in inexact))
    return AssignmentReport(
        seed=seed, per_work=per_work, works=inst.n_w, covered=int(np.count_nonzero(per_work_count >= per_work)),
        ratings_new=len(new_e), ratings_kept=len(kept_e),
        load_histogram=dict(sorted(Counter(load[in_round].tolist()).items())), conflicts_avoided=avoided,
        categories=tuple(categories), swaps=swaps, seconds=seconds)
