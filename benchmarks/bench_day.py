"""A national review day under load (issue 24), with locust run headless on 127.0.0.1.

Builds a round in scoring — 5,000 works in 11 categories, 5 experts per work (25,000
assignments), 70% already submitted (17,500 forms, 70,000 rating rows), 10% half scored, 20%
not started — then starts the app servers and runs benchmarks/bench_day_users.py: ``--experts``
experts scoring at an expert's pace (an autosave every 4-12 s, a submit when a form is
complete), a chair refreshing the rankings page, the rankings API and the progress board every
2-5 s, and the admin's progress board polling every 10 s. The experts arrive over a minute and
the figures count from when all are in (locust's --reset-stats). The chair's pages serve the
latest result while submits arrive; the recomputes run in one `tuiyou recompute worker` process
at nice 10 beside the servers (or, with --recompute threads, in each server's own thread).

Afterwards the database is checked: every acknowledged save's version exists with the values
acknowledged, every acknowledged submit is submitted (zero lost saves), and locust's counts give
the errors. Prints p50/p95/max per request type and the checks; exit status 1 when a check fails.

    python benchmarks/bench_day.py --database-url postgresql://postgres@127.0.0.1:5432/tuiyou_bench_day
        # two gunicorn servers (2 workers × 4 threads each), 200 experts
    python benchmarks/bench_day.py --experts 50   # one `tuiyou serve` (waitress) on SQLite

The PostgreSQL database's ``public`` schema is dropped and rebuilt. Needs the ``benchmark``
extra (locust).
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parents[1]
for _path in (HERE, HERE / "benchmarks"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from _support import free_port, table  # noqa: E402
from bench_durability import Server, prepare_database  # noqa: E402

CATEGORIES = ("网络纪录片", "网络综艺节目", "网络动画片", "网络剧", "网络电影", "网络微短剧", "网络微电影",
              "网络直播节目", "网络音频节目", "短视频", "网络公益短片")
CRITERIA = ("thought", "artistry", "production", "innovation")
ROUND = "2026Q3"
PASSWORD = "bench-day horse battery"


def build_day(url: str, *, works: int, experts: int, per_work: int, seed: int = 0) -> list[str]:
    """The round in scoring (bulk inserts); returns one bearer token per expert."""
    from sqlalchemy import insert, select
    from sqlmodel import Session

    from web.accounts.operations import issue_token
    from web.accounts.passwords import hash_password
    from web.core.db import make_engine
    from web.core.models import Assignment, Rating, Round, RoundKind, RoundState, User, Work, utcnow

    rng = np.random.default_rng(seed)
    engine = make_engine(url)
    now = utcnow()
    with Session(engine) as session:
        digest = hash_password(PASSWORD)
        staff = [{"username": name, "role": name, "password_hash": digest, "display_name": label, "categories": [],
                  "active": True, "organisation": "", "province": "", "created_at": now}
                 for name, label in (("chair", "组长"), ("admin", "秘书处"))]
        session.execute(insert(User), staff + [
            {"username": f"e{i:03d}", "role": "expert", "password_hash": digest, "display_name": f"专家{i:03d}",
             "categories": [], "active": True, "organisation": "", "province": "", "created_at": now}
            for i in range(experts)])
        round_ = Round(key=ROUND, year=2026, quarter=3, kind=RoundKind.quarter, state=RoundState.scoring)
        session.add(round_)
        session.flush()
        session.execute(insert(Work), [{"round_id": round_.id, "title": f"作品{i:05d}", "title_normalized": f"{i}",
                                        "category": CATEGORIES[i % len(CATEGORIES)], "submitter": "机构",
                                        "created_at": now, "synopsis": ""} for i in range(works)])
        work_ids = [w for (w,) in session.execute(select(Work.id).where(Work.round_id == round_.id).order_by(Work.id))]
        people = [u for (u,) in session.execute(select(User).where(User.role == "expert").order_by(User.id))]
        bias = rng.normal(0, 0.7, experts)
        quality = rng.normal(7, 1, works)
        assignments, ratings, aid = [], [], 0
        for w, work_id in enumerate(work_ids):
            for e in rng.choice(experts, per_work, replace=False):
                aid += 1
                roll = rng.random()
                status = "submitted" if roll < 0.7 else ("in_progress" if roll < 0.8 else "pending")
                scored = CRITERIA if status == "submitted" else (CRITERIA[:2] if status == "in_progress" else ())
                assignments.append({"id": aid, "round_id": round_.id, "expert_id": people[int(e)].id,
                                    "work_id": work_id, "status": status, "version": 1 if scored else 0,
                                    "presentation_order": 0, "created_at": now, "updated_at": now,
                                    "submitted_at": now if status == "submitted" else None})
                for c in scored:
                    value = float(np.clip(np.round((quality[w] + bias[e] + rng.normal(0, .5)) * 2) / 2, 0, 10))
                    ratings.append({"assignment_id": aid, "criterion": c, "value": value, "version": 1,
                                    "created_at": now})
        session.execute(insert(Assignment), assignments)
        session.execute(insert(Rating), ratings)
        tokens = [issue_token(session=session, user=person, ttl_hours=24)[0] for person in people]
        session.commit()
    if url.startswith("postgres"):
        from sqlalchemy import text
        with engine.begin() as connection:  # ids were given explicitly: move the sequence past them
            connection.execute(text("SELECT setval(pg_get_serial_sequence('assignment', 'id'), "
                                    "(SELECT max(id) FROM assignment))"))
    with Session(engine) as session:  # the chair opened the rankings before the day began: a stored result
        from web.review.services import refresh_ranking
        from web.rounds.queries import get_round
        refresh_ranking(session=session, round_=get_round(session=session, key=ROUND), method="affine")
        session.commit()
    engine.dispose()
    return tokens


def run_locust(hosts: list[str], *, users: int, seconds: int, tokens: Path, acks: Path, out: Path) -> Path:
    """Run the day headless; returns the stats CSV."""
    env = {**os.environ, "TUIYOU_DAY_HOSTS": ",".join(hosts), "TUIYOU_DAY_TOKENS": str(tokens),
           "TUIYOU_DAY_ROUND": ROUND, "TUIYOU_DAY_PASSWORD": PASSWORD, "TUIYOU_DAY_ACKS": str(acks)}
    prefix = out / "day"
    # experts arrive over a minute (each first lists their forms), and the figures start once all are in
    command = [str(Path(sys.executable).parent / "locust"), "-f", str(HERE / "benchmarks" / "bench_day_users.py"),
               "--headless", "-u", str(users), "-r", f"{max(users / 60, 1):.2f}", "-t", f"{seconds}s",
               "--reset-stats", "--csv", str(prefix), "--only-summary", "--stop-timeout", "15", "--host", hosts[0]]
    subprocess.run(command, env=env, cwd=HERE, check=False)
    return Path(f"{prefix}_stats.csv")


def check_acks(url: str, acks: Path) -> dict:
    """Every acknowledged save's values at its version, every acknowledged submit submitted."""
    from sqlalchemy import text

    from web.core.db import make_engine

    saves, submits = {}, set()
    for line in acks.read_text().splitlines():
        record = json.loads(line)
        if record["kind"] == "save":
            saves[(record["assignment"], record["version"])] = record["scores"]
        else:
            submits.add(record["assignment"])
    engine = make_engine(url)
    with engine.connect() as connection:
        stored: dict[tuple[int, int], dict] = {}
        ids = sorted({a for a, _v in saves} | submits)
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join(str(int(i)) for i in chunk)
            for a, c, v, version in connection.execute(text(
                    f"SELECT assignment_id, criterion, value, version FROM rating WHERE assignment_id IN ({marks})")):
                stored.setdefault((a, version), {})[c] = v
        status = dict(connection.execute(text(
            f"SELECT id, status FROM assignment WHERE id IN ({','.join(str(int(i)) for i in submits) or '0'})")).all())
    engine.dispose()
    lost = [key for key, scores in saves.items() if stored.get(key) != scores]
    unsubmitted = [a for a in submits if str(status.get(a)).rsplit(".", 1)[-1] != "submitted"]
    return {"saves acknowledged": len(saves), "submits acknowledged": len(submits), "saves lost": len(lost),
            "submits lost": len(unsubmitted), "examples": (lost + unsubmitted)[:5]}


def recompute_jobs(url: str) -> dict:
    """How the background recomputes went: jobs by state, changes answered, median run time."""
    from sqlalchemy import text

    from web.core.db import make_engine

    engine = make_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT state, changes, started_at, finished_at FROM recomputejob")).all()
    engine.dispose()
    def moment(value):  # SQLite hands text back through text()
        return dt.datetime.fromisoformat(value) if isinstance(value, str) else value

    runs = sorted((moment(f) - moment(s)).total_seconds() for state, _c, s, f in rows if state == "done" and s and f)
    return {"recompute jobs": {state: sum(1 for r in rows if r[0] == state) for state in {r[0] for r in rows}},
            "changes answered": sum(r[1] for r in rows if r[0] == "done"),
            "recompute median s": round(runs[len(runs) // 2], 2) if runs else None}


def read_stats(path: Path) -> list[dict]:
    """Locust's stats rows: name, requests, failures, p50, p95, max (ms)."""
    rows = []
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            rows.append({"request": row["Name"], "n": row["Request Count"], "failures": row["Failure Count"],
                         "p50 ms": row["50%"], "p95 ms": row["95%"], "max ms": round(float(row["Max Response Time"])),
                         "req/s": f"{float(row['Requests/s']):.1f}"})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None, help="PostgreSQL: two gunicorn servers; default SQLite")
    parser.add_argument("--experts", type=int, default=None, help="default 200 (PostgreSQL) or 50 (SQLite)")
    parser.add_argument("--works", type=int, default=5000)
    parser.add_argument("--per-work", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=180)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (waitress: per server x2)")
    parser.add_argument("--recompute", choices=("process", "threads"), default="process",
                        help="the recompute worker: one `tuiyou recompute worker` process at nice 10 beside the "
                             "servers (default), or each server's own thread")
    args = parser.parse_args()
    postgres = bool(args.database_url and args.database_url.startswith("postgres"))
    experts = args.experts or (200 if postgres else 50)
    out = Path(tempfile.mkdtemp(prefix="tuiyou-day-"))
    url = args.database_url or f"sqlite:///{out}/day.sqlite"
    started = time.perf_counter()
    prepare_database(url)
    tokens = build_day(url, works=args.works, experts=experts, per_work=args.per_work)
    (out / "tokens.json").write_text(json.dumps(tokens))
    print(f"built {args.works} works, {args.works * args.per_work} assignments, {experts} experts "
          f"in {time.perf_counter() - started:.0f} s ({out})", flush=True)
    env = {**os.environ, "DATABASE_URL": url, "TUIYOU_SECRET_KEY": "bench-day-secret", "TUIYOU_AUDIT_KEY": "bench-day-audit",
           "TUIYOU_INSTANCE": str(out / "instance"), "TUIYOU_LOGIN_LIMIT_PER_ACCOUNT": "100000 per minute",
           "TUIYOU_LOGIN_LIMIT_PER_ADDRESS": "100000 per minute",
           "TUIYOU_RECOMPUTE_WORKER": "1" if args.recompute == "threads" else "0"}
    servers = ([Server("gunicorn", free_port(), env, out / f"server{i}.log", threads=args.threads,
                       workers=args.workers) for i in range(2)] if postgres else
               [Server("waitress", free_port(), env, out / "server0.log", threads=args.threads * 2)])
    for server in servers:
        server.start()
    worker = None
    if args.recompute == "process":
        with open(out / "recompute.log", "ab") as log:
            worker = subprocess.Popen(["nice", "-n", "10", str(Path(sys.executable).parent / "tuiyou"), "recompute",
                                       "worker"], env=env, cwd=HERE, stdout=log, stderr=subprocess.STDOUT)
    load_before = os.getloadavg()
    try:
        stats = run_locust([f"http://127.0.0.1:{s.port}" for s in servers], users=experts + 2, seconds=args.seconds,
                           tokens=out / "tokens.json", acks=out / "acks.jsonl", out=out)
    finally:
        load_after = os.getloadavg()
        for server in servers:
            server.stop()
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
    rows = read_stats(stats)
    checks = check_acks(url, out / "acks.jsonl")
    checks.update(recompute_jobs(url))
    print(f"\n{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {platform.node()}; {os.cpu_count()} CPUs; "
          f"load {load_before[0]:.1f} before, {load_after[0]:.1f} after; "
          f"{'PostgreSQL, 2 gunicorn servers' if postgres else 'SQLite, one tuiyou serve'}; {experts} experts, "
          f"{args.seconds} s; recompute in {args.recompute}")
    print(table(rows, ["request", "n", "failures", "p50 ms", "p95 ms", "max ms", "req/s"]))
    print(json.dumps(checks, ensure_ascii=False))
    failures = sum(int(r["failures"]) for r in rows)
    return 1 if failures or checks["saves lost"] or checks["submits lost"] else 0


if __name__ == "__main__":
    sys.exit(main())
