"""CSV (UTF-8 with BOM, so Excel opens Chinese correctly) and XLSX (a sheet per category plus one
for the method and the snapshot hash) exports; every cell through ``web.core.spreadsheet`` (no formulas)."""
from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Font

from ..core.spreadsheet import csv_row, xlsx_append
from .document import COLUMNS, HEADERS_ZH, ExportDocument, cell

BOM = "\ufeff"


def to_csv(doc: ExportDocument) -> bytes:
    """All rows in one table, with a header in Chinese and English keys beneath it."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(csv_row(HEADERS_ZH[c] for c in COLUMNS))
    for _category, rows in doc.categories():
        for row in rows:
            writer.writerow(csv_row(cell(row, c) for c in COLUMNS))
    if doc.signatures or doc.unsigned:  # the signature block beneath the table (signed versions)
        writer.writerow([])
        writer.writerow(csv_row(["签署", "姓名", "签署时间", "保留意见"]))
        for signature in doc.signatures:
            writer.writerow(csv_row([signature["role"], signature["name"], signature["signed_at"],
                                     signature.get("dissent") or ""]))
        for name in doc.unsigned:
            writer.writerow(csv_row(["尚未签署", name, "", ""]))
    return (BOM + buffer.getvalue()).encode("utf-8")


def _sheet_title(name: str, used: set[str]) -> str:
    title = "".join(ch for ch in name if ch not in "[]:*?/\\")[:31] or "sheet"
    base, n = title, 2
    while title in used:
        title = f"{base[:28]}-{n}"
        n += 1
    used.add(title)
    return title


def to_xlsx(doc: ExportDocument) -> bytes:
    """A workbook: one sheet per category, then 方法与签署 (method, parameters, hash, signatures)."""
    book = Workbook()
    book.remove(book.active)
    used: set[str] = set()
    bold = Font(bold=True)
    for category, rows in doc.categories():
        sheet = book.create_sheet(_sheet_title(category, used))
        xlsx_append(sheet, [HEADERS_ZH[c] for c in COLUMNS])
        for c in sheet[1]:
            c.font = bold
        for row in rows:
            xlsx_append(sheet, [cell(row, c) for c in COLUMNS])
        sheet.column_dimensions["B"].width = 30
        sheet.freeze_panes = "A2"
    meta = book.create_sheet(_sheet_title("方法与签署", used))
    lines = [("轮次", doc.round_label), ("内容", "入选名单" if doc.scope == "shortlist" else "完整排名"),
             ("状态", {"signed": "已签署", "proposed": "建议名单（未签署）", "unsaved": "建议名单（未保存）"}
              .get(doc.state, doc.state)),
             ("标准化方法", doc.method_label), ("方法参数", _params(doc.params)),
             ("版本", doc.version or ""), ("签署时间", doc.signed_at or ""),
             ("快照 SHA-256", doc.sha256 or "未签署，无快照"), ("导出时间", doc.generated_at)]
    for signature in doc.signatures:
        lines.append(("签名", f"{signature['role']}：{signature['name']} {signature['signed_at']}"
                      + (f" 保留意见：{signature['dissent']}" if signature.get("dissent") else "")))
    if doc.unsigned:
        lines.append(("尚未签署", "、".join(doc.unsigned)))
    for key, value in lines:
        xlsx_append(meta, [key, value])
        meta.cell(meta.max_row, 1).font = bold
    meta.column_dimensions["A"].width = 16
    meta.column_dimensions["B"].width = 80
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _params(params: dict) -> str:
    if not params:
        return ""
    shown = {k: v for k, v in params.items() if k != "criteria"}
    weights = ", ".join(f"{c['key']}={c['weight']:.3f}" for c in params.get("criteria", []))
    return "; ".join(f"{k}={v}" for k, v in shown.items()) + (f"; weights: {weights}" if weights else "")
