"""Time importing 10,000 entries (target: under 10 s), run by hand:

    .venv/bin/python benchmarks/bench_import.py [--rows 10000] [--database-url URL] [--xlsx]

Builds a fresh database (a temporary SQLite file unless --database-url is given; a PostgreSQL
URL is wiped and migrated), a 2025Q1 round and a file of distinct, valid entries, then times
``import_works`` end to end: reading, every row check, duplicate and near-duplicate search
within the file and against the database, and the single-transaction write.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def entries(count: int) -> list[list[str]]:
    alphabet = "山河春秋风雨星月江湖云海天地日光花木林泉石火金水土龙凤虎鹤松竹梅兰"
    rows = []
    for n in range(count):
        value, title = n * 7919 + 13, ""
        for _ in range(6):
            title += alphabet[value % len(alphabet)]
            value //= len(alphabet)
        licensed = n % 2 == 0
        rows.append([f"{title}{n}", "网络剧" if licensed else "短视频", f"申报机构{n}", "机构", "浙江省广播电视局",
                     "省级", "优酷", "2025-01-05", "2025-02-20",
                     f"（浙）网剧审字（2024）第{n}号" if licensed else "", f"申报机构{n}", "否", "否", "否",
                     "24", "45", "简介", f"https://example.org/{n}"])
    return rows


HEADERS = ["作品名称", "作品类型", "申报主体", "主体类型", "推荐单位", "单位类型", "首播平台", "首播日期",
           "播出完毕日期", "发行许可证号或上线备案号", "版权方", "超高清", "AI生成", "系列单集", "集数",
           "时长（分钟）", "简介", "链接"]


def as_csv(rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADERS)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def as_xlsx(rows) -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--xlsx", action="store_true", help="import an XLSX file instead of CSV")
    args = parser.parse_args()

    from sqlmodel import Session

    from bench_db import fresh_database
    from web.intake.operations import import_works
    from web.rounds.operations import create_round, set_state

    engine = fresh_database(args.database_url)
    with Session(engine, expire_on_commit=False) as session:
        round_ = create_round(session=session, key="2025Q1", actor="bench")
        set_state(session=session, round_=round_, state="intake", actor="bench")
        session.commit()
    rows = entries(args.rows)
    data = as_xlsx(rows) if args.xlsx else as_csv(rows)
    os.environ.setdefault("TUIYOU_TODAY", "2025-03-20")
    with Session(engine, expire_on_commit=False) as session:
        started = time.perf_counter()
        report = import_works(session, round_key="2025Q1", data=data, filename="bench", on=dt.date(2025, 3, 20))
        elapsed = time.perf_counter() - started
    if report.issues or report.imported != args.rows:
        raise SystemExit(f"benchmark import failed: {report.issues[:3]}")
    print(f"imported {report.imported} rows ({'XLSX' if args.xlsx else 'CSV'}, {len(data) / 1e6:.1f} MB) "
          f"into {engine.dialect.name} in {elapsed:.2f} s  [{platform.python_version()}, {os.cpu_count()} CPUs]")
    engine.dispose()


if __name__ == "__main__":
    main()
