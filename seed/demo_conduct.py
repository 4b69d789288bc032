"""The demo's save history for the conduct review (履职评价): the seeded ratings all carry the
moment the demo was built, so this spreads each 2025 round's saves and submissions over its
scoring window before the deadline (config/conduct.toml), as experts would have worked — each
at their own pace, two of them often late, some forms saved in several sittings. Only times
change: no score, status or version does, so signed results keep their content and hash."""
from __future__ import annotations

import datetime as dt

import numpy as np
from sqlmodel import Session, select

from scoring.rules.conduct import load_conduct_rule, scoring_deadline
from scoring.rules.config import load_rules
from web.conduct.report import forwarding_day
from web.core.models import AssignmentStatus, Round, User

from .demo_rating import assignments_with_ratings

MINUTE = dt.timedelta(minutes=1)


def _history(rng, start: dt.datetime, deadline: dt.datetime, pace: float, late: float,
             versions: int, submitted: bool) -> tuple[list[dt.datetime], dt.datetime | None]:
    """Save moments (one per version) and the submission of one form."""
    span = (deadline - start).total_seconds() / 86400
    day = float(rng.uniform(0.2, 0.95)) * span
    if submitted and rng.random() < late:
        day = span + float(rng.uniform(0.5, 5.0))  # after the deadline
    minutes = float(np.clip(rng.lognormal(np.log(pace), 0.4), 3, 45))
    end = start + dt.timedelta(days=day)
    steps = max(versions, 1)
    saves = [end - minutes * MINUTE * (1 - i / steps) for i in range(versions)]
    if versions > 1 and rng.random() < 0.15:  # came back to it the next day
        saves = [s - dt.timedelta(days=1) if i == 0 else s for i, s in enumerate(saves)]
    return saves, (end if submitted else None)


def add_conduct_history(session: Session, *, seed: int, year: int = 2025) -> int:
    """Re-time the saves and submissions of ``year``'s rounds; returns how many forms were re-timed."""
    rng = np.random.default_rng(seed + 60)
    rules, rule = load_rules(), load_conduct_rule()
    experts = list(session.exec(select(User.id).order_by(User.id)))
    pace = {e: float(rng.uniform(6, 22)) for e in experts}  # typical minutes per form
    late = {e: (0.35 if i in (3, 11) else 0.03) for i, e in enumerate(experts)}
    count = 0
    for round_ in session.exec(select(Round).where(Round.year == year).order_by(Round.id)).all():
        deadline = scoring_deadline(round_.key, forwarding_day(round_, rules), rule)
        if deadline is None:
            continue
        start = deadline - dt.timedelta(days=rule.days_after_forwarding - 1, hours=15)  # 09:00 the day after forwarding
        assignments, ratings = assignments_with_ratings(session, round_)
        for a in assignments:
            rows = ratings.get(a.id)
            if not rows:
                continue
            versions = max(r.version for r in rows)
            saves, submitted_at = _history(rng, start, deadline, pace.get(a.expert_id, 12.0),
                                           late.get(a.expert_id, 0.03), versions,
                                           a.status == AssignmentStatus.submitted)
            for r in rows:
                r.created_at = saves[r.version - 1]
                session.add(r)
            if a.status == AssignmentStatus.submitted:
                a.submitted_at = a.updated_at = submitted_at
                session.add(a)
            count += 1
    session.commit()
    return count
