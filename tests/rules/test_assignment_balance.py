"""Balanced quotas: the load vector is decreasingly minimal (checked by enumeration on small
networks), and an unservable demand names its categories."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from scoring.rules.assignment_balance import InfeasibleAssignment, balanced_quotas


def best_by_enumeration(demand, room, load, capacity):
    """The decreasingly minimal load vector over every feasible quota matrix."""
    n_cat, n_exp = room.shape
    best = None
    per_cat = []
    for c in range(n_cat):
        rows = [row for row in itertools.product(*(range(r + 1) for r in room[c])) if sum(row) == demand[c]]
        per_cat.append(rows)
    for rows in itertools.product(*per_cat):
        loads = load + np.sum(rows, axis=0)
        if (loads > capacity).any():
            continue
        key = sorted(loads.tolist(), reverse=True)
        if best is None or key < best:
            best = key
    return best


@pytest.mark.parametrize("seed", range(40))
def test_loads_are_decreasingly_minimal(seed):
    rng = np.random.default_rng(seed)
    n_cat, n_exp = int(rng.integers(1, 4)), int(rng.integers(2, 5))
    room = rng.integers(0, 4, size=(n_cat, n_exp)) * (rng.random((n_cat, n_exp)) < 0.7)
    demand = np.array([int(rng.integers(0, room[c].sum() + 1)) for c in range(n_cat)])
    load = rng.integers(0, 3, size=n_exp)
    capacity = np.where(rng.random(n_exp) < 0.3, load + rng.integers(0, 4, size=n_exp), 10 ** 6)
    expected = best_by_enumeration(demand, room, load, capacity)
    names = [f"c{c}" for c in range(n_cat)]
    if expected is None:
        with pytest.raises(InfeasibleAssignment):
            balanced_quotas(demand, room, load, capacity, category_names=names, rng=rng)
        return
    quotas = balanced_quotas(demand, room, load, capacity, category_names=names, rng=rng)
    assert (quotas.sum(axis=1) == demand).all() and (quotas <= room).all() and (quotas >= 0).all()
    assert sorted((load + quotas.sum(axis=0)).tolist(), reverse=True) == expected


def test_chain_through_another_category_is_used():
    # expert 0 can only take category 0; expert 1 both; expert 2 only category 1.
    # Category 1's demand lands on expert 2 unless expert 1 passes it on via category 0.
    room = np.array([[5, 5, 0], [0, 5, 5]])
    quotas = balanced_quotas(np.array([2, 4]), room, np.array([0, 0, 0]), np.array([99, 99, 99]),
                             category_names=["a", "b"], rng=np.random.default_rng(0))
    assert sorted(quotas.sum(axis=0).tolist()) == [2, 2, 2]


def test_unservable_demand_names_the_categories():
    room = np.array([[3, 3, 0], [0, 0, 1]])
    with pytest.raises(InfeasibleAssignment, match=r"^b: 4 ratings needed, but the 1 experts .* only 1 more") as info:
        balanced_quotas(np.array([2, 4]), room, np.zeros(3, int), np.full(3, 99), category_names=["a", "b"],
                        rng=np.random.default_rng(0))
    assert (info.value.category, info.value.needed, info.value.available) == ("b", 4, 1)
