"""What each category's ratings can support, and the method each category is fitted with.

A method's rater parameters are only estimable when the ratings hold them: a rater's bias
needs at least two of their ratings (with one, the bias absorbs the rating, which then says
nothing about the work), a rater's scale use needs several ratings of works that differ, and
rater effects can only be compared within one connected group of raters and works. Before
fitting, :func:`plan_methods` checks every category (:class:`CategorySupport`) and, where the
asked method cannot be estimated, falls back along a stated order (:data:`FALLBACKS`), e.g.
``affine`` -> ``additive_random`` -> ``raw``. Categories are fitted together with the other
categories of the same method, so a rater's ratings in every such category count; a category
that falls back leaves that group, which can make another category fail in turn, so the
checks are repeated until no category moves.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from scoring.graph import components_from_codes
from scoring.panel import Panel

__all__ = ["CategorySupport", "CategoryMethod", "FALLBACKS", "AFFINE_MIN_RATINGS", "PRIOR_MIN_RATERS",
           "ZSCORE_MAX_LOST", "category_support", "plan_methods", "subpanel"]

#: The order in which each asked method falls back when a category cannot support it.
FALLBACKS: dict[str, tuple[str, ...]] = {
    "affine": ("affine", "additive_random", "raw"),
    "additive": ("additive", "additive_random", "raw"),
    "zscore": ("zscore", "raw"),
    "trimmed": ("trimmed",),
    "raw": ("raw",),
}
#: Ratings the typical rater of a category must have given (in the categories fitted with it)
#: for ``affine``: below this a rater's slope is noise and the random-effects additive model
#: ranks better (measured on the simulator, docs/scoring.md "When the data cannot support a method")
AFFINE_MIN_RATINGS = 5
#: Raters with at least three ratings that the affine prior's moment estimates need
PRIOR_MIN_RATERS = 3
#: Share of a category's ratings ``zscore`` may lose (raters with one rating or no spread, whose
#: ratings all map to the panel's mean) before it falls back
ZSCORE_MAX_LOST = 0.2


@dataclass(frozen=True)
class CategorySupport:
    """The checks of one category's ratings, counted in the sub-panel it is fitted with.

    ``typical_ratings_per_rater`` is the median, over the category's ratings, of the number of
    ratings their rater gave (so a rater counts as often as they rated here); "flat" raters gave
    the same score to everything they rated; a work "without a repeat rater" was rated only by
    raters with a single rating.
    """

    category: str
    n_works: int
    n_raters: int
    n_ratings: int
    typical_ratings_per_rater: float
    single_rating_raters: int
    flat_raters: int
    single_rating_works: int
    works_without_repeat_rater: int
    n_components: int
    lost_to_zscore: float
    same_score_everywhere: bool

    def as_dict(self) -> dict:
        """Plain JSON-able numbers."""
        return asdict(self)


@dataclass(frozen=True)
class CategoryMethod:
    """The method a category was fitted with, and why (``code`` "" and ``reason`` "" when as asked)."""

    category: str
    method_used: str
    code: str
    reason: str
    support: CategorySupport
    #: every fall-back's code in order (``code`` is the first: why the asked method was not used)
    codes: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        """``category``, ``method_used``, ``reason``, ``code``, ``codes`` and the checks, JSON-able."""
        return {"category": self.category, "method_used": self.method_used, "reason": self.reason,
                "code": self.code, "codes": list(self.codes), "checks": self.support.as_dict()}


def subpanel(panel: Panel, keep: np.ndarray) -> tuple[Panel, np.ndarray, np.ndarray]:
    """The ratings ``keep`` (a boolean mask) as a panel of their own, with the codes of its works
    and raters in ``panel`` (identifiers stay sorted, so the codes increase)."""
    if keep.all():
        return panel, np.arange(panel.n_works), np.arange(panel.n_raters)
    works, work = np.unique(panel.work[keep], return_inverse=True)
    raters, rater = np.unique(panel.rater[keep], return_inverse=True)
    sub = Panel(panel.work_ids[works], panel.rater_ids[raters], work.astype(np.intp), rater.astype(np.intp),
                panel.score[keep], panel.weight[keep], panel.category[works])
    return sub, works, raters


def _category_codes(panel: Panel) -> tuple[np.ndarray, np.ndarray]:
    names, code = np.unique(panel.category.astype(str), return_inverse=True)
    return names, code.ravel()


def category_support(panel: Panel, *, codes: tuple[np.ndarray, np.ndarray] | None = None
                     ) -> dict[str, CategorySupport]:
    """The checks of every category of ``panel``, counting each rater's ratings in the whole panel.

    ``codes``: the categories' sorted names and each work's code into them, when already known.
    """
    names, work_cat = _category_codes(panel) if codes is None else codes
    rating_cat = work_cat[panel.work]
    n_r = panel.ratings_per_rater()
    n_w = panel.ratings_per_work()
    # a flat rater: no spread around their own mean (sums of squares, no per-rater sort)
    mean_r = np.bincount(panel.rater, panel.score, minlength=panel.n_raters) / np.maximum(n_r, 1)
    ss_r = np.bincount(panel.rater, (panel.score - mean_r[panel.rater]) ** 2, minlength=panel.n_raters)
    flat = (n_r >= 2) & (ss_r <= 1e-20 * n_r * (1.0 + mean_r**2))
    repeat = n_r[panel.rater] >= 2
    work_has_repeat = np.bincount(panel.work, repeat, minlength=panel.n_works) > 0
    comp = components_from_codes(panel.work, panel.rater, panel.n_works, panel.n_raters).work_component
    # the ratings grouped by category once (a stable sort), then one slice per category
    order = np.argsort(rating_cat, kind="stable")
    bounds = np.searchsorted(rating_cat[order], np.arange(names.size + 1))
    work_order = np.argsort(work_cat, kind="stable")
    work_bounds = np.searchsorted(work_cat[work_order], np.arange(names.size + 1))
    out = {}
    for index, name in enumerate(names.tolist()):
        rows = order[bounds[index]:bounds[index + 1]]
        works = work_order[work_bounds[index]:work_bounds[index + 1]]
        rater_of = panel.rater[rows]
        raters = np.bincount(rater_of, minlength=panel.n_raters) > 0
        counts = n_r[rater_of]
        lost = (counts < 2) | flat[rater_of]
        scores = panel.score[rows]
        out[name] = CategorySupport(
            category=name, n_works=int(works.size), n_raters=int(raters.sum()), n_ratings=int(rows.size),
            typical_ratings_per_rater=float(np.median(counts)), single_rating_raters=int(np.sum(raters & (n_r == 1))),
            flat_raters=int(np.sum(raters & flat)), single_rating_works=int(np.sum(n_w[works] == 1)),
            works_without_repeat_rater=int(np.sum(~work_has_repeat[works])),
            n_components=int(np.unique(comp[works]).size), lost_to_zscore=float(np.mean(lost)),
            same_score_everywhere=bool(np.ptp(scores) == 0))
    return out


def _rater_effects_estimable(method: str, s: CategorySupport, group: Panel, per_rater: np.ndarray
                             ) -> tuple[str, str]:
    """("", "") when ``method`` can be estimated on this category, else (code, reason).

    ``per_rater``: the ratings of each rater of ``group``.
    """
    if group.n_raters < 2:
        return "one_rater", "only one rater: no rater effect can be estimated"
    if s.same_score_everywhere:
        return "no_spread", "every rating in the category is the same score: there is nothing to separate"
    if method in ("affine", "additive") and s.n_components > 1:
        return "disconnected", (f"the category's works fall into {s.n_components} groups that no rater links: "
                                "rater effects cannot put them on one scale")
    if method == "affine":
        if s.typical_ratings_per_rater < AFFINE_MIN_RATINGS:
            return "few_ratings_per_rater", (
                f"the typical rater gave {s.typical_ratings_per_rater:g} rating(s); a rater's scale use needs "
                f"at least {AFFINE_MIN_RATINGS}")
        if int(np.sum(per_rater >= 3)) < PRIOR_MIN_RATERS:
            return "few_ratings_per_rater", (f"fewer than {PRIOR_MIN_RATERS} raters gave three or more ratings: "
                                             "the spread of the raters' effects cannot be estimated")
    # (a work rated only by raters with a single rating is a group of its own: "disconnected" above)
    if method == "additive" and s.typical_ratings_per_rater < 2:
        return "single_rating_raters", ("most ratings come from raters with a single rating, whose bias "
                                         "absorbs the whole rating")
    if method == "zscore" and s.lost_to_zscore > ZSCORE_MAX_LOST:
        return "single_rating_raters", (
            f"{s.lost_to_zscore:.0%} of the ratings come from raters with one rating or no spread, whose "
            "ratings cannot be standardized")
    if method == "additive_random" and int(np.sum(per_rater >= 2)) == 0:
        return "single_rating_raters", "no rater gave two ratings: the raters' spread cannot be estimated"
    return "", ""


def plan_methods(panel: Panel, method: str, *, rater_variance=None) -> list[CategoryMethod]:
    """The method each category of ``panel`` is fitted with when ``method`` is asked, and why.

    ``rater_variance(sub_panel) -> (rater variance, noise variance)`` estimates the random
    rater effects of ``additive_random``; a category group whose estimated rater variance is
    not positive falls back to ``raw`` (the ratings show no rater effects to remove).
    """
    try:
        chain = FALLBACKS[method]
    except KeyError:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(FALLBACKS)}") from None
    names, work_cat = _category_codes(panel)
    rating_cat = work_cat[panel.work]
    level = np.zeros(names.size, dtype=np.intp)
    codes: list[list[str]] = [[] for _ in range(names.size)]
    reasons = [""] * names.size
    support: dict[str, CategorySupport] = {}
    changed = True
    while changed:
        changed = False
        for step, name in enumerate(chain):
            members = np.flatnonzero(level == step)
            if members.size == 0:
                continue
            keep = np.isin(rating_cat, members)
            group, works, _ = subpanel(panel, keep)
            checks = category_support(group, codes=(names, work_cat[works]) if keep.all() else None)
            per_rater = group.ratings_per_rater()
            support.update(checks)
            failed = {}
            if step < len(chain) - 1:
                failed = {i: _rater_effects_estimable(name, checks[str(names[i])], group, per_rater)
                          for i in members}
                failed = {i: why for i, why in failed.items() if why[0]}
                if name == "additive_random" and rater_variance is not None and len(failed) < members.size:
                    kept = np.array([i for i in members if i not in failed])
                    tau2, _ = rater_variance(subpanel(panel, np.isin(rating_cat, kept))[0])
                    if not tau2 > 0:
                        failed.update({i: ("no_rater_effects", "the ratings show no differences between raters "
                                           "beyond noise (estimated rater variance 0)") for i in kept})
            for i, (code, why) in failed.items():
                level[i] += 1
                codes[i].append(code)
                reasons[i] = f"{reasons[i]}; {name}: {why}" if reasons[i] else f"{name}: {why}"
                changed = True
            if changed:
                break  # re-check from the top: the groups have changed
    return [CategoryMethod(str(names[i]), chain[level[i]], codes[i][0] if codes[i] else "",
                           f"{reasons[i]}; fitted with {chain[level[i]]}" if reasons[i] else "",
                           support[str(names[i])], tuple(codes[i]))
            for i in range(names.size)]
