"""Per-category checks of what the ratings can support, the fall-backs, and the honest report (issue 22)."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from click.testing import CliRunner
from scoring_panels import biased_panel

from scoring.models_random import rater_variance
from scoring.normalize import METHODS, normalize
from scoring.panel import build_panel
from scoring.simulate import SCENARIOS, simulate_panel
from scoring.support import AFFINE_MIN_RATINGS, FALLBACKS, category_support, plan_methods
from web.analysis.cli import analyze_command


def cases_round(seed=0, n_cases=6, n_experts=20, per_case=5):
    """The demo's dissemination-case shape: 6 cases, 20 experts with one or two ratings each."""
    rng = np.random.default_rng(seed)
    quality, severity = rng.normal(7.2, 1.0, n_cases), rng.normal(0, 0.7, n_experts)
    load = np.zeros(n_experts)
    work, rater = [], []
    for case in range(n_cases):
        chosen = np.argsort(load + rng.random(n_experts) * 0.5)[:per_case]
        load[chosen] += 1
        work += [f"case{case}"] * per_case
        rater += [f"expert{e:02d}" for e in chosen]
    r = np.array([int(x[6:]) for x in rater])
    w = np.array([int(x[4:]) for x in work])
    score = np.clip(np.round((quality[w] + severity[r] + rng.normal(0, 0.5, w.size)) * 2) / 2, 0, 10)
    return np.array(work), np.array(rater), score


def two_categories(seed=1):
    """A well-rated category (raters with 20 ratings) beside a cases-shaped one with its own raters."""
    w, r, y, _, _, _ = biased_panel(seed, n_works=60, n_raters=12, per_work=4)
    cw, cr, cy = cases_round(seed)
    work = np.concatenate([w.astype(str), cw])
    rater = np.concatenate([np.char.add("big", r.astype(str)), cr])
    category = np.array(["big"] * w.size + ["cases"] * cw.size)
    return work, rater, np.concatenate([y, cy]), category


def test_the_cases_round_falls_back_from_affine_and_says_why():
    work, rater, score = cases_round()
    res = normalize(work, rater, score)
    (cat,) = res.categories
    assert cat.method_used == "additive_random" and cat.code == "few_ratings_per_rater"
    assert f"needs at least {AFFINE_MIN_RATINGS}" in cat.reason and "typical rater gave 2 rating(s)" in cat.reason
    assert cat.support.n_raters == 20 and cat.support.single_rating_raters == 10
    assert np.all(np.isfinite(res.score)) and np.all(np.isfinite(res.se))
    # the method alone on this panel: slopes from one or two ratings, the intervals that exploded
    alone = normalize(work, rater, score, fallback=False)
    assert alone.categories == []


@pytest.mark.parametrize("method", sorted(METHODS))
def test_a_panel_that_supports_the_method_is_fitted_exactly_as_before(method):
    sim = simulate_panel(SCENARIOS["sparse national quarter"], rng=np.random.default_rng(0))
    res = normalize(sim.work_id, sim.rater_id, sim.score, method=method, categories=sim.category)
    alone = METHODS[method](sim.work_id, sim.rater_id, sim.score, categories=sim.category)
    assert {c.method_used for c in res.categories} == {method} and {c.code for c in res.categories} == {""}
    np.testing.assert_array_equal(res.score, alone.score)
    np.testing.assert_array_equal(res.raters.bias, alone.raters.bias)
    np.testing.assert_array_equal(res.diagnostics.residual, alone.diagnostics.residual)


def test_each_category_gets_its_own_method_and_the_fits_are_joined_in_place():
    work, rater, score, category = two_categories()
    order = np.random.default_rng(3).permutation(work.size)
    work, rater, score, category = work[order], rater[order], score[order], category[order]
    res = normalize(work, rater, score, categories=category)
    used = {c.category: c.method_used for c in res.categories}
    assert used == {"big": "affine", "cases": "additive_random"}
    big = category == "big"
    alone = normalize(work[big], rater[big], score[big], categories=category[big])
    index = np.searchsorted(res.work_id, alone.work_id)
    np.testing.assert_array_equal(res.score[index], alone.score)
    # per-rating diagnostics stay with their rating, whatever the input order
    fitted = score - res.diagnostics.residual
    assert np.all(np.isfinite(fitted)) and np.abs(res.diagnostics.residual).max() < 5
    assert set(res.raters.method[np.char.startswith(res.raters.rater_id.astype(str), "expert")]) == {"additive_random"}


def test_a_disconnected_category_cannot_be_put_on_one_scale():
    w, r, y, _, _, _ = biased_panel(2, n_works=40, n_raters=12)
    r = np.where(w < 20, r % 6, 6 + r % 6)  # works 0-19 and 20-39 share no rater
    w, r, y = w[np.unique(np.c_[w, r], axis=0, return_index=True)[1]], r[np.unique(np.c_[w, r], axis=0, return_index=True)[1]], y[np.unique(np.c_[w, r], axis=0, return_index=True)[1]]
    res = normalize(w, r, y)
    (cat,) = res.categories
    assert cat.code == "disconnected" and "2 groups" in cat.reason and cat.method_used == "additive_random"


def test_every_score_equal_is_a_raw_mean_without_a_standard_error():
    res = normalize(np.repeat(np.arange(6), 3), np.tile(np.arange(3), 6) + np.repeat(np.arange(6), 3) % 2,
                    np.full(18, 7.0), method="additive")
    (cat,) = res.categories
    assert cat.method_used == "raw" and cat.code == "no_spread"
    assert np.all(res.score == 7.0) and np.all(np.isnan(res.se))


def test_fixed_biases_need_a_second_rating():
    # rater a links four works; everyone else rated one work once: most biases absorb their rating
    work = [f"w{i}" for i in range(4) for _ in range(3)]
    rater = [name for i in range(4) for name in ("a", f"s{i}", f"t{i}")]
    score = [6, 7, 5, 5, 6, 6, 8, 8, 9, 7, 9, 8]
    res = normalize(work, rater, score, method="additive")
    (cat,) = res.categories
    assert cat.code == "single_rating_raters" and "most ratings come from raters with a single rating" in cat.reason
    assert cat.support.single_rating_raters == 8 and cat.method_used in ("additive_random", "raw")
    # the method alone: a fixed bias from one rating has no residual and no standard error
    alone = normalize(work, rater, score, method="additive", fallback=False)
    assert alone.categories == [] and alone.raters.bias_se is None

    # on a panel that supports fixed biases, a stray rater with a single rating still has none
    w, r, y, _, _, _ = biased_panel(4, n_works=30, n_raters=8)
    res = normalize(np.append(w, 0), np.append(r, 99), np.append(y, 6.0), method="additive")
    assert res.categories[0].method_used == "additive"
    stray = res.raters.rater_id == 99
    assert np.isnan(res.raters.residual_sd[stray]).all() and np.isnan(res.raters.bias_se[stray]).all()
    assert np.isfinite(res.raters.residual_sd[~stray]).all() and np.isfinite(res.raters.bias_se[~stray]).all()


def test_zscore_falls_back_when_most_raters_cannot_be_standardized():
    work, rater, score = cases_round(4)
    (cat,) = normalize(work, rater, score, method="zscore").categories
    assert cat.method_used == "raw" and cat.code == "single_rating_raters"


def test_no_rater_variance_means_the_raw_mean():
    # a gives w0 two points more than b, and w1 two points less: no consistent bias
    work, rater, score = ["w0", "w0", "w1", "w1"], ["a", "b", "a", "b"], [7, 5, 5, 7]
    tau2, _ = rater_variance(build_panel(work, rater, score))
    (cat,) = normalize(work, rater, score).categories
    assert tau2 < 0 and cat.method_used == "raw" and cat.code == "few_ratings_per_rater"
    assert "no differences between raters beyond noise" in cat.reason


def test_rater_variance_is_unbiased_on_the_cases_shape():
    from dataclasses import replace

    sc = replace(SCENARIOS["reference"], n_works=36, n_categories=4, n_raters=124, categories_per_rater=1,
                 ratings_per_work=5, ratings_per_work_max=9, category_weights=(6, 8, 10, 12), log_scale_sd=0.0)
    estimates = []
    for seed in range(40):
        p = simulate_panel(sc, rng=np.random.default_rng(seed))
        estimates.append(rater_variance(build_panel(p.work_id, p.rater_id, p.score)))
    tau2, sigma2 = np.mean(estimates, axis=0)
    assert abs(tau2 - sc.bias_sd**2) < 0.08 and abs(sigma2 - sc.noise_sd**2) < 0.08


def test_the_checks_repeat_until_no_category_moves():
    # six raters; category A: 12 works, 3 ratings each, every one a 7 (nothing to fit); category B:
    # 6 works, 2 ratings each. Counted with A, B's raters have about 8 ratings (enough for affine);
    # A cannot be fitted, and B alone leaves them 2: B must be checked again once A has left
    rng = np.random.default_rng(0)
    work, rater, score, category = [], [], [], []
    for w in range(12):
        for r in rng.choice(6, 3, replace=False):
            work.append(f"a{w}"), rater.append(int(r)), score.append(7.0), category.append("A")
    for w in range(6):
        for r in ((w, (w + 1) % 6)):
            work.append(f"b{w}"), rater.append(r), score.append(float(rng.integers(4, 10))), category.append("B")
    panel = build_panel(work, rater, score, categories=category)
    assert category_support(panel)["B"].typical_ratings_per_rater >= AFFINE_MIN_RATINGS
    plan = {p.category: p for p in plan_methods(panel, "affine")}
    assert plan["A"].method_used == "raw" and plan["A"].code == "no_spread"
    assert plan["B"].method_used != "affine" and plan["B"].reason.startswith("affine: the typical rater gave 2")
    assert plan["B"].support.typical_ratings_per_rater == 2  # the checks of the group it ended in
    assert FALLBACKS["affine"] == ("affine", "additive_random", "raw")


def _analyze(tmp_path, text, *args):
    path = tmp_path / "scores.csv"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(analyze_command, [str(path), *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_analyze_json_lists_the_method_each_category_was_fitted_with(tmp_path):
    work, rater, score, category = two_categories()
    text = "work_id,rater_id,score,category\n" + "".join(
        f"{w},{r},{s:g},{c}\n" for w, r, s, c in zip(work, rater, score, category))
    doc = json.loads(_analyze(tmp_path, text, "--format", "json"))
    assert [(c["category"], c["method_used"]) for c in doc["categories"]] == [("big", "affine"),
                                                                             ("cases", "additive_random")]
    assert doc["categories"][0]["reason"] == "" and "typical rater" in doc["categories"][1]["reason"]
    rows = list(csv.DictReader(io.StringIO(_analyze(tmp_path, text))))
    assert len(rows) == len(set(work)) and all(float(r["score"]) <= score.max() for r in rows)


def test_analyze_one_rater_is_the_raw_mean_and_says_so(tmp_path):
    doc = json.loads(_analyze(tmp_path, "work_id,rater_id,score\nw1,a,7\nw2,a,6\n", "--format", "json"))
    (cat,) = doc["categories"]
    assert cat["method_used"] == "raw" and cat["code"] == "one_rater"
    assert [w["score"] for w in doc["works"]] == [7.0, 6.0] and [w["se"] for w in doc["works"]] == [None, None]
    assert [w["p_top_k"] for w in doc["works"]] == [None, None]  # no standard error, no probability


def test_analyze_reports_a_score_beyond_the_scale_at_its_end(tmp_path):
    # rater a is 2 points more severe than b on four shared works, and gave w5 a 10: the fixed-effects
    # estimate of w5 is 12, beyond anything a rating can say; it ranks first and is reported as 10
    lines = ["work_id,rater_id,score"]
    for i, base in enumerate([5, 6, 7, 8]):
        lines += [f"w{i},a,{base - 1}", f"w{i},b,{base + 1}"]
    lines += ["w5,a,10", "w6,b,9", "w6,c,9", "w0,c,6", "w1,c,7"]
    doc = json.loads(_analyze(tmp_path, "\n".join(lines) + "\n", "--format", "json", "--method", "additive"))
    assert doc["categories"][0]["method_used"] == "additive"
    top = doc["works"][0]
    assert top["work_id"] == "w5" and top["rank"] == 1 and top["score"] == 10.0
    assert all(4 <= w["score"] <= 10 for w in doc["works"]) and doc["scale"] == [4.0, 10.0]
