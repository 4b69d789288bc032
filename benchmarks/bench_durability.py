"""Durability under load: N simulated tablets save scores while an app server is killed with SIGKILL.

Each tablet owns one assignment in a scoring round and saves ``--saves`` changes, each with the
version of its last answer and a fresh ``Idempotency-Key``; on a network error, a timeout or a 5xx
it resends the SAME key (to the next server when there are several), which is what makes a retry
safe. Every ``--stale-every``-th change is first sent once with an old version, which must be
refused with 409. Every 200 answer is recorded as (assignment, version, values sent).

Mid-run (after half the expected saves) one server is killed with SIGKILL (its whole process
group: gunicorn master and workers) and restarted on the same port and database; tablets keep
going. Afterwards the database is checked: each acknowledged version exists exactly once in the
Rating history with the values sent; versions per assignment are contiguous 1..N; nothing
acknowledged was lost; no refused (409) save was applied (stale overwrites).

    python benchmarks/bench_durability.py                  # SQLite, one tuiyou serve (waitress)
    python benchmarks/bench_durability.py --database-url postgresql://postgres@127.0.0.1:5432/mydb
(PostgreSQL: two gunicorn servers, the first is killed; its ``public`` schema is dropped and
rebuilt.) Traffic stays on 127.0.0.1. Exit status 1 when a check fails."""
from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
for _path in (HERE, HERE / "benchmarks"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from _support import free_port, wait_for  # noqa: E402

CRITERIA = ("thought", "artistry", "production", "innovation")
EXPERT_PASSWORD = "durability horse battery"


def prepare_database(url: str, *, fresh: bool = True) -> None:
    """Migrate ``url`` to head; with ``fresh`` a PostgreSQL schema is dropped and rebuilt first."""
    from sqlalchemy import text

    from web.core.db import make_engine
    from web.core.migrate import upgrade

    engine = make_engine(url)
    if fresh and url.startswith("postgres"):
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    engine.dispose()


def build_world(url: str, clients: int, *, per_expert: int = 10) -> list[tuple[int, str]]:
    """A round in scoring with one assignment per client; returns (assignment id, bearer token)."""
    from sqlmodel import Session

    from web.accounts.operations import create_user, issue_token
    from web.core.db import make_engine
    from web.core.models import Assignment, Round, RoundState, Work

    engine = make_engine(url)
    result = []
    with Session(engine) as session:
        round_ = Round(key="2026Q3", year=2026, quarter=3, state=RoundState.scoring)
        session.add(round_)
        session.flush()
        for start in range(0, clients, per_expert):
            expert = create_user(session=session, username=f"load{start // per_expert:03d}",
                                 password=EXPERT_PASSWORD, role="expert", display_name="压测专家",
                                 categories=["网络剧"])
            session.flush()
            token, _ = issue_token(session=session, user=expert, ttl_hours=24)
            for index in range(start, min(clients, start + per_expert)):
                work = Work(round_id=round_.id, title=f"压测作品{index:03d}", category="网络剧",
                            submitter="压测公司", unit="压测单位", copyright_holder="压测版权方",
                            synopsis="压测用作品。", episodes=12, duration_min=45.0,
                            url=f"https://example.org/load/{index}")
                session.add(work)
                session.flush()
                assignment = Assignment(round_id=round_.id, expert_id=expert.id, work_id=work.id)
                session.add(assignment)
                session.flush()
                result.append((assignment.id, token))
        session.commit()
    engine.dispose()
    return result


class Server:
    """One app server in its own process group: ``tuiyou serve`` (waitress) or gunicorn."""

    def __init__(self, kind: str, port: int, env: dict, log: Path, *, threads: int = 8, workers: int = 2):
        self.kind, self.port, self.env, self.log, self.threads, self.workers = kind, port, env, log, threads, workers
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        """Start the server and wait until it listens."""
        bin_dir = Path(sys.executable).parent
        if self.kind == "waitress":
            command = [str(bin_dir / "tuiyou"), "serve", "--host", "127.0.0.1", "--port", str(self.port),
                       "--threads", str(self.threads)]
            env = self.env
        else:
            command = [str(bin_dir / "gunicorn"), "-c", "python:web.core.gunicorn_conf", "web:create_app()"]
            env = {**self.env, "TUIYOU_BIND": f"127.0.0.1:{self.port}", "TUIYOU_WORKERS": str(self.workers),
                   "TUIYOU_THREADS": str(self.threads)}
        with open(self.log, "ab") as log:  # a file: an unread pipe would block the server
            self.process = subprocess.Popen(command, env=env, cwd=HERE, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        wait_for(self.port)

    def kill(self) -> None:
        """SIGKILL the whole process group (no clean shutdown) and reap it."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process = None

    def stop(self) -> None:
        """Stop politely (SIGTERM), then SIGKILL after 10 s."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            self.kill()
        self.process = None


@dataclass
class Tablet:
    """One simulated tablet and what the server told it."""

    assignment_id: int
    token: str
    ports: list[int]
    version: int = 0
    acknowledged: list[tuple[int, dict]] = field(default_factory=list)   # (version, values sent)
    refused_keys: list[str] = field(default_factory=list)                 # 409 answers to stale probes
    stale_accepted: int = 0                                              # a stale probe answered 200
    latencies: list[float] = field(default_factory=list)
    retries: int = 0
    gave_up: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def note(self, what: str) -> None:
        """Count one error answer or exception by name."""
        self.errors[what] = self.errors.get(what, 0) + 1


class Progress:
    """Acknowledged saves across tablets (thread-safe counter)."""

    def __init__(self):
        self.lock, self.count = threading.Lock(), 0

    def add(self) -> None:
        """Count one acknowledged save."""
        with self.lock:
            self.count += 1


def _put(tablet: Tablet, port: int, body: dict, key: str, timeout: float) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("PUT", f"/api/v1/assignments/{tablet.assignment_id}/scores", json.dumps(body),
                           {"Content-Type": "application/json", "Authorization": f"Bearer {tablet.token}",
                            "Idempotency-Key": key})
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def run_tablet(tablet: Tablet, saves: int, stale_every: int, deadline: float, progress: Progress,
               timeout: float = 10.0) -> None:
    """Save ``saves`` changes, retrying each one with its own key until acknowledged or ``deadline``."""
    rng = random.Random(tablet.assignment_id)
    turn = rng.randrange(len(tablet.ports))
    for index in range(saves):
        values = {c: rng.randrange(0, 21) / 2 for c in CRITERIA}
        if stale_every and tablet.version >= 1 and index % stale_every == stale_every - 1:
            probe = str(uuid.uuid4())
            try:
                status, _ = _put(tablet, tablet.ports[turn % len(tablet.ports)],
                                 {"scores": values, "version": tablet.version - 1}, probe, timeout)
                if status == 409:
                    tablet.refused_keys.append(probe)
                elif status == 200:
                    tablet.stale_accepted += 1
            except (OSError, http.client.HTTPException):
                tablet.refused_keys.append(probe)  # unknown fate: it must not have been applied either
        key, body = str(uuid.uuid4()), {"scores": values, "version": tablet.version}
        pause = 0.05
        while True:
            if time.monotonic() > deadline:
                tablet.gave_up += 1
                return
            began = time.perf_counter()
            try:
                status, payload = _put(tablet, tablet.ports[turn % len(tablet.ports)], body, key, timeout)
            except (OSError, http.client.HTTPException) as exc:
                tablet.note(type(exc).__name__)
                tablet.retries += 1
                turn += 1  # the next server, as a load balancer would
                time.sleep(pause)
                pause = min(1.0, pause * 2)
                continue
            if status == 200:
                tablet.latencies.append(time.perf_counter() - began)
                tablet.version = payload["version"]
                tablet.acknowledged.append((tablet.version, values))
                progress.add()
                break
            tablet.note(str(status))
            if status == 409:  # not expected: this tablet alone writes its form
                tablet.version = payload.get("version", tablet.version)
                key, body = str(uuid.uuid4()), {"scores": values, "version": tablet.version}
                continue
            if status >= 500 or status == 429:
                tablet.retries += 1
                time.sleep(0.2)
                continue
            tablet.gave_up += 1  # a 4xx the client cannot fix
            return


def check_database(url: str, tablets: list[Tablet]) -> dict:
    """Compare what the tablets were told with the Rating history in the database."""
    from sqlmodel import Session, select

    from web.core.db import make_engine
    from web.core.models import Assignment, Rating, ScoreSave

    engine = make_engine(url)
    ids = [t.assignment_id for t in tablets]
    with Session(engine) as session:
        rows = session.exec(select(Rating).where(Rating.assignment_id.in_(ids))).all()
        current = {a.id: a.version for a in session.exec(select(Assignment).where(Assignment.id.in_(ids)))}
        refused = [k for t in tablets for k in t.refused_keys]
        applied_refused = 0
        for start in range(0, len(refused), 500):
            applied_refused += len(session.exec(select(ScoreSave.key)
                                                .where(ScoreSave.key.in_(refused[start:start + 500]))).all())
    engine.dispose()
    history: dict[tuple[int, int], dict[str, list[float]]] = {}
    for row in rows:
        history.setdefault((row.assignment_id, row.version), {}).setdefault(row.criterion, []).append(row.value)
    found = lost = wrong_values = duplicated_acks = not_contiguous = unacknowledged = 0
    for tablet in tablets:
        acked = [v for v, _ in tablet.acknowledged]
        duplicated_acks += len(acked) - len(set(acked))
        for version, values in tablet.acknowledged:
            stored = history.get((tablet.assignment_id, version))
            if stored is None:
                lost += 1
            elif any(len(stored.get(c, [])) != 1 for c in values) or \
                    any(stored[c][0] != v for c, v in values.items()):
                wrong_values += 1
            else:
                found += 1
        versions = sorted(v for a, v in history if a == tablet.assignment_id)
        if versions != list(range(1, current[tablet.assignment_id] + 1)):
            not_contiguous += 1
        unacknowledged += len(set(versions) - set(acked))
    return {"acknowledged": sum(len(t.acknowledged) for t in tablets), "found": found, "lost": lost,
            "wrong_values": wrong_values, "duplicated_acks": duplicated_acks,
            "assignments_not_contiguous": not_contiguous, "unacknowledged_versions": unacknowledged,
            "stale_probes_refused": len(refused),
            "stale_overwrites": applied_refused + sum(t.stale_accepted for t in tablets)}


def percentile(values: list[float], share: float) -> float:
    """The ``share`` quantile of ``values`` (nearest rank); 0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def run_load(url: str, *, kind: str, servers: int, clients: int, saves: int, stale_every: int = 5,
             kill_after: float | None = 0.5, seconds: float = 300, workdir: Path, threads: int = 8,
             workers: int = 2) -> dict:
    """Build the world in ``url`` (already migrated), serve it, run the tablets, kill mid-run, check."""
    world = build_world(url, clients)
    env = {**os.environ, "DATABASE_URL": url, "TUIYOU_INSTANCE": str(workdir / "instance"),
           "TUIYOU_SECRET_KEY": "durability-secret", "TUIYOU_AUDIT_KEY": "durability-audit"}
    env.pop("TUIYOU_REDIS_URL", None)
    running = [Server(kind, free_port(), env, workdir / f"server{i}.log", threads=threads, workers=workers)
               for i in range(servers)]
    kills = 0
    try:
        for server in running:
            server.start()
        ports = [s.port for s in running]
        tablets = [Tablet(a, token, ports) for a, token in world]
        progress, deadline = Progress(), time.monotonic() + seconds
        threads_ = [threading.Thread(target=run_tablet, args=(t, saves, stale_every, deadline, progress),
                                     daemon=True) for t in tablets]
        began = time.perf_counter()
        for thread in threads_:
            thread.start()
        target = int(kill_after * clients * saves) if kill_after is not None else None
        while target is not None and time.monotonic() < deadline and any(t.is_alive() for t in threads_):
            if progress.count >= target:
                acked_before_kill = progress.count
                running[0].kill()
                kills += 1
                time.sleep(0.5)  # clients see refused connections meanwhile
                running[0].start()
                break
            time.sleep(0.05)
        for thread in threads_:
            thread.join(timeout=max(0.0, deadline - time.monotonic()) + 15)
        elapsed = time.perf_counter() - began
    finally:
        for server in running:
            server.stop()
    result = check_database(url, tablets)
    latencies = [x for t in tablets for x in t.latencies]
    errors = dict(sum((Counter(t.errors) for t in tablets), Counter()))
    result.update({
        "server": kind, "servers": servers, "clients": clients, "saves_per_client": saves, "sigkills": kills,
        "acknowledged_before_kill": acked_before_kill if kills else None,
        "retries": sum(t.retries for t in tablets), "gave_up": sum(t.gave_up for t in tablets),
        "errors": errors, "seconds": round(elapsed, 1),
        "p50_ms": round(1000 * percentile(latencies, 0.50), 1),
        "p95_ms": round(1000 * percentile(latencies, 0.95), 1),
        "p99_ms": round(1000 * percentile(latencies, 0.99), 1),
        "machine": f"{platform.machine()} {os.cpu_count()} cores, {platform.system()} {platform.release()}",
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    })
    return result


def main() -> None:
    """Run one durability benchmark and print its figures as JSON; exit 1 when a check failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="", help="PostgreSQL URL (default: a fresh SQLite file)")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--saves", type=int, default=50, help="saves per client")
    parser.add_argument("--stale-every", type=int, default=5, help="send a stale version before every N-th save")
    parser.add_argument("--no-kill", action="store_true", help="do not SIGKILL a server mid-run")
    parser.add_argument("--seconds", type=float, default=900, help="give up after this long")
    parser.add_argument("--threads", type=int, default=8, help="threads per server (per gunicorn worker)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'durability.sqlite'}"
        prepare_database(url)
        postgres = url.startswith("postgres")
        result = run_load(url, kind="gunicorn" if postgres else "waitress", servers=2 if postgres else 1,
                          clients=args.clients, saves=args.saves, stale_every=args.stale_every,
                          kill_after=None if args.no_kill else 0.5, seconds=args.seconds, workdir=Path(tmp),
                          threads=args.threads, workers=args.workers)
    result["database"] = "postgresql" if postgres else "sqlite"
    print(json.dumps(result, indent=2, ensure_ascii=False))
    ok = result["lost"] == 0 and result["stale_overwrites"] == 0 and result["wrong_values"] == 0 \
        and result["assignments_not_contiguous"] == 0 and result["gave_up"] == 0
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
