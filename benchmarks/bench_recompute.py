"""One background recompute of a 5,000-work round (issue 24), part by part.

The round of benchmarks/bench_review.py (5,000 works, 100 experts, 25,000 submitted forms,
100,000 rating rows, method affine) is built once; then, ``--runs`` times, one submitted form is
reopened and submitted again with new values (as during a scoring day) and the recompute runs
as the background job runs it (``web.recompute.runner.refresh_round``'s steps): the ratings'
fingerprint, the read of the ratings, the computation (totals, the fit, the bootstrap bands,
the rows, what the pages derive), and storing the result; within the computation the weighted
totals, the fit, the bands and the derived tables (the proposal, reliability, outliers) on their
own. CPU seconds (this process, every thread) and wall seconds per part; the
first run of a process reads every form, the later ones (a process that keeps running, as the
worker does) the changed ones.

    python benchmarks/bench_recompute.py [--database-url URL] [--runs 7] [--tree PATH]

``--tree`` runs another checkout's code on the same database (e.g. the tree before a change,
for a before/after pair measured alternately on one machine).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--tree", default=str(Path(__file__).resolve().parents[1]))
    parser.add_argument("--method", default="affine")
    args = parser.parse_args()
    tree = Path(args.tree).resolve()
    sys.path.insert(0, str(tree))
    sys.path.insert(1, str(tree / "benchmarks"))  # its bench_review puts its own tree first
    from bench_review import CRITERIA, build

    url = args.database_url or "sqlite:////tmp/tuiyou-bench-recompute.sqlite"
    if args.database_url is None and not os.path.exists(url.removeprefix("sqlite:///")):
        build(url, 5000, 100, 5)
    from sqlmodel import Session, select

    from web.core.db import make_engine
    from web.core.models import Assignment, Rating, Round, utcnow
    from web.review import derived, operations, queries, rankings
    from web.review import services

    engine = make_engine(url)

    def resubmit(step: int) -> None:
        with Session(engine) as session:
            form = session.get(Assignment, 1 + step % 50)
            version = form.version + 1
            form.version, form.updated_at, form.submitted_at = version, utcnow(), utcnow()
            session.add(form)
            session.add_all(Rating(assignment_id=form.id, criterion=c, value=float(3 + (step + i) % 7), version=version)
                            for i, c in enumerate(CRITERIA))
            session.commit()

    def clock():
        return time.process_time(), time.perf_counter()

    parts = ("fingerprint", "read", "compute", "store", "total")
    inner = {"totals": (rankings, "weighted_totals"), "fit": (rankings, "normalize"),
             "bands": (rankings, "rank_within_category"), "derive": (derived, "derive")}
    cpu = {p: [] for p in (*parts, *inner)}
    wall = {p: [] for p in (*parts, *inner)}

    def timed(part, function):
        def run(*args, **kwargs):
            start = clock()
            try:
                return function(*args, **kwargs)
            finally:
                end = clock()
                cpu[part].append(end[0] - start[0])
                wall[part].append(end[1] - start[1])
        return run

    for part, (module, name) in inner.items():
        setattr(module, name, timed(part, getattr(module, name)))
    for step in range(args.runs):
        resubmit(step)
        with Session(engine) as session:
            round_ = session.exec(select(Round)).first()
            marks = [clock()]
            fingerprint = queries.ratings_fingerprint(session=session, round_=round_)
            marks.append(clock())
            ratings = queries.rating_input(session=session, round_=round_)
            marks.append(clock())
            original = queries.rating_input
            queries.rating_input = lambda **_: ratings  # the computation alone, on what was read
            try:
                ranking = services.compute_ranking_of(session=session, round_=round_, method=args.method)
            finally:
                queries.rating_input = original
            marks.append(clock())
            session.rollback()
            operations.store_ranking(session=session, round_=session.get(Round, round_.id), method=args.method,
                                     fingerprint=fingerprint, ranking=ranking, computed_at=utcnow())
            session.commit()
            marks.append(clock())
        for i, part in enumerate(parts[:-1]):
            cpu[part].append(marks[i + 1][0] - marks[i][0])
            wall[part].append(marks[i + 1][1] - marks[i][1])
        cpu["total"].append(marks[-1][0] - marks[0][0])
        wall["total"].append(marks[-1][1] - marks[0][1])
        print(f"run {step + 1}: " + "  ".join(f"{p} {cpu[p][-1] * 1000:.0f}/{wall[p][-1] * 1000:.0f}"
                                             for p in (*parts, *inner)) + f"  load {os.getloadavg()[0]:.1f}",
              flush=True)
    later = slice(1, None) if args.runs > 1 else slice(None)
    import web
    print(f"code from {Path(web.__file__).resolve().parents[1]}, load {os.getloadavg()[0]:.2f}; ms, CPU / wall; the first run, then the median of the others")
    for part in (*parts[:3], *inner, *parts[3:]):
        print(f"  {part:12s} first {cpu[part][0] * 1000:6.0f} / {wall[part][0] * 1000:6.0f}   "
              f"later {statistics.median(cpu[part][later]) * 1000:6.0f} / {statistics.median(wall[part][later]) * 1000:6.0f}")


if __name__ == "__main__":
    main()
