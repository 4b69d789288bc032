"""The columns of the import files and how a file's header row maps onto them.

Headers are accepted as English keys (``title``) or Chinese labels (``作品名称``), compared
after width folding and without spaces, so ``时长(分钟)`` and ``时长（分钟）`` are one column.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Sequence


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    required: bool  # the column must be in the file (its value may still be optional)
    max_length: int | None = None
    aliases: tuple[str, ...] = ()


# The works import file (DESIGN.md contract): English key, Chinese label.
WORK_COLUMNS: tuple[Column, ...] = (
    Column("title", "作品名称", True, 400),
    Column("category", "作品类型", True),
    Column("submitter", "申报主体", True, 200),
    Column("submitter_type", "主体类型", True),
    Column("unit", "推荐单位", True, 200),
    Column("unit_type", "单位类型", True),
    Column("platform", "首播平台", True, 200),
    Column("first_broadcast", "首播日期", True),
    Column("last_broadcast", "播出完毕日期", False),
    Column("license_no", "发行许可证号或上线备案号", True, 200, ("发行许可证号/上线备案号",)),
    Column("copyright_holder", "版权方", True, 200),
    Column("uhd", "超高清", True),
    Column("aigc", "AI生成", True, None, ("AI生成视频",)),
    Column("single_episode", "系列单集", True, None, ("系列节目中的单集（期）",)),
    Column("episodes", "集数", False),
    Column("duration_min", "时长（分钟）", False),
    Column("synopsis", "简介", False, 20_000),
    Column("url", "链接", False, 1000),
)

# The dissemination-case import file (优秀传播案例). The period is one column
# (开展时间 / 起止日期: "2025-03-01 至 2025-04-30") or two (开始日期, 结束日期).
CASE_COLUMNS: tuple[Column, ...] = (
    Column("name", "案例名称", True, 400),
    Column("unit", "推荐单位", True, 200),
    Column("period", "开展时间", False, 100, ("起止日期", "开展时间/起止日期")),
    Column("period_start", "开始日期", False),
    Column("period_end", "结束日期", False),
    Column("description", "案例简介", True, 20_000),
    Column("channels", "传播渠道", False, 2000),
    Column("reach", "传播数据", False, 2000),
    Column("url", "链接", False, 1000),
)


def header_key(text: str) -> str:
    """A header for comparison: width-folded, lower case, no spaces or BOM."""
    folded = unicodedata.normalize("NFKC", str(text or "")).replace("\ufeff", "").casefold()
    return re.sub(r"\s+", "", folded)


def label_of(key: str, columns: Sequence[Column]) -> str:
    """The Chinese label of column ``key``."""
    return next((c.label for c in columns if c.key == key), key)


@dataclass(frozen=True)
class HeaderMap:
    """Which file column holds which field; what is unknown, missing or given twice."""

    positions: dict[str, int]  # field key → 0-based position in the row
    shown: dict[str, str]  # field key → header text as the file spells it
    unknown: tuple[str, ...]
    missing: tuple[str, ...]
    repeated: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not (self.unknown or self.missing or self.repeated)

    def problem(self, columns: Sequence[Column]) -> tuple[str, str]:
        """What is wrong with the header row, in Chinese and English."""
        zh, en = [], []
        if self.missing:
            zh.append("缺少列：" + "、".join(f"{label_of(k, columns)}（{k}）" for k in self.missing))
            en.append("missing columns: " + ", ".join(f"{k} ({label_of(k, columns)})" for k in self.missing))
        if self.unknown:
            zh.append("无法识别的列：" + "、".join(f"“{h}”" for h in self.unknown))
            en.append("unknown columns: " + ", ".join(repr(h) for h in self.unknown))
        if self.repeated:
            zh.append("重复的列：" + "、".join(f"{label_of(k, columns)}（{k}）" for k in self.repeated))
            en.append("columns given twice: " + ", ".join(self.repeated))
        known = "、".join(f"{c.label}/{c.key}" for c in columns)
        return "；".join(zh) + f"。可用的列：{known}", "; ".join(en)


def map_headers(headers: Sequence[object], columns: Sequence[Column]) -> HeaderMap:
    """Match a header row against ``columns`` (English keys, Chinese labels or aliases)."""
    lookup: dict[str, str] = {}
    for column in columns:
        for name in (column.key, column.label, *column.aliases):
            lookup[header_key(name)] = column.key
    positions: dict[str, int] = {}
    shown: dict[str, str] = {}
    unknown, repeated = [], []
    for index, header in enumerate(headers):
        text = str(header).strip() if header is not None else ""
        if not header_key(text):
            continue  # an empty header cell (trailing spreadsheet columns)
        key = lookup.get(header_key(text))
        if key is None:
            unknown.append(text[:60])
        elif key in positions:
            repeated.append(key)
        else:
            positions[key], shown[key] = index, text
    missing = tuple(c.key for c in columns if c.required and c.key not in positions)
    return HeaderMap(positions, shown, tuple(unknown), missing, tuple(dict.fromkeys(repeated)))
