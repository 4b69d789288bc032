"""Language: Simplified Chinese by default, English on request (``?lang=en``, kept in the session)."""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, request, session
from flask_babel import Babel, get_locale

LANGUAGES = {"zh_CN": "中文", "en": "English"}


def select_locale() -> str:
    """The request's language: ``?lang=`` (remembered), then the session, then zh_CN."""
    wanted = request.args.get("lang")
    if wanted in LANGUAGES:
        session["lang"] = wanted
        return wanted
    return session.get("lang", "zh_CN")


def language_url(code: str) -> str:
    """This page in language ``code``: the same path and query (``next`` included), ``lang`` set."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    return f"{request.path}?{urlencode([*args, ('lang', code)])}"


def localized(message) -> str:
    """The ``zh`` or ``en`` text of a bilingual message (rule issues, quota decisions, refusals)."""
    locale = get_locale()
    return message.en if locale is not None and locale.language == "en" else message.zh


def init_app(app: Flask) -> None:
    Babel(app, locale_selector=select_locale)
    app.jinja_env.globals.update(LANGUAGES=LANGUAGES, current_language=select_locale,
                                 language_url=language_url)
    app.jinja_env.filters["localized"] = localized
