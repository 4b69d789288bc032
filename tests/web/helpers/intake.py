"""Helpers shared by the intake and round tests: build import files, dump the database."""
from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from sqlalchemy import text
from sqlmodel import SQLModel

HEADERS_ZH = ["作品名称", "作品类型", "申报主体", "主体类型", "推荐单位", "单位类型", "首播平台", "首播日期",
              "播出完毕日期", "发行许可证号或上线备案号", "版权方", "超高清", "AI生成", "系列单集", "集数",
              "时长（分钟）", "简介", "链接"]
KEYS = ["title", "category", "submitter", "submitter_type", "unit", "unit_type", "platform", "first_broadcast",
        "last_broadcast", "license_no", "copyright_holder", "uhd", "aigc", "single_episode", "episodes",
        "duration_min", "synopsis", "url"]
Q1_DAY = dt.date(2025, 3, 20)  # after Q1's window, before its forwarding deadline (2025-03-31)


def work_row(n: int = 1, **changes) -> dict:
    """A valid Q1 2025 entry (every title distinct enough not to look like a near-duplicate)."""
    row = {"title": f"山河人间之{n:05d}号作品《第{n}篇》", "category": "网络剧", "submitter": f"山河文化{n}号公司",
           "submitter_type": "机构", "unit": "浙江省广播电视局", "unit_type": "省级", "platform": "优酷",
           "first_broadcast": "2025-01-05", "last_broadcast": "2025-02-20",
           "license_no": f"（浙）网剧审字（2024）第{n:03d}号", "copyright_holder": f"山河文化{n}号公司",
           "uhd": "否", "aigc": "否", "single_episode": "否", "episodes": "24", "duration_min": "45",
           "synopsis": "一部网络剧", "url": f"https://example.org/w/{n}"}
    row.update(changes)
    return row


def distinct_title(n: int) -> str:
    """Titles that are far apart from each other (no near-duplicates among thousands)."""
    alphabet = "山河春秋风雨星月江湖云海天地日光花木林泉石火金水土龙凤虎鹤松竹梅兰"
    digits = []
    value = n * 7919 + 13
    for _ in range(6):
        digits.append(alphabet[value % len(alphabet)])
        value //= len(alphabet)
    return "".join(digits) + str(n)


def csv_bytes(rows: list[dict], *, headers: list[str] | None = None, encoding: str = "utf-8",
              keys: list[str] = KEYS) -> bytes:
    headers = headers or HEADERS_ZH
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([row.get(key, "") for key in keys])
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list], headers: list[str] | None = None) -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(headers or HEADERS_ZH)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def dump_database(engine) -> dict:
    """Every row of every table (and PostgreSQL's sequence positions), ordered, for equality checks."""
    dump = {}
    with engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            rows = connection.execute(table.select().order_by(*table.primary_key.columns)).all()
            dump[table.name] = [tuple(row) for row in rows]
        if connection.dialect.name == "postgresql":
            dump["_sequences"] = connection.execute(text(
                "SELECT sequencename, last_value FROM pg_sequences ORDER BY sequencename")).all()
    return dump


def sqlite_files(url: str) -> dict:
    """The bytes of a SQLite database file and its WAL (empty dict for other databases)."""
    if not url.startswith("sqlite:///"):
        return {}
    path = Path(url[len("sqlite:///"):])
    return {p.name: p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists()}
