"""End to end: ``tuiyou analyze`` on a 1,000,000-row CSV against a plain numpy/scipy reference.

Run by hand: ``.venv/bin/python benchmarks/bench_e2e.py [--rounds 3] [--before TREE]``.
Generates (once) the file of benchmarks/bench_scoring_cli.py (100,000 works, 1,000 raters,
10 distinct raters per work, 6 categories) under benchmarks/out/, then, alternately in one
run, times in a fresh process each: the reference (``numpy.loadtxt`` of the three columns,
codes by ``numpy.unique``, one ``scipy.sparse.linalg.lsqr`` solve of the additive model) and
``analyze`` with ``--method additive`` and with the default method. With ``--before TREE``
(an exported copy of an earlier commit) each command also runs on that code, just before
this tree's run, so before and after are measured side by side.

``--reference-blas-threads 1`` runs the reference on one BLAS thread, as analyze runs its fit
(lsqr's products then cannot busy-wait on a shared machine, which makes the reference's own
time swing with the load).

Prints each run's wall time, its ratio to the reference run that opened its round, the
process's CPU seconds and peak RSS and the load average, then each run's seconds per stage
(read, checks, fit, bands, write, the rest: see bench_scoring_cli.py) and the reference's
own two stages (read: loadtxt and unique; solve: lsqr).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scoring_cli import BREAKDOWN_HEADER, OUT, breakdown_row, load, ratings_file, run_analyze  # noqa: E402

REFERENCE = """
import json, resource, sys, time
import numpy as np
from scipy import sparse
from scipy.sparse.linalg import lsqr
t = time.perf_counter()
x = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1, usecols=(0, 1, 2), dtype=str, encoding="utf-8")
_, w = np.unique(x[:, 0], return_inverse=True)
_, r = np.unique(x[:, 1], return_inverse=True)
y = x[:, 2].astype(float)
read = time.perf_counter() - t
n = len(y)
cols = np.column_stack((w, w.max() + 1 + r)).ravel()  # row i: its work, then its rater
design = sparse.csr_matrix((np.ones(2 * n), cols, np.arange(0, 2 * n + 1, 2)))
lsqr(design, y)
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"read": read, "solve": time.perf_counter() - t - read, "cpu": usage.ru_utime + usage.ru_stime,
                  "rss_mib": usage.ru_maxrss / 1024}), file=sys.stderr)
"""


def run_reference(path: Path, blas_threads: int | None = None) -> dict:
    env = dict(os.environ)
    if blas_threads:
        env["OPENBLAS_NUM_THREADS"] = str(blas_threads)
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", REFERENCE, str(path)], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    return {"wall": wall, **json.loads(proc.stderr.strip().splitlines()[-1])}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--before", help="also run the code of this checkout (PYTHONPATH), before each of ours")
    parser.add_argument("--reference-blas-threads", type=int, default=None,
                        help="OPENBLAS_NUM_THREADS of the reference (default: the library's own, as analyze's "
                             "fit runs with one; lsqr's vector operations may use more)")
    args = parser.parse_args()
    path = ratings_file()
    rows = sum(1 for _ in path.open(encoding="utf-8")) - 1
    out = str(OUT / "analyze.csv")
    print(f"{path.name}: {rows:,} rows, {path.stat().st_size / 2**20:.0f} MiB; "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print("| round | run | wall s | ratio to reference | CPU s | peak RSS MiB | load average |")
    print("|---|---|---:|---:|---:|---:|---|")
    trees = [("before", args.before), ("", None)] if args.before else [("", None)]
    breakdowns, references, ratios = [], [], {}
    for k in range(args.rounds):
        ref = run_reference(path, args.reference_blas_threads)
        references.append((k + 1, ref))
        print(f"| {k + 1} | reference (loadtxt + lsqr) | {ref['wall']:.2f} | 1.00 | {ref['cpu']:.2f} | "
              f"{ref['rss_mib']:.0f} | {load()} |", flush=True)
        for label, extra in (("analyze --method additive", ["--method", "additive"]),
                             ("analyze (default: affine)", [])):
            for side, tree in trees:
                run = run_analyze(path, [*extra, "--out", out], tree=tree)
                name = f"{label}{', ' + side if side else ''}"
                breakdowns.append((f"{k + 1}: {name}", run))
                ratios.setdefault(name, []).append((run["wall"] / ref["wall"], run["cpu"] / ref["cpu"], run))
                print(f"| {k + 1} | {name} | {run['wall']:.2f} | {run['wall'] / ref['wall']:.2f} | {run['cpu']:.2f} | "
                      f"{run['rss_mib']:.0f} | {load()} |", flush=True)
    print("\nMedians over the rounds (ratios to each round's reference; the read's rate is rows over its "
          "wall and over its CPU seconds):\n")
    print("| run | wall s | CPU s | ratio, wall | ratio, CPU | read s | read: million rows/s (wall, CPU) | "
          "peak RSS MiB |\n|---|---:|---:|---:|---:|---:|---:|---:|")
    med = statistics.median
    for name, values in ratios.items():
        runs = [v[2] for v in values]
        read_wall, read_cpu = med(r["stages"]["read"][0] for r in runs), med(r["stages"]["read"][1] for r in runs)
        print(f"| {name} | {med(r['wall'] for r in runs):.2f} | {med(r['cpu'] for r in runs):.2f} | "
              f"{med(v[0] for v in values):.2f} | {med(v[1] for v in values):.2f} | {read_wall:.2f} ({read_cpu:.2f}) | "
              f"{rows / read_wall / 1e6:.1f}, {rows / read_cpu / 1e6:.1f} | {max(r['rss_mib'] for r in runs):.0f} |")
    print(f"| reference | {med(r['wall'] for _, r in references):.2f} | {med(r['cpu'] for _, r in references):.2f} | "
          f"1.00 | 1.00 | {med(r['read'] for _, r in references):.2f} | "
          f"{rows / med(r['read'] for _, r in references) / 1e6:.1f} (wall) | "
          f"{max(r['rss_mib'] for _, r in references):.0f} |")
    print("\nSeconds per stage, medians over the rounds, wall (CPU):\n")
    print(BREAKDOWN_HEADER)
    for name, values in ratios.items():
        runs = [v[2] for v in values]
        stages = {stage: (med(r["stages"][stage][0] for r in runs),
                          None if stage == "other" else med(r["stages"][stage][1] for r in runs))
                  for stage in runs[0]["stages"]}
        print(breakdown_row(name, {"stages": stages, "wall": med(r["wall"] for r in runs),
                                   "cpu": med(r["cpu"] for r in runs)}))
    print("\nSeconds per stage, each run, wall (CPU):\n")
    print(BREAKDOWN_HEADER)
    for label, run in breakdowns:
        print(breakdown_row(label, run))
    print("\n| round | reference: read (loadtxt + unique) | solve (lsqr) |\n|---|---:|---:|")
    for k, ref in references:
        print(f"| {k} | {ref['read']:.2f} | {ref['solve']:.2f} |")


if __name__ == "__main__":
    main()
