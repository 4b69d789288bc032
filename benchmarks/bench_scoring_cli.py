"""Time ``tuiyou analyze`` on a 1,000,000-row CSV (100,000 works, 1,000 raters, 6 categories), stage by stage.

Run by hand: ``.venv/bin/python benchmarks/bench_scoring_cli.py [--tree PATH]``. Writes the CSV
under benchmarks/out/ (git-ignored) and runs the command in a fresh process per method, as a
user would, reporting the wall time, the process's CPU time and peak RSS, and where the time
went: read (the CSV into columns), checks (the panel: ids encoded, duplicates, categories;
and the per-category checks), fit, bands (ranks and bootstrap rank bands), write (rendering
and writing the output), and the rest (interpreter start-up, imports, option parsing).

The stages are timed inside the child by wrapping the functions ``analyze`` calls (the CSV
reader, ``build_panel``, ``plan_methods`` and ``fit_planned`` as ``normalize`` calls them,
``rank_within_category``, the output renderer and the file write), so the command runs its
own code path. ``--tree PATH`` runs the code of another checkout (an exported copy of an
earlier commit) with this venv, for before/after runs. benchmarks/bench_e2e.py times the
same runs alternately with a plain numpy/scipy reference.

``--read ROUNDS`` times the CSV read alone instead: per round a fresh process per tree
(``--tree`` first when given, then this one) imports numpy and click, then calls
``read_ratings_csv`` on the file as ``analyze`` does, and reports its wall and CPU seconds
(pyarrow's import included: the command pays it) and the rows a second over each, with the
load average.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "out"
REPO = Path(__file__).resolve().parent.parent
STAGES = ("read", "checks", "fit", "bands", "write")

# the child: wrap the stages, run the command, print {"stages", "cpu", "rss_mib"} as the last stderr line
CHILD = r"""
import json, pathlib, resource, sys, time
import scoring.normalize as normalize_module
import web.analysis.cli as cli
stages = {}
def timed(name, fn):
    def wrapper(*args, **kwargs):
        t, c = time.perf_counter(), time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            wall, cpu = stages.get(name, (0.0, 0.0))
            stages[name] = (wall + time.perf_counter() - t, cpu + time.process_time() - c)
    return wrapper
cli.read_ratings_csv = timed("read", cli.read_ratings_csv)
for name in ("build_panel", "plan_methods"):
    setattr(normalize_module, name, timed("checks", getattr(normalize_module, name)))
normalize_module.fit_planned = timed("fit", normalize_module.fit_planned)
cli.rank_within_category = timed("bands", cli.rank_within_category)
cli._csv_output = timed("write", cli._csv_output)
cli._json_output = timed("write", cli._json_output)
pathlib.Path.write_text = timed("write", pathlib.Path.write_text)
assert pathlib.Path(cli.__file__).is_relative_to(pathlib.Path.cwd()), cli.__file__  # the tree asked for
cli.analyze_command.main(sys.argv[1:], standalone_mode=False)
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"stages": stages, "cpu": usage.ru_utime + usage.ru_stime, "rss_mib": usage.ru_maxrss / 1024}),
      file=sys.stderr)
"""


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


def ratings_file() -> Path:
    """The benchmark's CSV, written on first use."""
    OUT.mkdir(exist_ok=True)
    path = OUT / "ratings_1m.csv"
    if not path.exists():
        write_csv(path)
    return path


def run_analyze(path: Path, args: list[str], *, tree: str | None = None) -> dict:
    """``analyze PATH ARGS`` in a fresh process: wall and CPU seconds, peak RSS (MiB), seconds per stage."""
    # the child imports the tree's code: first on its path, and its working directory (python -c
    # puts the working directory before PYTHONPATH)
    root = Path(tree).resolve() if tree else REPO
    env = {**os.environ, "PYTHONPATH": str(root)}
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", CHILD, str(path), *args], capture_output=True, text=True, env=env,
                          cwd=root)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    report = json.loads(proc.stderr.strip().splitlines()[-1])
    stages = {name: report["stages"].get(name, (0.0, 0.0)) for name in STAGES}
    stages["other"] = (wall - sum(w for w, _ in stages.values()), None)
    return {"wall": wall, "cpu": report["cpu"], "rss_mib": report["rss_mib"], "stages": stages}


READ_CHILD = r"""
import json, pathlib, sys, time
import click, numpy
import web.analysis.ratings_csv as ratings_csv
assert pathlib.Path(ratings_csv.__file__).is_relative_to(pathlib.Path.cwd()), ratings_csv.__file__
wall, cpu = time.perf_counter(), time.process_time()
table = ratings_csv.read_ratings_csv(pathlib.Path(sys.argv[1]))
print(json.dumps({"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu,
                  "columnar": type(table.work).__name__ == "CodedLabels"}))
"""


def run_read(path: Path, *, tree: str | None = None) -> dict:
    """``read_ratings_csv(PATH)`` in a fresh process: its wall and CPU seconds, and whether pyarrow read it."""
    root = Path(tree).resolve() if tree else REPO
    proc = subprocess.run([sys.executable, "-c", READ_CHILD, str(path)], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(root)}, cwd=root)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def read_rounds(path: Path, rows: int, rounds: int, tree: str | None) -> None:
    """Print each round's read (before and after alternately when ``tree`` is given) and the medians."""
    sides = [("before", tree), ("after", None)] if tree else [("", None)]
    print("| round | side | wall s | CPU s | million rows/s, wall | million rows/s, CPU | reader | load average |")
    print("|---|---|---:|---:|---:|---:|---|---|")
    runs: dict[str, list[dict]] = {}
    for k in range(rounds):
        for side, root in sides:
            run = run_read(path, tree=root)
            runs.setdefault(side, []).append(run)
            print(f"| {k + 1} | {side} | {run['wall']:.3f} | {run['cpu']:.3f} | {rows / run['wall'] / 1e6:.1f} | "
                  f"{rows / run['cpu'] / 1e6:.1f} | {'pyarrow' if run['columnar'] else 'Python'} | {load()} |",
                  flush=True)
    print("\n| side | median wall s | median CPU s | million rows/s, wall | million rows/s, CPU | best wall s |")
    print("|---|---:|---:|---:|---:|---:|")
    for side, values in runs.items():
        wall = sorted(v["wall"] for v in values)[len(values) // 2]
        cpu = sorted(v["cpu"] for v in values)[len(values) // 2]
        print(f"| {side} | {wall:.3f} | {cpu:.3f} | {rows / wall / 1e6:.1f} | {rows / cpu / 1e6:.1f} | "
              f"{min(v['wall'] for v in values):.3f} |")


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def breakdown_row(label: str, run: dict) -> str:
    """A Markdown row: each stage's wall seconds (CPU seconds in brackets)."""
    cells = []
    for name in (*STAGES, "other"):
        wall, cpu = run["stages"][name]
        cells.append(f"{wall:.2f}" + (f" ({cpu:.2f})" if cpu is not None else ""))
    return f"| {label} | {' | '.join(cells)} | {run['wall']:.2f} ({run['cpu']:.2f}) |"


BREAKDOWN_HEADER = ("| run | read | checks | fit | bands | write | start-up and rest | total |\n"
                    "|---|---:|---:|---:|---:|---:|---:|---:|")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", help="run the code of this checkout instead (PYTHONPATH)")
    parser.add_argument("--read", type=int, metavar="ROUNDS",
                        help="time the CSV read alone, ROUNDS fresh processes (with --tree: that tree, then this one)")
    args = parser.parse_args()
    path = ratings_file()
    rows = sum(1 for _ in path.open(encoding="utf-8")) - 1
    print(f"{path.name}: {rows:,} rows, {path.stat().st_size / 2**20:.0f} MiB; "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n")
    if args.read:
        read_rounds(path, rows, args.read, args.tree)
        return
    print("| command | wall s | CPU s | peak RSS MiB | read: million rows/s | load average |")
    print("|---|---:|---:|---:|---:|---|")
    runs = []
    for extra in (["--method", "raw"], ["--method", "additive"], [], ["--format", "json"]):
        out = OUT / ("analyze.json" if "json" in extra else "analyze.csv")
        run = run_analyze(path, [*extra, "--out", str(out)], tree=args.tree)
        label = "analyze " + " ".join(extra) + (" (default method)" if "--method" not in extra else "")
        runs.append((label, run))
        print(f"| `{label.strip()}` | {run['wall']:.2f} | {run['cpu']:.2f} | {run['rss_mib']:.0f} | "
              f"{rows / run['stages']['read'][0] / 1e6:.1f} | {load()} |", flush=True)
    print("\nSeconds per stage, wall (CPU):\n")
    print(BREAKDOWN_HEADER)
    for label, run in runs:
        print(breakdown_row(f"`{label.strip()}`", run))


if __name__ == "__main__":
    main()
