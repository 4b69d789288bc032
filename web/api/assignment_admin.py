"""``/api/v1`` for the secretariat and the chair: run a round's seeded draw, read its report,
and replace a recused expert — the same operations as ``tuiyou assign`` and the round's
assignment page, with every constraint enforced there."""
from __future__ import annotations

from typing import Any, ClassVar

from pydantic import AliasChoices, Field

from scoring.rules.config import load_rules

from ..core.access import current_user
from ..accounts.queries import get_user_by_name
from ..assignment.operations import (MAX_SEED, InfeasibleAssignment, propose_replacement,
                                     replace_recused, run_draw)
from ..assignment.queries import latest_draw, round_report
from ..core.db import get_session
from ..core.inputs import MAX_SAFE_INTEGER
from ..core.models import Assignment, AssignmentStatus, Role, RoundState
from ..core.schemas import ApiError, Body, Moment, Reply, Text, Whole
from ..core.errors import Refused
from .blueprint import bp, error, round_or_404
from .registry import operation

STAFF = (Role.admin, Role.chair)
REFUSED = ("Refused: a rule of the round or of the assignment would break; nothing written", ApiError)


class DrawRequest(Body):
    """How many experts per work and which seed; both optional. The bounds are the draw's own
    (``check_draw_request``, shared with the page): outside them the draw is refused (409)."""

    refused: ClassVar = (400, "bad_request")

    per_work: Whole | None = Field(default=None, json_schema_extra={"minimum": 1},
                                 description="experts per work; absent: the configured number")
    # the draw takes seeds up to 2^63 − 1, JSON carries integers exactly up to 2^53 − 1 (and so does
    # this document: web.core.inputs refuses a larger one in a body, 400, before the draw)
    seed: Whole | None = Field(default=None, description="absent: a random seed (the answer carries it)",
                               json_schema_extra={"minimum": 0, "maximum": min(MAX_SEED, MAX_SAFE_INTEGER)})


class Infeasible(ApiError):
    """422 ``infeasible``: a category without enough experts; nothing written."""

    category: str
    needed: int
    available: int


class Drawn(Reply):
    """The draw as written: its seed (to re-run it), the assignments created, kept and dropped."""

    seed: int
    per_work: int
    created: int
    kept: int
    dropped: int
    report: dict[str, Any]


class DesignQuality(Reply):
    """How well a category's rater–work design lets the model estimate rater effects
    (``scoring.rules.assignment_report.DesignFigures``; null where it is not estimable)."""

    design: str = Field(description="complete, balanced, near_balanced, incomplete or none")
    ratings_per_rater_min: int
    ratings_per_rater_median: float
    ratings_per_rater_max: int
    single_rating_raters: int
    pair_min: int | None
    pair_max: int | None
    efficiency: float | None
    rater_se: float | None


class CategoryCoverage(Reply):
    """One category: works, works covered, experts, connected components, pairs sharing works, and
    the quality of its design."""

    category: str
    works: int
    covered: int
    experts: int
    components: int
    sharing_pairs: int
    design: DesignQuality = Field(validation_alias=AliasChoices("design", "figures"))


class SharedWorks(Reply):
    """Two experts and the number of works they share."""

    experts: list[str]
    shared: int


class DrawSummary(Reply):
    """The round's latest draw."""

    seed: int
    per_work: int
    actor: str
    at: Moment
    created: int
    kept: int
    conflicts_avoided: dict[str, Any]


class AssignmentReport(Reply):
    """Coverage, loads, connectivity and shared works, counted from the round's assignments."""

    round: str
    state: RoundState
    per_work: int
    works: int
    covered: int
    assignments: int
    started: int
    recused: int
    load_histogram: dict[str, int] = Field(description="assignments per expert → number of experts")
    categories: list[CategoryCoverage]
    top_pairs: list[SharedWorks]
    draw: DrawSummary | None


class Replacement(Body):
    """The expert to take a recused assignment's slot, and why."""

    refused: ClassVar = (400, "bad_request")

    expert: Text = Field(description="the expert's user name")
    reason: Text = ""


class Candidate(Reply):
    """An expert who may take the slot without breaking a constraint."""

    username: str
    name: str
    load: int
    capacity: int | None
    shared: int


class Replaced(Reply):
    """The new assignment."""

    id: int
    expert: str
    work_id: int
    status: AssignmentStatus


@bp.post("/rounds/<key>/draws")
@operation("Draw experts for every open slot of a round (admin, chair)", roles=STAFF, body=DrawRequest,
           optional_body=True, description="Seeded (随机抽取) and incremental: kept assignments never move. Omit "
                                           "seed for a random one; the answer carries it.",
           answers={201: ("Drawn and written", Drawn), 400: ("The body is not {per_work, seed} as whole numbers",
                                                             ApiError),
                    409: ("Refused (the round is not in intake or scoring, per_work below 1, a seed out of "
                          "range, …); nothing written", ApiError),
                    422: ("Infeasible; nothing written", Infeasible)})
def draw_round(key: str, body: DrawRequest):
    """Draw experts for every open slot of the round (body: per_work, seed; both optional)."""
    db = get_session()
    round_ = round_or_404(db, key)
    per_work = load_rules().assignment.per_work if body.per_work is None else body.per_work
    try:
        outcome = run_draw(session=db, round_=round_, per_work=per_work, seed=body.seed,
                           actor=current_user().username)
    except InfeasibleAssignment as exc:  # the numeric rule's failure, as the API's refusal
        raise Refused(422, "infeasible", str(exc), category=exc.category, needed=exc.needed,
                      available=exc.available) from None
    draw = outcome.draw
    return Drawn(seed=draw.seed, per_work=draw.per_work, created=draw.created, kept=draw.kept,
                 dropped=outcome.dropped, report=draw.report), 201


@bp.get("/rounds/<key>/assignment-report")
@operation("Coverage, loads, connectivity and shared works of a round (admin, chair)", roles=STAFF,
           answers={200: ("The report, counted from the assignments", AssignmentReport)})
def assignment_report(key: str):
    """The round's coverage, loads, connectivity and shared works, counted from its assignments."""
    db = get_session()
    round_ = round_or_404(db, key)
    draw = latest_draw(session=db, round_=round_)
    per_work = draw.per_work if draw else load_rules().assignment.per_work
    report = round_report(session=db, round_=round_, per_work=per_work)
    return AssignmentReport(
        round=round_.key, state=round_.state, per_work=per_work, works=report.works, covered=report.covered,
        assignments=report.assignments, started=report.started, recused=report.recused,
        load_histogram={str(k): v for k, v in report.load_histogram.items()},
        categories=[CategoryCoverage.model_validate(c, from_attributes=True) for c in report.categories],
        top_pairs=[SharedWorks(experts=[a, b], shared=n) for a, b, n in report.top_pairs],
        draw=None if draw is None else DrawSummary(
            seed=draw.seed, per_work=draw.per_work, actor=draw.actor, at=draw.created_at, created=draw.created,
            kept=draw.kept, conflicts_avoided=draw.report.get("conflicts_avoided", {})))


def _assignment(assignment_id: int):
    assignment = get_session().get(Assignment, assignment_id)
    return assignment if assignment is not None and assignment.work_id is not None else None


@bp.get("/assignments/<int:assignment_id>/replacements")
@operation("Ranked replacements keeping every constraint (admin, chair)", roles=STAFF,
           answers={200: ("Candidates, least loaded first", list[Candidate]),
                    404: ("No such assignment (of a work)", ApiError)})
def replacements(assignment_id: int):
    """Ranked experts who may take this assignment's slot without breaking any constraint."""
    assignment = _assignment(assignment_id)
    if assignment is None:
        return error(404, "not_found", f"assignment {assignment_id} does not exist")
    return [Candidate(username=c.expert.username, name=c.expert.display_name, load=c.load,
                      capacity=c.expert.capacity, shared=c.shared)
            for c in propose_replacement(session=get_session(), assignment=assignment)]


@bp.post("/assignments/<int:assignment_id>/replacement")
@operation("Give a recused assignment's slot to an expert (admin, chair)", roles=STAFF, body=Replacement,
           answers={201: ("The new assignment", Replaced), 400: ("The body is not {expert, reason} as text", ApiError),
                    404: ("No such assignment or expert", ApiError), 409: REFUSED})
def replacement(assignment_id: int, body: Replacement):
    """Give a recused assignment's slot to an expert (body: expert, reason)."""
    db = get_session()
    assignment = _assignment(assignment_id)
    if assignment is None:
        return error(404, "not_found", f"assignment {assignment_id} does not exist")
    expert = get_user_by_name(session=db, username=body.expert.strip().lower())
    if expert is None:
        return error(404, "not_found", f"expert {body.expert} does not exist")
    new = replace_recused(session=db, assignment=assignment, expert=expert, actor=current_user().username,
                          reason=body.reason)
    db.flush()
    return Replaced(id=new.id, expert=expert.username, work_id=new.work_id, status=new.status), 201
