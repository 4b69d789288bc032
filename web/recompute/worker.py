"""The recompute worker: one daemon thread per app server process, started with its first
request (so command-line tools that build the app never start one), polling the shared job
table every ``TUIYOU_RECOMPUTE_POLL_SECONDS`` (default 1). ``TUIYOU_RECOMPUTE_WORKER=0`` turns it
off (then run ``tuiyou recompute worker`` beside the servers); tests turn it on explicitly
(``RECOMPUTE_WORKER``)."""
from __future__ import annotations

import logging
import os
import threading

from sqlalchemy.engine import Engine

from .runner import run_pending

log = logging.getLogger(__name__)
_started: dict[int, threading.Thread] = {}  # engine id → this process's worker
_stops: dict[int, threading.Event] = {}
_lock = threading.Lock()


def poll_seconds() -> float:
    """How often an idle worker looks for due jobs."""
    return float(os.environ.get("TUIYOU_RECOMPUTE_POLL_SECONDS") or 1.0)


def work_forever(engine: Engine, *, stop: threading.Event | None = None) -> None:
    """Run due jobs until ``stop`` is set; an error is logged and the loop goes on."""
    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            ran = run_pending(engine)
        except Exception:  # noqa: BLE001 — e.g. the database restarting: try again next poll
            log.exception("recompute worker: claiming a job failed")
            ran = 0
        if not ran:
            stop.wait(poll_seconds())


def ensure_started(engine: Engine) -> threading.Thread:
    """This process's worker thread for ``engine``, started on the first call (after a fork too)."""
    key = id(engine)
    with _lock:
        thread = _started.get(key)
        if thread is None or not thread.is_alive() or getattr(thread, "pid", None) != os.getpid():
            _stops[key] = threading.Event()
            thread = threading.Thread(target=work_forever, args=(engine,), kwargs={"stop": _stops[key]},
                                      name="recompute-worker", daemon=True)
            thread.pid = os.getpid()
            thread.start()
            _started[key] = thread
        return thread


def stop(engine: Engine, *, timeout: float = 10) -> bool:
    """Stop this process's worker for ``engine`` (tests; a server's ends with its process)."""
    with _lock:
        thread, event = _started.pop(id(engine), None), _stops.pop(id(engine), None)
    if thread is None:
        return False
    event.set()
    thread.join(timeout)
    return not thread.is_alive()


def init_app(app) -> None:
    """Start the worker with the app's first request unless it is turned off."""
    enabled = app.config.get("RECOMPUTE_WORKER")
    if enabled is None:
        enabled = os.environ.get("TUIYOU_RECOMPUTE_WORKER", "1") != "0" and not app.testing
    if not enabled:
        return
    engine = app.extensions["tuiyou.engine"]

    @app.before_request
    def _recompute_worker() -> None:
        if id(engine) not in _started or getattr(_started[id(engine)], "pid", None) != os.getpid():
            ensure_started(engine)
