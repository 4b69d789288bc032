"""The chair console at the design target: a round of 5,000 works and 25,000 ratings (100
experts, 5 ratings per work, 4 criteria: 100,000 Rating rows), and a PDF of 500 entries.

Times, through the Flask test client (server time, no network): the rankings API cold (the
ranking computed and stored in the cache) and warm (served from the cache after the ratings'
fingerprint is checked), the same after one new rating; then every chair page and its API
(rankings, one category, shortlist with the proposal not saved and saved, diagnostics, the
progress board and its API) in three states, ``--runs`` requests each, median and p95: steady;
right after a rating changed (the stored result served, "正在更新"); and right after the
background recompute stored a newer result (the first request that reads it). Then the
computation itself and the PDF export of a 500-entry shortlist.

    python benchmarks/bench_review.py [--database-url URL] [--method affine] [--runs 20]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CATEGORIES = ("网络纪录片", "网络综艺节目", "网络动画片", "网络剧", "网络电影", "网络微短剧", "网络微电影",
              "网络直播节目", "网络音频节目", "短视频", "网络公益短片")
CRITERIA = ("thought", "artistry", "production", "innovation")


def build(url: str, n_works: int, n_experts: int, per_work: int, seed: int = 0) -> None:
    """A migrated database with one round in review, fully rated (bulk inserts)."""
    from sqlalchemy import insert
    from sqlmodel import Session

    from web.accounts.passwords import hash_password
    from web.core.db import make_engine
    from web.core.migrate import upgrade
    from web.core.models import Assignment, Rating, Round, RoundKind, RoundState, User, Work, utcnow

    rng = np.random.default_rng(seed)
    engine = make_engine(url)
    upgrade(engine)
    now = utcnow()
    with Session(engine) as session:
        digest = hash_password("bench-password")
        session.execute(insert(User), [{"username": "chair", "role": "chair", "password_hash": digest,
                                        "display_name": "组长", "categories": [], "active": True,
                                        "organisation": "", "province": "", "created_at": now}] +
                        [{"username": f"e{i:03d}", "role": "expert", "password_hash": digest, "display_name": f"专家{i}",
                          "categories": [], "active": True, "organisation": "", "province": "", "created_at": now}
                         for i in range(n_experts)])
        round_ = Round(key="2025Q1", year=2025, quarter=1, kind=RoundKind.quarter, state=RoundState.review)
        session.add(round_)
        session.flush()
        session.execute(insert(Work), [{"round_id": round_.id, "title": f"作品{i:05d}", "title_normalized": f"{i}",
                                        "category": CATEGORIES[i % len(CATEGORIES)], "submitter": "机构",
                                        "created_at": now, "synopsis": ""} for i in range(n_works)])
        first_work = session.execute(Work.__table__.select().limit(1)).first().id
        first_expert = session.execute(User.__table__.select().where(User.role == "expert").limit(1)).first().id
        bias = rng.normal(0, 0.7, n_experts)
        quality = rng.normal(7, 1, n_works)
        assignments, ratings = [], []
        aid = 0
        for w in range(n_works):
            for e in rng.choice(n_experts, per_work, replace=False):
                aid += 1
                assignments.append({"id": aid, "round_id": round_.id, "expert_id": first_expert + int(e),
                                    "work_id": first_work + w, "status": "submitted", "version": 1,
                                    "presentation_order": 0, "created_at": now, "updated_at": now, "submitted_at": now})
                for c in CRITERIA:
                    value = float(np.clip(np.round((quality[w] + bias[e] + rng.normal(0, .5)) * 2) / 2, 0, 10))
                    ratings.append({"assignment_id": aid, "criterion": c, "value": value, "version": 1,
                                    "created_at": now})
        session.execute(insert(Assignment), assignments)
        session.execute(insert(Rating), ratings)
        session.commit()
    engine.dispose()


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def p95(values: list[float]) -> float:
    """The 95th percentile (linear between the two nearest of the sorted values)."""
    return float(np.percentile(values, 95))


def ms(values: list[float]) -> str:
    return f"median {statistics.median(values) * 1000:.0f} / p95 {p95(values) * 1000:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--works", type=int, default=5000)
    parser.add_argument("--experts", type=int, default=100)
    parser.add_argument("--per-work", type=int, default=5)
    parser.add_argument("--method", default="affine")
    parser.add_argument("--runs", type=int, default=20, help="requests per page and state (p95 wants 20 or more)")
    parser.add_argument("--skip-pdf", action="store_true", help="leave out the 500-entry PDF")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp()
    url = args.database_url or f"sqlite:///{tmp}/bench.sqlite"
    started = time.perf_counter()
    build(url, args.works, args.experts, args.per_work)
    print(f"built {args.works} works, {args.works * args.per_work} ratings in {time.perf_counter() - started:.1f} s")
    print(f"start: load average {os.getloadavg()[0]:.2f}", flush=True)

    os.environ["TUIYOU_INSTANCE"] = f"{tmp}/instance"
    from web import create_app

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True})
    try:  # as every server process does once its app is built (issue 24): start-up's heap frozen
        from web.core.heap import settle
    except ImportError:  # an earlier tree
        settle = None
    if settle is not None and not os.environ.get("BENCH_NO_SETTLE"):
        settle()
    client = app.test_client()
    token = client.post("/api/v1/tokens", json={"username": "chair", "password": "bench-password"}).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    api = f"/api/v1/rounds/2025Q1/rankings?method={args.method}"

    def get(path):
        response = client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.status_code)
        return response

    cold = timed(lambda: get(api))
    warm = [timed(lambda: get(api)) for _ in range(args.runs)]
    import re
    from sqlmodel import Session, select
    from web.core.models import Rating, Round
    engine = app.extensions["tuiyou.engine"]
    changes = iter(range(2, 10_000))

    def change_a_rating():  # one submitted form reopened and submitted again with a new value
        from web.core.models import Assignment, utcnow
        with Session(engine) as session:
            version = next(changes)
            form = session.get(Assignment, 1)
            form.version, form.updated_at, form.submitted_at = version, utcnow(), utcnow()
            session.add(form)
            session.add_all(Rating(assignment_id=1, criterion=c, value=9.5 - version % 3, version=version)
                            for c in CRITERIA)
            session.commit()

    try:
        from web.recompute.runner import refresh_round
    except ImportError:  # an earlier tree: no background recompute
        refresh_round = None

    def recompute():  # what the background job does after a change: every stored method afresh
        with Session(engine, expire_on_commit=False) as session:
            refresh_round(session, session.exec(select(Round)).first())

    change_a_rating()
    invalidated = timed(lambda: get(api))
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/login", data={"username": "chair", "password": "bench-password",
                                       "csrf_token": csrf}).status_code in (302, 303)
    pages = {"rankings page": f"/review/2025Q1/rankings?method={args.method}",
             "rankings page, one category": f"/review/2025Q1/rankings?method={args.method}&category=网络剧",
             "shortlist page (proposal not saved)": f"/review/2025Q1/shortlist?method={args.method}",
             "shortlist API (proposal not saved)": f"/api/v1/rounds/2025Q1/shortlist?method={args.method}",
             "diagnostics page": f"/review/2025Q1/diagnostics?method={args.method}",
             "rankings API": api,
             "progress board page": "/rounds/2025Q1/progress",
             "progress board (a poll that finds a change)": "/rounds/2025Q1/progress/live",
             "progress API": "/api/v1/rounds/2025Q1/progress"}
    stored_pages = {"shortlist page (proposal saved)": f"/review/2025Q1/shortlist?method={args.method}",
                    "shortlist API (proposal saved)": f"/api/v1/rounds/2025Q1/shortlist?method={args.method}"}
    states = ("steady", "after a change", "after a recompute")
    times: dict[str, dict[str, list[float]]] = {}

    def measure(named: dict[str, str]) -> None:
        for name, path in list(named.items()):
            if client.get(path, headers=headers).status_code == 404:  # an earlier tree without this page
                continue
            get(path)  # computed once (the first request of this method may compute)
            times[name] = {state: [] for state in states}
            for _ in range(args.runs):
                times[name]["steady"].append(timed(lambda: get(path)))
                change_a_rating()  # served from the stored result, marked "正在更新"
                times[name]["after a change"].append(timed(lambda: get(path)))
                if refresh_round is not None:  # the background job stored a newer result: its first reader
                    recompute()
                    times[name]["after a recompute"].append(timed(lambda: get(path)))
            print(f"{name}: " + "; ".join(f"{state} {ms(values)}" for state, values in times[name].items() if values),
                  flush=True)

    measure(pages)
    response = client.post("/api/v1/rounds/2025Q1/shortlist", json={"method": args.method}, headers=headers)
    assert response.status_code == 201, response.status_code
    measure(stored_pages)
    try:
        from web.review import services as console  # the middle layer's name since issue 20
    except ImportError:  # an earlier tree
        from web.review import console
    from web.rounds.queries import get_round
    with Session(engine) as session:
        round_ = get_round(session=session, key="2025Q1")
        compute = [timed(lambda: console.compute_ranking_of(session=session, round_=round_, method=args.method))
                   for _ in range(min(args.runs, 5))] if hasattr(console, "compute_ranking_of") else []

    pdf_times, size = [], 0
    if not args.skip_pdf:
        from benchmarks.bench_exports import document
        from web.exports.pdf import to_pdf
        doc = document(500, "shortlist")  # the same 500-entry document as benchmarks/bench_exports.py
        with app.app_context():
            pdf_times = [timed(lambda: to_pdf(doc)) for _ in range(3)]
            size = len(to_pdf(doc))
    load = os.getloadavg()[0]
    print(f"end: load average {load:.2f}; method {args.method}; database {url.split(':')[0]}; "
          f"{args.runs} requests per page and state")
    print(f"rankings API cold (compute + store cache): {cold * 1000:.0f} ms")
    print(f"rankings API warm (cache): {ms(warm)}")
    print(f"rankings API after a new rating (first request): {invalidated * 1000:.0f} ms")
    for name, by_state in times.items():
        print(f"{name}: " + "; ".join(f"{state} {ms(values)} (max {max(values) * 1000:.0f})"
                                      for state, values in by_state.items() if values))
    if compute:
        print(f"the computation itself (read + fit + bands), {ms(compute)}")
    if pdf_times:
        print(f"PDF of 500 entries: median {statistics.median(pdf_times):.2f} s ({size / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
