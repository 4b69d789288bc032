"""CSV (UTF-8 with BOM, so Excel opens Chinese correctly) and XLSX (a sheet per category, one for
the method and the signatures, one annex of abnormal-score explanations) exports; every text cell
through ``web.core.spreadsheet.neutralize`` (no formulas). A draft says so: the CSV's first line
is a comment, the XLSX's sheet titles end in （草稿）."""
from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill

from ..core.spreadsheet import csv_row, neutralize
from .document import COLUMNS, DRAFT_MARK, HEADERS_ZH, NUMERIC, ExportDocument, cell
from .labels import DIRECTIONS, params_lines

BOM = "\ufeff"
DRAFT_LINE = f"# {DRAFT_MARK}：本文件是建议名单，不是签署的结果，不得作为评审结果使用"


def _signature_rows(doc: ExportDocument) -> list[list[str]]:
    rows = [[m.role_label, m.name, doc.when(m.signed_at), m.dissent or ""] for m in doc.signed]
    return rows + [["尚未签署", m.name, "未签署", ""] for m in doc.unsigned if m.name]


def _annex_rows(doc: ExportDocument) -> list[list[str]]:
    return [[a.expert, a.category, a.title, DIRECTIONS.get(a.direction, a.direction), a.explanation or "",
             doc.when(a.explained_at), a.waiver or "", a.waived_by or "", doc.when(a.waived_at)] for a in doc.annex]


ANNEX_HEADERS = ["专家", "类别", "作品", "方向", "专家说明", "说明时间", "组长豁免理由", "豁免人", "豁免时间"]


def to_csv(doc: ExportDocument) -> bytes:
    """All rows in one table; beneath it the signatures, the method per category and the annex."""
    buffer = io.StringIO()
    if doc.draft:
        buffer.write(DRAFT_LINE + "\r\n")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(csv_row(HEADERS_ZH[c] for c in COLUMNS))
    for _category, rows in doc.categories():
        for row in rows:
            writer.writerow(csv_row(cell(row, c, doc) for c in COLUMNS))
    writer.writerow([])
    writer.writerow(csv_row(["签署", "姓名", "签署时间", "保留意见"]))
    writer.writerows(csv_row(r) for r in _signature_rows(doc))
    writer.writerow([])
    writer.writerow(csv_row(["类别", "计算方法"]))
    writer.writerows(csv_row(line) for line in doc.method_lines())
    if doc.annex:
        writer.writerow([])
        writer.writerow(csv_row(["附件：畸高/畸低评分的说明与豁免", *[""] * 8]))
        writer.writerow(csv_row(ANNEX_HEADERS))
        writer.writerows(csv_row(r) for r in _annex_rows(doc))
    return (BOM + buffer.getvalue()).encode("utf-8")


def _sheet_title(name: str, used: set[str], draft: bool) -> str:
    suffix = "（草稿）" if draft else ""
    title = "".join(ch for ch in name if ch not in "[]:*?/\\")[:31 - len(suffix)] or "sheet"
    base, n = title, 2
    while title + suffix in used:
        title = f"{base[:28 - len(suffix)]}-{n}"
        n += 1
    used.add(title + suffix)
    return title + suffix


def _width(value) -> float:
    """Display width in Excel's character units (a CJK character counts two)."""
    text = value if isinstance(value, str) else f"{value}"
    if text.isascii():
        return len(text)
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


class _Sheet:
    """A write-only sheet whose column widths are fitted to what is written (set before the rows)."""

    BOLD = Font(bold=True)
    HEAD_FILL = PatternFill("solid", fgColor="EEF1F4")
    WRAP = Alignment(wrap_text=True, vertical="top")

    def __init__(self, book: Workbook, title: str, max_width: float = 60):
        self.sheet = book.create_sheet(title)
        self.rows: list[tuple[list, bool]] = []
        self.max_width = max_width

    def add(self, values, head: bool = False) -> None:
        self.rows.append(([neutralize(v) for v in values], head))

    def write(self, freeze: str | None = None, wrap: tuple[int, ...] = ()) -> None:
        widths: dict[int, float] = {}
        for values, _head in self.rows:
            for i, value in enumerate(values):
                if value not in (None, ""):
                    widths[i] = max(widths.get(i, 0), _width(value))
        from openpyxl.utils import get_column_letter
        for i, width in widths.items():
            self.sheet.column_dimensions[get_column_letter(i + 1)].width = min(self.max_width, max(6, width + 2))
        if freeze:
            self.sheet.freeze_panes = freeze
        for values, head in self.rows:
            # a plain value is written as it is (neutralized text never starts a formula); a cell
            # object only where a style is needed: the header, and long text that wraps
            self.sheet.append([self._cell(v, head) if head or (i in wrap and isinstance(v, str) and len(v) * 2 >
                                                                 self.max_width) else v for i, v in enumerate(values)])

    def _cell(self, value, head: bool):
        item = WriteOnlyCell(self.sheet, value=value)
        if isinstance(value, str):
            item.data_type = "s"  # text, never a formula
        if head:
            item.font, item.fill = self.BOLD, self.HEAD_FILL
        elif _width(value) > self.max_width:
            item.alignment = self.WRAP
        return item


def to_xlsx(doc: ExportDocument) -> bytes:
    """A workbook: one sheet per category, then 方法与签署, then the annex when there is one."""
    book = Workbook(write_only=True)
    used: set[str] = set()
    wrap = tuple(COLUMNS.index(c) for c in ("title", "override_reason", "note"))
    for category, rows in doc.categories():
        sheet = _Sheet(book, _sheet_title(category, used, doc.draft))
        sheet.add([HEADERS_ZH[c] for c in COLUMNS], head=True)
        for row in rows:
            sheet.add([cell(row, c, doc) if c in NUMERIC or row.get(c) is not None else "" for c in COLUMNS])
        sheet.write(freeze="C2", wrap=wrap)
    meta = _Sheet(book, _sheet_title("方法与签署", used, doc.draft), max_width=90)
    meta.add(["项目", "内容"], head=True)
    lines = [("发文机关", doc.issuer), ("标题", doc.title.title), ("轮次", f"{doc.round_key}（{doc.title.stage}）"),
             ("内容", "入选名单" if doc.scope == "shortlist" else "完整排名"), ("状态", doc.state_label)]
    if doc.draft:
        lines.append(("注意", DRAFT_LINE.lstrip("# ")))
    lines.append(("标准化方法", doc.method_label))
    lines += [("计算方法", f"{category}：{text}") for category, text in doc.method_lines()]
    lines += [("方法参数", line) for line in params_lines(doc.params)]
    lines += [("版本", doc.version or "无（未签署）"), ("签署时间", doc.when(doc.signed_at) or "未签署"),
              ("快照 SHA-256", doc.sha256 or "未签署，无快照"), (doc.audit_label, doc.audit_head or "无"),
              ("导出时间", doc.when(doc.generated_at))]
    for m in doc.signed:
        lines.append(("签名", f"{m.role_label}：{m.name} {doc.when(m.signed_at)}"
                      + (f" 保留意见：{m.dissent}" if m.dissent else "")))
    unsigned = [m.name for m in doc.unsigned if m.name]
    if unsigned:
        lines.append(("尚未签署", "、".join(unsigned)))
    for key, value in lines:
        meta.add([key, value])
    meta.write(freeze="A2", wrap=(1,))
    if doc.annex:
        annex = _Sheet(book, _sheet_title("附件·评分说明", used, doc.draft))
        annex.add(ANNEX_HEADERS, head=True)
        for row in _annex_rows(doc):
            annex.add(row)
        annex.write(freeze="A2", wrap=(4, 6))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
