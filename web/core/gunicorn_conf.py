"""gunicorn settings for several app servers: ``gunicorn -c python:web.core.gunicorn_conf 'web:create_app()'``.

Workers default to ``TUIYOU_WORKERS`` (2 × cores + 1 otherwise). With more than one worker
and no ``TUIYOU_REDIS_URL``, login-failure limits would be counted per process (an attacker
gets N times the allowance), so start-up logs a warning saying so.
"""
from __future__ import annotations

import multiprocessing
import os

bind = os.environ.get("TUIYOU_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("TUIYOU_WORKERS") or multiprocessing.cpu_count() * 2 + 1)
threads = int(os.environ.get("TUIYOU_THREADS", "4"))
worker_class = "gthread"
timeout = 60
graceful_timeout = 30
accesslog = "-"


def shared_state_warning(workers: int, environ: dict) -> str | None:
    """The warning for several workers without a shared store, or None."""
    if workers > 1 and not (environ.get("TUIYOU_REDIS_URL") or environ.get("TUIYOU_RATELIMIT_STORAGE_URI")):
        return (f"tuiyou: {workers} workers without TUIYOU_REDIS_URL: login-failure limits are counted per "
                "process; set TUIYOU_REDIS_URL=redis://… so every worker and server shares them")
    return None


def post_worker_init(worker) -> None:
    """Each worker, its app built: start-up's heap out of the collector's walks (``core.heap``)."""
    from web.core.heap import settle

    settle()


def on_starting(server) -> None:
    """Warn at start-up when several workers would keep per-process counters."""
    message = shared_state_warning(server.cfg.workers, os.environ)
    if message:
        server.log.warning(message)
