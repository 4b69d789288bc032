"""End to end: ``tuiyou analyze`` on a 1,000,000-row CSV against a plain numpy/scipy reference.

Run by hand: ``.venv/bin/python benchmarks/bench_e2e.py [--rounds 2]``. Generates (once)
the file of benchmarks/bench_scoring_cli.py (100,000 works, 1,000 raters, 10 distinct
raters per work, 6 categories) under benchmarks/out/, then, alternately in one run, times
in a fresh process each: the reference (``numpy.loadtxt`` of the three columns, codes by
``numpy.unique``, one ``scipy.sparse.linalg.lsqr`` solve of the additive model) and
``analyze_command`` with ``--method additive`` and with the default method. Prints each
time, its ratio to the reference run just before it, the peak RSS of each process and the
load average.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scoring_cli import OUT, write_csv  # noqa: E402

REFERENCE = """
import sys, numpy as np
from scipy import sparse
from scipy.sparse.linalg import lsqr
x = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1, usecols=(0, 1, 2), dtype=str, encoding="utf-8")
_, w = np.unique(x[:, 0], return_inverse=True)
_, r = np.unique(x[:, 1], return_inverse=True)
y = x[:, 2].astype(float)
n = len(y)
cols = np.column_stack((w, w.max() + 1 + r)).ravel()  # row i: its work, then its rater
design = sparse.csr_matrix((np.ones(2 * n), cols, np.arange(0, 2 * n + 1, 2)))
lsqr(design, y)
"""
ANALYZE = ("import sys; from web.analysis.cli import analyze_command; "
           "analyze_command.main(sys.argv[1:], standalone_mode=True)")
# peak RSS of the child, printed by a wrapper so each process is measured on its own
WRAP = ("import resource, sys; code = sys.argv[1]; sys.argv = sys.argv[1:]\n"
        "try:\n    exec(compile(code, '<bench>', 'exec'), {'__name__': '__main__'})\n"
        "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)")


def timed(code: str, *args: str) -> tuple[float, float]:
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", WRAP, code, *args], capture_output=True, text=True)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    return wall, int(proc.stderr.strip().splitlines()[-1]) / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    path = OUT / "ratings_1m.csv"
    if not path.exists():
        write_csv(path)
    out = str(OUT / "analyze.csv")
    print(f"{path.name}: {path.stat().st_size / 2**20:.0f} MiB; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print("| round | run | wall s | ratio to reference | peak RSS MiB | load average |")
    print("|---|---|---:|---:|---:|---|")
    for k in range(args.rounds):
        ref = None
        for label, code, extra in (("reference (loadtxt + lsqr)", REFERENCE, []),
                                   ("analyze --method additive", ANALYZE, ["--method", "additive", "--out", out]),
                                   ("analyze (default: affine)", ANALYZE, ["--out", out])):
            wall, rss = timed(code, str(path), *extra)
            ref = wall if ref is None else ref
            load = " ".join(f"{v:.2f}" for v in os.getloadavg())
            print(f"| {k + 1} | {label} | {wall:.2f} | {wall / ref:.2f} | {rss:.0f} | {load} |", flush=True)


if __name__ == "__main__":
    main()
