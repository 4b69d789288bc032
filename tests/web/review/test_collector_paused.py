"""The garbage collector pause around a ranking's computation (web.review.rankings.collector_paused)."""
from __future__ import annotations

import gc

import pytest

from web.review import derived, rankings


@pytest.fixture(autouse=True)
def collector_on():
    gc.enable()
    yield
    gc.enable()


def test_off_inside_and_back_on_after_even_when_the_block_fails():
    with rankings.collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ZeroDivisionError):
        with rankings.collector_paused():
            1 / 0
    assert gc.isenabled()


def test_left_off_when_it_was_off_and_nested_blocks_keep_it_off_until_the_outer_ends():
    with rankings.collector_paused():
        with rankings.collector_paused():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    with rankings.collector_paused():
        pass
    assert not gc.isenabled()


def test_the_computation_and_the_derived_tables_run_with_it_paused(monkeypatch):
    seen = []
    monkeypatch.setattr(rankings, "weighted_totals", lambda *a, **k: seen.append(gc.isenabled()) or 1 / 0)
    with pytest.raises(ZeroDivisionError):
        rankings.compute_ranking(rankings.RatingInput([1], [1], [1], ["c"], [5.0]), {1: ("t", "a")},
                                 method="raw", scales=[], slots=None, threshold=None)
    monkeypatch.setattr(derived, "propose_now", lambda *a, **k: seen.append(gc.isenabled()) or 1 / 0)
    with pytest.raises(ZeroDivisionError):
        derived.derive(rankings.RoundRanking("raw", {}, [], []), policy=None, ineligible={})
    assert seen == [False, False] and gc.isenabled()
