"""Admin pages of intake: upload a CSV/XLSX file and read its report, download the template,
browse the entries, and a provincial round's recommendation (notice, section 四).

A provincial bureau forwards, in principle, at most 50% of the entries it received in the
quarter (``stage.provincial.recommend_cap`` in config/stages.toml); going over needs a
written reason, which the audit log keeps. The recommendation page records a new choice
through :func:`web.intake.operations.recommend`, the same path as ``tuiyou round recommend``.
"""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from scoring.rules.columns import CASE_COLUMNS, WORK_COLUMNS
from scoring.rules.config import load_rules
from scoring.rules.quota import max_recommendable
from scoring.rules.states import INTAKE_OPEN

from ..core.access import current_user, role_required
from ..core.db import get_session
from ..core.inputs import record_id
from ..core.errors import Refused, on_refusal
from ..core.i18n import localized
from ..core.models import Role, RoundKind, RoundState, Stage
from ..rounds.queries import get_round, list_rounds
from .batches import LATE_REASON_FIELD
from ..exports.import_files import template_xlsx
from .files import CASE_EXAMPLE, WORK_EXAMPLE
from .operations import import_cases, import_works, recommend
from .queries import FLAGS, latest_batches, round_works, search_works, work_units

bp = Blueprint("intake", __name__, url_prefix="/admin", template_folder="templates")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _imports_page(status: int = 200, **context):
    db = get_session()
    # only rounds that still take entries (draft, intake): no choice that the import would refuse
    rounds = [r for r in list_rounds(session=db) if r.state.value in INTAKE_OPEN and r.kind != RoundKind.annual]
    return render_template("intake/imports.html", rounds=rounds,
                           batches=latest_batches(session=db), **context), status


@bp.get("/imports")
@role_required(Role.admin)
def imports():
    """The upload form and the latest imports."""
    return _imports_page()


@bp.post("/imports")
@on_refusal(page=lambda refused: _imports_page(refused.status, error=refused.message,
                                               selected=request.form.get("round", "")))
@role_required(Role.admin)
def upload():
    """Check and import the uploaded file; show every problem as a table of row, column, reason."""
    db = get_session()
    upload_file = request.files.get("file")
    round_key = request.form.get("round", "")
    if upload_file is None or not upload_file.filename:
        return _imports_page(400, error=_("请选择要上传的 CSV 或 XLSX 文件"), selected=round_key)
    round_ = get_round(session=db, key=round_key)
    importer = import_cases if round_ is not None and round_.kind == RoundKind.dissemination else import_works
    report = importer(db, round_key=round_key, data=upload_file.read(), filename=upload_file.filename,
                      accept_valid=request.form.get("accept_valid") == "1",
                      late_reason=request.form.get("late_reason") or None,
                      actor=current_user().username, late_reason_where=LATE_REASON_FIELD)
    status = 200 if report.complete else 422
    return _imports_page(status, report=report, selected=round_key)


@bp.get("/imports/template.xlsx")
@role_required(Role.admin)
def template():
    """The XLSX template (``?kind=cases`` for dissemination cases)."""
    if request.args.get("kind") == "cases":
        data = template_xlsx(CASE_COLUMNS, sheet_title="优秀传播案例", example=CASE_EXAMPLE)
        name = "tuiyou-cases-template.xlsx"
    else:
        data = template_xlsx(WORK_COLUMNS, sheet_title="申报作品", example=WORK_EXAMPLE)
        name = "tuiyou-works-template.xlsx"
    return Response(data, mimetype=XLSX, headers={"Content-Disposition": f"attachment; filename={name}"})


@bp.get("/works")
@role_required(Role.admin)
def works():
    """Entries: search by title, filter by round, category, unit and flag, 50 a page."""
    db = get_session()
    args = request.args
    page = record_id(args.get("page")) or 1
    found = search_works(session=db, round_key=args.get("round", ""), text=args.get("q", ""),
                         category=args.get("category", ""), unit=args.get("unit", ""),
                         flag=args.get("flag", ""), page=page)
    filters = {k: v for k, v in args.items() if k != "page" and v}
    return render_template("intake/works.html", rows=found.rows, total=found.total, page=found.page,
                           pages=found.pages, filters=filters, categories=load_rules().category_names,
                           units=work_units(session=db), rounds=list_rounds(session=db), flags=list(FLAGS))


def _recommend_page(round_, *, chosen: set[int] | None = None, reason: str = "", error: str | None = None,
                    status: int = 200):
    """The recommendation form; ``chosen`` defaults to the recommendation on record."""
    works = round_works(session=get_session(), round_=round_)
    if chosen is None:
        chosen = {w.id for w in works if w.recommended}
    stage = load_rules().stages["provincial"]
    limit = max_recommendable(len(works), stage.recommend_cap) if stage.recommend_cap else None
    return render_template(
        "intake/recommend.html", round=round_, works=works, chosen=chosen, limit=limit,
        cap=stage.recommend_cap, overridable=stage.cap_overridable, reason=reason, error=error,
        locked=round_.state == RoundState.signed,
    ), status


def _provincial_round(key: str):
    round_ = get_round(session=get_session(), key=key)
    if round_ is None:
        return None, (render_template("message.html", message=_("轮次不存在")), 404)
    if round_.stage != Stage.provincial:
        message = _("%(key)s 是总局评审轮次，只有省级初审轮次需要推荐（中央直属单位直接申报）。", key=key)
        return None, (render_template("message.html", message=message), 404)
    return round_, None


@bp.get("/rounds/<key>/recommend")
@role_required(Role.admin)
def recommend_form(key: str):
    """The entries of provincial round ``key`` with the current recommendation ticked."""
    round_, failure = _provincial_round(key)
    if failure:
        return failure
    return _recommend_page(round_)


def _refused_recommendation(refused, key: str):
    """The recommendation page again, the ticks kept, the reason on it."""
    round_ = get_round(session=get_session(), key=key)
    chosen = {int(value) for value in request.form.getlist("work") if record_id(value) is not None}
    return _recommend_page(round_, chosen=chosen, reason=request.form.get("reason", "").strip(),
                           error=refused.message, status=refused.status)


@bp.post("/rounds/<key>/recommend")
@on_refusal(page=_refused_recommendation)
@role_required(Role.admin)
def recommend_save(key: str):
    """Record the ticked entries as the round's recommendation (replacing the earlier one)."""
    round_, failure = _provincial_round(key)
    if failure:
        return failure
    reason = request.form.get("reason", "").strip()
    raw_ids = request.form.getlist("work")
    bad = [value for value in raw_ids if record_id(value) is None]
    if bad:
        return _recommend_page(round_, chosen=set(), reason=reason, status=422,
                               error=_("作品编号无效：%(values)s", values="、".join(bad[:5])))
    chosen = {int(value) for value in raw_ids}
    db = get_session()
    try:
        decision = recommend(session=db, round_=round_, work_ids=sorted(chosen), reason=reason or None,
                             actor=current_user().username)
    except Refused:  # over the quota without a reason (QuotaError)
        raise
    except ValueError as exc:  # an entry not of this round
        raise Refused(422, "bad_recommendation", _("无法保存推荐：%(reason)s", reason=str(exc)),
                      f"cannot save the recommendation: {exc}") from None
    flash(localized(decision), "info")
    return redirect(url_for("intake.recommend_form", key=key)), 303
