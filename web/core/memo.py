"""What a reader makes of an immutable thing once, kept beside it.

A stored ranking result never changes once computed (a newer one is a new object): the API's
serialized answer of it, the rankings page's tables, the shortlist's entries are each made once
per process and served again to the next reader (``RoundRanking.memo`` is the store). Some of
them also depend on something that does change (the shortlist's entries on the chair's moves):
``made_of`` names it, and one thing is kept per ``slot``, so a change replaces what was kept
instead of piling up beside it.
"""
from __future__ import annotations

from typing import Any, Callable, Hashable, TypeVar

T = TypeVar("T")


def kept(store: dict, slot: Hashable, made_of: Any, make: Callable[[], T], *, slots: int | None = None) -> T:
    """``store[slot]``'s value if it was made of ``made_of``, else ``make()``, kept there (replacing
    what was). Two threads that race both make it and one is kept: callers make the same thing
    from the same ``made_of``. What is returned is shared: read it, never change it.

    ``slots`` bounds a store whose slots are not few by nature: past it, the slot filled first goes."""
    held = store.get(slot)
    if held is None or held[0] != made_of:
        held = (made_of, make())
        store[slot] = held
        while slots is not None and len(store) > slots:
            store.pop(next(iter(store)), None)
    return held[1]
