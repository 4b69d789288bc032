"""Wild taps at the scale's ends (issue 14, second pass): a 0 or a 10 that says nothing about the work.

The mixture of scoring/wild.py weighs a rating exactly at an end as a tap there against a
genuine impression at or beyond it (a censored normal), so a 10 among ratings of 7-8 is
set aside while a 10 for a work the panel puts near 10 stays.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from scoring.affine import fit_affine
from scoring.normalize import normalize
from scoring.simulate import SCENARIOS, evaluate, simulate_panel
from scoring.wild import WildMixture

WILD = replace(SCENARIOS["5% wild scores (0 or 10)"], n_works=240, n_categories=4, n_raters=24)


def _panel(extra_score: float, work_level: float, noise: float = 0.3):
    """Six raters of 0-10 with no effects, 30 works; one work gets a last rating of ``extra_score``."""
    rng = np.random.default_rng(7)
    works, raters, scores = [], [], []
    quality = np.linspace(3.5, 8.0, 30)
    quality[0] = work_level
    for w in range(30):
        for r in rng.choice(6, 4, replace=False):
            works.append(w)
            raters.append(int(r))
            scores.append(float(np.clip(round(quality[w] + rng.normal(0, noise), 1), 0, 10)))
    scores[3] = extra_score  # the fourth rating of work 0
    # ratings at both ends elsewhere, so the ends are part of the scale in use
    works += [29, 29]
    raters += [int(r) for r in set(range(6)) - set(raters[-4:])][:2]
    scores += [0.0, 10.0]
    return np.array(works), np.array(raters), np.array(scores)


def test_a_ten_among_sevens_is_set_aside_only_as_a_tap_at_the_end():
    w, r, y = _panel(10.0, 7.5)
    ends = fit_affine(w, r, y, wild_ends=(0, 10))
    assert ends.diagnostics.rejected[3]
    assert ends.diagnostics.robust_weight[3] == 0
    # the same rating on a work the panel puts near the top is a generous rater, not a tap
    w, r, y = _panel(10.0, 9.6)
    kept = fit_affine(w, r, y, wild_ends=(0, 10))
    assert not kept.diagnostics.rejected[3]
    assert kept.diagnostics.robust_weight[3] > 0.5


def test_tap_at_an_end_counts_for_less_than_the_same_score_inside_the_scale():
    # noisier raters: a 10 for a work at 8 is 2-3 sd high, plausible for a generous rater on an
    # open scale but far more likely a tap when 10 is the end of the scale
    w, r, y = _panel(10.0, 8.0, noise=0.8)
    at_end = fit_affine(w, r, y, wild_ends=(0, 10))
    inside = fit_affine(w, r, y, wild_ends=(0, 11))  # on a 0-11 scale a 10 is an ordinary score
    assert at_end.diagnostics.rejected[3] and not inside.diagnostics.rejected[3]
    assert inside.diagnostics.robust_weight[3] > 0.9
    assert at_end.unshrunk_score[0] < inside.unshrunk_score[0] - 0.3


def test_ends_find_more_wild_ratings_than_the_uniform_mixture_and_spare_genuine_ones():
    found = {True: 0, False: 0}
    false = {True: 0, False: 0}
    n_wild = n = 0
    for seed in range(3):
        p = simulate_panel(WILD, rng=np.random.default_rng(seed))
        n_wild += p.wild.sum()
        n += len(p.score)
        for use_ends in (True, False):
            res = fit_affine(p.work_id, p.rater_id, p.score, wild_ends=(0, 10) if use_ends else False)
            found[use_ends] += (res.diagnostics.rejected & p.wild).sum()
            false[use_ends] += (res.diagnostics.rejected & ~p.wild).sum()
    assert found[True] > found[False]
    assert found[True] >= 0.85 * n_wild
    assert false[True] <= 0.01 * n


def test_wild_shares_are_estimated_per_end():
    rng = np.random.default_rng(0)
    resid = rng.normal(0, 1, 2000)
    y = np.clip(5 + resid, 0.5, 9.5)
    y[:60] = 10.0  # 3% taps at the top, none at the bottom
    resid[:60] = 10.0 - 5.0
    mix = WildMixture.from_scores(y, np.ones_like(y), 1.0, ends=(0, 10)).estimate(resid, 1.0)
    assert mix.pi_high == pytest.approx(0.03, abs=0.005)
    assert mix.pi_low == 0.0
    assert mix.genuine(resid, 1.0)[:60].max() < 0.5


def test_scores_own_range_needs_two_ratings_at_an_end():
    y = np.array([1.0, 2.0, 3.0, 4.0, 9.0, 9.0])
    mix = WildMixture.from_scores(y, np.ones_like(y), 1.0)
    assert not mix.at_low.any()  # a single lowest score is no pile of taps
    assert mix.at_high.sum() == 2
    assert not WildMixture.from_scores(y, np.ones_like(y), 1.0, ends=False).at_high.any()
    # whole points: a genuine rating at the end reaches it from half a point below
    assert mix.half_step == 0.5


@pytest.mark.parametrize("bad", [(10, 0), (5, 5), "0-10", (1,)])
def test_bad_wild_ends_are_refused(bad):
    p = simulate_panel(WILD, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="wild_ends"):
        fit_affine(p.work_id, p.rater_id, p.score, wild_ends=bad)


def test_the_simulator_tells_the_method_the_scales_ends():
    seeds = range(4)
    told = {m.method: m for m in evaluate(WILD, methods=["affine"], seeds=seeds)}
    uniform = {m.method: m for m in evaluate(WILD, methods=["affine"], seeds=seeds,
                                             options={"affine": {"wild_ends": False}})}
    assert told["affine"].recall >= uniform["affine"].recall


def test_normalize_passes_the_scale_ends_only_to_methods_that_weigh_wild_taps():
    rng = np.random.default_rng(5)
    works = np.repeat(np.arange(30), 4)
    raters = np.tile(np.arange(8), 15)
    scores = np.clip(np.round(6 + rng.normal(0, 1.2, works.size) * 2) / 2, 0, 10)
    scores[::23] = 0.0
    # two groups of raters that share no work: the methods alone (the checks would fall back)
    alone = dict(fallback=False)
    explicit = normalize(works, raters, scores, method="affine", wild_ends=(0.0, 10.0), **alone)
    via_ends = normalize(works, raters, scores, method="affine", scale_ends=(0, 10), **alone)
    np.testing.assert_allclose(via_ends.score, explicit.score, atol=1e-12)
    wider = normalize(works, raters, scores, method="affine", scale_ends=(-5, 15), **alone)
    assert not np.allclose(wider.score, explicit.score, atol=1e-9)  # the ends matter to the fit
    plain = normalize(works, raters, scores, method="additive", **alone)
    np.testing.assert_allclose(normalize(works, raters, scores, method="additive", scale_ends=(0, 10), **alone).score,
                               plain.score, atol=0)


def _genuine_by_the_formula(mix: WildMixture, z: np.ndarray, per: np.ndarray) -> np.ndarray:
    """The posterior written out in one piece, each likelihood computed where it is used."""
    from scipy.special import ndtr

    genuine = (1 - mix.pi) * np.exp(-0.5 * z * z) / (np.sqrt(2 * np.pi) * mix.sigma) * mix.sqrt_conf
    wild = np.full(z.shape, mix.pi_uniform / mix.width)
    shift = mix.half_step * per
    high, low = mix.at_high, mix.at_low
    genuine[high] = (1 - mix.pi) * ndtr(-(z[high] - shift[high]))
    wild[high] = mix.pi_high
    genuine[low] = (1 - mix.pi) * ndtr(z[low] + shift[low])
    wild[low] = mix.pi_low
    total = genuine + wild
    return np.divide(genuine, total, out=np.zeros_like(genuine), where=total > 0)


def test_mixture_posterior_and_em_are_the_formula_bit_for_bit():
    # the EM keeps each rating's kernel and end tails from one step to the next (only the shares
    # change): its steps must still be exactly the formula's
    rng = np.random.default_rng(11)
    y = np.clip(np.round(rng.normal(6, 2.5, 4000) * 2) / 2, 0, 10)
    conf = rng.uniform(0.5, 2, y.size)
    resid = rng.standard_t(3, y.size)
    per = rng.uniform(0.5, 1.5, y.size)
    mix = WildMixture.from_scores(y, conf, 0.9, ends=(0, 10))
    assert mix.at_low.any() and mix.at_high.any()
    np.testing.assert_array_equal(mix.genuine(resid * per, per), _genuine_by_the_formula(mix, resid * per, per))
    reference = WildMixture.from_scores(y, conf, 0.9, ends=(0, 10))
    z, n = resid * per, y.size
    for _ in range(200):  # the EM of WildMixture.estimate, step by step with the formula
        wild = 1.0 - _genuine_by_the_formula(reference, z, per)
        low, high = float(wild[reference.at_low].sum()) / n, float(wild[reference.at_high].sum()) / n
        uniform = max(float(wild[~(reference.at_low | reference.at_high)].sum()) / n, 1e-4)
        total = uniform + low + high
        if total > 0.5:
            uniform, low, high = (0.5 * v / total for v in (uniform, low, high))
        change = abs(uniform - reference.pi_uniform) + abs(low - reference.pi_low) + abs(high - reference.pi_high)
        reference.pi_uniform, reference.pi_low, reference.pi_high = uniform, low, high
        if change < 1e-7:
            break
    mix.estimate(resid, per)
    assert (mix.pi_uniform, mix.pi_low, mix.pi_high) == (reference.pi_uniform, reference.pi_low, reference.pi_high)
