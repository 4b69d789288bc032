"""A recusal frees a slot: who may take it without breaking any constraint, best first."""
from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from .conflicts import ConflictRules, Expert, Recusal, Work, conflict_reasons

__all__ = ["ReplacementCandidate", "replacement_candidates"]


@dataclass(frozen=True)
class ReplacementCandidate:
    """An expert who can take the freed slot, and what taking it changes."""

    expert_id: Hashable
    load: int  # the expert's load now
    pool_load_min: int  # lowest load among experts who could take the slot
    new_co_raters: int  # the work's other experts this one has not yet shared a work with
    joins_components: bool  # the pair would join two separate parts of the category's graph


def _components(pairs: list[tuple[Hashable, Hashable]]) -> dict[tuple[str, Hashable], int]:
    """Component label of each node ('e', expert) / ('w', work) of a list of pairs."""
    nodes: dict[tuple[str, Hashable], int] = {}
    rows, cols = [], []
    for e, w in pairs:
        rows.append(nodes.setdefault(("e", e), len(nodes)))
        cols.append(nodes.setdefault(("w", w), len(nodes)))
    graph = sparse.csr_matrix((np.ones(len(rows), np.int8), (rows, cols)), shape=(len(nodes), len(nodes)))
    labels = connected_components(graph, directed=False)[1] if nodes else []
    return {node: int(labels[i]) for node, i in nodes.items()}


def replacement_candidates(experts: Sequence[Expert], works: Sequence[Work],
                           assignments: Iterable[tuple[Hashable, Hashable]], freed: tuple[Hashable, Hashable], *,
                           rules: ConflictRules = ConflictRules(), recusals: Iterable[Recusal] = (),
                           limit: int | None = 10) -> list[ReplacementCandidate]:
    """Experts who may take the slot ``freed`` = (expert_id, work_id), ranked; all constraints kept.

    A candidate covers the work's category, has no conflict with it (the freed expert never
    qualifies: it recused), does not already rate it, has capacity left, and keeps loads
    balanced: its load is at most one above the lowest load of any expert who could take
    the slot, and it does not raise the category pool's highest load unless every qualified
    expert already carries it. Adding its pair never splits the category's rater–work graph
    (adding an edge cannot); candidates that would join separate parts rank first, then
    lower loads, then more new co-raters (more mixing of the panel), then the order given.
    """
    work_by_id = {w.id: w for w in works}
    freed_expert, work_id = freed
    if work_id not in work_by_id:
        raise ValueError(f"unknown work {work_id!r}")
    work = work_by_id[work_id]
    recusals = list(recusals)
    remaining = [p for p in assignments if p != freed]
    load: dict[Hashable, int] = {x.id: 0 for x in experts}
    raters: dict[Hashable, set] = {}
    for e, w in remaining:
        load[e] = load.get(e, 0) + 1
        raters.setdefault(w, set()).add(e)
    on_work = raters.get(work_id, set())
    co_rated: dict[Hashable, set] = {}
    for w, es in raters.items():
        if es & on_work:
            for e in es:
                co_rated.setdefault(e, set()).update(es & on_work)
    in_category = [(e, w) for e, w in remaining if work_by_id[w].category == work.category]
    label = _components(in_category)
    pool = [x for x in experts if work.category in x.categories]
    pool_max = max((load[x.id] for x in pool), default=0)
    qualified = [x for x in pool
                 if x.id != freed_expert and x.id not in on_work
                 and (x.capacity is None or load[x.id] < x.capacity)
                 and not conflict_reasons(x, work, rules=rules, recusals=recusals)]
    if not qualified:
        return []
    lowest = min(load[x.id] for x in qualified)
    candidates = []
    for x in qualified:
        if load[x.id] > lowest + 1 or (load[x.id] + 1 > pool_max and lowest + 1 <= pool_max):
            continue
        joins = label.get(("e", x.id)) is not None and label.get(("e", x.id)) != label.get(("w", work_id))
        candidates.append(ReplacementCandidate(
            expert_id=x.id, load=load[x.id], pool_load_min=lowest,
            new_co_raters=len(on_work - co_rated.get(x.id, set())), joins_components=joins))
    order = {x.id: i for i, x in enumerate(experts)}
    candidates.sort(key=lambda c: (not c.joins_components, c.load, -c.new_co_raters, order[c.expert_id]))
    return candidates if limit is None else candidates[:limit]
