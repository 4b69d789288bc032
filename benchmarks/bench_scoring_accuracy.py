"""Simulator accuracy table: every method and the oracle across scenarios (20 seeds each).

Run by hand: ``.venv/bin/python benchmarks/bench_scoring_accuracy.py [--seeds N] [--first S]``.
Prints markdown tables for docs/scoring.md and docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import time

from scoring.normalize import DEFAULT_METHOD, METHODS
from scoring.simulate import SCENARIOS, evaluate


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first", type=int, default=0)
    args = parser.parse_args()
    seeds = range(args.first, args.first + args.seeds)
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
