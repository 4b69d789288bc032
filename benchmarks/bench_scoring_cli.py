"""Time ``tuiyou analyze`` on a 1,000,000-row CSV (100,000 works, 1,000 raters, 6 categories).

Run by hand: ``.venv/bin/python benchmarks/bench_scoring_cli.py``. Writes the CSV under
benchmarks/out/ (git-ignored) and runs the command in a fresh process per method, as a
user would, reporting wall time and peak RSS of that process.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "out"
RUN = ("import sys; from web.analysis.cli import analyze_command; "
       "analyze_command.main(sys.argv[1:], standalone_mode=True)")


def write_csv(path: Path, n_works=100_000, n_raters=1_000, per_work=10, seed=0):
    rng = np.random.default_rng(seed)
    work = np.repeat(np.arange(n_works), per_work)
    rater = ((rng.integers(0, n_raters, n_works)[:, None] + np.arange(per_work)[None, :] * 97) % n_raters).ravel()
    y = 6 + rng.normal(size=n_works)[work] + rng.normal(0, 0.8, n_raters)[rater] + rng.normal(0, 0.8, work.size)
    y = np.clip(np.round(y * 2) / 2, 0, 10)
    cats = np.array(["网络剧", "网络电影", "网络纪录片", "网络综艺节目", "网络动画片", "短视频"])
    with path.open("w", encoding="utf-8") as f:
        f.write("work_id,rater_id,score,category\n")
        for w, r, s in zip(work.tolist(), rater.tolist(), y.tolist()):
            f.write(f"W{w:06d},E{r:04d},{s:g},{cats[w % 6]}\n")


def main():
    OUT.mkdir(exist_ok=True)
    csv_path = OUT / "ratings_1m.csv"
    if not csv_path.exists():
        write_csv(csv_path)
    rows = sum(1 for _ in csv_path.open(encoding="utf-8")) - 1
    print(f"{csv_path.name}: {rows:,} rows, {csv_path.stat().st_size / 2**20:.0f} MiB\n")
    print("| command | wall seconds | peak RSS (MiB) | output rows |")
    print("|---|---:|---:|---:|")
    for args in (["--method", "raw"], ["--method", "additive"], [], ["--format", "json"]):
        out = OUT / ("analyze.json" if "json" in args else "analyze.csv")
        t = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", RUN, str(csv_path), *args, "--out", str(out)],
                              capture_output=True, text=True)
        wall = time.perf_counter() - t
        if proc.returncode != 0:
            raise SystemExit(proc.stderr)
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        n_out = sum(1 for _ in out.open(encoding="utf-8")) - 1 if out.suffix == ".csv" else "json"
        label = "tuiyou analyze ratings_1m.csv " + " ".join(args) + (" (default method)" if "--method" not in args else "")
        print(f"| `{label.strip()}` | {wall:.1f} | {rss:.0f} (max so far) | {n_out} |")


if __name__ == "__main__":
    main()
