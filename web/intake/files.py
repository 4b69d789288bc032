"""Reading import files (CSV in UTF-8 or GBK, XLSX) into rows, and writing the template and
the rejected rows. Anything that is not a readable table becomes an :class:`IntakeError`.
"""
from __future__ import annotations

import csv
import io
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from scoring.rules.columns import Column
from scoring.rules.eligibility import Issue

# The example row of each XLSX template.
WORK_EXAMPLE = ("山河人间", "网络剧", "山河文化传媒有限公司", "机构", "浙江省广播电视局", "省级", "优酷",
                "2025-01-05", "2025-02-20", "（浙）网剧审字（2024）第012号", "山河文化传媒有限公司",
                "否", "否", "否", 24, 45, "一部关于……的网络剧", "https://example.org/works/1")
CASE_EXAMPLE = ("非遗春节主题传播活动", "中央广播电视总台", "2025-01-20 至 2025-02-15", "", "",
                "围绕首个非遗春节开展的……", "抖音、微博、央视频", "累计播放 3.2 亿次", "https://example.org/cases/1")

MAX_ROWS = 200_000  # a national quarter has a few thousand entries; this bounds a bad file


class IntakeError(ValueError):
    """The import cannot go ahead at all (file, round, state or deadline); ``zh`` and ``en`` say why."""

    def __init__(self, zh: str, en: str):
        self.zh, self.en = zh, en
        super().__init__(f"{zh} / {en}")


@dataclass(frozen=True)
class Table:
    """A header row and the rows below it, each with its row number as a spreadsheet shows it."""

    header_row: int
    headers: list[Any]
    rows: list[tuple[int, list[Any]]]


def read_table(data: bytes, filename: str) -> Table:
    """The table in ``data``: XLSX by content, otherwise CSV (UTF-8 with or without BOM, or GBK)."""
    if not data or not data.strip(b"\xef\xbb\xbf \t\r\n"):
        raise IntakeError("文件为空", "the file is empty")
    if data[:4] == b"PK\x03\x04" or filename.lower().endswith((".xlsx", ".xlsm")):
        return _table(_xlsx_rows(data), filename)
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise IntakeError("不支持旧版 Excel（.xls）文件，请另存为 .xlsx 或 CSV",
                          "old Excel (.xls) files are not supported; save as .xlsx or CSV")
    return _table(_csv_rows(data), filename)


def _decode(data: bytes) -> str:
    if b"\x00" in data:
        raise IntakeError("文件不是表格（含二进制内容），请上传 CSV 或 XLSX 文件",
                          "the file is not a table (it has binary content); upload CSV or XLSX")
    for encoding in ("utf-8-sig", "gb18030"):  # GB18030 is a superset of GBK
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if any(ord(ch) < 32 and ch not in "\t\r\n" for ch in text[:10_000]):
            break
        return text
    raise IntakeError("无法识别文件编码，请将 CSV 保存为 UTF-8 或 GBK 编码",
                      "unknown text encoding; save the CSV as UTF-8 or GBK")


def _csv_rows(data: bytes) -> list[list[Any]]:
    text = _decode(data)
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = max([",", "\t", ";", "，"], key=first_line.count)
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as exc:
        raise IntakeError(f"CSV 格式有误：{exc}（请检查引号是否配对）",
                          f"malformed CSV: {exc} (check that quotes are paired)") from None


def _xlsx_rows(data: bytes) -> list[list[Any]]:
    # calamine (Rust) reads 10,000 rows in about 0.3 s where openpyxl takes about 6 s; date
    # cells come back as dates, numbers as numbers, empty cells as "".
    from python_calamine import CalamineWorkbook

    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise IntakeError("文件不是有效的 XLSX 表格", "the file is not a valid XLSX workbook")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
            if not workbook.sheet_names:
                raise IntakeError("XLSX 文件中没有工作表", "the XLSX workbook has no worksheet")
            # skip_empty_area=False keeps row 1 as row 1, so row numbers match the spreadsheet.
            rows = workbook.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except IntakeError:
        raise
    except Exception as exc:  # noqa: BLE001 — any failure of an untrusted workbook is a bad file
        raise IntakeError("文件不是有效的 XLSX 表格（无法读取工作表）",
                          f"the file is not a valid XLSX workbook ({type(exc).__name__})") from None
    return [list(row) for row in rows]


def _blank(values: Sequence[Any]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def _table(rows: list[list[Any]], filename: str) -> Table:
    numbered = [(index + 1, list(values)) for index, values in enumerate(rows)]
    while numbered and _blank(numbered[0][1]):
        numbered.pop(0)
    if not numbered:
        raise IntakeError("文件为空（没有表头）", "the file is empty (no header row)")
    header_row, headers = numbered[0]
    body = [(number, values) for number, values in numbered[1:] if not _blank(values)]
    if not body:
        raise IntakeError("文件只有表头，没有数据行", "the file has a header row but no entries")
    if len(body) > MAX_ROWS:
        raise IntakeError(f"数据行过多（超过 {MAX_ROWS} 行）", f"too many rows (more than {MAX_ROWS})")
    return Table(header_row, headers, body)


def template_xlsx(columns: Sequence[Column], *, sheet_title: str, example: Sequence[Any] = ()) -> bytes:
    """An import template: Chinese labels on row 1, English keys as cell comments, an example row."""
    import openpyxl
    from openpyxl.comments import Comment
    from openpyxl.styles import Font

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = sheet_title
    for index, column in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=index, value=column.label)
        cell.font = Font(bold=True)
        cell.comment = Comment(f"{column.key}{'（必需列）' if column.required else ''}", "tuiyou")
        sheet.column_dimensions[cell.column_letter].width = max(12, len(column.label) * 2 + 4)
    for index, value in enumerate(example, start=1):
        sheet.cell(row=2, column=index, value=value)
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def rejected_path(source: Path) -> Path:
    """Where the rejected rows of ``source`` go: ``FILE.rejected.csv`` next to it."""
    return source.with_name(source.name + ".rejected.csv")


def write_rejected(path: Path, headers: Sequence[Any], rows: Sequence[tuple[int, list[Any]]],
                   issues: Sequence[Issue], labels: dict[str, str]) -> None:
    """The rejected rows as they were, with their row number and reasons (UTF-8 with BOM for Excel)."""
    reasons: dict[int, list[str]] = {}
    for issue in issues:
        column = labels.get(issue.column, issue.column)
        prefix = f"[{column}] " if column else ""
        reasons.setdefault(issue.row, []).append(f"{prefix}{issue.zh} / {issue.en}")
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["行号 row", *("" if h is None else str(h) for h in headers), "原因 reasons"])
        for number, values in rows:
            if number in reasons:
                cells = ["" if v is None else str(v) for v in values]
                writer.writerow([number, *cells, "；".join(reasons[number])])
