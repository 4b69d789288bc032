"""The sealed audit log's cost (issue 19 item 3): appending events one transaction each, from one
thread and from eight threads on two engines (two app servers), and ``verify_log`` over a long
log (time and the process's peak memory).

    python benchmarks/bench_audit.py [--url postgresql://…] [--events 2000] [--log 100000]

A temporary SQLite file unless ``--url`` is given; a PostgreSQL URL is wiped (see bench_db.py).
"""
from __future__ import annotations

import argparse
import resource
import threading
import time

from sqlalchemy import text
from sqlmodel import Session

from bench_db import fresh_database

KEY = b"bench-audit-key"


def append(engine, count: int, actor: str) -> None:
    from web.core.audit import record_event

    for i in range(count):
        with Session(engine) as session:
            record_event(session, "bench.event", actor=actor, subject=f"s{i}", detail={"i": i})
            session.commit()


def bulk_log(engine, count: int) -> None:
    """``count`` more events through record_event, in transactions of 1,000 (the setting up, not measured)."""
    from web.core.audit import record_event

    done = 0
    while done < count:
        with Session(engine) as session:
            for i in range(min(1000, count - done)):
                record_event(session, "bench.bulk", actor="bench", subject=f"b{done + i}",
                             detail={"i": done + i, "note": "一条用于测量的审计事件"})
            session.commit()
        done += 1000


def main() -> None:
    from web.core.audit import verify_log
    from web.core.db import make_engine

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=None)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--log", type=int, default=100_000)
    args = parser.parse_args()
    from web.core.audit import head_seal

    engine = fresh_database(args.url)  # migrated without a key: seal its empty log's head as init-db would
    engine.tuiyou_audit_key = KEY
    with engine.begin() as connection:
        connection.execute(text("UPDATE audithead SET seal = :s"), {"s": head_seal(KEY, 0, "")})
    second = make_engine(engine.url.render_as_string(hide_password=False))
    second.tuiyou_audit_key = KEY
    print(f"database: {engine.dialect.name}")

    started = time.perf_counter()
    append(engine, args.events, "one")
    elapsed = time.perf_counter() - started
    print(f"one thread: {args.events} events in {elapsed:.2f} s ({args.events / elapsed:.0f}/s, "
          f"{1000 * elapsed / args.events:.2f} ms each)")

    threads = [threading.Thread(target=append, args=((engine, second)[n % 2], args.events // 8, f"t{n}"))
               for n in range(8)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    print(f"eight threads on two engines: {8 * (args.events // 8)} events in {elapsed:.2f} s "
          f"({8 * (args.events // 8) / elapsed:.0f}/s)")

    bulk_log(engine, args.log)
    with Session(engine) as session:
        count = session.execute(text("SELECT count(*) FROM auditevent")).scalar()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        check = verify_log(session, key=KEY)
        elapsed = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert check.ok, check.problems[:3]
    print(f"verify: {count} events in {elapsed:.2f} s ({count / elapsed:.0f}/s); peak RSS {peak / 1024:.0f} MiB "
          f"(before verify {before / 1024:.0f} MiB)")
    second.dispose()
    engine.dispose()


if __name__ == "__main__":
    main()
