"""The demo's scoring in progress, as an expert finds it on their tablet: some forms half done
(two criteria of four, two versions of history), remarks, ticked highlights and confidence on
some submitted ones, and one submitted form the chair has allowed to be reopened."""
from __future__ import annotations

import numpy as np
from sqlmodel import Session, select

from scoring.rules.config import load_rules
from web.core.models import Assignment, AssignmentStatus, Comment, HighlightTag, Rating, Round

REMARKS = ("叙事扎实，节奏把握得当。", "主题鲜明，但后半段略显拖沓。", "技术手段有新意，值得推荐。",
           "人物塑造立体，情感真挚。", "制作精良，声画质量高。")


def assignments_with_ratings(session: Session, round_: Round) -> tuple[list[Assignment], dict[int, list[Rating]]]:
    """The round's assignments by id, and each one's stored rating rows (every version)."""
    assignments = session.exec(select(Assignment).where(Assignment.round_id == round_.id)
                               .order_by(Assignment.id)).all()
    ratings: dict[int, list[Rating]] = {}
    for rating in session.exec(select(Rating).join(Assignment, Assignment.id == Rating.assignment_id)
                               .where(Assignment.round_id == round_.id)):
        ratings.setdefault(rating.assignment_id, []).append(rating)
    return assignments, ratings


def add_rating_demo(session: Session, *, round_: Round, seed: int) -> int:
    """Turn part of ``round_``'s scoring into realistic work in progress; return how many forms are half done."""
    rng = np.random.default_rng(seed + 10)
    criteria_set = load_rules().criteria_sets[round_.criteria_set]
    keys = [c.key for c in criteria_set.criteria]
    tags = [h.key for h in criteria_set.highlights]
    session.flush()
    assignments, ratings = assignments_with_ratings(session, round_)
    half_done, reopen_given = 0, False
    for assignment in assignments:
        rows = ratings.get(assignment.id, [])
        if assignment.status == AssignmentStatus.in_progress and rng.random() < 0.5:
            # Half done: version 1 held one criterion, version 2 two; the rest not yet scored.
            kept = {r.criterion: r.value for r in rows if r.criterion in keys[:2]}
            for rating in rows:
                if rating.criterion not in kept:
                    session.delete(rating)
            first = keys[0]
            session.add(Rating(assignment_id=assignment.id, criterion=first, value=kept[first], version=2))
            session.add(Rating(assignment_id=assignment.id, criterion=keys[1], value=kept[keys[1]], version=2))
            for rating in rows:
                if rating.criterion == keys[1]:
                    session.delete(rating)
            assignment.version = 2
            half_done += 1
        elif assignment.status == AssignmentStatus.submitted:
            if rng.random() < 0.4:
                session.add(Comment(assignment_id=assignment.id, author_id=assignment.expert_id, kind="remark",
                                    body=REMARKS[int(rng.integers(len(REMARKS)))], version=assignment.version))
            for tag in rng.choice(tags, size=int(rng.integers(0, 3)), replace=False):
                session.add(HighlightTag(assignment_id=assignment.id, tag=str(tag)))
            if rng.random() < 0.5:
                assignment.confidence = float(rng.choice([0.5, 0.75, 1.0]))
            if not reopen_given:
                assignment.reopen_allowed = reopen_given = True
        session.add(assignment)
    session.flush()
    return half_done
