"""Admin pages for imports: upload a CSV/XLSX file, download the template, read the report."""
from __future__ import annotations

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _
from sqlmodel import select

from scoring.rules.columns import CASE_COLUMNS, WORK_COLUMNS

from .access import current_user, role_required
from .db import get_session
from .i18n import localized
from .intake import import_works
from .intake_cases import import_cases
from .intake_cli import CASE_EXAMPLE, WORK_EXAMPLE
from .intake_files import IntakeError, template_xlsx
from .models import ImportBatch, Role, Round, RoundKind
from .queries import get_round, list_rounds

bp = Blueprint("admin_imports", __name__, url_prefix="/admin/imports")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _page(status: int = 200, **context):
    db = get_session()
    batches = db.exec(select(ImportBatch, Round.key).join(Round, Round.id == ImportBatch.round_id)
                      .order_by(ImportBatch.id.desc()).limit(20)).all()
    return render_template("admin/imports.html", rounds=list_rounds(session=db), batches=batches,
                           **context), status


@bp.get("")
@role_required(Role.admin)
def index():
    """The upload form and the latest imports."""
    return _page()


@bp.post("")
@role_required(Role.admin)
def upload():
    """Check and import the uploaded file; show every problem as a table of row, column, reason."""
    db = get_session()
    upload_file = request.files.get("file")
    round_key = request.form.get("round", "")
    if upload_file is None or not upload_file.filename:
        return _page(400, error=_("请选择要上传的 CSV 或 XLSX 文件"), selected=round_key)
    round_ = get_round(session=db, key=round_key)
    importer = import_cases if round_ is not None and round_.kind == RoundKind.dissemination else import_works
    try:
        report = importer(db, round_key=round_key, data=upload_file.read(), filename=upload_file.filename,
                          accept_valid=request.form.get("accept_valid") == "1",
                          late_reason=request.form.get("late_reason") or None,
                          actor=current_user().username)
    except IntakeError as exc:
        db.rollback()
        return _page(422, error=localized(exc), selected=round_key)
    status = 200 if report.complete else 422
    return _page(status, report=report, selected=round_key)


@bp.get("/template.xlsx")
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
