"""The parse worker: an untrusted file is read in a separate process that has an address-space
limit and a time limit, so the worst a file can do is end that process, never the server.

One worker per app-server process, started on first use with ``spawn`` (a fresh interpreter:
never a ``fork`` of a threaded server) and kept for the next file; pebble's pool replaces it when
a parse overruns its time (the worker is killed) or dies (a Rust allocation failure aborts it).
Files are sent to it one at a time; a second import waits for the first.

Settings (app config, or the environment outside an app): ``IMPORT_MEMORY_MB``
(``TUIYOU_IMPORT_MEMORY_MB``, default 1024: the worker's address space, interpreter included)
and ``IMPORT_SECONDS`` (``TUIYOU_IMPORT_SECONDS``, default 60).
"""
from __future__ import annotations

import atexit
import multiprocessing
import os
import resource
import threading
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any, Callable

from pebble import ProcessExpired, ProcessPool

DEFAULT_MEMORY_MB = 1024
DEFAULT_SECONDS = 60.0


@dataclass(frozen=True)
class WorkerLimits:
    """How much memory (MiB of address space) and time (seconds, wall clock) one parse may take."""

    memory_mb: int = DEFAULT_MEMORY_MB
    seconds: float = DEFAULT_SECONDS

    @classmethod
    def from_settings(cls, config: Any = None) -> "WorkerLimits":
        """From an app's config, else ``TUIYOU_IMPORT_MEMORY_MB`` / ``TUIYOU_IMPORT_SECONDS``, else defaults."""
        if config is not None and "IMPORT_MEMORY_MB" in config:
            return cls(int(config["IMPORT_MEMORY_MB"]), float(config["IMPORT_SECONDS"]))
        return cls(int(os.environ.get("TUIYOU_IMPORT_MEMORY_MB") or DEFAULT_MEMORY_MB),
                   float(os.environ.get("TUIYOU_IMPORT_SECONDS") or DEFAULT_SECONDS))


class LimitExceeded(Exception):
    """The worker overran a limit or died; ``zh`` and ``en`` say which."""

    def __init__(self, zh: str, en: str):
        self.zh, self.en = zh, en
        super().__init__(f"{zh} / {en}")


def _limit_worker(memory_mb: int) -> None:
    """Runs first in each worker: cap its address space; no core file or Rust backtrace of a killed parse."""
    os.environ["RUST_BACKTRACE"] = "0"
    size = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (size, size))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


_pools: dict[tuple[int, int], ProcessPool] = {}
_lock = threading.Lock()


def _pool(memory_mb: int) -> ProcessPool:
    # Keyed by process id too: a pool inherited through a fork (gunicorn) belongs to the parent.
    key = (os.getpid(), memory_mb)
    with _lock:
        pool = _pools.get(key)
        if pool is None or not pool.active:
            pool = ProcessPool(max_workers=1, initializer=_limit_worker, initargs=(memory_mb,),
                               context=multiprocessing.get_context("spawn"))
            _pools[key] = pool
        return pool


@atexit.register
def _stop_pools() -> None:
    with _lock:
        mine = [pool for (pid, _), pool in _pools.items() if pid == os.getpid()]
        _pools.clear()
    for pool in mine:
        pool.stop()
        pool.join(timeout=5)


def run_limited(function: Callable[..., Any], *args: Any, limits: WorkerLimits) -> Any:
    """``function(*args)`` in the worker; its exceptions come back as raised, overruns as LimitExceeded."""
    future = _pool(limits.memory_mb).schedule(function, args=args, timeout=limits.seconds)
    try:
        return future.result()
    except FutureTimeout:
        raise LimitExceeded(f"读取超过 {limits.seconds:g} 秒，已中止",
                            f"reading took more than {limits.seconds:g} s and was stopped") from None
    except MemoryError:
        raise LimitExceeded(f"读取所需内存超过上限（{limits.memory_mb} MiB），已中止",
                            f"reading needed more than the {limits.memory_mb} MiB allowed and was stopped") from None
    except ProcessExpired as exc:  # e.g. -6: a Rust allocation failure aborted the worker
        raise LimitExceeded(f"读取进程超出内存上限（{limits.memory_mb} MiB）或崩溃，已中止（退出码 {exc.exitcode}）",
                            f"the reading process went over its {limits.memory_mb} MiB or crashed and was "
                            f"stopped (exit code {exc.exitcode})") from None
