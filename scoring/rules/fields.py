"""Reading one cell of an import file: dates, yes/no flags, counts, and normalized titles.

Cells arrive as text (CSV) or as typed values (XLSX: ``datetime``, ``int``, ``float``,
``bool``). Every parser raises :class:`FieldError` with a reason in Chinese and English.
"""
from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from typing import Any


class FieldError(ValueError):
    """A cell that cannot be read; ``zh`` and ``en`` say why."""

    def __init__(self, zh: str, en: str):
        self.zh, self.en = zh, en
        super().__init__(en)


TRUE_WORDS = {"是", "yes", "y", "true", "t", "1", "有", "√"}
FALSE_WORDS = {"否", "no", "n", "false", "f", "0", "无", ""}

# 2025-01-05, 2025/1/5, 2025.1.5, 2025年1月5日, optionally followed by a midnight time that
# spreadsheets add when they export a date ("2025-01-05 00:00:00").
_DATE = re.compile(r"^(\d{4})\s*(?:[-/.]|年)\s*(\d{1,2})\s*(?:[-/.]|月)\s*(\d{1,2})\s*日?"
                   r"(?:[ T]0{1,2}:00(?::00)?)?$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
# Excel counts days from 1899-12-30; serials between these bounds are 1954..2119.
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def cell_text(value: Any) -> str:
    """The cell as trimmed text (numbers without a spurious ``.0``)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).replace("\u3000", " ").strip()
    if not text.isprintable() and _CONTROL.search(text):
        raise FieldError("含有不可见的控制字符", "contains invisible control characters")
    return text


def parse_bool(value: Any) -> bool:
    """是/否, yes/no, true/false, 1/0 (empty means no)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    text = cell_text(value).lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise FieldError(f"“{cell_text(value)}”不是是/否（可填 是、否、yes、no、true、false、1、0）",
                     f"{cell_text(value)!r} is not yes/no (use 是, 否, yes, no, true, false, 1, 0)")


def parse_date(value: Any) -> dt.date | None:
    """A date from a date cell, YYYY-MM-DD, 2025/1/5, 2025.1.5 or 2025年1月5日; None if empty."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        # A spreadsheet date cell stored as a plain serial number.
        if math.isfinite(value) and 20000 <= value <= 80000 and float(value).is_integer():
            return _EXCEL_EPOCH + dt.timedelta(days=int(value))
        raise FieldError(f"“{cell_text(value)}”不是日期（应如 2025-01-05 或 2025年1月5日）",
                         f"{cell_text(value)!r} is not a date (use 2025-01-05 or 2025年1月5日)")
    text = unicodedata.normalize("NFKC", cell_text(value))
    if not text:
        return None
    match = _DATE.match(text) or _COMPACT_DATE.match(text)
    if not match:
        raise FieldError(f"“{text}”不是日期（应如 2025-01-05、2025/1/5、2025.1.5 或 2025年1月5日）",
                         f"{text!r} is not a date (use 2025-01-05, 2025/1/5, 2025.1.5 or 2025年1月5日)")
    year, month, day = (int(part) for part in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise FieldError(f"日期“{text}”不存在", f"the date {text!r} does not exist") from None


def parse_count(value: Any) -> int | None:
    """A positive whole number (episodes); None if empty."""
    text = cell_text(value)
    if not text:
        return None
    try:
        number = float(unicodedata.normalize("NFKC", text))
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or not number.is_integer() or not 1 <= number <= 100_000:
        raise FieldError(f"“{text}”应为正整数", f"{text!r} should be a positive whole number")
    return int(number)


def parse_minutes(value: Any) -> float | None:
    """A positive duration in minutes; None if empty."""
    text = cell_text(value)
    if not text:
        return None
    try:
        number = float(unicodedata.normalize("NFKC", text))
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or not 0 < number <= 1_000_000:
        raise FieldError(f"“{text}”应为大于 0 的分钟数", f"{text!r} should be a number of minutes above 0")
    return number


_TITLE_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)


def normalize_title(title: str) -> str:
    """Title for comparison: width-folded, lower case, without spaces, 《》 or punctuation."""
    folded = unicodedata.normalize("NFKC", title).casefold()
    return _TITLE_NOISE.sub("", folded)


def normalize_license(number: str | None) -> str:
    """Licence/filing number for comparison: width-folded, no spaces, upper case."""
    if not number:
        return ""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", number)).upper()
