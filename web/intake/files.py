"""Reading import files (CSV in UTF-8 or GBK, XLSX) into rows, and writing the template and
the rejected rows. Anything that is not a readable table becomes an :class:`IntakeError`.

Reading happens in the parse worker (``sandbox``) under the caps of ``sheets.Limits``: a file
that would cross one, or take the worker past its memory or time, is refused with
“文件过大或已损坏：…” and what was wrong.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any, Sequence

from flask import current_app, has_app_context

from scoring.rules.columns import Column
from scoring.rules.eligibility import Issue

from ..core.spreadsheet import csv_row, xlsx_set
from .sandbox import LimitExceeded, WorkerLimits, run_limited
from ..core.refused import Refused
from .sheets import TOO_LARGE_EN, TOO_LARGE_ZH, FileRefused, Limits, Table, parse_table

__all__ = ["IntakeError", "Limits", "Table", "read_table", "template_xlsx", "rejected_path", "write_rejected"]

# The example row of each XLSX template.
WORK_EXAMPLE = ("山河人间", "网络剧", "山河文化传媒有限公司", "机构", "浙江省广播电视局", "省级", "优酷",
                "2025-01-05", "2025-02-20", "（浙）网剧审字（2024）第012号", "山河文化传媒有限公司",
                "否", "否", "否", 24, 45, "一部关于……的网络剧", "https://example.org/works/1")
CASE_EXAMPLE = ("非遗春节主题传播活动", "中央广播电视总台", "2025-01-20 至 2025-02-15", "", "",
                "围绕首个非遗春节开展的……", "抖音、微博、央视频", "累计播放 3.2 亿次", "https://example.org/cases/1")


class IntakeError(Refused):
    """The import cannot go ahead at all (file, round, state or deadline): 422, ``zh`` and ``en`` say why."""

    def __init__(self, zh: str, en: str):
        super().__init__(422, "import_refused", zh, en)


def read_table(data: bytes, filename: str, *, limits: Limits | None = None,
               worker: WorkerLimits | None = None) -> Table:
    """The table in ``data`` (XLSX by content, otherwise CSV in UTF-8 or GBK), read by the parse
    worker under ``limits`` and ``worker`` (defaults: :class:`Limits`, the app's IMPORT_* settings)."""
    if worker is None:
        worker = WorkerLimits.from_settings(current_app.config if has_app_context() else None)
    try:
        return run_limited(parse_table, data, filename, limits or Limits(), limits=worker)
    except FileRefused as exc:
        raise IntakeError(exc.zh, exc.en) from None
    except LimitExceeded as exc:
        raise IntakeError(f"{TOO_LARGE_ZH}：{exc.zh}", f"{TOO_LARGE_EN}: {exc.en}") from None


def template_xlsx(columns: Sequence[Column], *, sheet_title: str, example: Sequence[Any] = ()) -> bytes:
    """An import template: Chinese labels on row 1, English keys as cell comments, an example row."""
    import openpyxl
    from openpyxl.comments import Comment
    from openpyxl.styles import Font

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = sheet_title
    for index, column in enumerate(columns, start=1):
        cell = xlsx_set(sheet, 1, index, column.label)
        cell.font = Font(bold=True)
        cell.comment = Comment(f"{column.key}{'（必需列）' if column.required else ''}", "tuiyou")
        sheet.column_dimensions[cell.column_letter].width = max(12, len(column.label) * 2 + 4)
    for index, value in enumerate(example, start=1):
        xlsx_set(sheet, 2, index, value)
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def rejected_path(source: Path) -> Path:
    """Where the rejected rows of ``source`` go: ``FILE.rejected.csv`` next to it."""
    return source.with_name(source.name + ".rejected.csv")


def write_rejected(path: Path, headers: Sequence[Any], rows: Sequence[tuple[int, list[Any]]],
                   issues: Sequence[Issue], labels: dict[str, str]) -> None:
    """The rejected rows as they were, with their row number and reasons (UTF-8 with BOM for Excel).

    Cells that would start a formula get a leading ``'`` (web.core.spreadsheet), also here: the file
    is opened in Excel to be corrected, and the cells came from outside."""
    reasons: dict[int, list[str]] = {}
    for issue in issues:
        column = labels.get(issue.column, issue.column)
        prefix = f"[{column}] " if column else ""
        reasons.setdefault(issue.row, []).append(f"{prefix}{issue.zh} / {issue.en}")
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(csv_row(["行号 row", *("" if h is None else str(h) for h in headers), "原因 reasons"]))
        for number, values in rows:
            if number in reasons:
                cells = ["" if v is None else str(v) for v in values]
                writer.writerow(csv_row([number, *cells, "；".join(reasons[number])]))
