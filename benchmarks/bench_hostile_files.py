"""Hostile import files against a real server (issue 19), run by hand or by the test suite:

    .venv/bin/python benchmarks/bench_hostile_files.py [--database-url URL] [--largest]

Starts ``tuiyou serve`` (waitress) on a fresh database with an admin and a round in intake,
logs in through the form and uploads each file of ``benchmarks/hostile_files.py`` to
``/admin/imports`` and ``/admin/experts/import``. For each it records the answer, the time,
the serving process's peak resident memory during the upload (its VmHWM, reset before each
upload) above its resident memory just before, and the parse worker's peak (its VmHWM, sampled every 20 ms), and checks that
the server still answers. ``--largest`` adds each shape at the size the upload limit allows
(32 MiB on the wire).
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import hostile_files  # noqa: E402
from _support import free_port, wait_for  # noqa: E402

PASSWORD = "correct horse battery"
TODAY = "2025-03-20"  # inside 2025Q1's forwarding window


def shapes(largest: bool = False) -> list[tuple[str, str, Callable[[], bytes]]]:
    """(name, filename, maker) of every hostile file; ``largest`` adds the 32 MiB versions."""
    found = [
        ("corners A1+XFD1048576", "corners.xlsx", hostile_files.corners),
        ("corners, dimension lies", "corners-lie.xlsx", lambda: hostile_files.corners(dimension="A1:B2")),
        ("5,000,000 rows", "rows.xlsx", hostile_files.many_rows),
        ("padded shared strings", "padded.xlsx", hostile_files.padded_shared_strings),
        ("entity expansion", "laughs.xlsx", hostile_files.entity_expansion),
        ("1,000,000-row CSV", "rows.csv", hostile_files.csv_rows),
    ]
    if largest:
        found += [
            ("9,500,000 rows, just under the unzip cap", "rows-big.xlsx",
             lambda: hostile_files.many_rows(9_500_000)),
            ("100,000,000 rows", "rows-huge.xlsx", lambda: hostile_files.many_rows(100_000_000)),
            ("padded strings, just under the unzip cap", "padded-big.xlsx",
             lambda: hostile_files.padded_shared_strings(strings=120, padding=2_000_000)),
            ("padded strings, 4 GB unzipped", "padded-huge.xlsx",
             lambda: hostile_files.padded_shared_strings(strings=2_000, padding=2_000_000)),
            ("CSV of 3,700,000 rows (32 MiB)", "rows-big.csv", lambda: hostile_files.csv_rows(3_700_000)),
        ]
    return found


def prepare(url: str) -> None:
    """An admin "admin" and round 2025Q1 in intake in the (migrated, empty) database at ``url``."""
    from sqlmodel import Session

    from web.accounts.operations import create_user
    from web.core.db import make_engine
    from web.rounds.operations import create_round, set_state

    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        create_user(session=session, username="admin", password=PASSWORD, role="admin")
        round_ = create_round(session=session, key="2025Q1", actor="bench")
        set_state(session=session, round_=round_, state="intake", actor="bench")
        session.commit()
    engine.dispose()


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of process ``pid`` in KiB, from /proc."""
    found = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0])
    return found


def reset_peak(pid: int) -> None:
    """Start ``pid``'s VmHWM again from its current resident size (Linux: 5 > clear_refs)."""
    with open(f"/proc/{pid}/clear_refs", "w") as clear:
        clear.write("5")


def children(pid: int) -> list[int]:
    """The processes started by ``pid`` (its parse worker among them)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


class WorkerPeak:
    """Samples the peak resident memory of the server's child processes while a request runs."""

    def __init__(self, server_pid: int):
        self.server_pid, self.peak_kib, self._stop = server_pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid in children(self.server_pid):
                try:
                    self.peak_kib = max(self.peak_kib, memory_kib(pid).get("VmHWM", 0))
                except OSError:
                    pass
            time.sleep(0.02)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


@dataclass
class Server:
    """``tuiyou serve`` on a free port, in its own process."""

    url: str
    workdir: Path
    process: subprocess.Popen | None = None
    port: int = 0

    def start(self) -> None:
        self.port = free_port()
        env = {**os.environ, "DATABASE_URL": self.url, "TUIYOU_INSTANCE": str(self.workdir / "instance"),
               "TUIYOU_TODAY": TODAY, "TUIYOU_SECRET_KEY": "bench", "TUIYOU_AUDIT_KEY": "bench"}
        tuiyou = Path(sys.executable).parent / "tuiyou"
        with open(self.workdir / "server.log", "ab") as log:
            self.process = subprocess.Popen([str(tuiyou), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                                            env=env, stdout=log, stderr=subprocess.STDOUT)
        wait_for(self.port)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)


def log_in(http, base: str) -> None:
    page = http.get(f"{base}/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    answer = http.post(f"{base}/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token},
                       allow_redirects=False)
    assert answer.status_code in (302, 303), answer.status_code


def upload(http, base: str, page: str, action: str, filename: str, data: bytes, **fields) -> tuple[int, str]:
    """Post ``data`` as ``file`` through the form on ``page``; (status, the page's error message)."""
    token = re.search(r'name="csrf_token" value="([^"]+)"', http.get(f"{base}{page}").text).group(1)
    answer = http.post(f"{base}{action}", data={"csrf_token": token, **fields}, files={"file": (filename, data)},
                       allow_redirects=False)
    message = re.search(r'class="flash error"[^>]*>([^<]*)<', answer.text)
    return answer.status_code, message.group(1).strip() if message else ""


TARGETS = (("/admin/imports", "/admin/imports", {"round": "2025Q1"}),
           ("/admin/experts", "/admin/experts/import", {}))


def run(url: str, workdir: Path, *, largest: bool = False) -> dict:
    """Upload every hostile file to both forms; the answers and the memory they cost."""
    import requests

    server = Server(url, workdir)
    server.start()
    results = []
    try:
        http = requests.Session()
        log_in(http, server.base)
        # A legitimate import first, so the import path itself is loaded before anything is measured.
        upload(http, server.base, "/admin/imports", "/admin/imports", "ok.csv",
               "作品名称,作品类型\n山河,网络剧\n".encode(), round="2025Q1")
        baseline = memory_kib(server.process.pid)
        for name, filename, make in shapes(largest):
            data = make()
            for page, action, fields in TARGETS:
                before = memory_kib(server.process.pid)["VmRSS"]
                for pid in [server.process.pid, *children(server.process.pid)]:
                    reset_peak(pid)
                with WorkerPeak(server.process.pid) as worker:
                    started = time.perf_counter()
                    status, message = upload(http, server.base, page, action, filename, data, **fields)
                    seconds = time.perf_counter() - started
                alive = http.get(f"{server.base}/login").status_code == 200
                peak = memory_kib(server.process.pid)["VmHWM"]
                results.append({"file": name, "form": action, "bytes": len(data), "status": status,
                                "message": message, "seconds": round(seconds, 2), "still_serving": alive,
                                "server_peak_growth_mib": round((peak - before) / 1024, 1),
                                "worker_peak_mib": round(worker.peak_kib / 1024, 1)})
        final = memory_kib(server.process.pid)
    finally:
        server.stop()
    return {"results": results, "baseline_rss_mib": round(baseline["VmRSS"] / 1024, 1),
            "final_rss_mib": round(final["VmRSS"] / 1024, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None, help="a PostgreSQL URL to wipe and use (default: SQLite)")
    parser.add_argument("--largest", action="store_true", help="also the 32 MiB version of each shape")
    args = parser.parse_args()

    from bench_db import fresh_database

    workdir = Path(tempfile.mkdtemp(prefix="tuiyou-hostile-"))
    url = args.database_url or f"sqlite:///{workdir / 'hostile.sqlite'}"
    fresh_database(url).dispose()
    prepare(url)
    outcome = run(url, workdir, largest=args.largest)
    print(f"# {dt.date.today()}  {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.2f}; server resident {outcome['baseline_rss_mib']} MiB after a legitimate "
          f"import, {outcome['final_rss_mib']} MiB at the end")
    print("| file | bytes | form | answer | seconds | server peak +MiB | worker peak MiB | message |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in outcome["results"]:
        print(f"| {r['file']} | {r['bytes']:,} | {r['form']} | {r['status']}{'' if r['still_serving'] else ' DOWN'} "
              f"| {r['seconds']} | {r['server_peak_growth_mib']} | {r['worker_peak_mib']} | {r['message'][:90]} |")
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
