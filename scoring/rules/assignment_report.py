"""What a draw produced, for the secretariat and the audit log: coverage, loads, conflicts
avoided, connectivity and co-rating per category, how well each category's design lets the
model estimate rater effects (:func:`design_figures`), and the seed that reproduces it."""
from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from .assignment_panel import PanelDesign
from .conflicts import CONFLICT_REASONS

__all__ = ["CategoryReport", "AssignmentReport", "DesignFigures", "build_report", "design_figures",
           "shared_work_pairs", "DESIGN_LABELS", "DESIGN_SHORT"]

#: Above this many works (or raters) in a category the pair counts and the efficiency factors are
#: not computed (their matrices grow with the square; such categories are drawn sparsely anyway).
FIGURES_LIMIT = 400
#: design code -> (中文, English)
DESIGN_LABELS = {
    "complete": ("完全设计（每名专家评审该类全部作品）", "complete (every expert rates every work)"),
    "balanced": ("平衡不完全区组设计（任意两部作品的共评专家数相同）", "balanced incomplete block design (every pair of works shares the same number of experts)"),
    "near_balanced": ("近似平衡设计（任意两部作品的共评专家数至多相差 1）", "near-balanced (pairs of works share numbers of experts differing by at most one)"),
    "incomplete": ("不完全设计", "incomplete"),
    "none": ("尚无分配", "no assignments"),
}
#: the same, short, for tables (the long form goes in the cell's title)
DESIGN_SHORT = {"complete": ("完全设计", "complete"), "balanced": ("平衡不完全区组设计", "BIBD"),
                "near_balanced": ("近似平衡", "near-balanced"), "incomplete": ("不完全", "incomplete"),
                "none": ("尚无分配", "none")}


@dataclass(frozen=True)
class DesignFigures:
    """How well a category's rater–work design lets the model estimate rater effects.

    ``efficiency`` is the A-efficiency factor of comparisons between works under the additive
    model y = mu + q_work + b_rater + e: the average variance of q_i − q_j in a design where
    every work has all of its raters' ratings, divided by this design's (1 for a complete
    design, λv/(rk) for a BIBD; John & Williams, *Cyclic and Computer Generated Designs*, 1995,
    §2.3). ``rater_se`` is the standard error of the difference of two raters' biases, averaged
    over pairs, in units of the residual SD (sqrt(2/v) for a complete design over v works).
    Both are ``None`` when the graph is not connected (differences across its parts are not
    estimable) or the category is larger than ``FIGURES_LIMIT``.
    """

    design: str  # a key of DESIGN_LABELS
    ratings_per_rater_min: int
    ratings_per_rater_median: float
    ratings_per_rater_max: int
    single_rating_raters: int  # raters with one rating here: their bias rests on that one rating
    pair_min: int | None  # fewest raters shared by two works of the category (λ)
    pair_max: int | None
    efficiency: float | None
    rater_se: float | None


def _trace_pinv(matrix: np.ndarray) -> tuple[float, int]:
    """Trace of the Moore–Penrose inverse of a symmetric PSD matrix, and its number of zero eigenvalues."""
    values = np.linalg.eigvalsh(matrix)
    tol = max(float(values.max()), 1.0) * 1e-9 * matrix.shape[0]
    positive = values[values > tol]
    return float(np.sum(1.0 / positive)), int(values.size - positive.size)


def design_figures(experts: np.ndarray, works: np.ndarray, n_works: int) -> DesignFigures:
    """The figures of one category from its (expert, work) pairs; ``n_works`` counts works without raters too."""
    experts, works = np.asarray(experts), np.asarray(works)
    if not experts.size:
        return DesignFigures("none", 0, 0.0, 0, 0, None, None, None, None)
    eu, ei = np.unique(experts, return_inverse=True)
    wu, wi = np.unique(works, return_inverse=True)
    per_rater = np.bincount(ei, minlength=eu.size)
    small = n_works <= FIGURES_LIMIT and eu.size <= FIGURES_LIMIT
    pair_min = pair_max = efficiency = rater_se = None
    design = "incomplete"
    if wu.size == n_works and np.all(per_rater == n_works):
        design = "complete"
    if small:
        incidence = np.zeros((n_works, eu.size), np.int64)
        incidence[wi, ei] = 1  # works without raters are the last rows (all zero)
        lam = incidence @ incidence.T
        upper = lam[np.triu_indices(n_works, 1)]
        if upper.size:
            pair_min, pair_max = int(upper.min()), int(upper.max())
        reps = incidence.sum(axis=1)
        if design != "complete" and upper.size and pair_min == pair_max and len(set(per_rater.tolist())) == 1 \
                and len(set(reps.tolist())) == 1 and pair_min > 0:
            design = "balanced"
        elif design != "complete" and upper.size and pair_max - pair_min <= 1 and pair_min > 0:
            design = "near_balanced"
        covered = reps > 0
        if covered.all() and wu.size >= 2 and eu.size >= 2:
            n = incidence.astype(float)
            c_matrix = np.diag(reps.astype(float)) - (n / per_rater) @ n.T
            d_matrix = np.diag(per_rater.astype(float)) - (n.T / reps) @ n
            trace_c, zeros_c = _trace_pinv(c_matrix)
            trace_d, zeros_d = _trace_pinv(d_matrix)
            if zeros_c == 1 and zeros_d == 1:  # connected: only the overall mean is not estimable
                efficiency = round(float((n_works - 1) / (reps.mean() * trace_c)), 4)
                rater_se = round(float(np.sqrt(2 * trace_d / (eu.size - 1))), 4)
    return DesignFigures(design, int(per_rater.min()), float(np.median(per_rater)), int(per_rater.max()),
                         int(np.count_nonzero(per_rater == 1)), pair_min, pair_max, efficiency, rater_se)


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
    figures: DesignFigures
    panel: PanelDesign | None = None  # the small-category panel this draw built, if any

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
    small_category_max: int = 0  # categories with at most this many works got panels
    panels_dropped: bool = False  # panels would have left other categories short: drawn sparsely instead

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
        if self.panels_dropped:
            out.append("小类别专家组会挤占其他类别所需的容量，本次全部按常规方式抽取" if zh else
                       "panels for the small categories would leave other categories short: every category was drawn sparsely")
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
            out.append(design_line(c.category, c.figures, c.panel, lang))
        return out


def _num(value, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def design_line(category: str, f: DesignFigures, panel: PanelDesign | None, lang: str = "zh") -> str:
    """One line on how well a category's design lets the model estimate rater effects."""
    zh = lang == "zh"
    label = DESIGN_LABELS[f.design][0 if zh else 1]
    pairs = "–" if f.pair_min is None else (str(f.pair_min) if f.pair_min == f.pair_max else f"{f.pair_min}–{f.pair_max}")
    median = f"{f.ratings_per_rater_median:g}"
    if zh:
        line = (f"{category} 设计：{label}；每名专家评审 {f.ratings_per_rater_min}–{f.ratings_per_rater_max} 部"
                f"（中位数 {median}），仅评 1 部的专家 {f.single_rating_raters} 名；两部作品共有评审专家 {pairs} 名；"
                f"作品比较效率 {_num(f.efficiency)}；两名专家偏差之差的标准误 {_num(f.rater_se)}σ")
        if panel is not None:
            line += f"（小类别专家组 {panel.experts} 人" + (f"，{panel.conflicted} 名专家因回避未入选" if panel.conflicted else "") + "）"
        return line
    line = (f"{category} design: {label}; ratings per expert {f.ratings_per_rater_min}-{f.ratings_per_rater_max} "
            f"(median {median}), {f.single_rating_raters} with a single rating; two works share {pairs} experts; "
            f"efficiency of work comparisons {_num(f.efficiency)}; SE of the difference of two experts' biases "
            f"{_num(f.rater_se)} sigma")
    if panel is not None:
        line += f" (small-category panel of {panel.experts}" + \
            (f"; {panel.conflicted} experts with a conflict left off" if panel.conflicted else "") + ")"
    return line


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
                 seed: int, per_work: int, swaps: int, inexact: tuple[str, ...], seconds: float,
                 panels: dict[str, PanelDesign] | None = None, small_category_max: int = 0,
                 panels_dropped: bool = False) -> AssignmentReport:
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
            co_raters_median=float(np.median(co)) if co.size else 0.0, quotas_exact=name not in inexact,
            figures=design_figures(e, w, len(works)), panel=(panels or {}).get(name)))
    return AssignmentReport(
        seed=seed, per_work=per_work, works=inst.n_w, covered=int(np.count_nonzero(per_work_count >= per_work)),
        ratings_new=len(new_e), ratings_kept=len(kept_e),
        load_histogram=dict(sorted(Counter(load[in_round].tolist()).items())), conflicts_avoided=avoided,
        categories=tuple(categories), swaps=swaps, seconds=seconds, small_category_max=small_category_max,
        panels_dropped=panels_dropped)
