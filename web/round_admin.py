"""Creating rounds and moving them through draft → intake → scoring → review → signed."""
from __future__ import annotations

from sqlmodel import Session

from scoring.rules.config import load_rules

from .audit import record_event
from .models import Round, RoundKind, RoundState, Stage
from .queries import get_round
from .rounds import parse_round_key


def create_round(*, session: Session, key: str, stage: str = "national", unit: str | None = None,
                 actor: str = "") -> Round:
    """Add a round (not committed); ValueError for a bad or taken key or a missing calendar."""
    key = key.strip()
    parsed = parse_round_key(key)
    rules = load_rules()
    if parsed.year not in rules.calendars:
        raise ValueError(f"no calendar for {parsed.year} in config/ (calendar-{parsed.year}.toml)")
    stage_ = Stage(stage)
    if stage_ == Stage.provincial and not unit:
        raise ValueError("a provincial round needs --unit (the provincial bureau)")
    if stage_ == Stage.provincial and parsed.kind != RoundKind.quarter:
        raise ValueError("provincial first review happens per quarter (a key like 2025Q1-浙江)")
    if get_round(session=session, key=key):
        raise ValueError(f"round {key} already exists")
    round_ = Round(key=key, year=parsed.year, quarter=parsed.quarter, kind=parsed.kind,
                   stage=stage_, unit=unit,
                   criteria_set="dissemination" if parsed.kind == RoundKind.dissemination else "works")
    session.add(round_)
    session.flush()
    record_event(session, "round.created", actor=actor, round_id=round_.id, subject=key,
                 detail={"stage": stage_.value, "unit": unit, "kind": parsed.kind.value})
    return round_


def set_state(*, session: Session, round_: Round, state: RoundState, actor: str = "",
              reason: str | None = None) -> None:
    """Move a round to ``state`` and record it (transition rules are checked by the caller's policy)."""
    previous = round_.state
    round_.state = state
    session.add(round_)
    record_event(session, "round.state", actor=actor, round_id=round_.id, subject=round_.key,
                 detail={"from": previous.value, "to": state.value, "reason": reason})
