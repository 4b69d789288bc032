"""Synthetic panels shared by the numeric-core tests (a plain module: 'conftest' is ambiguous across test folders)."""

from __future__ import annotations

import numpy as np


def biased_panel(seed: int = 0, n_works: int = 120, n_raters: int = 24, per_work: int = 4,
                 bias_sd: float = 0.8, noise_sd: float = 0.5, n_categories: int = 3):
    """Incomplete connected design: y = 6 + q_work + b_rater + e, with the truth returned."""
    rng = np.random.default_rng(seed)
    quality = rng.normal(0, 1, n_works)
    bias = rng.normal(0, bias_sd, n_raters)
    work = np.repeat(np.arange(n_works), per_work)
    rater = np.concatenate([rng.choice(n_raters, per_work, replace=False) for _ in range(n_works)])
    score = 6 + quality[work] + bias[rater] + rng.normal(0, noise_sd, work.size)
    category = (work % n_categories).astype(str)
    return work, rater, score, category, quality, bias


def random_panel(seed: int, *, wild: float = 0.0, split: bool = False):
    """Uneven incomplete design (1 to 8 ratings a work), affine raters, confidence weights,
    several categories, optionally wild taps at 0 and 10 and two disconnected components."""
    rng = np.random.default_rng(seed)
    n_works, n_raters = int(rng.integers(40, 90)), int(rng.integers(8, 20))
    quality = rng.normal(0, 1, n_works)
    bias, scale = rng.normal(0, 0.7, n_raters), np.exp(rng.normal(0, 0.3, n_raters))
    half = n_raters // 2
    work, rater = [], []
    for w in range(n_works):
        pool = (np.arange(half) if w % 2 == 0 else np.arange(half, n_raters)) if split else np.arange(n_raters)
        k = int(rng.integers(1, min(8, pool.size) + 1))
        chosen = rng.choice(pool, k, replace=False)
        work += [w] * k
        rater += chosen.tolist()
    work, rater = np.array(work), np.array(rater)
    score = np.clip(6 + scale[rater] * quality[work] + bias[rater] + rng.normal(0, 0.6, work.size), 0, 10)
    if wild:
        hit = rng.random(work.size) < wild
        score[hit] = rng.choice([0.0, 10.0], int(hit.sum()))
    conf = rng.uniform(0.5, 2.0, work.size)
    category = np.array(["剧", "电影", "动画"])[work % 3]
    order = rng.permutation(work.size)
    return work[order], rater[order], score[order], conf[order], category[order]
