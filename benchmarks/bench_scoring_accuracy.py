"""Simulator accuracy table: every method and the oracle across scenarios (20 seeds each).

Run by hand: ``.venv/bin/python benchmarks/bench_scoring_accuracy.py [--seeds N] [--first S]``.
Prints markdown tables for docs/scoring.md and docs/benchmarks.md. ``--bands`` prints
instead the coverage and median width of the default method's nominal 90% rank bands, drawn
as ``tuiyou analyze`` draws them (ranks from the posterior means, bands around the unshrunk
estimates; 200 draws), against the truth. ``--known-effects SCENARIO`` prints how close the
default fit gets to the oracle when told every rater's true slope (only severities
estimated) or true severity (only slopes estimated): where the gap to the oracle lies.
``--bayes-bound SCENARIO`` prints the recall of the exact posterior mean of each work's
quality told every rater's true slope and the scenario's true spreads (quality, severity,
noise), with the wild ratings deleted: what the best estimate that must still learn the
severities from the ratings reaches, a ceiling for any method that does not know the slopes;
and the posterior mean told the true spreads but not the slopes (Gibbs, scoring/posterior.py):
the best estimate of a method that must learn both from the ratings.
``--bound-table [SCENARIO ...]`` (issue 22) prints, for every scenario (or those named), the
default method's recall *as the product runs it* (``normalize``: each category checked and
fitted by the method its data support) next to the posterior-mean bound told the true spreads
but not the slopes, their paired difference, and the default alone on the whole panel
(``fallback=False``) paired with it, with how many categories fell back. Scenarios with
category offsets get the offsets as the works' prior means; the criteria scenario's bound is a
Gaussian approximation (criterion noise and rounding added to the noise, clipping ignored).
``--support-sweep`` measures where ``affine`` stops paying on small panels: the cases-round
scenario with fewer raters (so more ratings each), ``affine`` and ``additive_random`` each
forced on the whole panel, the default with its checks, and the bound, paired by seed; the
typical ratings per rater is what ``scoring.support.AFFINE_MIN_RATINGS`` is compared with.
``--posterior [SCENARIO ...]`` compares, paired by seed, the affine fit's ways of reporting
work scores (``fit_affine(posterior=...)``: plug-in shrinkage, Gibbs and mean-field posterior
means over the raters' slopes and severities; the fit itself is the same); ``--variants``
picks them.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import sparse
from scipy.sparse import linalg as splinalg

from scoring import posterior
from scoring.normalize import DEFAULT_METHOD, METHODS, normalize
from scoring.ranking import rank_within_category
from scoring.simulate import SCENARIOS, evaluate, oracle_scores, simulate_panel, top_recall


def bands(seeds) -> None:
    """Coverage of the true rank and median width (share of the category) of 90% bands."""
    print(f"seeds {seeds.start}..{seeds.stop - 1}; nominal 90% bands of `{DEFAULT_METHOD}`, 200 draws\n")
    print("| scenario | coverage | median width |\n|---|---:|---:|")
    for name, scenario in SCENARIOS.items():
        covered, widths = [], []
        for seed in seeds:
            sim = simulate_panel(scenario, rng=np.random.default_rng(seed))
            options = {"wild_ends": (scenario.scale_min, scenario.scale_max)} if DEFAULT_METHOD == "affine" else {}
            res = METHODS[DEFAULT_METHOD](sim.work_id, sim.rater_id, sim.score, categories=sim.category, **options)
            centre, se = getattr(res, "unshrunk_score", None), getattr(res, "unshrunk_se", None)
            if centre is None:
                centre, se = res.score, res.se
            ranking = rank_within_category(centre, se, res.category, band=0.9, n_draws=200,
                                           rng=np.random.default_rng(seed), rank_score=res.score)
            truth = rank_within_category(sim.quality, None, res.category).rank
            covered.append((ranking.rank_low <= truth) & (truth <= ranking.rank_high))
            size = np.bincount(sim.work_category)[sim.work_category]
            widths.append((ranking.rank_high - ranking.rank_low + 1) / size)
        print(f"| {name} | {np.mean(np.concatenate(covered)):.3f} | {np.median(np.concatenate(widths)):.3f} |",
              flush=True)


def known_effects(name: str, seeds) -> None:
    """Recall / oracle of affine when told the raters' true slopes, or their true severities."""
    fit = METHODS["affine"]
    out = {"oracle": [], "affine": [], "true slopes told": [], "true severities told": []}
    for seed in seeds:
        p = simulate_panel(SCENARIOS[name], rng=np.random.default_rng(seed))
        a, b = p.rater_scale[p.rater_id], p.rater_bias[p.rater_id]

        def recall(score):
            return top_recall(score, p.quality, p.work_category)

        out["oracle"].append(recall(oracle_scores(p)))
        out["affine"].append(recall(fit(p.work_id, p.rater_id, p.score, categories=p.category).score))
        # slopes divided out (the noise with them, hence confidence a^2), slopes held at 1
        out["true slopes told"].append(recall(fit(p.work_id, p.rater_id, p.centre + (p.score - p.centre) / a,
                                                  categories=p.category, confidence=a * a,
                                                  scale_prior_sd=1e-3).score))
        # severities subtracted, severities held at 0
        out["true severities told"].append(recall(fit(p.work_id, p.rater_id, p.score - b, categories=p.category,
                                                      ridge=1e6).score))
    oracle = np.mean(out["oracle"])
    print(f"{name}, seeds {seeds.start}..{seeds.stop - 1}\n\n| fit | recall | / oracle |\n|---|---:|---:|")
    for k, v in out.items():
        print(f"| {k} | {np.mean(v):.4f} | {np.mean(v) / oracle:.4f} |")


def bayes_posterior_mean(p, scenario) -> np.ndarray:
    """E[quality | ratings] under the scenario's own model, told the true slopes and spreads.

    y - centre = a_r q_w + b_r + e with q ~ N(0, quality_sd^2), b ~ N(0, bias_sd^2) and
    e ~ N(0, noise_sd^2), the wild ratings deleted and a_r known: a linear Gaussian model, so
    the posterior mean solves the ridge normal equations exactly (one sparse solve).
    Scenarios with category offsets or criteria are not this model; the bound is for the others.
    """
    keep = ~p.wild
    w, r, a = p.work_id[keep], p.rater_id[keep], p.rater_scale[p.rater_id[keep]]
    n_w, n_r, n = p.quality.size, p.rater_bias.size, int(keep.sum())
    rows = np.concatenate([np.arange(n), np.arange(n)])
    x = sparse.csr_matrix((np.concatenate([a, np.ones(n)]), (rows, np.concatenate([w, n_w + r]))),
                          shape=(n, n_w + n_r))
    s2 = scenario.noise_sd**2
    penalty = np.concatenate([np.full(n_w, s2 / scenario.quality_sd**2),
                              np.full(n_r, s2 / max(scenario.bias_sd, 1e-6) ** 2)])
    lhs = (x.T @ x + sparse.diags(penalty)).tocsc()
    return splinalg.spsolve(lhs, x.T @ (p.score[keep] - p.centre))[:n_w]


def _category_offsets(scenario) -> np.ndarray:
    """The simulator's category mean offsets (scoring.simulate.simulate_panel draws them so)."""
    offsets = np.zeros(scenario.n_categories)
    if scenario.category_offset_sd > 0 and scenario.n_categories > 1:
        grid = np.linspace(-1, 1, scenario.n_categories)
        offsets = scenario.category_offset_sd * grid / grid.std()
    return offsets


def _noise_sd(scenario) -> float:
    """The rating noise; with criteria, their noise and rounding (variance 1/12 a criterion) on top."""
    if scenario.criteria_weights is None:
        return scenario.noise_sd
    cw = np.asarray(scenario.criteria_weights, dtype=float) / sum(scenario.criteria_weights)
    return float(np.sqrt(scenario.noise_sd**2 + float(np.sum(cw**2)) * (scenario.criterion_noise_sd**2 + 1 / 12)))


def bayes_posterior_mean_unknown_slopes(p, scenario, n_draws: int = 2000) -> np.ndarray:
    """E[quality | ratings] told the true spreads but not the slopes (Gibbs, scoring.posterior).

    The same model and deleted wild ratings as :func:`bayes_posterior_mean`, except that each
    rater's slope is unknown, with a normal prior of the true slopes' mean and sd (the
    simulator draws them log-normal); the best estimate, under squared error, of a method
    that knows the spreads but must learn both the slopes and the severities from the ratings.
    """
    keep = ~p.wild
    w, r = p.work_id[keep], p.rater_id[keep]
    n_w, n_r = p.quality.size, p.rater_bias.size
    s2 = scenario.log_scale_sd**2
    a_mean, a_sd = float(np.exp(s2 / 2)), float(np.sqrt((np.exp(s2) - 1) * np.exp(s2)))
    # posterior_work_scores puts the slopes' prior mean at 1: a q = (a / a_mean) (a_mean q), so its
    # theta - centre is a_mean q (the same order), with prior sd a_mean quality_sd
    prior_mean = p.centre + a_mean * _category_offsets(scenario)[p.work_category]
    post = posterior.posterior_work_scores(
        p.score[keep], w, r, np.full(w.size, 1.0 / _noise_sd(scenario) ** 2), n_works=n_w, n_raters=n_r,
        centre=p.centre, theta0=prior_mean, prior_mean=prior_mean,
        prior_var=np.full(n_w, (a_mean * scenario.quality_sd) ** 2), severity_sd=max(scenario.bias_sd, 1e-6),
        scale_sd=max(a_sd / a_mean, 1e-6), method="gibbs", n_burn=200, n_draws=n_draws)
    return post.score - p.centre


def bayes_bound(name: str, seeds) -> None:
    """Recall / oracle of the exact posterior mean told the true slopes and spreads (wild rows deleted)."""
    scenario = SCENARIOS[name]
    if scenario.category_offset_sd or scenario.criteria_weights is not None:
        raise SystemExit(f"{name}: the bound assumes the plain model (no category offsets, no criteria)")
    unknown = "posterior mean, true spreads, slopes unknown (Gibbs)"
    out = {"oracle": [], DEFAULT_METHOD: [], "posterior mean, true slopes and spreads": [], unknown: []}
    for seed in seeds:
        p = simulate_panel(scenario, rng=np.random.default_rng(seed))
        options = {"wild_ends": (scenario.scale_min, scenario.scale_max)} if DEFAULT_METHOD == "affine" else {}
        fit = METHODS[DEFAULT_METHOD](p.work_id, p.rater_id, p.score, categories=p.category, **options)
        for key, score in (("oracle", oracle_scores(p)), (DEFAULT_METHOD, fit.score),
                           ("posterior mean, true slopes and spreads", bayes_posterior_mean(p, scenario)),
                           (unknown, bayes_posterior_mean_unknown_slopes(p, scenario))):
            out[key].append(top_recall(score, p.quality, p.work_category))
    oracle = np.mean(out["oracle"])
    print(f"{name}, seeds {seeds.start}..{seeds.stop - 1}\n\n| estimate | recall | / oracle |\n|---|---:|---:|")
    for k, v in out.items():
        print(f"| {k} | {np.mean(v):.4f} | {np.mean(v) / oracle:.4f} |")


def bound_table(names, seeds) -> None:
    """The default as the product runs it against the posterior-mean bound, paired by seed, per scenario."""
    print(f"seeds {seeds.start}..{seeds.stop - 1}; `{DEFAULT_METHOD}` with the per-category checks; "
          "differences paired by seed, mean ± standard error\n")
    print("| scenario | oracle | default (ratio) | bound: true spreads, slopes unknown (ratio) | default − bound "
          "| default alone, no checks | with checks − alone | categories fallen back |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for name in names:
        scenario = SCENARIOS[name]
        rec = {"oracle": [], "default": [], "bound": [], "alone": []}
        fell = {}
        for seed in seeds:
            p = simulate_panel(scenario, rng=np.random.default_rng(seed))
            ends = (scenario.scale_min, scenario.scale_max)
            fit = normalize(p.work_id, p.rater_id, p.score, categories=p.category, scale_ends=ends)
            alone = normalize(p.work_id, p.rater_id, p.score, categories=p.category, scale_ends=ends, fallback=False)
            for c in fit.categories:
                if c.method_used != DEFAULT_METHOD:
                    fell[c.method_used] = fell.get(c.method_used, 0) + 1
            for key, score in (("oracle", oracle_scores(p)), ("default", fit.score), ("alone", alone.score),
                               ("bound", bayes_posterior_mean_unknown_slopes(p, scenario))):
                rec[key].append(top_recall(score, p.quality, p.work_category))
        o = np.mean(rec["oracle"])

        def paired(a, b):
            d = np.array(rec[a]) - np.array(rec[b])
            return f"{d.mean():+.4f} ± {d.std(ddof=1) / np.sqrt(d.size):.4f}"

        n_cat = scenario.n_categories * len(seeds)
        fallen = ", ".join(f"{k} {v} of {n_cat}" for k, v in fell.items()) or "none"
        print(f"| {name} | {o:.4f} | {np.mean(rec['default']):.4f} ({np.mean(rec['default']) / o:.3f}) | "
              f"{np.mean(rec['bound']):.4f} ({np.mean(rec['bound']) / o:.3f}) | {paired('default', 'bound')} | "
              f"{np.mean(rec['alone']):.4f} | {paired('default', 'alone')} | {fallen} |", flush=True)


def support_sweep(seeds, raters=(124, 84, 64, 52, 44, 36)) -> None:
    """The cases-round scenario at several ratings per rater: affine vs additive_random vs the default."""
    from dataclasses import replace

    from scoring.combine import PANEL_FITS
    from scoring.panel import build_panel
    from scoring.support import category_support

    base = SCENARIOS["cases round"]
    print(f"seeds {seeds.start}..{seeds.stop - 1}; the cases-round scenario with fewer raters; recall minus the "
          "bound (true spreads, slopes unknown), paired by seed, mean ± standard error\n")
    print("| raters | typical ratings per rater | bound | affine − bound | additive_random − bound "
          "| default − bound | default's methods |\n|---:|---:|---:|---:|---:|---:|---|")
    for n_raters in raters:
        scenario = replace(base, n_raters=n_raters)
        rec = {"bound": [], "affine": [], "additive_random": [], "default": []}
        typical, used = [], {}
        for seed in seeds:
            p = simulate_panel(scenario, rng=np.random.default_rng(seed))
            panel = build_panel(p.work_id, p.rater_id, p.score, categories=p.category)
            typical += [s.typical_ratings_per_rater for s in category_support(panel).values()]
            fit = normalize(p.work_id, p.rater_id, p.score, categories=p.category, scale_ends=(0, 10))
            for c in fit.categories:
                used[c.method_used] = used.get(c.method_used, 0) + 1
            scores = {"bound": bayes_posterior_mean_unknown_slopes(p, scenario), "default": fit.score,
                      "affine": PANEL_FITS["affine"](panel, wild_ends=(0, 10)).score}
            try:
                scores["additive_random"] = PANEL_FITS["additive_random"](panel).score
            except ValueError:  # no rater variance: the raw mean is that fit
                scores["additive_random"] = PANEL_FITS["raw"](panel).score
            for key, value in scores.items():
                rec[key].append(top_recall(value, p.quality, p.work_category))
        b = np.array(rec["bound"])

        def vs_bound(key):
            d = np.array(rec[key]) - b
            return f"{d.mean():+.4f} ± {d.std(ddof=1) / np.sqrt(d.size):.4f}"

        print(f"| {n_raters} | {np.median(typical):g} | {b.mean():.4f} | {vs_bound('affine')} | "
              f"{vs_bound('additive_random')} | {vs_bound('default')} | "
              f"{', '.join(f'{k} {v}' for k, v in sorted(used.items()))} |", flush=True)


POSTERIOR_SCENARIOS = ("few ratings per rater", "5% wild scores", "5% wild scores (0 or 10)", "reference",
                      "sparse national quarter", "sparse quarter, criteria", "no rater effects", "wide scale use",
                      "3 ratings per work")
VARIANTS = {"shrink": None, "gibbs": "gibbs", "vb": "vb"}


def compare_posterior(names, seeds, variants) -> None:
    """Recall / clean oracle of each variant, and its paired change against the first, per scenario."""
    base = variants[0]
    print(f"seeds {seeds.start}..{seeds.stop - 1}; affine work scores: {', '.join(variants)} "
          f"(paired change against {base}: mean +- standard error over seeds)\n")
    head = " | ".join(f"{v} (ratio)" for v in variants) + " | " + " | ".join(f"{v} - {base}" for v in variants[1:])
    print(f"| scenario | oracle | {head} | fit seconds ({', '.join(variants)}) |\n|---|" + "---:|" * (2 * len(variants)) + "---|")
    for name in names:
        scenario = SCENARIOS[name]
        rec = {v: [] for v in variants}
        oracle, seconds = [], dict.fromkeys(variants, 0.0)
        for seed in seeds:
            p = simulate_panel(scenario, rng=np.random.default_rng(seed))
            for v in variants:
                t0 = time.perf_counter()
                fit = METHODS["affine"](p.work_id, p.rater_id, p.score, categories=p.category,
                                        wild_ends=(scenario.scale_min, scenario.scale_max), posterior=VARIANTS[v])
                seconds[v] += time.perf_counter() - t0
                rec[v].append(top_recall(fit.score, p.quality, p.work_category))
            oracle.append(top_recall(oracle_scores(p), p.quality, p.work_category))
        o = np.mean(oracle)
        cells = [f"{np.mean(rec[v]):.4f} ({np.mean(rec[v]) / o:.3f})" for v in variants]
        for v in variants[1:]:
            d = np.array(rec[v]) - np.array(rec[base])
            cells.append(f"{d.mean():+.4f} ± {d.std(ddof=1) / np.sqrt(d.size):.4f}")
        timing = ", ".join(f"{seconds[v] / len(seeds):.3f}" for v in variants)
        print(f"| {name} | {o:.4f} | " + " | ".join(cells) + f" | {timing} |", flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--bands", action="store_true", help="rank-band coverage instead of recall")
    parser.add_argument("--known-effects", metavar="SCENARIO", help="affine told the true slopes or severities")
    parser.add_argument("--bayes-bound", metavar="SCENARIO",
                        help="exact posterior mean told the true slopes and spreads (a ceiling)")
    parser.add_argument("--support-sweep", action="store_true",
                        help="affine against additive_random on the cases-round scenario at several raters")
    parser.add_argument("--bound-table", nargs="*", metavar="SCENARIO",
                        help="the default (with the per-category checks) against the posterior-mean bound")
    parser.add_argument("--posterior", nargs="*", metavar="SCENARIO",
                        help="compare the affine fit's work scores paired by seed (default: issue 14's scenarios)")
    parser.add_argument("--variants", default="shrink,gibbs,vb", help="comma-separated, the first is the baseline")
    args = parser.parse_args()
    seeds = range(args.first, args.first + args.seeds)
    if args.support_sweep:
        support_sweep(seeds)
        return
    if args.bound_table is not None:
        bound_table(args.bound_table or list(SCENARIOS), seeds)
        return
    if args.posterior is not None:
        compare_posterior(args.posterior or POSTERIOR_SCENARIOS, seeds, args.variants.split(","))
        return
    if args.bayes_bound:
        bayes_bound(args.bayes_bound, seeds)
        return
    if args.known_effects:
        known_effects(args.known_effects, seeds)
        return
    if args.bands:
        bands(seeds)
        return
    methods = list(METHODS)
    t0 = time.perf_counter()
    recall_rows, tau_rows, checks = [], [], []
    for name, scenario in SCENARIOS.items():
        res = {m.method: m for m in evaluate(scenario, methods=methods, seeds=seeds)}
        oracle = res["oracle"]
        recall_rows.append(f"| {name} | " + " | ".join(
            f"{res[m].recall:.3f} ({res[m].recall_vs_oracle:.2f})" for m in methods) + f" | {oracle.recall:.3f} |")
        tau_rows.append(f"| {name} | " + " | ".join(
            f"{res[m].tau:.3f} ({res[m].tau_vs_oracle:.2f})" for m in methods) + f" | {oracle.tau:.3f} |")
        d = res[DEFAULT_METHOD]
        checks.append(f"| {name} | {d.recall / oracle.recall:.3f} | {d.recall - res['raw'].recall:+.3f} |")
    head = "| scenario | " + " | ".join(methods) + " | oracle |\n|---|" + "---:|" * (len(methods) + 1)
    print(f"seeds {seeds.start}..{seeds.stop - 1}\n")
    print("Top-10% recall per category vs truth (in brackets: vs the oracle's top 10%)\n")
    print(head)
    print("\n".join(recall_rows))
    print("\nKendall's tau within category vs truth (in brackets: vs the oracle's order)\n")
    print(head)
    print("\n".join(tau_rows))
    print(f"\nDefault method `{DEFAULT_METHOD}`: recall / oracle recall, and recall minus raw recall\n")
    print("| scenario | ratio to oracle | gain over raw |\n|---|---:|---:|")
    print("\n".join(checks))
    print(f"\n({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
