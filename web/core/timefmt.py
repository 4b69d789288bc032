"""Times as people read them: stored in UTC, shown in the configured zone (``config/documents.toml``,
default Asia/Shanghai written 北京时间) on every page and in every CSV, XLSX and PDF.

``moment`` gives "2026年12月6日 16:25 北京时间", ``day`` gives "2025年9月30日"; the Jinja filters of
the same names use them (English pages read "2026-12-06 16:25 (UTC+08:00)"). A naive datetime is
taken as UTC (what the database stores); an ISO text is parsed first. Never prints ``+00:00``.
"""
from __future__ import annotations

import datetime as dt

from scoring.rules.documents import DocumentRule, load_document_rule

__all__ = ["local", "moment", "day", "moment_en", "init_app"]


def _aware(value: dt.datetime | dt.date | str) -> dt.datetime | dt.date:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value


def local(value: dt.datetime | str, *, rule: DocumentRule | None = None) -> dt.datetime:
    """``value`` (UTC, aware or naive, or ISO text) in the display zone."""
    value = _aware(value)
    if not isinstance(value, dt.datetime):
        raise TypeError(f"a time is needed, got the date {value!r}")
    return value.astimezone((rule or load_document_rule()).zone)


def moment(value: dt.datetime | str | None, *, rule: DocumentRule | None = None, seconds: bool = False) -> str:
    """"2026年12月6日 16:25 北京时间" ("" for None)."""
    if value is None or value == "":
        return ""
    rule = rule or load_document_rule()
    at = local(value, rule=rule)
    clock = at.strftime("%H:%M:%S" if seconds else "%H:%M")
    return f"{at.year}年{at.month}月{at.day}日 {clock} {rule.zone_label}"


def clock_text(value: dt.datetime | str | None, *, with_date: bool = True) -> str:
    """A live board's clock: the full :func:`moment` with seconds, or only ``14:05:09`` in the display
    zone for today's times ("" for None)."""
    if value is None or value == "":
        return ""
    return moment(value, seconds=True) if with_date else local(value).strftime("%H:%M:%S")


def moment_en(value: dt.datetime | str | None, *, rule: DocumentRule | None = None) -> str:
    """"2026-12-06 16:25 (UTC+08:00)" ("" for None): the English pages' form."""
    if value is None or value == "":
        return ""
    at = local(value, rule=rule)
    offset = at.strftime("%z")
    return f"{at:%Y-%m-%d %H:%M} (UTC{offset[:3]}:{offset[3:]})"


def day(value: dt.datetime | dt.date | str | None, *, rule: DocumentRule | None = None) -> str:
    """"2025年9月30日" ("" for None); a datetime is first moved to the display zone."""
    if value is None or value == "":
        return ""
    value = _aware(value)
    if isinstance(value, dt.datetime):
        value = local(value, rule=rule).date()
    return f"{value.year}年{value.month}月{value.day}日"


def _english() -> bool:
    from flask_babel import get_locale

    locale = get_locale()
    return locale is not None and locale.language == "en"


def _moment_filter(value) -> str:
    return moment_en(value) if _english() else moment(value)


def _day_filter(value) -> str:
    if _english() and value not in (None, ""):
        value = _aware(value)
        return f"{local(value).date() if isinstance(value, dt.datetime) else value:%Y-%m-%d}"
    return day(value)


def init_app(app) -> None:
    """Register the ``moment`` and ``day`` Jinja filters."""
    app.jinja_env.filters["moment"] = _moment_filter
    app.jinja_env.filters["day"] = _day_filter
