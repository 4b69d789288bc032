"""One time formatter: UTC stored, the configured zone shown (北京时间), never +00:00 on a page."""
from __future__ import annotations

import datetime as dt

from scoring.rules.documents import DocumentRule
from web.core.timefmt import day, moment, moment_en

UTC = dt.timezone.utc
AT = dt.datetime(2026, 12, 6, 8, 25, 27, tzinfo=UTC)


def test_a_utc_time_is_shown_in_beijing_time():
    assert moment(AT) == "2026年12月6日 16:25 北京时间"
    assert moment(AT.replace(tzinfo=None)) == "2026年12月6日 16:25 北京时间"  # naive = UTC, as stored
    assert moment("2026-12-06T08:25:27+00:00", seconds=True) == "2026年12月6日 16:25:27 北京时间"
    assert moment(None) == "" and day(None) == ""
    assert moment_en(AT) == "2026-12-06 16:25 (UTC+08:00)"


def test_dates_in_chinese_form_and_the_day_changes_with_the_zone():
    assert day(dt.date(2025, 9, 30)) == "2025年9月30日"
    assert day(dt.datetime(2025, 9, 30, 17, 0, tzinfo=UTC)) == "2025年10月1日"  # 01:00 in Beijing


def test_the_configured_zone_is_used():
    rule = DocumentRule(timezone="Europe/London", zone_label="伦敦时间")
    assert moment(AT, rule=rule) == "2026年12月6日 08:25 伦敦时间"


def test_the_filter_on_pages(app):
    with app.test_request_context("/"):
        template = app.jinja_env.from_string("{{ at|moment }} / {{ d|day }}")
        assert template.render(at=AT, d=dt.date(2025, 9, 30)) == "2026年12月6日 16:25 北京时间 / 2025年9月30日"
    with app.test_request_context("/?lang=en"):
        assert "+00:00" not in template.render(at=AT, d=None)
        assert template.render(at=AT, d=None).startswith("2026-12-06 16:25 (UTC+08:00)")
