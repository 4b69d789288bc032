"""Writes of rounds: creating them, moving them through draft → intake → scoring → review (the
chair's sign-off in web.review is the only way to ``signed``), and building the annual round
from the signed quarters."""
from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from scoring.rules.config import Rules, load_rules
from scoring.rules.states import TransitionError, check_transition

from ..core.audit import record_event
from ..core.errors import Refused
from ..core.models import Round, RoundKind, RoundState, Shortlist, ShortlistEntry, Stage, Work
from ..rating.flags import refresh_flags
from .keys import parse_round_key
from .queries import get_round


def create_round(*, session: Session, key: str, stage: str = "national", unit: str | None = None,
                 actor: str = "") -> Round:
    """Add a round (not committed); ValueError for a bad or taken key or a missing calendar."""
    key = key.strip()
    parsed = parse_round_key(key)
    rules = load_rules()
    if parsed.year not in rules.calendars:
        raise ValueError(f"no calendar for {parsed.year} in config/ (calendar-{parsed.year}.toml)")
    try:
        stage_ = Stage(stage)
    except ValueError:
        raise ValueError(f"unknown stage {stage!r} (national or provincial)") from None
    unit = (unit or "").strip() or None
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


TRANSITION_STATUS = {"unknown_state": 422, "reason_required": 422}


def set_state(*, session: Session, round_: Round, state: RoundState | str, actor: str = "",
              reason: str | None = None) -> None:
    """Move a round to ``state`` and record it; ``Refused`` (409, or 422 for an unknown state or a missing
    reason) with the rule's code when the move is not allowed.

    ``signed`` is always refused (the message points to the chair's sign-off, which seals the result).
    """
    target = getattr(state, "value", str(state))
    try:
        transition = check_transition(round_.state.value, target, reason=reason, key=round_.key)
    except TransitionError as exc:  # the rule's refusal, with the status the API has always answered
        raise Refused(TRANSITION_STATUS.get(exc.code, 409), exc.code, exc.zh, exc.en) from None
    previous = round_.state
    round_.state = RoundState(transition.target)
    session.add(round_)
    record_event(session, "round.state", actor=actor, round_id=round_.id, subject=round_.key,
                 detail={"from": previous.value, "to": transition.target, "backward": transition.backward,
                         "reason": (reason or "").strip() or None})
    if round_.state == RoundState.review:  # the panel's abnormal ratings, as the round enters review
        refresh_flags(session=session, round_=round_, actor=actor)


@dataclass(frozen=True)
class AnnualBuild:
    """What ``create_annual`` did."""

    round: Round
    added: int
    already_there: int
    quarters_used: tuple[str, ...]
    quarters_unsigned: tuple[str, ...]


_COPIED = ("title", "title_normalized", "category", "submitter", "submitter_type", "unit", "unit_type",
           "platform", "first_broadcast", "last_broadcast", "license_no", "copyright_holder", "uhd",
           "aigc", "single_episode", "episodes", "duration_min", "synopsis", "url")


def create_annual(*, session: Session, year: int, actor: str = "", rules: Rules | None = None) -> AnnualBuild:
    """Round ``YEAR`` from the works included on the year's signed national quarterly shortlists.

    No re-submission: each work is copied with ``source_work_id`` pointing at the original.
    If the annual round exists and is still open (draft/intake), only missing works are added;
    otherwise ValueError. Not committed.
    """
    rules = rules or load_rules()
    if year not in rules.calendars:
        raise ValueError(f"no calendar for {year} in config/ (calendar-{year}.toml)")
    quarter_numbers = [int(key.lstrip("Qq")) for key in rules.calendar(year).annual_from_quarters]
    quarters = list(session.exec(select(Round).where(
        Round.year == year, Round.kind == RoundKind.quarter, Round.stage == Stage.national,
        Round.quarter.in_(quarter_numbers)).order_by(Round.quarter, Round.key)))
    signed, unsigned = [], []
    for quarter in quarters:
        shortlist = session.exec(select(Shortlist).where(Shortlist.round_id == quarter.id)).first()
        ok = quarter.state == RoundState.signed and shortlist is not None and shortlist.state == "signed"
        (signed if ok else unsigned).append((quarter, shortlist))
    if not signed:
        raise ValueError(f"no national quarter round of {year} is signed yet (a signed round with a "
                         f"signed shortlist); rounds found: {', '.join(q.key for q in quarters) or 'none'}")
    annual = get_round(session=session, key=str(year))
    if annual is None:
        annual = create_round(session=session, key=str(year), stage="national", actor=actor)
    elif annual.kind != RoundKind.annual:
        raise ValueError(f"round {year} exists but is not an annual round")
    elif annual.state not in (RoundState.draft, RoundState.intake):
        raise ValueError(f"annual round {year} already exists and is {annual.state.value}; "
                         "it can only be filled while draft or intake")
    present = set(session.exec(select(Work.source_work_id).where(Work.round_id == annual.id)))
    added = already = 0
    for quarter, shortlist in signed:
        works = session.exec(select(Work).join(ShortlistEntry, ShortlistEntry.work_id == Work.id)
                             .where(ShortlistEntry.shortlist_id == shortlist.id,
                                    ShortlistEntry.included == True)  # noqa: E712 (SQL expression)
                             .order_by(ShortlistEntry.category, ShortlistEntry.rank, Work.id))
        for work in works:
            if work.id in present:
                already += 1
                continue
            session.add(Work(round_id=annual.id, source_work_id=work.id,
                             **{name: getattr(work, name) for name in _COPIED}))
            present.add(work.id)
            added += 1
    session.flush()
    used = tuple(q.key for q, _ in signed)
    missing = tuple(q.key for q, _ in unsigned)
    record_event(session, "round.annual_built", actor=actor, round_id=annual.id, subject=annual.key,
                 detail={"added": added, "already_there": already, "from": list(used),
                         "unsigned": list(missing)})
    return AnnualBuild(annual, added, already, used, missing)
