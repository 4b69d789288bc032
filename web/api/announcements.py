"""``/api/v1/rounds/{key}/announcement.csv|.xlsx|.pdf``: the public announcement list (公示名单) of a
signed round (chair, admin). 409 ``not_signed`` before the chair's sign-off."""
from __future__ import annotations

from flask import Response

from ..core.db import get_session
from ..exports.fonts import FONT_PACKAGE, FontMissing
from ..core.models import Role
from ..exports.announcement import announcement, render
from ..core.schemas import ApiError
from .blueprint import bp, error, round_or_404
from .registry import EXPORTS, operation


@bp.get("/rounds/<key>/announcement.<any(csv, xlsx, pdf):fmt>")
@operation("The public announcement list (公示名单) of a signed round: per category in the notice's order, "
           "title, producer and platform (chair, admin)", roles=(Role.chair, Role.admin), answers={
               200: ("The file", EXPORTS), 409: ("The round is not signed (`not_signed`)", ApiError),
               503: ("No CJK font for the PDF (`cjk_font_missing`, names the package)", ApiError)})
def announcement_list(key: str, fmt: str):
    """The announcement list of the round's signed result: category, title, producer, platform."""
    db = get_session()
    round_ = round_or_404(db, key)
    doc = announcement(session=db, round_=round_)
    if doc is None:
        return error(409, "not_signed", f"round {key} is not signed: there is no result to announce yet",
                     message_zh=f"轮次 {key} 尚未签署，暂无可公示的名单")
    try:
        rendered = render(doc, fmt)
    except FontMissing as exc:
        return error(503, "cjk_font_missing", str(exc), package=FONT_PACKAGE)
    return Response(rendered.body, mimetype=rendered.mimetype, headers={"Content-Disposition": rendered.disposition})
