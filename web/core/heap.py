"""The garbage collector and a long-lived server process.

CPython's cyclic collector walks every tracked object of the oldest generation in a full
collection. After start-up a worker holds some 115,000 such objects that live as long as
the process: modules, functions, classes, SQLAlchemy's and pydantic's schemas, the app's
URL map. On this project's 2-core machine each full collection walked them in 70 ms of CPU,
and 110–160 ms once a chair had opened a 5,000-work round: a request that happened to
trigger one took that much longer (the chair pages' p95; docs/benchmarks.md, issue 24).

:func:`settle` is called once per server process, after the app is built and before it
serves (``tuiyou serve``, ``tuiyou demo``, each gunicorn worker): one collection first, so
that no garbage of start-up is kept, then ``gc.freeze()`` moves what remains to the
permanent generation, which the collector never walks. Nothing is kept alive by it: a frozen
object is still freed when its last reference goes; only a reference cycle among frozen
objects would outlive its use, and start-up's objects live for the process anyway.
"""
from __future__ import annotations

import gc


def settle() -> int:
    """Collect once, then freeze everything alive (start-up's heap) out of the collector's
    walks; the number of objects frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
