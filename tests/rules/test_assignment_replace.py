"""A recusal frees a slot; every proposed replacement keeps every constraint."""
from __future__ import annotations

from collections import Counter

import pytest

from scoring.rules.assignment import draw_assignment
from scoring.rules.assignment_replace import replacement_candidates
from scoring.rules.conflicts import ConflictRules, Expert, Recusal, conflict_reasons
from tests.rules.assignment_oracle import components_per_category, violations
from tests.rules.test_assignment import pool


@pytest.mark.parametrize("seed", range(6))
def test_every_candidate_keeps_every_constraint(seed):
    experts, works = pool(seed=seed)
    rules = ConflictRules(same_province=True)
    drawn = draw_assignment(experts, works, per_work=4, seed=seed, rules=rules)
    freed = drawn.pairs[seed * 7]
    recusal = Recusal(*freed, reason="同事参与制作")
    candidates = replacement_candidates(experts, works, drawn.pairs, freed, rules=rules, recusals=[recusal], limit=None)
    assert candidates
    work = next(w for w in works if w.id == freed[1])
    pool_ids = [x.id for x in experts if work.category in x.categories]
    remaining = [p for p in drawn.pairs if p != freed]
    load = Counter(e for e, _ in remaining)
    qualified_loads = [load[x.id] for x in experts if x.id in pool_ids and x.id != freed[0]
                       and (x.id, work.id) not in remaining and not conflict_reasons(x, work, rules=rules)]
    for c in candidates:
        assert c.expert_id != freed[0]
        after = remaining + [(c.expert_id, work.id)]
        assert violations(experts, works, after, 4, rules, recusals=[recusal]) == []
        assert c.load == load[c.expert_id] <= min(qualified_loads) + 1
        assert load[c.expert_id] + 1 <= max(load[i] for i in pool_ids) or min(qualified_loads) + 1 > max(
            load[i] for i in pool_ids)
        assert components_per_category(works, after)[work.category] == 1
    # ranked: lower loads first among candidates that do not join parts
    assert [c.load for c in candidates] == sorted(c.load for c in candidates)


def test_conflicted_and_busy_experts_are_not_proposed():
    experts, works = pool(n_experts=8, n_works=12, cats=("网络剧",), per_expert=1)
    experts = [Expert(x.id, x.categories, organisation="甲" if x.id == 5 else f"单位{x.id}",
                      capacity=0 if x.id == 6 else None) for x in experts]
    works = [w if w.id != 100 else type(w)(100, "网络剧", submitter="甲") for w in works]
    drawn = draw_assignment(experts, works, per_work=3, seed=1)
    freed = next(p for p in drawn.pairs if p[1] == 100)
    ids = {c.expert_id for c in replacement_candidates(experts, works, drawn.pairs, freed, limit=None)}
    on_work = {e for e, w in drawn.pairs if w == 100}
    assert ids and not ids & ({5, 6} | on_work)


def test_unknown_work_is_an_error():
    experts, works = pool()
    with pytest.raises(ValueError, match="unknown work"):
        replacement_candidates(experts, works, [], (0, "nope"))
