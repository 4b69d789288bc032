"""Refusals and error pages: one refusal type, one place that turns it into a response.

``Refused(status, code, zh, en, **extra)`` is every request the rules refuse, raised from
operations and views alike. :func:`init_app` answers it once: JSON (``{"error": code, "message",
…extra}``) for the API and the pages' script calls, a flash and a redirect (or the route's page)
for forms. The request's unit of work (``web.core.db``) then rolls back: a refusal never
half-writes. Error pages speak the user's language; under ``/api/`` errors are always JSON.
"""
from __future__ import annotations

from typing import Callable

from flask import Flask, flash, jsonify, make_response, redirect, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from . import db
from .inputs import InvalidBody, InvalidQuery
from .refused import API_PREFIX, Refused

__all__ = ["Refused", "answer", "on_refusal", "wants_json", "init_app"]


def wants_json() -> bool:
    """The API, and a page's script calls (they ask for JSON), get JSON; a form gets a page."""
    if request.path.startswith(API_PREFIX) or request.is_json:
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def on_refusal(back: Callable[..., str] | None = None, *, page: Callable[..., object] | None = None) -> Callable:
    """Declare what a form shows when its view is refused. ``page(refused, **view_args)`` may
    answer with the form's own page (the reason on it, the refusal's status); otherwise
    ``back(**view_args)`` is the URL of a redirect carrying the reason as a flash; without
    either, the error page. Place it right under the route's decorator."""
    def decorator(view: Callable) -> Callable:
        view.refusal_back, view.refusal_page = back, page
        return view
    return decorator


def _refused_form(refused: Refused):
    from flask import current_app

    view = current_app.view_functions.get(request.endpoint or "")
    args = dict(request.view_args or {})
    page = getattr(view, "refusal_page", None)
    shown = page(refused, **args) if page is not None else None
    if shown is not None:
        return shown
    back = getattr(view, "refusal_back", None)
    if back is not None and refused.status != 404:  # what is not there is a 404 page, not a form's mistake
        flash(refused.message, "error")
        return redirect(back(**args)), 303
    return render_template("errors/error.html", status=refused.status, message=refused.message), refused.status


def answer(refused: Refused):
    """The response to ``refused``; the request's writes are rolled back first."""
    db.roll_back_request()
    if wants_json():
        return refused.response()
    return _refused_form(refused)


def _messages() -> dict[int, str]:
    return {
        400: _("请求无效。"),
        401: _("请先登录。"),
        403: _("您的角色无权进行此操作。"),
        404: _("页面不存在。"),
        405: _("不支持此操作。"),
        413: _("上传的文件太大。"),
        429: _("失败次数过多，请稍后再试。"),
        500: _("服务器出错，已记录。请稍后重试。"),
    }


def _respond(status: int, error: str, message: str):
    if request.path.startswith(API_PREFIX):
        response = jsonify(error=error, message=message)
        response.status_code = status
        return response
    return render_template("errors/error.html", status=status, message=message), status


def init_app(app: Flask) -> None:
    @app.errorhandler(Refused)
    def refused(error: Refused):
        return answer(error)

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        db.roll_back_request()
        return _respond(400, "csrf", _("页面已过期或来源不明（CSRF 校验失败），请刷新页面后重试。"))

    @app.errorhandler(InvalidBody)
    def invalid_body(error: InvalidBody):  # says what was wrong with the body or query, and where
        db.roll_back_request()
        return _respond(400, "invalid_query" if isinstance(error, InvalidQuery) else "invalid_json",
                        error.description)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        db.roll_back_request()
        message = _messages().get(error.code) or error.description or error.name
        response = make_response(_respond(error.code or 500, error.name.lower().replace(" ", "_"), message))
        response.headers.extend((k, v) for k, v in error.get_headers() if k != "Content-Type")  # 405's Allow
        return response

    @app.errorhandler(500)
    def server_error(error):
        db.roll_back_request()
        return _respond(500, "internal_error", _messages()[500])

