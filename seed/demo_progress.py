"""The demo's scoring day as the progress board (评分进度) finds it: the forms experts are still
working on were last saved at different moments over the last hours — most within the last
half hour, a few experts long idle — so the board shows who has stalled. Only the ``updated_at``
of forms saved but not submitted changes (the conduct review reads the submitted forms' times
and the ratings' own times, which stay as they are)."""
from __future__ import annotations

import datetime as dt

import numpy as np
from sqlmodel import Session, select

from web.core.models import Assignment, AssignmentStatus, Round, utcnow

#: how many of the experts with open forms have been idle for an hour or more
IDLE_EXPERTS = 3


def spread_the_day(session: Session, *, round_: Round, seed: int, now: dt.datetime | None = None) -> int:
    """Re-time the round's saved-not-submitted forms over the last hours; returns how many."""
    rng = np.random.default_rng(seed + 70)
    now = now or utcnow()
    forms = list(session.exec(select(Assignment).where(Assignment.round_id == round_.id,
                                                       Assignment.status == AssignmentStatus.in_progress)
                              .order_by(Assignment.id)))
    experts = sorted({f.expert_id for f in forms})
    idle = set(rng.choice(experts, size=min(IDLE_EXPERTS, len(experts)), replace=False).tolist()) if experts else set()
    last = {e: dt.timedelta(minutes=float(rng.uniform(70, 200) if e in idle else rng.uniform(1, 25)))
            for e in experts}
    seen: set[int] = set()
    for form in forms:
        # each expert's latest save at their own moment, their earlier ones before it
        earlier = dt.timedelta(0) if form.expert_id not in seen else dt.timedelta(minutes=float(rng.uniform(5, 90)))
        seen.add(form.expert_id)
        form.updated_at = now - last[form.expert_id] - earlier
        session.add(form)
    session.commit()
    return len(forms)
