"""Display labels for stored codes (roles, round kinds, stages, states), translated."""
from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

LABELS = {
    "expert": _l("评审专家"), "chair": _l("评审组组长"), "admin": _l("管理员"),
    "quarter": _l("季度推优"), "annual": _l("年度推优"), "dissemination": _l("优秀传播案例"),
    "provincial": _l("省级初审"), "national": _l("总局评审"),
    "draft": _l("草稿"), "intake": _l("申报受理"), "scoring": _l("专家评分"),
    "review": _l("复核"), "signed": _l("已签署"),
    "pending": _l("未开始"), "in_progress": _l("评分中"), "submitted": _l("已提交"),
    "recused": _l("已回避"),
}


def label(code: str) -> str:
    """The translated label of a stored code (the code itself when none is known)."""
    text = LABELS.get(getattr(code, "value", code))
    return str(text) if text is not None else str(code)


def init_app(app: Flask) -> None:
    app.jinja_env.filters["label"] = label
