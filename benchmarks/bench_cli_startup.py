"""Start-up time of the command line: ``tuiyou --help`` against a bare ``python -c pass``, and
``tuiyou analyze`` of a 4-row file against importing the numpy and scipy modules it uses.

Each case runs ``--runs`` times, the cases interleaved so that machine noise hits them alike;
the table shows medians and the difference to the reference. ``--tree PATH`` measures another
checkout too (e.g. a worktree of an older commit), interleaved with this one.

    python benchmarks/bench_cli_startup.py --runs 20 [--tree /tmp/before]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
MAIN = "import sys; from web.cli import main; sys.argv[0] = 'tuiyou'; main()"


def scipy_modules_of_analyze(tree: Path, scores: Path) -> list[str]:
    """The numpy and scipy modules ``tuiyou analyze`` imports (the fair reference to time)."""
    code = (MAIN.replace("main()", "") + "\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
            "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in ('numpy', 'scipy') "
            "and '._' not in m and not m.split('.')[-1].startswith('_'))))")
    out = subprocess.run([sys.executable, "-c", code, "analyze", str(scores)], cwd=tree, capture_output=True,
                         text=True, check=True).stdout.strip().splitlines()[-1]
    return out.split()


def timed(args: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--tree", type=Path, action="append", default=[], help="another checkout to compare")
    args = parser.parse_args()
    scores = Path(tempfile.mkdtemp()) / "tiny.csv"
    scores.write_text("work_id,rater_id,score\nw1,a,5\nw1,b,6\nw2,a,7\nw2,b,8\n")
    trees = [HERE, *args.tree]
    modules = scipy_modules_of_analyze(HERE, scores)
    py = sys.executable
    cases = {"python -c pass": ([py, "-c", "pass"], HERE),
             f"import numpy+scipy ({len(modules)} modules analyze uses)":
                 ([py, "-c", "import " + ", ".join(modules)], HERE)}
    for tree in trees:
        tag = "" if tree == HERE else f" [{tree}]"
        cases[f"tuiyou --help{tag}"] = ([py, "-c", MAIN, "--help"], tree)
        cases[f"tuiyou analyze tiny.csv{tag}"] = ([py, "-c", MAIN, "analyze", str(scores)], tree)
    times: dict[str, list[float]] = {name: [] for name in cases}
    for name, (argv, cwd) in cases.items():  # warm the file cache
        timed(argv, cwd)
    for _ in range(args.runs):
        for name, (argv, cwd) in cases.items():
            times[name].append(timed(argv, cwd))
    base = statistics.median(times["python -c pass"])
    ref = statistics.median(next(v for k, v in times.items() if k.startswith("import numpy")))
    print(f"| case | median s | min s | max s | minus reference |\n|---|---:|---:|---:|---:|")
    for name, values in times.items():
        med = statistics.median(values)
        against = base if "--help" in name else ref if "analyze" in name else None
        extra = f"+{med - against:.3f} s" if against is not None else ""
        print(f"| {name} | {med:.3f} | {min(values):.3f} | {max(values):.3f} | {extra} |")


if __name__ == "__main__":
    main()
