"""The chair console's demo: 2025Q3 in review with every rating in (a complete ranking to read,
with a careless score, comments and highlight tags), 2025Q2 signed with one override and its
exports, and the year's dissemination cases in review, drawn by the product's draw as a panel
(every panel expert rates every case, so each rater's bias rests on six ratings). Called once
from ``seed.demo``."""
from __future__ import annotations

import numpy as np
from sqlmodel import Session, select

from scoring.rules.config import load_rules
from web.core.models import (Assignment, AssignmentStatus, Comment, DisseminationCase, HighlightTag, Rating,
                        Role, Round, RoundState, User, utcnow)
from web.review import services, operations, queries
from web.rounds.operations import create_round, set_state
from .demo_assignment import assign_demo
from .demo_panel import explain_flags

REVIEW_KEY, SIGNED_KEY, CASES_KEY = "2025Q3", "2025Q2", "2025-传播案例"
REVIEW_WORKS = {"网络纪录片": 16, "网络综艺节目": 10, "网络动画片": 6, "网络剧": 10, "网络电影": 8,
                "网络微短剧": 10, "网络微电影": 6, "网络直播节目": 8, "网络音频节目": 6, "短视频": 14, "网络公益短片": 6}
SIGNED_WORKS = {"网络纪录片": 10, "网络剧": 6, "短视频": 8, "网络微短剧": 6}
REMARKS = ("选题扎实，叙事节奏稍慢。", "制作精良，技术运用有新意。", "立意鲜明，人物塑造还可更立体。",
           "贴近现实生活，情感真挚。", "形式创新，传播潜力大。")
CASES = ("“跟着微短剧去旅行”创作计划", "非遗春节全网联动传播", "抗战胜利80周年主题网络展播",
         "亚冬会短视频二创征集", "乡村振兴直播带岗行动", "“寻味中国”音频节目海外传播")
CASES_DRAW_SEED = 20251231


def _experts(session: Session) -> list[User]:
    return list(session.exec(select(User).where(User.role == Role.expert).order_by(User.username)))


def _rate(session: Session, rng, assignment: Assignment, criteria, quality: float, severity: float,
          spread: float, tags: tuple[str, ...] = ()) -> None:
    """Submitted values for every criterion of ``assignment`` (1 in 100 careless), a remark, a tag."""
    step = criteria[0].step
    assignment.status, assignment.version, assignment.submitted_at = AssignmentStatus.submitted, 1, utcnow()
    assignment.confidence = float(rng.choice([0.6, 0.8, 1.0]))
    session.add(assignment)
    careless = rng.random() < 0.01
    for c in criteria:
        raw = 7.2 + spread * (quality + rng.normal(0, 0.35) - 7.2) + severity + rng.normal(0, 0.5)
        value = 1.0 if careless else float(np.clip(np.round(raw / step) * step, c.min, c.max))
        session.add(Rating(assignment_id=assignment.id, criterion=c.key, value=value, version=1))
    if rng.random() < 0.3:
        session.add(Comment(assignment_id=assignment.id, author_id=assignment.expert_id,
                            body=str(rng.choice(REMARKS)), version=1))
    if tags and rng.random() < 0.4:
        session.add(HighlightTag(assignment_id=assignment.id, tag=str(rng.choice(tags))))


def _score_drawn(session: Session, rng, round_: Round, criteria, experts) -> int:
    """Draw the round with the product's seeded draw (a panel for the cases), then submit every rating."""
    assignments = assign_demo(session, round_, actor="admin", seed=CASES_DRAW_SEED)
    severity = {e.id: rng.normal(0, 0.7) for e in experts}
    spread = {e.id: float(np.exp(rng.normal(0, 0.2))) for e in experts}
    quality = {a.case_id: rng.normal(7.2, 1.0) for a in sorted(assignments, key=lambda a: a.case_id)}
    for assignment in assignments:
        _rate(session, rng, assignment, criteria, quality[assignment.case_id], severity[assignment.expert_id],
              spread[assignment.expert_id])
    return len(assignments)


def _score(session: Session, rng, round_: Round, items: list, field: str, criteria, experts, *,
           per_item: int, tags: tuple[str, ...] = ()) -> int:
    """Every item to ``per_item`` experts (matching category where possible), all submitted."""
    severity = {e.id: rng.normal(0, 0.7) for e in experts}
    spread = {e.id: float(np.exp(rng.normal(0, 0.2))) for e in experts}
    load = {e.id: 0 for e in experts}
    count = 0
    for item in items:
        quality = rng.normal(7.2, 1.0)
        category = getattr(item, "category", None)
        pool = [e for e in experts if category in e.categories] if category else []
        pool = sorted(pool if len(pool) >= per_item else experts, key=lambda e: (load[e.id], rng.random()))[:per_item]
        for expert in pool:
            load[expert.id] += 1
            a = Assignment(round_id=round_.id, expert_id=expert.id, presentation_order=int(rng.integers(1_000_000)),
                           **{field: item.id})
            session.add(a)
            session.flush()
            _rate(session, rng, a, criteria, quality, severity[expert.id], spread[expert.id], tags)
            count += 1
    return count


def _to_review(session: Session, round_: Round, actor: str) -> None:
    for state in (RoundState.intake, RoundState.scoring, RoundState.review):
        set_state(session=session, round_=round_, state=state, actor=actor)


def build_review_demo(session: Session, *, rng: np.random.Generator, works_factory, password: str) -> list[str]:
    """Add the console's demo rounds (after the base demo); returns lines describing them."""
    from web.core.models import Work  # noqa: F401  (the factory builds Work rows)

    rules = load_rules()
    experts = _experts(session)
    chair = session.exec(select(User).where(User.role == Role.chair)).first()
    works_set = rules.criteria_sets["works"]
    tags = tuple(h.key for h in works_set.highlights)
    lines = []
    for key, counts, sign in ((REVIEW_KEY, REVIEW_WORKS, False), (SIGNED_KEY, SIGNED_WORKS, True)):
        round_ = session.exec(select(Round).where(Round.key == key)).first() or \
            create_round(session=session, key=key, stage="national", actor="admin")
        quarter = rules.calendar(2025).quarter(f"Q{round_.quarter}")
        works = works_factory(rng, round_.id, (quarter.broadcast_start, quarter.broadcast_end), counts=counts)
        session.add_all(works)
        session.flush()
        n = _score(session, rng, round_, works, "work_id", works_set.criteria, experts,
                   per_item=rules.assignment.per_work, tags=tags)
        _to_review(session, round_, "admin")
        session.flush()
        if sign:
            services.propose_and_save(session=session, round_=round_, method="affine", actor=chair)
            stored = queries.get_shortlist(session=session, round_=round_)
            entries = queries.shortlist_entries(session=session, shortlist=stored)
            outside = next(e for e in entries if not e.included and e.straddles_cut) if any(
                not e.included and e.straddles_cut for e in entries) else next(e for e in entries if not e.included)
            operations.override_entry(session=session, round_=round_, entry=outside, include=True,
                                      reason="紧扣抗战胜利80周年主题，专家组合议调入", actor=chair)
            explain_flags(session, round_)  # abnormal ratings are explained before the chair signs (#12)
            version = services.sign_off_shortlist(session=session, round_=round_, signer=chair, password=password, dissent=None)
            lines.append(f"round {key}: {len(works)} works, {n} ratings, signed (SHA-256 {version.content_sha256[:12]}…)")
        else:
            lines.append(f"round {key}: {len(works)} works, {n} ratings, in review")
    cases_round = create_round(session=session, key=CASES_KEY, actor="admin")
    cases = [DisseminationCase(round_id=cases_round.id, name=name, unit="某网络视听平台") for name in CASES]
    session.add_all(cases)
    set_state(session=session, round_=cases_round, state=RoundState.intake, actor="admin")
    session.flush()
    n = _score_drawn(session, rng, cases_round, rules.criteria_sets["dissemination"].criteria, experts)
    for state in (RoundState.scoring, RoundState.review):
        set_state(session=session, round_=cases_round, state=state, actor="admin")
    lines.append(f"round {CASES_KEY}: {len(cases)} dissemination cases, {n} ratings, in review")
    session.commit()
    return lines
