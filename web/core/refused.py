"""``Refused``: every request the rules refuse, with its HTTP status, a stable code and the reason
in Chinese and English. Loads no Flask (the import worker raises it too); ``web.core.errors``
turns it into the response."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Response

API_PREFIX = "/api/"


def _rebuild(cls: type, state: dict[str, Any]) -> "Refused":
    refused = cls.__new__(cls)
    Exception.__init__(refused, state.get("en", ""))
    refused.__dict__.update(state)
    return refused


class Refused(ValueError):
    """A request the rules refuse: HTTP ``status``, a stable ``code``, the reason in ``zh`` and ``en``
    (``en`` defaults to ``zh``), and ``extra`` fields the JSON answer carries beside them."""

    def __init__(self, status: int, code: str, zh: str, en: str | None = None, **extra: Any):
        self.status, self.code, self.zh, self.en, self.extra = status, code, zh, en or zh, extra
        super().__init__(self.en)

    def __reduce__(self):  # crosses a process boundary intact (the import worker), subclasses too
        return (_rebuild, (type(self), dict(self.__dict__)))

    def __str__(self) -> str:
        return self.en if self.en == self.zh else f"{self.zh} / {self.en}"

    @property
    def message(self) -> str:
        """The reason in the request's language (both outside a request)."""
        from flask import has_request_context

        if not has_request_context():  # a command prints both
            return str(self)
        return self.en if _wants_english() else self.zh

    def payload(self) -> dict[str, Any]:
        """The JSON body: the code, the message, the extra fields (and, under ``/api/``, the Chinese
        text as ``message_zh`` whatever the message's language, as the API has always answered)."""
        from flask import has_request_context, request

        body = {"error": self.code, "message": self.message}
        # (a 404 only names what the path names, in English, as it always has)
        if self.zh != self.en and self.status != 404 and has_request_context() \
                and request.path.startswith(API_PREFIX):
            body["message_zh"] = self.zh
        return {**body, **self.extra}

    def response(self) -> "Response":
        """The JSON answer with this refusal's status."""
        from flask import Response

        body = json.dumps(self.payload(), ensure_ascii=False, separators=(",", ":"), default=str)
        return Response(body, status=self.status, mimetype="application/json")


def _wants_english() -> bool:
    """The refusal's language: the UI's for pages and their script calls; under ``/api/`` ``?lang=``,
    else ``Accept-Language``, else English (the API's language since its first version)."""
    from flask import request
    from flask_babel import get_locale

    if request.path.startswith(API_PREFIX):
        wanted = request.args.get("lang") or request.accept_languages.best_match(["zh", "zh-CN", "en"]) or "en"
        return not wanted.lower().startswith("zh")
    locale = get_locale()
    return locale is not None and locale.language == "en"
