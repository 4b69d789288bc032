"""Benchmark of the assignment draw (docs/benchmarks.md, "Assignment").

Usage::

    python benchmarks/bench_assignment.py speed --works 5000 --experts 150
    python benchmarks/bench_assignment.py speed --works 100000 --experts 1000
    python benchmarks/bench_assignment.py estimability --seeds 20

``speed`` draws a K = 5 assignment on a synthetic national-scale pool (11 categories of
unequal size, every expert covering 3 of them, 31 provinces, organisations shared by a few
experts, works submitted by those organisations, same-province recusal on) and checks every
constraint independently of the report: conflicts, coverage, loads, connectivity.
Peak memory is the process's peak RSS (``resource.getrusage``), instance included.

``estimability`` compares, on the simulator's reference scenario (scoring/simulate.py), the
default normalization's top-10% recall when the ratings come from this draw and when they
come from a uniformly random K-per-work assignment of the same size (each work draws K
distinct experts of its category, no balancing).
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scoring.graph import components_from_codes  # noqa: E402
from scoring.normalize import DEFAULT_METHOD, METHODS  # noqa: E402
from scoring.rules.assignment import draw_assignment  # noqa: E402
from scoring.rules.conflicts import ConflictRules, Expert, Work, conflict_reasons  # noqa: E402
from scoring.simulate import Scenario, top_recall  # noqa: E402


def national_pool(n_works: int, n_experts: int, *, seed: int = 0, n_categories: int = 11,
                  categories_per_expert: int = 3) -> tuple[list[Expert], list[Work]]:
    """A synthetic pool: unequal categories, 31 provinces, organisations that both submit and employ."""
    rng = np.random.default_rng(seed)
    cats = [f"category-{i:02d}" for i in range(n_categories)]
    weights = np.arange(1, n_categories + 1, dtype=float)
    weights /= weights.sum()
    provinces = [f"province-{i:02d}" for i in range(31)]
    orgs = [f"org-{i}" for i in range(max(2 * n_experts, 10))]
    expert_cats = np.argsort(rng.random((n_experts, n_categories)), axis=1)[:, :categories_per_expert]
    expert_org = rng.integers(len(orgs), size=n_experts)
    expert_prov = rng.integers(31, size=n_experts)
    experts = [Expert(id=i, categories=tuple(cats[c] for c in expert_cats[i]), organisation=orgs[expert_org[i]],
                      province=provinces[expert_prov[i]]) for i in range(n_experts)]
    work_cat = rng.choice(n_categories, size=n_works, p=weights)
    submitter = rng.integers(len(orgs), size=n_works)
    holder = np.where(rng.random(n_works) < 0.7, submitter, rng.integers(len(orgs), size=n_works))
    work_prov = rng.integers(31, size=n_works)
    works = [Work(id=j, category=cats[work_cat[j]], submitter=orgs[submitter[j]], copyright_holder=orgs[holder[j]],
                  unit_province=provinces[work_prov[j]]) for j in range(n_works)]
    return experts, works


def check(experts, works, result, rules, per_work) -> dict:
    """Constraints verified from the pairs alone (not from the report)."""
    expert_by_id = {x.id: x for x in experts}
    work_by_id = {w.id: w for w in works}
    pairs = result.pairs
    conflicts = sum(bool(conflict_reasons(expert_by_id[e], work_by_id[w], rules=rules)) for e, w in pairs)
    expertise = sum(work_by_id[w].category not in expert_by_id[e].categories for e, w in pairs)
    count = np.zeros(len(works), int)
    load = np.zeros(len(experts), int)
    for e, w in pairs:
        count[w] += 1
        load[e] += 1
    comps = {}
    for cat in sorted({w.category for w in works}):
        sel = [(e, w) for e, w in pairs if work_by_id[w].category == cat]
        wu = {w: i for i, w in enumerate(sorted({w for _, w in sel}))}
        eu = {e: i for i, e in enumerate(sorted({e for e, _ in sel}))}
        comps[cat] = components_from_codes(np.array([wu[w] for _, w in sel]), np.array([eu[e] for e, _ in sel]),
                                           len(wu), len(eu)).n_components
    spread = max(c.pool_load_max - c.pool_load_min for c in result.report.categories)
    return {"conflicts": conflicts, "outside_expertise": expertise, "works_exactly_k": int((count == per_work).sum()),
            "duplicates": len(pairs) - len(set(pairs)), "load_min": int(load.min()), "load_max": int(load.max()),
            "pool_spread_max": spread, "components_max": max(comps.values())}


def speed(args) -> None:
    experts, works = national_pool(args.works, args.experts, seed=args.instance_seed)
    rules = ConflictRules(same_organisation=True, same_province=True)
    print(f"instance: {len(works)} works, {len(experts)} experts, K={args.per_work}; load average {os.getloadavg()}")
    times = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        result = draw_assignment(experts, works, per_work=args.per_work, seed=args.seed, rules=rules)
        times.append(time.perf_counter() - started)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"draw seconds: {', '.join(f'{t:.2f}' for t in times)} (best {min(times):.2f}); peak RSS {peak:.0f} MiB")
    print(f"load average after: {os.getloadavg()}")
    print("\n".join(result.report.lines("en")))
    print("independent check:", check(experts, works, result, rules, args.per_work))


def _ratings(scenario: Scenario, work, rater, rng):
    """Scores for given (work, rater) pairs under the simulator's model (see simulate_panel)."""
    s = scenario
    n_cat = s.n_categories
    offsets = np.zeros(n_cat)
    quality = offsets[np.arange(s.n_works) % n_cat] + rng.normal(0, s.quality_sd, s.n_works)
    bias = rng.normal(0, s.bias_sd, s.n_raters)
    scale = np.exp(rng.normal(0, s.log_scale_sd, s.n_raters))
    y = s.centre + scale[rater] * quality[work] + bias[rater] + rng.normal(0, s.noise_sd, len(work))
    return y, quality


def estimability(args) -> None:
    s = Scenario()
    n_cat, k = s.n_categories, s.ratings_per_work
    cats = [f"c{c}" for c in range(n_cat)]
    # the simulator's expertise layout: rater r covers r mod C and one more category
    covers = []
    for r in range(s.n_raters):
        primary = r % n_cat
        covers.append((primary, (primary + 1 + (r // n_cat) % (n_cat - 1)) % n_cat))
    experts = [Expert(id=r, categories=tuple(cats[c] for c in covers[r])) for r in range(s.n_raters)]
    work_cat = np.arange(s.n_works) % n_cat
    works = [Work(id=w, category=cats[work_cat[w]]) for w in range(s.n_works)]
    pool = [np.array([r for r in range(s.n_raters) if c in covers[r]]) for c in range(n_cat)]
    fit = METHODS[DEFAULT_METHOD]
    rows = []
    for seed in range(args.seeds):
        drawn = draw_assignment(experts, works, per_work=k, seed=seed)
        d_rater = np.array([e for e, _ in drawn.pairs])
        d_work = np.array([w for _, w in drawn.pairs])
        rng = np.random.default_rng(10_000 + seed)
        u_work = np.repeat(np.arange(s.n_works), k)
        u_rater = np.concatenate([rng.choice(pool[work_cat[w]], k, replace=False) for w in range(s.n_works)])
        recall = []
        for work, rater in ((d_work, d_rater), (u_work, u_rater)):
            y, quality = _ratings(s, work, rater, np.random.default_rng(seed))  # same truth for both designs
            est = fit(work, rater, y).score
            recall.append(top_recall(est, quality, work_cat))
        spread_u = np.bincount(u_rater, minlength=s.n_raters)
        rows.append((*recall, np.ptp(np.bincount(d_rater, minlength=s.n_raters)), np.ptp(spread_u)))
    arr = np.array(rows, dtype=float)
    print(f"{DEFAULT_METHOD}, reference scenario, seeds 0-{args.seeds - 1}; load average {os.getloadavg()}")
    print(f"top-10% recall: this draw {arr[:, 0].mean():.3f} (sd {arr[:, 0].std():.3f}), "
          f"uniform random {arr[:, 1].mean():.3f} (sd {arr[:, 1].std():.3f}); "
          f"paired difference {np.mean(arr[:, 0] - arr[:, 1]):+.3f}; draw better or equal in "
          f"{int(np.sum(arr[:, 0] >= arr[:, 1]))}/{len(arr)} seeds")
    print(f"load spread (max-min) over raters: this draw {arr[:, 2].mean():.1f}, uniform random {arr[:, 3].mean():.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("speed")
    p.add_argument("--works", type=int, default=5000)
    p.add_argument("--experts", type=int, default=150)
    p.add_argument("--per-work", type=int, default=5)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--instance-seed", type=int, default=0)
    p.add_argument("--repeat", type=int, default=1)
    p.set_defaults(run=speed)
    p = sub.add_parser("estimability")
    p.add_argument("--seeds", type=int, default=20)
    p.set_defaults(run=estimability)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
