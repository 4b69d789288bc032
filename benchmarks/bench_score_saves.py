"""Saving a score under load: 50 simulated tablets against ``tuiyou serve`` (waitress) on loopback.

It builds a fresh database with the demo (SQLite file, or the PostgreSQL database given with
``--database-url``, whose ``public`` schema is dropped and rebuilt), starts ``tuiyou serve`` as
a separate process on 127.0.0.1, and runs ``--tablets`` threads. Each tablet takes one of the
demo's open forms, gets a bearer token for that form's expert, and saves one criterion at a
time as an expert would (``PUT /api/v1/assignments/{id}/scores`` with the version of the last
answer and a fresh ``Idempotency-Key``); every ``--retry-every``-th save is sent a second time
with the same key, as a tablet does after a lost answer, and must answer the same version.
Only the PUTs are timed (a keep-alive connection per tablet, ``http.client``). A tablet waits
``--think`` seconds on average between saves (an expert reads the rubric, then taps);
``--think 0`` sends back to back, which measures the server's capacity rather than an expert's day.

At the end it checks, in the database, that every form's version equals the number of saves
the server accepted for it (each change applied exactly once), and prints p50 / p95 / p99,
throughput and errors. Traffic goes to 127.0.0.1 only.

    python benchmarks/bench_score_saves.py [--tablets 50] [--saves 40] [--threads 8] [--think 1.0]
    python benchmarks/bench_score_saves.py --database-url postgresql://postgres@127.0.0.1:5432/mydb
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE))


def build_database(url: str) -> list[tuple[int, str, int]]:
    """A fresh, migrated database with the demo; the open forms as (assignment id, username, version)."""
    from sqlalchemy import text
    from sqlmodel import Session, select

    from seed.demo import build_demo
    from web.db import make_engine
    from web.migrate import upgrade
    from web.models import Assignment, AssignmentStatus, Round, RoundState, User

    engine = make_engine(url)
    if url.startswith("postgres"):
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    with Session(engine) as session:
        build_demo(session)
        rows = session.exec(
            select(Assignment.id, User.username, Assignment.version)
            .join(User, User.id == Assignment.expert_id).join(Round, Round.id == Assignment.round_id)
            .where(Round.state == RoundState.scoring,
                   Assignment.status.in_([AssignmentStatus.pending, AssignmentStatus.in_progress]))
            .order_by(Assignment.id)).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def final_versions(url: str, ids: list[int]) -> dict[int, int]:
    """The version of each form after the run, read from the database."""
    from sqlmodel import Session, select

    from web.db import make_engine
    from web.models import Assignment

    engine = make_engine(url)
    with Session(engine) as session:
        found = {a.id: a.version for a in session.exec(select(Assignment).where(Assignment.id.in_(ids)))}
    engine.dispose()
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"tuiyou serve did not listen on port {port} within {seconds} s")


@dataclass
class Tablet:
    assignment_id: int
    username: str
    version: int
    latencies: list[float] = field(default_factory=list)
    accepted: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1


def run_tablet(tablet: Tablet, port: int, password: str, saves: int, retry_every: int, stop_at: float,
               start: threading.Barrier, think: float) -> None:
    """Log in, then save ``saves`` changes (and the planned retries), timing each PUT."""
    rng = random.Random(tablet.assignment_id)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("POST", "/api/v1/tokens", json.dumps({"username": tablet.username, "password": password}),
                       {"Content-Type": "application/json"})
    response = connection.getresponse()
    token = json.loads(response.read())["token"]
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    criteria = ["thought", "artistry", "production", "innovation"]
    start.wait()
    for index in range(saves):
        if think:
            time.sleep(rng.uniform(0.5 * think, 1.5 * think))  # an expert reading, then tapping
        if time.monotonic() > stop_at:
            break
        body = {"scores": {rng.choice(criteria): rng.randrange(0, 21) / 2}, "version": tablet.version}
        key = str(uuid.uuid4())
        sends = 2 if retry_every and index % retry_every == retry_every - 1 else 1
        first_version = None
        for _ in range(sends):
            began = time.perf_counter()
            try:
                connection.request("PUT", f"/api/v1/assignments/{tablet.assignment_id}/scores", json.dumps(body),
                                   {**headers, "Idempotency-Key": key})
                response = connection.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException) as exc:
                tablet.error(type(exc).__name__)
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            tablet.latencies.append(time.perf_counter() - began)
            if response.status != 200:
                tablet.error(str(response.status))
                continue
            version = json.loads(payload)["version"]
            if first_version is None:
                first_version = version
                tablet.accepted += 1
                tablet.version = version
            elif version != first_version:
                tablet.error("retry answered a different version")
    connection.close()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="", help="PostgreSQL URL (default: a fresh SQLite file)")
    parser.add_argument("--tablets", type=int, default=50)
    parser.add_argument("--saves", type=int, default=40, help="saves per tablet")
    parser.add_argument("--retry-every", type=int, default=10, help="resend every N-th save with its key (0: never)")
    parser.add_argument("--threads", type=int, default=8, help="waitress threads (tuiyou serve's default)")
    parser.add_argument("--seconds", type=float, default=120, help="stop after this long")
    parser.add_argument("--think", type=float, default=1.0,
                        help="mean seconds between one tablet's saves (uniform 0.5x-1.5x); 0: back to back")
    args = parser.parse_args()

    from seed.demo import DEMO_PASSWORD

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        forms = build_database(url)
        if len(forms) < args.tablets:
            raise SystemExit(f"only {len(forms)} open forms in the demo")
        chosen = random.Random(7).sample(forms, args.tablets)
        port = free_port()
        env = {**os.environ, "DATABASE_URL": url, "TUIYOU_INSTANCE": str(Path(tmp) / "instance")}
        tuiyou = Path(sys.executable).with_name("tuiyou")
        # The server's log goes to a file: an unread pipe fills up under load (waitress warns about
        # its queue depth) and then blocks every thread that logs.
        log = open(Path(tmp) / "serve.log", "wb")
        server = subprocess.Popen([str(tuiyou), "serve", "--host", "127.0.0.1", "--port", str(port),
                                   "--threads", str(args.threads)], env=env, cwd=HERE,
                                  stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for(port)
            tablets = [Tablet(a, user, version) for a, user, version in chosen]
            barrier = threading.Barrier(len(tablets) + 1)
            stop_at = time.monotonic() + args.seconds + 60
            threads = [threading.Thread(target=run_tablet, args=(t, port, DEMO_PASSWORD, args.saves,
                                                                 args.retry_every, stop_at, barrier, args.think))
                       for t in tablets]
            for thread in threads:
                thread.start()
            barrier.wait()
            began = time.perf_counter()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - began
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
            log.close()
            queue_warnings = (Path(tmp) / "serve.log").read_text(errors="replace").count("Task queue depth")
        versions = final_versions(url, [t.assignment_id for t in tablets])

    latencies = [x for t in tablets for x in t.latencies]
    errors: dict[str, int] = {}
    for tablet in tablets:
        for what, count in tablet.errors.items():
            errors[what] = errors.get(what, 0) + count
    start_versions = {a: v for a, _, v in chosen}
    mismatched = [t.assignment_id for t in tablets
                  if versions[t.assignment_id] - start_versions[t.assignment_id] != t.accepted]
    result = {
        "database": "postgresql" if args.database_url else "sqlite",
        "tablets": args.tablets, "think_s": args.think, "waitress_threads": args.threads, "requests": len(latencies),
        "accepted_saves": sum(t.accepted for t in tablets), "seconds": round(elapsed, 2),
        "throughput_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(1000 * percentile(latencies, 0.50), 1),
        "p95_ms": round(1000 * percentile(latencies, 0.95), 1),
        "p99_ms": round(1000 * percentile(latencies, 0.99), 1),
        "mean_ms": round(1000 * statistics.fmean(latencies), 1),
        "errors": errors, "forms_not_applied_exactly_once": mismatched,
        "waitress_queue_warnings": queue_warnings,
        "load_average": os.getloadavg(),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
