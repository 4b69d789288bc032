"""Recall of the default method now against an older commit's, paired by seed, every scenario.

Run by hand, e.g. against the default before issue 14 on fresh seeds 200–299::

    rm -rf /tmp/old && mkdir /tmp/old && git archive 5c17941 scoring | tar -x -C /tmp/old
    cp scoring/simulate.py /tmp/old/scoring/    # the same panels for both
    .venv/bin/python benchmarks/bench_scoring_paired.py /tmp/old --first 200 --seeds 100

Each side runs in its own process (the two ``scoring`` packages cannot share one) and fits
the same simulated panels with its ``METHODS["affine"]``, passing the scale's ends where the
fit takes them. Prints a markdown table: the clean oracle's recall, each side's top-10%
recall (ratio to the oracle) and the paired change, mean ± standard error over seeds.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parents[1]
SIDE = """
import inspect, json, sys
import numpy as np
sys.path.insert(0, sys.argv[1])
from scoring.normalize import METHODS
from scoring.simulate import SCENARIOS, oracle_scores, simulate_panel, top_recall
fit = METHODS["affine"]
ends = "wild_ends" in inspect.signature(fit).parameters
out = {}
for name, sc in SCENARIOS.items():
    rows = []
    for seed in range(int(sys.argv[2]), int(sys.argv[2]) + int(sys.argv[3])):
        p = simulate_panel(sc, rng=np.random.default_rng(seed))
        kw = {"wild_ends": (sc.scale_min, sc.scale_max)} if ends else {}
        r = fit(p.work_id, p.rater_id, p.score, categories=p.category, **kw)
        rows.append([top_recall(r.score, p.quality, p.work_category),
                     top_recall(oracle_scores(p), p.quality, p.work_category)])
    out[name] = rows
print(json.dumps(out))
"""


def side(root: Path, first: int, seeds: int) -> dict[str, np.ndarray]:
    proc = subprocess.run([sys.executable, "-c", SIDE, str(root), str(first), str(seeds)],
                          capture_output=True, text=True, check=True, cwd="/")
    return {k: np.array(v) for k, v in json.loads(proc.stdout.splitlines()[-1]).items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("older", type=Path, help="a folder holding the older commit's scoring/ package")
    parser.add_argument("--first", type=int, default=200)
    parser.add_argument("--seeds", type=int, default=100)
    args = parser.parse_args()
    old, new = side(args.older, args.first, args.seeds), side(HERE, args.first, args.seeds)
    print(f"seeds {args.first}..{args.first + args.seeds - 1}\n")
    print("| scenario | clean oracle | older (ratio) | now (ratio) | paired change |\n|---|---:|---:|---:|---:|")
    for name, before in old.items():
        after = new[name]
        oracle = float(before[:, 1].mean())
        d = after[:, 0] - before[:, 0]
        print(f"| {name} | {oracle:.3f} | {before[:, 0].mean():.3f} ({before[:, 0].mean() / oracle:.3f}) | "
              f"{after[:, 0].mean():.3f} ({after[:, 0].mean() / oracle:.3f}) | "
              f"{d.mean():+.4f} ± {d.std(ddof=1) / np.sqrt(d.size):.4f} |")


if __name__ == "__main__":
    main()
