"""Dissemination cases (优秀传播案例, section 五): themed campaigns, creative promotion and
innovative dissemination practice carried out in the year, recommended with Q4's entries.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Mapping

from .columns import CASE_COLUMNS, label_of
from .eligibility import Issue
from .fields import FieldError, cell_text, parse_date

# "2025-03-01 至 2025-04-30", "2025年3月1日—2025年4月30日", "2025/3/1~2025/4/30".
_RANGE_SEPARATOR = re.compile(r"\s*(?:至|到|~|～|—+|–|－|\s-\s|--)\s*")


@dataclass(frozen=True)
class CaseEntry:
    """A dissemination case that passed the checks, in stored form."""

    row: int
    name: str
    unit: str
    period_start: dt.date
    period_end: dt.date
    description: str
    channels: str
    reach: str
    url: str


@dataclass(frozen=True)
class CaseContext:
    round_key: str
    period: tuple[dt.date, dt.date]  # the year's dissemination period (calendar)
    today: dt.date


def case_columns_problem(present: set[str]) -> tuple[str, str] | None:
    """The period needs 开展时间 or both 开始日期 and 结束日期; None when the header is fine."""
    if "period" in present or {"period_start", "period_end"} <= present:
        return None
    return ("缺少列：开展时间（period，如“2025-03-01 至 2025-04-30”），或开始日期（period_start）与结束日期（period_end）",
            "missing columns: period (e.g. '2025-03-01 至 2025-04-30') or both period_start and period_end")


def split_period(text: str) -> tuple[str, str]:
    """The two ends of a period written in one cell (one date means a single day)."""
    parts = _RANGE_SEPARATOR.split(unicodedata.normalize("NFKC", text).strip(), maxsplit=1)
    if len(parts) == 1:
        return parts[0], parts[0]
    return parts[0], parts[1]


def check_case(row: int, cells: Mapping[str, Any], *, context: CaseContext) -> tuple[CaseEntry | None, list[Issue]]:
    """Check one dissemination-case row; the case, or the issues found."""
    issues: list[Issue] = []

    def fail(column: str, zh: str, en: str, code: str = "invalid") -> None:
        issues.append(Issue(row, column, zh, en, code))

    text: dict[str, str] = {}
    for column in CASE_COLUMNS:
        try:
            value = cell_text(cells.get(column.key))
        except FieldError as exc:
            fail(column.key, f"{column.label}{exc.zh}", f"{column.key} {exc.en}")
            value = ""
        if column.max_length and len(value) > column.max_length:
            fail(column.key, f"{column.label}过长（最多 {column.max_length} 字）",
                 f"{column.key} is too long (at most {column.max_length} characters)")
            value = value[:column.max_length]
        text[column.key] = value
    for key in ("name", "unit", "description"):
        if not text[key]:
            fail(key, f"{label_of(key, CASE_COLUMNS)}为必填项，不能为空", f"{key} is required and is empty",
                 "required")

    start = end = None
    period_column = "period" if "period" in cells else "period_start"
    try:
        if "period" in cells and text["period"]:
            first, second = split_period(text["period"])
            start, end = parse_date(first), parse_date(second)
        elif "period" not in cells:
            start = parse_date(cells.get("period_start"))
            end = parse_date(cells.get("period_end"))
    except FieldError as exc:
        fail(period_column, f"开展时间：{exc.zh}", f"period: {exc.en}", "date")
    else:
        low, high = context.period
        if start is None or end is None:
            fail(period_column, "开展时间为必填项（如“2025-03-01 至 2025-04-30”）",
                 "the period is required (e.g. 2025-03-01 至 2025-04-30)", "required")
        elif end < start:
            fail(period_column, f"开展时间的结束日期 {end} 早于开始日期 {start}",
                 f"the period ends ({end}) before it starts ({start})", "date")
        elif start > context.today:
            fail(period_column, f"开展时间 {start} 晚于今天（{context.today}），案例尚未开展",
                 f"the period starts {start}, after today ({context.today})", "date")
        elif start < low or end > high:
            fail(period_column, f"案例须为 {low} 至 {high} 期间开展（{context.round_key}），实际为 {start} 至 {end}",
                 f"the case must be carried out between {low} and {high} ({context.round_key}); "
                 f"it ran {start} to {end}", "window")
    if text["url"] and not re.match(r"^https?://\S+$", text["url"], re.IGNORECASE):
        fail("url", "链接应以 http:// 或 https:// 开头", "url should start with http:// or https://")
    if issues:
        return None, issues
    return CaseEntry(row=row, name=text["name"], unit=text["unit"], period_start=start, period_end=end,
                     description=text["description"], channels=text["channels"], reach=text["reach"],
                     url=text["url"]), []
