"""Property tests over panel shapes (issue 22 item 3): every method, as the product runs it.

Shapes: one rater; one work per category; every score equal; one rating per rater; a
disconnected rater-work graph; a category with a single rater; raters on a 0-100 scale; 2-3
weighted criteria (long form). For each method (raw, trimmed, zscore, additive, affine) through
``normalize`` (the per-category checks and fall-backs) and the ranking: every reported number
finite and on the scale or nan where not estimable, bands that contain the rank, probabilities
in [0, 1] that agree with the bands, the method used set for every category, and the same
result for any order of the rows.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring.normalize import METHODS, normalize
from scoring.ranking import rank_within_category
from scoring.report import on_scale, spread_on_scale
from scoring.support import FALLBACKS
from scoring.totals import CriterionScale, weighted_totals
from web.review.rankings import p_above

SHAPES = ("one rater", "one work per category", "every score equal", "one rating per rater", "disconnected",
          "category with a single rater", "0-100 scale", "criteria", "ordinary")
QUICK = settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def panels(draw):
    """(work, rater, score, category, (low, high), shape) for one of :data:`SHAPES`."""
    shape = draw(st.sampled_from(SHAPES))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n_cat = 1 if shape == "one rater" else draw(st.integers(1, 3))
    sizes = [1] * n_cat if shape == "one work per category" else [draw(st.integers(1, 7)) for _ in range(n_cat)]
    n_raters = 1 if shape == "one rater" else draw(st.integers(2, 9))
    per_work = 1 if shape in ("one rater", "one rating per rater") else draw(st.integers(1, min(n_raters, 5)))
    low, high, step = (0.0, 100.0, 1.0) if shape == "0-100 scale" else (0.0, 10.0, 0.5)
    bias = rng.normal(0, 0.08 * (high - low), max(n_raters, 64))
    work, rater, category, score = [], [], [], []
    next_rater = 0
    for c, size in enumerate(sizes):
        for i in range(size):
            w = f"c{c}w{i}"
            quality = low + (high - low) * rng.uniform(0.3, 0.9)
            if shape == "one rating per rater":
                raters = [next_rater]
                next_rater += 1
            elif shape == "category with a single rater" and c == 0:
                raters = [0]
            elif shape == "disconnected":
                half = max(n_raters // 2, 1)
                block = np.arange(half) if i % 2 == 0 else np.arange(half, n_raters)
                raters = rng.choice(block, min(per_work, block.size), replace=False).tolist()
            else:
                raters = rng.choice(n_raters, per_work, replace=False).tolist()
            for r in raters:
                value = quality + bias[r % bias.size] + rng.normal(0, 0.06 * (high - low))
                work.append(w), rater.append(f"r{r}"), category.append(f"cat{c}")
                score.append(float(np.clip(np.round(value / step) * step, low, high)))
    score = np.array(score)
    if shape == "every score equal":
        score[:] = draw(st.sampled_from([0.0, 6.5, 10.0]))
    if shape == "criteria":
        weights = draw(st.lists(st.floats(0.1, 1.0), min_size=2, max_size=3))
        scales = [CriterionScale(f"k{i}", low, high, step, w) for i, w in enumerate(weights)]
        rows = [(w, r, s.key, float(np.clip(np.round((v + rng.normal(0, 1)) / step) * step, low, high)), c)
                for w, r, v, c in zip(work, rater, score, category) for s in scales]
        w_, r_, k_, v_, c_ = map(list, zip(*rows))
        totals = weighted_totals(w_, r_, k_, v_, scales=scales)
        cat_of = dict(zip(w_, c_))
        work, rater, score = totals.work_id.tolist(), totals.rater_id.tolist(), totals.total
        category = [cat_of[w] for w in work]
        low, high = totals.scale_min, totals.scale_max
    return np.array(work), np.array(rater), np.asarray(score, dtype=float), np.array(category), (low, high), shape


def report(work, rater, score, category, scale, method, seed=0):
    """What a chair or `tuiyou analyze` is shown, as arrays: the fit, the ranking, the probabilities."""
    res = normalize(work, rater, score, method=method, categories=category, scale_ends=scale)
    low, high = scale
    centre, spread = (res.unshrunk_score, res.unshrunk_se) if res.unshrunk_score is not None else (res.score, res.se)
    cats = res.category.astype(str)
    sizes = {c: int(np.sum(cats == c)) for c in set(cats.tolist())}
    # a cut per category, as the shortlist's slots give it (0 .. the whole category)
    cut = np.array([(sum(map(ord, c)) * 7) % (sizes[c] + 1) for c in cats], dtype=np.int64)
    ranking = rank_within_category(centre, spread, cats, rng=np.random.default_rng(seed), n_draws=200,
                                   rank_score=res.score if res.unshrunk_score is not None else None, top_k=cut)
    return res, {
        "score": on_scale(res.score, low, high), "se": spread_on_scale(res.se, low, high), "rank": ranking.rank,
        "rank_low": ranking.rank_low, "rank_high": ranking.rank_high, "p": ranking.p_top_k, "cut": cut,
        "size": np.array([sizes[c] for c in cats]), "p_bar": p_above(res.score, res.se, (low + high) / 2),
    }


def check(res, out, method, scale, n_categories):
    low, high = scale
    assert np.all(np.isfinite(out["score"])) and np.all((low <= out["score"]) & (out["score"] <= high))
    se = out["se"]
    assert np.all(np.isnan(se) | ((se > 0) & (se <= high - low)))
    assert np.all(np.isfinite(res.score)) and np.all(np.isfinite(res.raters.scale)) and np.all(res.raters.scale > 0)
    r = res.raters
    assert np.all(np.isnan(r.bias_se) | (np.isfinite(r.bias_se) & (r.bias_se > 0)))
    assert np.all(np.isnan(r.residual_sd) | (np.isfinite(r.residual_sd) & (r.residual_sd >= 0)))
    assert np.all(np.isfinite(r.bias))
    # bands contain the rank and stay within the category
    assert np.all((1 <= out["rank_low"]) & (out["rank_low"] <= out["rank"]) & (out["rank"] <= out["rank_high"])
                  & (out["rank_high"] <= out["size"]))
    # probabilities in [0, 1], nan exactly where no standard error leaves them unknown
    p = out["p"]
    unknown = np.isnan(out["se"]) & (out["cut"] < out["size"])
    assert np.array_equal(np.isnan(p), unknown)
    known = ~np.isnan(p)
    assert np.all((0 <= p[known]) & (p[known] <= 1))
    above, below = known & (out["rank_high"] <= out["cut"]), known & (out["rank_low"] > out["cut"])
    assert np.all(p[above] >= 0.95) and np.all(p[below] <= 0.05)
    bar_known = ~np.isnan(out["p_bar"])
    assert np.array_equal(bar_known, ~np.isnan(res.se))
    assert np.all((0 <= out["p_bar"][bar_known]) & (out["p_bar"][bar_known] <= 1))
    # the method used, and why, for every category
    assert len(res.categories) == n_categories
    for c in res.categories:
        assert c.method_used in FALLBACKS[method]
        assert (c.method_used == method) == (c.code == "") == (c.reason == "")


@pytest.mark.parametrize("method", sorted(METHODS))
@QUICK
@given(panel=panels(), order_seed=st.integers(0, 2**16))
def test_every_panel_shape_gives_an_honest_report_whatever_the_row_order(method, panel, order_seed):
    work, rater, score, category, scale, shape = panel
    res, out = report(work, rater, score, category, scale, method)
    check(res, out, method, scale, len(set(category.tolist())))
    if shape == "one rater":
        assert {c.method_used for c in res.categories} == {"trimmed" if method == "trimmed" else "raw"}
    order = np.random.default_rng(order_seed).permutation(work.size)
    res2, out2 = report(work[order], rater[order], score[order], category[order], scale, method)
    assert [(c.category, c.method_used, c.code) for c in res2.categories] == \
        [(c.category, c.method_used, c.code) for c in res.categories]
    tol = 1e-7 * (scale[1] - scale[0])
    np.testing.assert_allclose(out2["score"], out["score"], rtol=0, atol=tol)
    np.testing.assert_allclose(out2["se"], out["se"], rtol=1e-6, atol=tol)
    np.testing.assert_array_equal(out2["rank"], out["rank"])
    for key in ("rank_low", "rank_high"):
        assert np.abs(out2[key] - out[key]).max() <= 1  # bands from 200 draws: round-off may move one rank
    assert np.allclose(out2["p"], out["p"], atol=0.05, equal_nan=True)


def test_the_shapes_are_drawn():
    # each named shape is one the strategy can produce (a typo would silently drop one)
    seen = set()

    @settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(panel=panels())
    def collect(panel):
        seen.add(panel[-1])

    collect()
    assert seen == set(SHAPES)


def test_a_property_check_fails_on_a_dishonest_report():
    # the checks can fail: a band that misses its rank, or a certain probability without an se
    work, rater, score = np.repeat(["a", "b", "c"], 2), np.tile(["x", "y"], 3), np.array([5, 6, 7, 8, 6, 6.])
    category = np.full(6, "c")
    res, out = report(work, rater, score, category, (0, 10), "raw")
    check(res, out, "raw", (0, 10), 1)
    broken = dict(out, rank_low=out["rank"] + 1)
    with pytest.raises(AssertionError):
        check(res, broken, "raw", (0, 10), 1)
    broken = dict(out, se=np.full(3, math.nan))
    with pytest.raises(AssertionError):
        check(res, broken, "raw", (0, 10), 1)
