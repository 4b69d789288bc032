"""Digests of every number the scoring methods produce, to show that a change keeps them bit for bit.

Run it on two checkouts and compare the outputs (``diff``)::

    cd OTHER_TREE && PYTHONPATH=. /path/to/.venv/bin/python /path/to/benchmarks/result_digests.py > before.json
    .venv/bin/python benchmarks/result_digests.py > after.json
    diff before.json after.json && echo "bit for bit"

For every simulator scenario (``scoring.simulate.SCENARIOS``), seeds 0-2 (``--seeds N``: 0 to N-1), and every method of
``scoring.normalize.METHODS`` (through ``normalize``, with the per-category checks), it prints
a SHA-256 prefix of each array of the result (scores, standard errors, unshrunk estimates,
every rater effect and diagnostic), the categories' methods and notes, and of the ranks,
bands and top-k probabilities that ``analyze`` draws with the same seed. With ``--cli`` it
adds the SHA-256 of ``analyze``'s CSV output (every method) and JSON output (default and
additive) on the 1,000,000-row file of benchmarks/bench_scoring_cli.py (about a minute more).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _digest(value) -> str | None:
    if value is None:
        return None
    a = np.asarray(value)
    if a.dtype == object:
        a = a.astype(str)
    return hashlib.sha256(a.tobytes() + f"{a.dtype}{a.shape}".encode()).hexdigest()[:16]


def result_digest(result, ranking) -> dict:
    """Digests of a NormalizationResult's arrays and of a Ranking's."""
    out = {f: _digest(getattr(result, f)) for f in ("work_id", "score", "se", "n_ratings", "category",
                                                   "unshrunk_score", "unshrunk_se", "sigma", "converged")}
    for f in dataclasses.fields(result.raters):
        out[f"raters.{f.name}"] = _digest(getattr(result.raters, f.name))
    for f in dataclasses.fields(result.diagnostics):
        out[f"diagnostics.{f.name}"] = _digest(getattr(result.diagnostics, f.name))
    out["categories"] = [c.as_dict() for c in result.categories]
    out["notes"] = list(result.notes)
    for f in ("rank", "rank_low", "rank_high", "p_top_k", "top_k"):
        out[f"ranking.{f}"] = _digest(getattr(ranking, f))
    return out


def scenario_digests(seeds=range(3)) -> dict:
    from scoring.normalize import METHODS, normalize
    from scoring.ranking import rank_within_category
    from scoring.simulate import SCENARIOS, simulate_panel

    out = {}
    for name, scenario in SCENARIOS.items():
        for seed in seeds:
            sim = simulate_panel(scenario, rng=np.random.default_rng(seed))
            for method in METHODS:
                res = normalize(sim.work_id, sim.rater_id, sim.score, method=method, categories=sim.category)
                shrunk = res.unshrunk_score is not None
                ranking = rank_within_category(res.unshrunk_score if shrunk else res.score,
                                               res.unshrunk_se if shrunk else res.se, res.category,
                                               rng=np.random.default_rng(seed),
                                               rank_score=res.score if shrunk else None)
                out[f"{name} | seed {seed} | {method}"] = result_digest(res, ranking)
    return out


def cli_digests() -> dict:
    from bench_scoring_cli import ratings_file

    path = ratings_file()
    run = "import sys; from web.analysis.cli import analyze_command; analyze_command.main(sys.argv[1:])"
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for args in (["--method", m] for m in ("raw", "trimmed", "zscore", "additive", "affine")):
            for fmt in (["--format", "csv"], ["--format", "json"]):
                if fmt[1] == "json" and args[1] not in ("additive", "affine"):
                    continue
                target = Path(tmp) / "out"
                subprocess.run([sys.executable, "-c", run, str(path), *args, *fmt, "--out", str(target)], check=True,
                               cwd=Path.cwd())
                out[" ".join(["analyze ratings_1m.csv", *args, *fmt])] = hashlib.sha256(target.read_bytes()).hexdigest()
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cli", action="store_true", help="also digest analyze's output on the 1,000,000-row file")
    parser.add_argument("--seeds", type=int, default=3,
                        help="seeds 0 .. N-1 of every scenario (the accuracy tables use 20)")
    args = parser.parse_args()
    out = scenario_digests(range(args.seeds))
    if args.cli:
        out.update(cli_digests())
    print(json.dumps(out, indent=1, sort_keys=True, ensure_ascii=False))


if __name__ == "__main__":
    main()
