"""``/api/v1/rounds``: the rounds with their states, and an admin's change of state."""
from __future__ import annotations

from typing import ClassVar

from pydantic import ConfigDict, Field


from ..core.access import current_user
from ..core.db import get_session
from ..core.models import Role, RoundKind, RoundState, Stage
from ..rounds.operations import set_state
from ..rounds.queries import list_rounds, work_counts
from ..core.schemas import ApiError, Body, Reply, Text
from .blueprint import bp, round_or_404
from .registry import ANY_ROLE, operation

# A refused change: 422 when the request itself is incomplete, 409 when the round's state forbids it.


class RoundSummary(Reply):
    """A round: its key (``2025Q1``), kind, stage, state and number of works."""

    key: str
    year: int
    quarter: int | None
    kind: RoundKind
    stage: Stage
    unit: str | None
    state: RoundState
    works: int


class StateChange(Body):
    """The state to move the round to, and the reason (required to step back). The rules of the
    round's states (``scoring.rules.states``) judge the value: an unknown one is 422
    ``unknown_state``, ``signed`` 409 ``sign_off_required`` (only the chair's sign-off seals)."""

    refused: ClassVar = (422, "bad_request")

    state: Text = Field(json_schema_extra={"enum": ["draft", "intake", "scoring", "review"]})
    reason: Text | None = None


class StateChanged(Reply):
    """The round moved, audited."""

    model_config = ConfigDict(serialize_by_alias=True, validate_by_name=True)  # "from" is a Python keyword

    round: str
    from_: RoundState = Field(alias="from")
    state: RoundState


@bp.get("/rounds")
@operation("Every round with its state and number of works", roles=ANY_ROLE,
           answers={200: ("The rounds, newest year first", list[RoundSummary])})
def rounds():
    """Every round with its state and number of works."""
    db = get_session()
    counts = work_counts(session=db)
    return [RoundSummary(key=r.key, year=r.year, quarter=r.quarter, kind=r.kind, stage=r.stage, unit=r.unit,
                         state=r.state, works=counts.get(r.id, 0)) for r in list_rounds(session=db)]


@bp.post("/rounds/<key>/state")
@operation("An admin moves a round to draft, intake, scoring or review (going back needs a reason); `signed` is "
           "refused: only the chair's sign-off seals a round", roles=(Role.admin,), body=StateChange, answers={
               200: ("Moved and audited", StateChanged),
               409: ("Not allowed from the round's state; `sign_off_required` for `signed` (the message points to "
                     "POST /rounds/{key}/shortlist/signoff), `final` for a signed round (re-open it instead)",
                     ApiError),
               422: ("Unknown state, or stepping back without a reason", ApiError)})
def change_state(key: str, body: StateChange):
    """Move a round to ``{"state", "reason"}`` (draft, intake, scoring, review; never signed: 409 pointing to the sign-off)."""
    db = get_session()
    round_ = round_or_404(db, key)
    previous = round_.state
    set_state(session=db, round_=round_, state=body.state, actor=current_user().username, reason=body.reason)
    return StateChanged(round=key, from_=previous, state=round_.state)
