"""An independent check of assignments: a 0/1 program over every (expert, work) pair
(scipy.optimize.milp), used by the tests on instances small enough to solve exactly, and
constraint checks computed from the pairs alone."""
from __future__ import annotations

from collections import Counter

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse.csgraph import connected_components
from scipy import sparse

from scoring.rules.conflicts import conflict_reasons


def min_max_load(experts, works, per_work, rules, recusals=(), existing=()):
    """Smallest possible highest load of any assignment (None: no assignment exists)."""
    existing = set(existing)
    pairs = [(i, j) for i, x in enumerate(experts) for j, w in enumerate(works)
             if w.category in x.categories and not conflict_reasons(x, w, rules=rules, recusals=recusals)]
    n, n_e, n_w = len(pairs), len(experts), len(works)
    if n == 0:
        return None
    # variables: one per eligible pair, then U
    rows_w = sparse.lil_matrix((n_w, n + 1))
    rows_e = sparse.lil_matrix((n_e, n + 1))
    lower = np.zeros(n + 1)
    for k, (i, j) in enumerate(pairs):
        rows_w[j, k] = 1
        rows_e[i, k] = 1
        if (experts[i].id, works[j].id) in existing:
            lower[k] = 1
    cover = LinearConstraint(rows_w.tocsr(), per_work, per_work)
    cap = np.array([x.capacity if x.capacity is not None else 10 ** 6 for x in experts], float)
    load_cap = LinearConstraint(rows_e.tocsr(), 0, cap)
    rows_u = rows_e.copy()
    rows_u[:, n] = -1
    load_u = LinearConstraint(rows_u.tocsr(), -np.inf, 0)
    cost = np.zeros(n + 1)
    cost[n] = 1
    upper = np.ones(n + 1)
    upper[n] = np.inf
    integrality = np.ones(n + 1)
    result = milp(cost, constraints=[cover, load_cap, load_u], integrality=integrality, bounds=Bounds(lower, upper))
    return None if result.status == 2 else round(result.fun)


def violations(experts, works, pairs, per_work, rules, recusals=()):
    """Human-readable list of broken constraints (empty when the assignment is valid)."""
    expert_by_id = {x.id: x for x in experts}
    work_by_id = {w.id: w for w in works}
    problems = []
    if len(set(pairs)) != len(pairs):
        problems.append("a pair is listed twice")
    per = Counter(w for _, w in pairs)
    load = Counter(e for e, _ in pairs)
    for w in works:
        if per[w.id] < per_work:
            problems.append(f"work {w.id} has {per[w.id]} experts")
    for e, w in pairs:
        x, work = expert_by_id[e], work_by_id[w]
        if work.category not in x.categories:
            problems.append(f"{e} rates {w} outside its expertise")
        if conflict_reasons(x, work, rules=rules, recusals=recusals):
            problems.append(f"{e} rates {w} despite a conflict")
    for x in experts:
        if x.capacity is not None and load[x.id] > x.capacity:
            problems.append(f"{x.id} over capacity")
    return problems


def components_per_category(works, pairs):
    """Number of connected components of each category's rater–work graph."""
    work_by_id = {w.id: w for w in works}
    out = {}
    for cat in {w.category for w in works}:
        sel = [(e, w) for e, w in pairs if work_by_id[w].category == cat]
        nodes = {}
        rows, cols = [], []
        for w in (w for w in works if w.category == cat):
            nodes.setdefault(("w", w.id), len(nodes))
        for e, w in sel:
            rows.append(nodes.setdefault(("e", e), len(nodes)))
            cols.append(nodes[("w", w)])
        graph = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(nodes), len(nodes)))
        out[cat] = connected_components(graph, directed=False)[0]
    return out
