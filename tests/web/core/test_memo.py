"""``core.memo.kept``: made once per ``made_of``, one value per slot, and a bounded store."""
from __future__ import annotations

from web.core.memo import kept


def test_made_once_per_made_of_and_replaced_in_its_slot():
    store, made = {}, []

    def make(value):
        return lambda: made.append(value) or value

    assert kept(store, "a", 1, make("one")) == "one"
    assert kept(store, "a", 1, make("again")) == "one" and made == ["one"]
    assert kept(store, "a", 2, make("two")) == "two" and len(store) == 1


def test_a_bounded_store_lets_the_slot_filled_first_go():
    store = {}
    for slot in range(5):
        kept(store, slot, 0, lambda: slot, slots=3)
    assert list(store) == [2, 3, 4]
    kept(store, 3, 1, lambda: "newer", slots=3)  # a slot made again keeps its place
    assert list(store) == [2, 3, 4] and store[3] == (1, "newer")
