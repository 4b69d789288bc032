"""The files intake hands out: the import template (XLSX) and the rejected rows of an import
(CSV with a BOM), every cell through ``web.core.spreadsheet`` (no formulas)."""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any, Sequence

from scoring.rules.columns import Column
from scoring.rules.eligibility import Issue

from ..core.spreadsheet import csv_row, xlsx_set

__all__ = ["template_xlsx", "write_rejected"]


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
