"""The demo's assignments, drawn by the product's own operation (``tuiyou assign``'s run_draw)
with a fixed seed, so the demo shows a real, reproducible, conflict-free draw and its report."""
from __future__ import annotations

from sqlmodel import Session, select

from scoring.rules.config import load_rules
from web.assignment.operations import run_draw
from web.core.models import Assignment, Round

DEMO_DRAW_SEED = 20250401


def assign_demo(session: Session, round_: Round, *, actor: str, seed: int = DEMO_DRAW_SEED) -> list[Assignment]:
    """Draw the round's experts (config per_work, fixed seed); returns its assignments by id."""
    run_draw(session=session, round_=round_, per_work=load_rules().assignment.per_work, seed=seed, actor=actor)
    return list(session.exec(select(Assignment).where(Assignment.round_id == round_.id).order_by(Assignment.id)))
