"""The expert conduct review (履职评价): per round and per year, a chart, a table and an XLSX.

For the admin (secretariat) only: chairs and experts get 403, and nothing of it appears on an
expert's pages. A GET may cache the round's ranking (the chair console's cache), so it commits.
"""
from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, url_for
from flask_babel import gettext as _

from ..core.access import role_required
from ..core.db import get_session
from ..core.models import Role
from ..rounds.queries import round_or_404
from ..exports import conduct as export
from . import charts, queries
from .report import ConductReport, round_report, year_report

bp = Blueprint("conduct", __name__, url_prefix="/admin/conduct", template_folder="templates")


def _page(report: ConductReport):
    db = get_session()
    points = [(report.names.get(r.expert_id, str(r.expert_id)), r.bias, r.agreement, r.unexplained > 0)
              for r in report.rows if r.bias is not None and r.agreement is not None]
    chart = charts.bias_agreement(points, label=_("评委偏差与共识一致性"), x_label=_("偏差（分）"),
                                  y_label=_("与共识一致性（ρ）"))
    rounds = queries.rounds_with_assignments(session=db)
    years = sorted({r.year for r in rounds}, reverse=True)
    return render_template("conduct/report.html", report=report, chart=chart, all_rounds=rounds, years=years)


@bp.get("/")
@role_required(Role.admin)
def index():
    """The newest year that has assignments (or an empty page when none has)."""
    rounds = queries.rounds_with_assignments(session=get_session())
    if rounds:
        return redirect(url_for("conduct.year", year=rounds[0].year))
    return render_template("conduct/report.html", report=None, chart="", all_rounds=[], years=[])


def _year(year: int) -> ConductReport:
    db = get_session()
    return year_report(session=db, year=year)  # the rankings cache it fills is committed with the page


def _round(key: str) -> ConductReport:
    db = get_session()
    return round_report(session=db, round_=round_or_404(session=db, key=key))


def _xlsx(report: ConductReport) -> Response:
    name = f"conduct-{report.label}.xlsx"
    return Response(export.to_xlsx(report), mimetype=export.MIMETYPE,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"})


@bp.get("/year/<int:year>")
@role_required(Role.admin)
def year(year: int):
    """Every expert's conduct over the rounds of ``year``."""
    return _page(_year(year))


@bp.get("/<key>")
@role_required(Role.admin)
def round_view(key: str):
    """Every assigned expert's conduct in one round."""
    return _page(_round(key))


@bp.get("/year/<int:year>/export.xlsx")
@role_required(Role.admin)
def year_xlsx(year: int):
    """The year's conduct review as XLSX."""
    return _xlsx(_year(year))


@bp.get("/<key>/export.xlsx")
@role_required(Role.admin)
def round_xlsx(key: str):
    """One round's conduct review as XLSX."""
    return _xlsx(_round(key))
