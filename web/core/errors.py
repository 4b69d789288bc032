"""Error pages in the user's language, and JSON errors under ``/api/`` (never an HTML page)."""
from __future__ import annotations

from flask import Flask, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .inputs import InvalidBody, InvalidQuery


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
    if request.path.startswith("/api/"):
        response = jsonify(error=error, message=message)
        response.status_code = status
        return response
    return render_template("errors/error.html", status=status, message=message), status


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return _respond(400, "csrf", _("页面已过期或来源不明（CSRF 校验失败），请刷新页面后重试。"))

    @app.errorhandler(InvalidBody)
    def invalid_body(error: InvalidBody):  # says what was wrong with the body or query, and where
        return _respond(400, "invalid_query" if isinstance(error, InvalidQuery) else "invalid_json",
                        error.description)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        message = _messages().get(error.code) or error.description or error.name
        response = make_response(_respond(error.code or 500, error.name.lower().replace(" ", "_"), message))
        response.headers.extend((k, v) for k, v in error.get_headers() if k != "Content-Type")  # 405's Allow
        return response

    @app.errorhandler(500)
    def server_error(error):
        return _respond(500, "internal_error", _messages()[500])
