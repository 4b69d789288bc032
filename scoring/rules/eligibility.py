"""Is one entry eligible? The notice's checks on a single row of an import file.

Plain Python over :class:`~scoring.rules.config.Rules`: the importer in ``web`` reads the file,
this module says what is wrong with each row (row number as a spreadsheet shows it, column,
reason in Chinese and English).
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Mapping

from .columns import WORK_COLUMNS, label_of
from .config import Rules
from .fields import (FieldError, cell_text, normalize_license, normalize_title, parse_bool,
                     parse_count, parse_date, parse_minutes)


SUBMITTER_TYPES = {"机构": "organisation", "单位": "organisation", "organisation": "organisation",
                   "organization": "organisation", "institution": "organisation",
                   "个人": "individual", "individual": "individual"}
UNIT_TYPES = {"省级": "province", "省级广电行政部门": "province", "省局": "province",
              "province": "province", "provincial": "province",
              "中央直属": "central", "中央直属单位": "central", "central": "central"}


@dataclass(frozen=True)
class Issue:
    """Why a row (or a cell) cannot be accepted."""

    row: int
    column: str  # a column key, or "" for the row as a whole
    zh: str
    en: str
    code: str = "invalid"


@dataclass(frozen=True)
class Entry:
    """A row that passed the single-row checks, in stored form."""

    row: int
    title: str
    title_normalized: str
    category: str
    submitter: str
    submitter_type: str
    unit: str
    unit_type: str
    platform: str
    first_broadcast: dt.date
    last_broadcast: dt.date | None
    license_no: str | None
    copyright_holder: str
    uhd: bool
    aigc: bool
    single_episode: bool
    episodes: int | None
    duration_min: float | None
    synopsis: str
    url: str

    @property
    def license_normalized(self) -> str:
        return normalize_license(self.license_no)


@dataclass(frozen=True)
class IntakeContext:
    """What a row is checked against: the round's window, stage and today's date."""

    round_key: str
    window: tuple[dt.date, dt.date]
    stage: str  # "provincial" or "national"
    today: dt.date


REQUIRED_VALUES = ("title", "category", "submitter", "submitter_type", "unit", "unit_type",
                   "platform", "first_broadcast")


def _label(key: str) -> str:
    return label_of(key, WORK_COLUMNS)


def license_format_ok(number: str, rules: Rules, category_pattern: str | None = None) -> bool:
    """Whether ``number`` looks like a licence or filing number (config ``license_pattern``)."""
    text = unicodedata.normalize("NFKC", number).strip()
    pattern = category_pattern or rules.license_pattern
    return pattern is None or re.fullmatch(pattern, text) is not None


def check_entry(row: int, cells: Mapping[str, Any], *, rules: Rules,
                context: IntakeContext) -> tuple[Entry | None, list[Issue]]:
    """Check one row (``cells``: column key → raw cell); the entry, or the issues found."""
    issues: list[Issue] = []

    def fail(column: str, zh: str, en: str, code: str = "invalid") -> None:
        issues.append(Issue(row, column, zh, en, code))

    text: dict[str, str] = {}
    for column in WORK_COLUMNS:
        raw = cells.get(column.key)
        try:
            value = cell_text(raw)
        except FieldError as exc:
            fail(column.key, f"{column.label}{exc.zh}", f"{column.key} {exc.en}")
            value = ""
        if column.max_length and len(value) > column.max_length:
            fail(column.key, f"{column.label}过长（{len(value)} 字，最多 {column.max_length} 字）",
                 f"{column.key} is too long ({len(value)} characters, at most {column.max_length})")
            value = value[:column.max_length]
        text[column.key] = value
    for key in REQUIRED_VALUES:
        if not text[key]:
            fail(key, f"{_label(key)}为必填项，不能为空", f"{key} is required and is empty", "required")

    category = None
    if text["category"]:
        try:
            category = rules.category(text["category"])
        except KeyError:
            fail("category", f"作品类型“{text['category']}”不在通知所列类型中（可选：{'、'.join(rules.category_names)}）",
                 f"unknown category {text['category']!r} (known: {', '.join(rules.category_names)})",
                 "category")

    submitter_type = SUBMITTER_TYPES.get(text["submitter_type"].lower()) if text["submitter_type"] else None
    if text["submitter_type"] and submitter_type is None:
        fail("submitter_type", f"主体类型“{text['submitter_type']}”应为“机构”或“个人”",
             f"submitter_type {text['submitter_type']!r} should be 机构 (organisation) or 个人 (individual)")
    unit_type = UNIT_TYPES.get(text["unit_type"].lower()) if text["unit_type"] else None
    if text["unit_type"] and unit_type is None:
        fail("unit_type", f"单位类型“{text['unit_type']}”应为“省级”或“中央直属”",
             f"unit_type {text['unit_type']!r} should be 省级 (provincial) or 中央直属 (central)")
    if unit_type == "central" and context.stage == "provincial":
        fail("unit_type", "中央直属单位直接向总局报送，不经省级初审",
             "central units submit directly to the national administration, not through a provincial round",
             "stage")

    flags = {}
    for key in ("uhd", "aigc", "single_episode"):
        try:
            flags[key] = parse_bool(cells.get(key))
        except FieldError as exc:
            fail(key, f"{_label(key)}：{exc.zh}", f"{key}: {exc.en}")
    numbers: dict[str, Any] = {}
    for key, parse in (("episodes", parse_count), ("duration_min", parse_minutes)):
        try:
            numbers[key] = parse(cells.get(key))
        except FieldError as exc:
            fail(key, f"{_label(key)}：{exc.zh}", f"{key}: {exc.en}")

    dates: dict[str, dt.date | None] = {}
    for key in ("first_broadcast", "last_broadcast"):
        try:
            dates[key] = parse_date(cells.get(key))
        except FieldError as exc:
            fail(key, f"{_label(key)}：{exc.zh}", f"{key}: {exc.en}", "date")
            dates[key] = None
    first, last = dates["first_broadcast"], dates["last_broadcast"]
    start, end = context.window
    window_zh = f"{context.round_key} 的首播时间范围（{start} 至 {end}）"
    window_en = f"the window of {context.round_key} ({start} to {end})"
    if first and first > context.today:
        fail("first_broadcast", f"首播日期 {first} 晚于今天（{context.today}）",
             f"first broadcast {first} is in the future (today is {context.today})", "date")
    elif first and not start <= first <= end:
        fail("first_broadcast", f"首播日期 {first} 不在{window_zh}内",
             f"first broadcast {first} is outside {window_en}", "window")
    if last and first and last < first:
        fail("last_broadcast", f"播出完毕日期 {last} 早于首播日期 {first}",
             f"last broadcast {last} is before the first broadcast {first}", "date")
    elif last and last > context.today:
        fail("last_broadcast", f"播出完毕日期 {last} 晚于今天（{context.today}），作品尚未播完",
             f"last broadcast {last} is in the future (today is {context.today}): not finished airing",
             "date")
    elif last and not start <= last <= end:
        fail("last_broadcast", f"作品应在{window_zh}内播出完毕，播出完毕日期为 {last}",
             f"the work must finish airing inside {window_en}; it finished on {last}", "window")

    license_no = text["license_no"] or None
    if category is not None and category.license_required and not license_no:
        fail("license_no", f"{category.name}须填报发行许可证号或上线备案号",
             f"{category.name_en} ({category.name}) needs a distribution-licence or online filing number",
             "license")
    elif license_no and not license_format_ok(license_no, rules,
                                              category.license_pattern if category else None):
        fail("license_no", f"发行许可证号或上线备案号“{license_no}”格式不正确"
             "（应如“（沪）网剧审字（2024）第012号”或平台备案编号）",
             f"licence/filing number {license_no!r} is malformed "
             "(expected e.g. （沪）网剧审字（2024）第012号 or a filing code)", "license")
    if not text["copyright_holder"]:
        fail("copyright_holder", "版权方不能为空：申报作品须为原创且拥有版权（版权确认书信息须完整准确）",
             "copyright_holder is empty: the submitter must hold the copyright (版权确认书)", "copyright")
    if text["url"] and not re.match(r"^https?://\S+$", text["url"], re.IGNORECASE):
        fail("url", f"链接“{text['url'][:60]}”应以 http:// 或 https:// 开头",
             f"url {text['url'][:60]!r} should start with http:// or https://")
    if issues:
        return None, issues
    return Entry(
        row=row, title=text["title"], title_normalized=normalize_title(text["title"])[:400],
        category=category.name, submitter=text["submitter"], submitter_type=submitter_type,
        unit=text["unit"], unit_type=unit_type, platform=text["platform"], first_broadcast=first,
        last_broadcast=last, license_no=license_no, copyright_holder=text["copyright_holder"],
        uhd=flags["uhd"], aigc=flags["aigc"], single_episode=flags["single_episode"],
        episodes=numbers["episodes"], duration_min=numbers["duration_min"],
        synopsis=text["synopsis"], url=text["url"]), []
