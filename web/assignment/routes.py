"""Pages of the assignment: a round's draw and report with manual changes (admin, chair), the
replacement of a recused expert, the expert pool (admin) and an expert's declared conflicts.

Every change goes through web.assignment.operations / pool, the same functions as
``tuiyou assign`` and ``tuiyou experts``; a refusal (``Refused``) comes back as a flash message on
the page the form came from, and nothing is written (web.core.errors).
"""
from __future__ import annotations


from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_limiter.errors import RateLimitExceeded
from flask_babel import gettext as _

from scoring.rules.config import load_rules
from scoring.rules.assignment_report import DESIGN_LABELS, DESIGN_SHORT
from scoring.rules.conflicts import CONFLICT_REASONS

from ..core.access import current_user, role_required
from ..accounts.operations import set_password
from ..accounts.queries import get_user_by_name
from ..core.db import get_engine, get_session
from ..core.inputs import record_id
from ..core.errors import Refused, on_refusal
from ..core.i18n import select_locale
from ..core.models import Assignment, Role, RoundKind
from ..rounds.queries import get_round, list_rounds, round_or_404
from .draw_lock import job_of, latest_job, settle_if_lost
from .jobs import job_status, launch, start_job
from .operations import (AssignmentRefused, add_assignment, can_change, add_case_assignment, move_assignment, propose_replacement,
                         remove_assignment, replace_recused)
from .pool import (EXPERT_COLUMNS, declare_conflict, declare_work_conflict, import_experts, set_availability,
                   withdraw_conflict)
from .queries import (MAX_RESULTS, assignment_of_round, conflict_of, item_by_number, work_by_id, MIN_SEARCH, absences, declared_conflicts, expert_pool, find_works_to_declare,
                      latest_draw, round_assignments, round_report)

bp = Blueprint("assignment", __name__, template_folder="templates")
STAFF = (Role.admin, Role.chair)


def _lang() -> str:
    return "en" if select_locale() == "en" else "zh"


def _back_to_round(key: str, **_args) -> str:
    return url_for("assignment.round_page", key=key)


def _round(key: str):
    return round_or_404(session=get_session(), key=key)


@bp.get("/admin/assignment")
@role_required(*STAFF)
def index():
    """The rounds, each with a link to its assignment page."""
    return render_template("assignment/index.html", rounds=list_rounds(session=get_session()))


@bp.get("/admin/rounds/<key>/assignment")
@role_required(*STAFF)
def round_page(key: str):
    """A round's assignment: the draw form, the report (from the database) and the assignments."""
    db = get_session()
    round_ = _round(key)
    job = latest_job(session=db, round_=round_)
    if job is not None:
        settle_if_lost(session=db, job=job)  # a draw whose process died is marked failed (committed with the page)
    draw = latest_draw(session=db, round_=round_)
    per_work = draw.per_work if draw else load_rules().assignment.per_work
    return render_template("assignment/round.html", round=round_, draw=draw, per_work=per_work, can_change=can_change(round_),
                           job=job_status(job, lang=_lang()) if job else None,
                           default_per_work=load_rules().assignment.per_work, reasons=CONFLICT_REASONS,
                           report=round_report(session=db, round_=round_, per_work=per_work),
                           design_labels=DESIGN_LABELS, design_short=DESIGN_SHORT, small_category_max=load_rules().assignment.small_category_max,
                           panels={c["category"]: c.get("panel") for c in (draw.report if draw else {}).get("categories", [])},
                           rows=round_assignments(session=db, round_=round_))


@bp.post("/admin/rounds/<key>/assignment/draw")
@on_refusal(_back_to_round)
@role_required(*STAFF)
def draw(key: str):
    """Start the seeded draw in the background (empty seed: a random one); the page then shows its progress."""
    db = get_session()
    round_ = _round(key)
    try:
        per_work = int(request.form.get("per_work") or load_rules().assignment.per_work)
        seed_text = (request.form.get("seed") or "").strip()
        seed = int(seed_text) if seed_text else None
    except ValueError:
        raise Refused(422, "not_whole", "每部作品专家数和随机种子必须是整数",
                      "the experts per work and the seed must be whole numbers") from None
    job = start_job(session=db, round_=round_, per_work=per_work, seed=seed, actor=current_user().username)
    launch(get_engine(), job)
    return redirect(url_for("assignment.round_page", key=key)), 303


@bp.get("/admin/rounds/<key>/assignment/jobs/<int:job_id>")
@role_required(*STAFF, json=True)
def job(key: str, job_id: int):
    """A draw job's state, stage, categories done / total, elapsed time and outcome (polled by the page)."""
    db = get_session()
    round_ = get_round(session=db, key=key)
    found = job_of(session=db, job_id=job_id)
    if round_ is None or found is None or found.round_id != round_.id:
        return jsonify(error="not_found", message=f"no draw job {job_id} in round {key}"), 404
    settle_if_lost(session=db, job=found)
    return jsonify(job_status(found, lang=_lang()))


def _change(key: str, action):
    """Run a manual change (a refusal goes back to the round's page, see ``on_refusal``)."""
    action(get_session())
    flash(_("已保存调整"), "info")
    return redirect(url_for("assignment.round_page", key=key)), 303


def _expert_named(db, name: str):
    user = get_user_by_name(session=db, username=(name or "").strip().lower())
    if user is None:
        raise AssignmentRefused(f"专家 {name} 不存在", f"expert {name!r} does not exist")
    return user


@bp.post("/admin/rounds/<key>/assignment/add")
@on_refusal(_back_to_round)
@role_required(*STAFF)
def add(key: str):
    """Assign an expert to a work by hand."""
    round_ = _round(key)

    def act(db):
        expert = _expert_named(db, request.form.get("expert", ""))
        item = item_by_number(session=db, round_=round_, number=record_id(request.form.get("work_id")))
        if round_.kind == RoundKind.dissemination:  # case rounds: the number is the case's
            if item is None:
                raise AssignmentRefused("案例不存在", "no such case")
            add_case_assignment(session=db, round_=round_, expert=expert, case=item,
                                actor=current_user().username, reason=request.form.get("reason", ""))
            return
        work = item
        if work is None:
            raise AssignmentRefused("作品不存在", "no such work")
        add_assignment(session=db, round_=round_, expert=expert,
                       work=work, actor=current_user().username, reason=request.form.get("reason", ""))
    return _change(key, act)


def _assignment_of(db, round_, assignment_id: int) -> Assignment:
    assignment = assignment_of_round(session=db, round_=round_, assignment_id=assignment_id)
    if assignment is None:
        raise AssignmentRefused("分配不存在", "no such assignment")
    return assignment


@bp.post("/admin/rounds/<key>/assignment/<int:assignment_id>/remove")
@on_refusal(_back_to_round)
@role_required(*STAFF)
def remove(key: str, assignment_id: int):
    """Remove an unstarted assignment, with a reason."""
    round_ = _round(key)
    return _change(key, lambda db: remove_assignment(
        session=db, round_=round_, assignment=_assignment_of(db, round_, assignment_id),
        actor=current_user().username, reason=request.form.get("reason", "")))


@bp.post("/admin/rounds/<key>/assignment/<int:assignment_id>/move")
@on_refusal(_back_to_round)
@role_required(*STAFF)
def move(key: str, assignment_id: int):
    """Give an unstarted assignment to another expert, with a reason."""
    round_ = _round(key)
    return _change(key, lambda db: move_assignment(
        session=db, round_=round_, assignment=_assignment_of(db, round_, assignment_id),
        expert=_expert_named(db, request.form.get("expert", "")), actor=current_user().username,
        reason=request.form.get("reason", "")))


@bp.get("/admin/rounds/<key>/assignment/<int:assignment_id>/replace")
@role_required(*STAFF)
def replace_page(key: str, assignment_id: int):
    """The ranked replacements for a recused assignment."""
    db = get_session()
    round_ = _round(key)
    assignment = assignment_of_round(session=db, round_=round_, assignment_id=assignment_id)
    if assignment is None:
        return render_template("message.html", message=_("分配不存在")), 404
    return render_template("assignment/replace.html", round=round_, assignment=assignment,
                           work=work_by_id(session=db, work_id=assignment.work_id),
                           candidates=propose_replacement(session=db, assignment=assignment))


@bp.post("/admin/rounds/<key>/assignment/<int:assignment_id>/replace")
@on_refusal(_back_to_round)
@role_required(*STAFF)
def replace(key: str, assignment_id: int):
    """Give a recused assignment's slot to the chosen candidate."""
    round_ = _round(key)
    return _change(key, lambda db: replace_recused(
        session=db, assignment=_assignment_of(db, round_, assignment_id),
        expert=_expert_named(db, request.form.get("expert", "")), actor=current_user().username,
        reason=request.form.get("reason", "")))


@bp.get("/admin/experts")
@role_required(Role.admin)
def pool():
    """The expert pool: profiles, capacities, declared conflicts, the import and passwords."""
    db = get_session()
    return render_template("assignment/pool.html", experts=expert_pool(session=db), columns=EXPERT_COLUMNS,
                           rounds=list_rounds(session=db), absences=absences(session=db))


@bp.post("/admin/experts/availability")
@role_required(Role.admin)
def pool_availability():
    """Mark an expert available or not in a round (an unavailable expert gets no new works)."""
    db = get_session()
    user = get_user_by_name(session=db, username=request.form.get("expert", "").strip().lower())
    round_ = get_round(session=db, key=request.form.get("round", ""))
    if user is None or user.role != Role.expert or round_ is None:
        flash(_("专家或轮次不存在"), "error")
        return redirect(url_for("assignment.pool")), 303
    set_availability(session=db, round_=round_, expert=user, available=request.form.get("available") == "1",
                     actor=current_user().username, reason=request.form.get("reason", ""))
    flash(_("已更新 %(name)s 在 %(round)s 的可参评状态", name=user.username, round=round_.key), "info")
    return redirect(url_for("assignment.pool")), 303


def _pool_page(refused: Refused | None = None, *, issues=None, status: int = 200):
    """The pool page, with an unreadable file's reason or a file's issues (nothing was imported)."""
    db = get_session()
    return render_template("assignment/pool.html", experts=expert_pool(session=db), columns=EXPERT_COLUMNS,
                           rounds=list_rounds(session=db), absences=absences(session=db),
                           error=refused.message if refused else None, issues=issues), status


@bp.post("/admin/experts/import")
@on_refusal(page=lambda refused: _pool_page(refused, status=refused.status))
@role_required(Role.admin)
def pool_import():
    """Import or update experts from an uploaded CSV/XLSX: all rows or none."""
    db = get_session()
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("请选择要上传的 CSV 或 XLSX 文件"), "error")
        return redirect(url_for("assignment.pool")), 303
    # an unreadable file, or one over the limits, is refused (IntakeError): the page says which
    report = import_experts(session=db, data=upload.read(), filename=upload.filename, actor=current_user().username)
    if not report.ok:  # all rows or none: the file's issues are listed, nothing of it was written
        return _pool_page(issues=report.issues, status=400)
    flash(_("新增专家 %(created)s 名，更新 %(updated)s 名；新专家需设置密码后才能登录", created=len(report.created),
            updated=len(report.updated)), "info")
    return redirect(url_for("assignment.pool")), 303


@bp.post("/admin/experts/<name>/password")
@on_refusal(lambda name: url_for("assignment.pool"))
@role_required(Role.admin)
def pool_password(name: str):
    """Set an expert's password (so an imported expert can log in)."""
    db = get_session()
    user = get_user_by_name(session=db, username=name)
    if user is None:
        return render_template("message.html", message=_("用户不存在")), 404
    try:
        set_password(session=db, user=user, password=request.form.get("password", ""), actor=current_user().username)
    except ValueError as exc:  # the password policy's reason
        raise Refused(422, "weak_password", f"密码不符合要求：{exc}", f"the password does not meet the policy: {exc}") from None
    flash(_("已设置 %(name)s 的密码", name=user.username), "info")
    return redirect(url_for("assignment.pool")), 303


@bp.route("/me/conflicts", methods=["GET", "POST"])
@on_refusal(lambda: url_for("assignment.my_conflicts"))
@role_required(Role.expert)
def my_conflicts():
    """The expert declares organisations, people and works they must not rate (回避申报), or withdraws one."""
    db, me = get_session(), current_user()
    if request.method == "POST":
        withdraw, work_id = request.form.get("withdraw"), request.form.get("work_id", "").strip()
        if withdraw:
            row = conflict_of(session=db, expert=me, conflict_id=record_id(withdraw))
            if row is None:
                raise AssignmentRefused("该申报不存在", "no such declaration")
            withdraw_conflict(session=db, conflict=row, actor=me.username)
        elif work_id:
            declare_work_conflict(session=db, expert=me, actor=me.username, reason=request.form.get("reason", ""),
                                  work=work_by_id(session=db, work_id=record_id(work_id)))
        else:
            declare_conflict(session=db, expert=me, actor=me.username, organisation=request.form.get("organisation", ""),
                             person=request.form.get("person", ""), reason=request.form.get("reason", ""))
        flash(_("已保存回避申报"), "info")
        return redirect(url_for("assignment.my_conflicts")), 303
    text = request.args.get("q", "").strip()
    declared = declared_conflicts(session=db, user=me)
    found, status, short = None, 200, bool(text) and len(text) < MIN_SEARCH
    if text and not short:
        try:  # each expert's searches are limited (they list titles): TUIYOU_CONFLICT_SEARCH_LIMIT
            with current_app.extensions["tuiyou.limiter"].limit(current_app.config["CONFLICT_SEARCH_LIMIT"],
                                                                 key_func=lambda: f"conflict-search:{me.id}"):
                found = find_works_to_declare(session=db, expert=me, text=text)
        except RateLimitExceeded:
            status = 429
    return render_template("assignment/my_conflicts.html", conflicts=declared, query=text, found=found,
                           too_short=short, limited=status == 429, max_results=MAX_RESULTS,
                           declared_works={c.work_id for c, _ in declared if c.work_id is not None}), status
