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

Before the load run it also measures the CPU time of one save in-process (``--cpu-saves``
saves through Flask's test client on the same fresh database, ``time.process_time``): the
server's own cost per save, without HTTP, threads or the load tool.

    python benchmarks/bench_score_saves.py                   # SQLite; prints a table
    python benchmarks/bench_score_saves.py --database-url sqlite \
        --database-url postgresql://postgres@127.0.0.1:5432/mydb   # both, one row each
    options: [--tablets 50] [--saves 40] [--threads 8] [--think 1.0] [--cpu-saves 400] [--json]
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
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
for _path in (HERE, HERE / "benchmarks"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from _support import free_port, table, wait_for  # noqa: E402

COLUMNS = ["database", "cpu_ms_per_save", "tablets", "think_s", "waitress_threads", "requests", "throughput_per_s",
           "p50_ms", "p95_ms", "p99_ms", "errors", "exactly_once", "load_average"]


def build_database(url: str) -> list[tuple[int, str, int]]:
    """A fresh, migrated database with the demo; the open forms as (assignment id, username, version)."""
    from sqlalchemy import text
    from sqlmodel import Session, select

    from seed.demo import build_demo
    from web.core.db import make_engine
    from web.core.migrate import upgrade
    from web.core.models import Assignment, AssignmentStatus, Round, RoundState, User

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

    from web.core.db import make_engine
    from web.core.models import Assignment

    engine = make_engine(url)
    with Session(engine) as session:
        found = {a.id: a.version for a in session.exec(select(Assignment).where(Assignment.id.in_(ids)))}
    engine.dispose()
    return found


def cpu_per_save(url: str, form: tuple[int, str, int], saves: int, instance: Path) -> float:
    """Milliseconds of CPU (``time.process_time``) per save, in-process through Flask's test client."""
    from seed.demo import DEMO_PASSWORD
    from web import create_app

    os.environ["TUIYOU_INSTANCE"] = str(instance)
    app = create_app({"DATABASE_URL": url})
    client = app.test_client()
    assignment_id, username, version = form
    token = client.post("/api/v1/tokens", json={"username": username, "password": DEMO_PASSWORD}).get_json()["token"]
    rng, criteria = random.Random(1), ["thought", "artistry", "production", "innovation"]

    def save() -> None:
        nonlocal version
        response = client.put(f"/api/v1/assignments/{assignment_id}/scores",
                              json={"scores": {rng.choice(criteria): rng.randrange(0, 21) / 2}, "version": version},
                              headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())})
        if response.status_code != 200:
            raise SystemExit(f"in-process save answered {response.status_code}: {response.get_json()}")
        version = response.get_json()["version"]

    for _ in range(min(50, saves)):  # warm up: imports, statement caches, connection pool
        save()
    began = time.process_time()
    for _ in range(saves):
        save()
    spent = time.process_time() - began
    app.extensions["tuiyou.engine"].dispose()
    return 1000 * spent / saves


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


def run(url: str, args: argparse.Namespace, tmp: Path) -> dict:
    """One load run against ``url`` (a fresh database); the result row."""
    from seed.demo import DEMO_PASSWORD

    forms = build_database(url)
    if len(forms) < args.tablets + 1:
        raise SystemExit(f"only {len(forms)} open forms in the demo")
    chosen = random.Random(7).sample(forms, args.tablets)
    spare = next(f for f in forms if f not in chosen)  # the in-process measurement saves on another form
    cpu = round(cpu_per_save(url, spare, args.cpu_saves, tmp / "instance"), 2) if args.cpu_saves else None
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "TUIYOU_INSTANCE": str(tmp / "instance")}
    tuiyou = Path(sys.executable).with_name("tuiyou")
    # The server's log goes to a file: an unread pipe fills up under load (waitress warns about
    # its queue depth) and then blocks every thread that logs.
    log = open(tmp / "serve.log", "wb")
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
        queue_warnings = (tmp / "serve.log").read_text(errors="replace").count("Task queue depth")
    versions = final_versions(url, [t.assignment_id for t in tablets])

    latencies = [x for t in tablets for x in t.latencies]
    errors: dict[str, int] = {}
    for tablet in tablets:
        for what, count in tablet.errors.items():
            errors[what] = errors.get(what, 0) + count
    start_versions = {a: v for a, _, v in chosen}
    mismatched = [t.assignment_id for t in tablets
                  if versions[t.assignment_id] - start_versions[t.assignment_id] != t.accepted]
    return {
        "database": "postgresql" if url.startswith("postgres") else "sqlite", "cpu_ms_per_save": cpu,
        "tablets": args.tablets, "think_s": args.think, "waitress_threads": args.threads, "requests": len(latencies),
        "accepted_saves": sum(t.accepted for t in tablets), "seconds": round(elapsed, 2),
        "throughput_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(1000 * percentile(latencies, 0.50), 1),
        "p95_ms": round(1000 * percentile(latencies, 0.95), 1),
        "p99_ms": round(1000 * percentile(latencies, 0.99), 1),
        "mean_ms": round(1000 * statistics.fmean(latencies), 1),
        "errors": errors or 0, "forms_not_applied_exactly_once": mismatched,
        "exactly_once": "yes" if not mismatched else f"NO ({len(mismatched)} forms)",
        "waitress_queue_warnings": queue_warnings,
        "load_average": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", action="append", default=[],
                        help="'sqlite' (a fresh file) or a PostgreSQL URL whose public schema is rebuilt; "
                             "repeat for several rows (default: sqlite)")
    parser.add_argument("--tablets", type=int, default=50)
    parser.add_argument("--saves", type=int, default=40, help="saves per tablet")
    parser.add_argument("--retry-every", type=int, default=10, help="resend every N-th save with its key (0: never)")
    parser.add_argument("--threads", type=int, default=8, help="waitress threads (tuiyou serve's default)")
    parser.add_argument("--seconds", type=float, default=120, help="stop after this long")
    parser.add_argument("--think", type=float, default=1.0,
                        help="mean seconds between one tablet's saves (uniform 0.5x-1.5x); 0: back to back")
    parser.add_argument("--cpu-saves", type=int, default=400,
                        help="saves for the in-process CPU measurement (0: skip it)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    args = parser.parse_args()

    rows = []
    for target in args.database_url or ["sqlite"]:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{Path(tmp) / 'bench.sqlite'}" if target == "sqlite" else target
            rows.append(run(url, args, Path(tmp)))
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(table(rows, COLUMNS))


if __name__ == "__main__":
    main()
