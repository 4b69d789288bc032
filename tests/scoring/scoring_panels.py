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
