"""Simulated panels with known truth, to measure every method against an oracle.

A scenario draws true work quality (with category strength offsets), raters with a
severity (bias) and a scale use, Gaussian noise, and an incomplete assignment in which each
rater covers a few categories. The oracle knows every rater's true bias and scale; it
shows how well any method could do with the same noisy ratings.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field, replace

import numpy as np
from scipy import stats

from scoring.normalize import METHODS

__all__ = ["Scenario", "SimulatedPanel", "MethodScore", "simulate_panel", "oracle_scores",
           "top_recall", "evaluate", "SCENARIOS"]


@dataclass(frozen=True)
class Scenario:
    """Parameters of a simulated panel (defaults: the reference scenario of docs/scoring.md)."""

    name: str = "reference"
    n_works: int = 600
    n_categories: int = 6
    n_raters: int = 60
    categories_per_rater: int = 2
    ratings_per_work: int = 4
    quality_sd: float = 1.0
    bias_sd: float = 0.8
    log_scale_sd: float = 0.25
    noise_sd: float = 0.8
    category_offset_sd: float = 0.0
    contamination: float = 0.0
    centre: float = 6.0
    wild_score: float = 0.0
    category_weights: tuple[float, ...] | None = None
    wild_both_ends: bool = False
    scale_min: float = 0.0
    scale_max: float = 10.0
    criteria_weights: tuple[float, ...] | None = None
    criterion_noise_sd: float = 0.5
    #: with a value, each work gets between ``ratings_per_work`` and this many ratings (uniform)
    ratings_per_work_max: int | None = None


@dataclass
class SimulatedPanel:
    """Long-form ratings plus the truth that produced them."""

    work_id: np.ndarray
    rater_id: np.ndarray
    score: np.ndarray
    category: np.ndarray
    work_category: np.ndarray
    quality: np.ndarray
    rater_bias: np.ndarray
    rater_scale: np.ndarray
    wild: np.ndarray
    centre: float
    clean_score: np.ndarray | None = None


@dataclass
class MethodScore:
    """Mean (and sd over seeds) of the accuracy measures of one method in one scenario."""

    method: str
    recall: float
    recall_sd: float
    recall_vs_oracle: float
    tau: float
    tau_vs_oracle: float
    per_seed_recall: list[float] = field(default_factory=list)


def simulate_panel(scenario: Scenario, *, rng: np.random.Generator) -> SimulatedPanel:
    """Draw one panel from ``scenario``.

    Parameters
    ----------
    scenario : Scenario
    rng : numpy.random.Generator

    Returns
    -------
    SimulatedPanel

    Notes
    -----
    y = centre + a_rater * q_work + b_rater + e with q ~ N(offset_category, quality_sd),
    b ~ N(0, bias_sd), log a ~ N(0, log_scale_sd), e ~ N(0, noise_sd); a share
    ``contamination`` of ratings is replaced by ``wild_score`` (a careless 0), or with ``wild_both_ends``
    by ``scale_min`` or ``scale_max`` at random (a careless tap, a hostile rater). With
    ``criteria_weights`` each rating is the weighted mean of that many criteria, each the
    rater's impression plus N(0, criterion_noise_sd), rounded to whole points and clipped
    to [scale_min, scale_max] (so raters who use a wide scale hit its ends). Works are
    spread evenly over the categories, or in proportion to ``category_weights``. Rater r's
    first category is r mod C and the others are offset by 1 + (r div C + j) mod (C - 1),
    so every pair of categories shares raters and the rater-work graph is connected. Works go to the least-loaded raters of their
    category (random tie-break).

    Examples
    --------
    >>> p = simulate_panel(Scenario(n_works=60, n_raters=24), rng=np.random.default_rng(0))
    >>> len(p.score), len(set(p.rater_id.tolist()))
    (240, 24)
    """
    s = scenario
    c_n, r_n = s.n_categories, s.n_raters
    if s.categories_per_rater > c_n:
        raise ValueError("categories_per_rater exceeds n_categories")
    covers = np.zeros((r_n, c_n), dtype=bool)
    for r in range(r_n):
        primary = r % c_n
        covers[r, primary] = True
        for j in range(s.categories_per_rater - 1):
            covers[r, (primary + 1 + (r // c_n + j) % (c_n - 1)) % c_n] = True
    offsets = np.zeros(c_n)
    if s.category_offset_sd > 0 and c_n > 1:
        grid = np.linspace(-1, 1, c_n)
        offsets = s.category_offset_sd * grid / grid.std()
    if s.category_weights is None:
        work_category = np.arange(s.n_works) % c_n
    else:
        if len(s.category_weights) != c_n or min(s.category_weights) <= 0:
            raise ValueError("category_weights must give one positive weight per category")
        share = np.asarray(s.category_weights, dtype=float) / sum(s.category_weights)
        sizes = np.maximum(1, np.floor(share * s.n_works)).astype(int)
        sizes[np.argmax(sizes)] += s.n_works - sizes.sum()
        work_category = np.repeat(np.arange(c_n), sizes)
    quality = offsets[work_category] + rng.normal(0, s.quality_sd, s.n_works)
    bias = rng.normal(0, s.bias_sd, r_n)
    scale = np.exp(rng.normal(0, s.log_scale_sd, r_n))
    load = np.zeros(r_n)
    works, raters = [], []
    if s.ratings_per_work_max is None:
        per_work = np.full(s.n_works, s.ratings_per_work)
    else:
        if s.ratings_per_work_max < s.ratings_per_work:
            raise ValueError("ratings_per_work_max is below ratings_per_work")
        per_work = rng.integers(s.ratings_per_work, s.ratings_per_work_max + 1, s.n_works)
    for w in rng.permutation(s.n_works):
        pool = np.flatnonzero(covers[:, work_category[w]])
        if len(pool) < per_work[w]:
            raise ValueError(f"category {work_category[w]} has {len(pool)} raters for {per_work[w]} ratings per work")
        keys = load[pool] + rng.random(len(pool)) * 0.5
        chosen = pool[np.argsort(keys)[: per_work[w]]]
        load[chosen] += 1
        works.extend([w] * len(chosen))
        raters.extend(chosen.tolist())
    work = np.array(works)
    rater = np.array(raters)
    y = s.centre + scale[rater] * quality[work] + bias[rater] + rng.normal(0, s.noise_sd, len(work))
    if s.criteria_weights is not None:
        # long-form criteria: each criterion is the rater's impression plus its own noise,
        # rounded to whole points and clipped to the scale; the rating is their weighted mean
        cw = np.asarray(s.criteria_weights, dtype=float) / sum(s.criteria_weights)
        crit = y[:, None] + rng.normal(0, s.criterion_noise_sd, (len(y), cw.size))
        y = np.round(np.clip(np.round(crit), s.scale_min, s.scale_max) @ cw, 10)
    wild = rng.random(len(work)) < s.contamination
    clean = y
    if s.wild_both_ends:
        wild_value = np.where(rng.random(len(work)) < 0.5, s.scale_min, s.scale_max)
    else:
        wild_value = s.wild_score
    y = np.where(wild, wild_value, y)
    return SimulatedPanel(work, rater, y, work_category[work], work_category, quality, bias, scale, wild, s.centre,
                          clean_score=clean)


def oracle_scores(panel: SimulatedPanel, *, clean: bool = True) -> np.ndarray:
    """Best estimate of each work's quality knowing every rater's true bias and scale.

    With ``clean=True`` (the default) the oracle also sees the ratings as they were before
    wild scores replaced some of them: the *clean oracle*, the bar for robust methods.
    """
    a = panel.rater_scale[panel.rater_id]
    y = panel.clean_score if clean and panel.clean_score is not None else panel.score
    adjusted = y - panel.centre - panel.rater_bias[panel.rater_id]
    n = len(panel.quality)
    return np.bincount(panel.work_id, a * adjusted, minlength=n) / np.bincount(panel.work_id, a * a, minlength=n)


def top_recall(estimate: np.ndarray, reference: np.ndarray, category: np.ndarray, share: float = 0.1) -> float:
    """Mean over categories of |estimated top share ∩ reference top share| / size of the top share."""
    recalls = []
    for c in np.unique(category):
        idx = np.flatnonzero(category == c)
        k = max(1, int(np.ceil(share * idx.size)))
        top_est = idx[np.argsort(-estimate[idx], kind="stable")[:k]]
        top_ref = idx[np.argsort(-reference[idx], kind="stable")[:k]]
        recalls.append(np.intersect1d(top_est, top_ref).size / k)
    return float(np.mean(recalls))


def _tau(estimate: np.ndarray, reference: np.ndarray, category: np.ndarray) -> float:
    return float(np.mean([stats.kendalltau(estimate[category == c], reference[category == c])[0]
                          for c in np.unique(category)]))


def evaluate(scenario: Scenario, *, methods=None, seeds=range(20), options=None) -> list[MethodScore]:
    """Accuracy of each method (and the oracle) over several seeded panels.

    Parameters
    ----------
    scenario : Scenario
    methods : iterable of str, optional
        Keys of :data:`scoring.normalize.METHODS`; default all.
    seeds : iterable of int, default range(20)
        Each seed gives one ``numpy.random.default_rng(seed)`` panel.
    options : dict, optional
        ``method -> dict`` of keyword options for that method.

    Returns
    -------
    list of MethodScore
        One per method, then ``"oracle"``: top-10% recall per category and Kendall's tau
        within category, against the truth and against the oracle.

    Notes
    -----
    Recall of the top 10% is what a shortlist needs; Kendall's tau (Kendall 1938,
    *Biometrika* 30:81-93) measures the whole order.

    References
    ----------
    .. [1] Kendall, M. G. (1938). A new measure of rank correlation. *Biometrika*, 30, 81-93.

    Examples
    --------
    >>> out = evaluate(Scenario(n_works=120, n_raters=24), methods=["raw"], seeds=[0])
    >>> [m.method for m in out]
    ['raw', 'oracle']
    """
    methods = list(METHODS) if methods is None else list(methods)
    options = options or {}
    acc: dict[str, list[tuple[float, float, float, float]]] = {m: [] for m in [*methods, "oracle"]}
    for seed in seeds:
        panel = simulate_panel(scenario, rng=np.random.default_rng(seed))
        oracle = oracle_scores(panel)
        cats = panel.work_category
        estimates = {"oracle": oracle}
        for m in methods:
            # categories as tuiyou analyze passes them (methods may use them, e.g. to shrink within
            # category), and the scale's ends to a method that looks for wild taps there
            extra = dict(options.get(m, {}))
            if "wild_ends" in inspect.signature(METHODS[m]).parameters:
                extra.setdefault("wild_ends", (scenario.scale_min, scenario.scale_max))
            estimates[m] = METHODS[m](panel.work_id, panel.rater_id, panel.score, categories=panel.category,
                                      **extra).score
        for m, est in estimates.items():
            acc[m].append((top_recall(est, panel.quality, cats), top_recall(est, oracle, cats),
                           _tau(est, panel.quality, cats), _tau(est, oracle, cats)))
    out = []
    for m, rows in acc.items():
        arr = np.array(rows)
        out.append(MethodScore(m, float(arr[:, 0].mean()), float(arr[:, 0].std()), float(arr[:, 1].mean()),
                               float(arr[:, 2].mean()), float(arr[:, 3].mean()), arr[:, 0].tolist()))
    return out


_REF = Scenario()
SCENARIOS: dict[str, Scenario] = {
    "reference": _REF,
    "no rater effects": replace(_REF, name="no rater effects", bias_sd=0.0, log_scale_sd=0.0),
    "wide scale use": replace(_REF, name="wide scale use", log_scale_sd=0.5),
    "strong categories": replace(_REF, name="strong categories", category_offset_sd=1.0),
    "3 ratings per work": replace(_REF, name="3 ratings per work", ratings_per_work=3),
    "7 ratings per work": replace(_REF, name="7 ratings per work", ratings_per_work=7),
    "few ratings per rater": replace(_REF, name="few ratings per rater", n_raters=240),
    "5% wild scores": replace(_REF, name="5% wild scores", contamination=0.05),
    "5% wild scores (0 or 10)": replace(_REF, name="5% wild scores (0 or 10)", contamination=0.05,
                                        wild_both_ends=True),
    # a national quarter: 300 works in 11 unequal categories, 25 experts covering 3 each,
    # 3 ratings a work (36 per expert), scale use varying widely (some use only part of it)
    "sparse national quarter": replace(
        _REF, name="sparse national quarter", n_works=300, n_categories=11, n_raters=25,
        categories_per_rater=3, ratings_per_work=3, log_scale_sd=0.5,
        category_weights=(8, 6, 5, 4, 3, 3, 2, 2, 1.5, 1.5, 1)),
    # harder: 34 ratings per expert, scale use sd 0.6 (a rater at -1 sd uses half the spread of
    # one at +1 sd), four weighted criteria rounded to whole points and clipped to 0-10
    "sparse quarter, criteria": replace(
        _REF, name="sparse quarter, criteria", n_works=280, n_categories=11, n_raters=25,
        categories_per_rater=3, ratings_per_work=3, log_scale_sd=0.6, noise_sd=0.6,
        criteria_weights=(0.4, 0.3, 0.2, 0.1), criterion_noise_sd=0.6,
        category_weights=(8, 6, 5, 4, 3, 3, 2, 2, 1.5, 1.5, 1)),
    # shaped like the dissemination-case round (issue 22): four small categories of 6, 8, 10 and 12
    # items, each with its own experts (31 a category), 5-9 ratings an item, so each expert rates
    # one to three items: too few ratings a rater for fixed rater effects
    "cases round": replace(
        _REF, name="cases round", n_works=36, n_categories=4, n_raters=124, categories_per_rater=1,
        ratings_per_work=5, ratings_per_work_max=9, category_weights=(6, 8, 10, 12)),
}
