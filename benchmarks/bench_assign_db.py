"""Time `tuiyou assign` on a round of 5,000 works and 150 experts, database writes included
(target: seconds), run by hand:

    .venv/bin/python benchmarks/bench_assign_db.py [--works 5000] [--experts 150] [--per-work 5] [--database-url URL]
        [--as-job]

Builds a fresh database (a temporary SQLite file unless --database-url is given; a PostgreSQL
URL is wiped and migrated) with a national round in scoring, works spread over the 11
categories (submitters shared with some experts' organisations, so there are conflicts to
avoid) and experts each covering three categories with a capacity, then times ``run_draw``
end to end: reading the instance, the draw, the bulk insert, the audit event and the commit.
A second run after 200 late entries times the incremental case. ``--as-job`` runs each draw
the way the round's page does (a ``DrawJob`` whose stage and progress are written as it goes).
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--works", type=int, default=5000)
    parser.add_argument("--experts", type=int, default=150)
    parser.add_argument("--per-work", type=int, default=5)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--as-job", action="store_true",
                        help="run each draw as the round page does: a DrawJob with its progress written as it goes")
    args = parser.parse_args()

    import numpy as np
    from sqlalchemy import insert
    from sqlmodel import Session

    from bench_db import fresh_database
    from scoring.rules.config import load_rules
    from web.assignment.jobs import run_job, start_job
    from web.assignment.operations import run_draw
    from web.core.models import Role, Round, RoundState, User, Work

    engine = fresh_database(args.database_url)
    rng = np.random.default_rng(7)
    categories = list(load_rules().category_names)
    orgs = [f"机构{i}" for i in range(400)]
    capacity = int(np.ceil(args.works * args.per_work / args.experts * 1.6))

    def works(round_id: int, n: int, start: int) -> list[dict]:
        return [{"round_id": round_id, "title": f"作品{start + i}", "title_normalized": f"作品{start + i}",
                 "category": categories[int(rng.integers(len(categories)))],
                 "submitter": orgs[int(rng.integers(len(orgs)))], "submitter_type": "organisation",
                 "unit": "浙江省广播电视局", "unit_type": "province",
                 "copyright_holder": orgs[int(rng.integers(len(orgs)))], "platform": "", "synopsis": "", "url": "",
                 "uhd": False, "aigc": False, "single_episode": False, "recommended": False}
                for i in range(n)]

    with Session(engine, expire_on_commit=False) as session:
        round_ = Round(key="2025Q1", year=2025, quarter=1, state=RoundState.scoring)
        session.add(round_)
        session.flush()
        session.execute(insert(Work), works(round_.id, args.works, 0))
        session.execute(insert(User), [
            {"username": f"e{i:03d}", "display_name": f"专家{i}", "role": Role.expert, "password_hash": "!",
             "organisation": orgs[i % len(orgs)], "province": "北京市", "active": True, "capacity": capacity,
             "categories": [categories[(i + s) % len(categories)] for s in (0, 4, 7)]}
            for i in range(args.experts)])
        session.commit()
    timings = []
    for label, late in (("first draw", 0), ("after 200 late entries", 200)):
        with Session(engine, expire_on_commit=False) as session:
            if late:
                session.execute(insert(Work), works(round_.id, late, args.works))
                session.commit()
            started = time.perf_counter()
            if args.as_job:
                job = start_job(session=session, round_=session.get(Round, round_.id), per_work=args.per_work,
                                seed=2025, actor="bench")
                run_job(engine, job.id)
                session.refresh(job)
                elapsed = time.perf_counter() - started
                if job.state != "done":
                    raise SystemExit(f"{label}: {job.message_en}")
                print(f"{label} (draw job): {job.result['new']} new, {job.result['kept']} kept, coverage "
                      f"{job.result['coverage']:.0%}, total with writes and progress {elapsed:.2f} s")
                timings.append(elapsed)
                continue
            outcome = run_draw(session=session, round_=session.get(Round, round_.id), per_work=args.per_work,
                               seed=2025, actor="bench")
            session.commit()
            elapsed = time.perf_counter() - started
        timings.append(elapsed)
        report = outcome.result.report
        print(f"{label}: {len(outcome.result.new)} new, {len(outcome.result.kept)} kept, coverage "
              f"{report.covered}/{report.works}, conflicts avoided {sum(report.conflicts_avoided.values())}, "
              f"algorithm {report.seconds:.2f} s, total with writes {elapsed:.2f} s")
    print(f"{engine.dialect.name}, {args.works} works, {args.experts} experts, {args.per_work} per work  "
          f"[{platform.python_version()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}]")
    engine.dispose()


if __name__ == "__main__":
    main()
