"""The public announcement list (公示名单) of a signed round: per category in the notice's order,
title, producer (the copyright holder, else the submitter) and platform, as CSV, XLSX or PDF."""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

from fpdf import FPDF
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlmodel import Session, select

from scoring.rules.config import load_rules

from ..exports.build import Rendered, round_label
from ..exports.fonts import find_cjk_font
from ..core.models import DisseminationCase, Round, RoundKind, Work
from ..signing.queries import result_versions
from ..core.spreadsheet import csv_row, xlsx_append

HEADERS = ("序号", "类别", "作品名称", "出品/制作机构", "播出平台")
MIMETYPES = {"csv": "text/csv", "pdf": "application/pdf",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@dataclass(frozen=True)
class Announcement:
    """The rows of the list, grouped by category in the configured order, and where they come from."""

    round_label: str
    round_key: str
    version: int
    sha256: str
    groups: list[tuple[str, list[tuple[str, str, str]]]]


def announcement(*, session: Session, round_: Round) -> Announcement | None:
    """The list of the round's latest signed version (None while the round is not signed)."""
    versions = result_versions(session=session, round_=round_)
    if round_.state.value != "signed" or not versions:
        return None
    content = json.loads(versions[-1].content)
    included = sorted((e for e in content["entries"] if e["included"]), key=lambda e: (e["rank"], e["title"]))
    ids = [e["item_id"] for e in included]
    if round_.kind == RoundKind.dissemination:
        found = {c.id: (c.unit, c.channels) for c in session.exec(
            select(DisseminationCase).where(DisseminationCase.id.in_(ids)))}
    else:
        found = {w.id: (w.copyright_holder or w.submitter, w.platform) for w in session.exec(
            select(Work).where(Work.id.in_(ids)))}
    order = {name: i for i, name in enumerate(load_rules().category_names)}
    groups: dict[str, list[tuple[str, str, str]]] = {}
    for entry in included:
        producer, platform = found.get(entry["item_id"], ("", ""))
        groups.setdefault(entry["category"], []).append((entry["title"], producer, platform))
    ordered = sorted(groups.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))
    return Announcement(round_label(round_), round_.key, versions[-1].version, versions[-1].content_sha256, ordered)


def _rows(doc: Announcement):
    n = 0
    for category, items in doc.groups:
        for title, producer, platform in items:
            n += 1
            yield n, category, title, producer, platform


def to_csv(doc: Announcement) -> bytes:
    """CSV with a BOM (Excel opens it as UTF-8)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(csv_row(HEADERS))
    writer.writerows(csv_row(row) for row in _rows(doc))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(doc: Announcement) -> bytes:
    """One sheet 公示名单, category by category."""
    book = Workbook()
    sheet = book.active
    sheet.title = "公示名单"
    xlsx_append(sheet, [f"{doc.round_label} 推优名单公示"])
    xlsx_append(sheet, HEADERS)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in _rows(doc):
        xlsx_append(sheet, row)
    for column, width in zip("ABCDE", (6, 14, 40, 30, 20)):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def to_pdf(doc: Announcement) -> bytes:
    """A4, a heading per category; FontMissing when no CJK font is installed."""
    pdf = FPDF(format="A4")
    pdf.set_margins(18, 18, 18)
    pdf.set_auto_page_break(True, margin=18)
    pdf.add_font("cjk", "", str(find_cjk_font()))
    pdf.add_page()
    pdf.set_font("cjk", size=16)
    pdf.cell(0, 12, f"{doc.round_label} 推优名单公示", new_x="LMARGIN", new_y="NEXT", align="C")
    n = 0
    for category, items in doc.groups:
        pdf.set_font("cjk", size=12)
        pdf.ln(3)
        pdf.cell(0, 8, f"{category}（{len(items)} 部）", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", size=10)
        for title, producer, platform in items:
            n += 1
            line = f"{n}. 《{title}》  {producer}" + (f"  （{platform}）" if platform else "")
            pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def render(doc: Announcement, fmt: str) -> Rendered:
    """The list as ``fmt`` (csv, xlsx, pdf)."""
    writer = {"csv": to_csv, "xlsx": to_xlsx, "pdf": to_pdf}[fmt]
    return Rendered(writer(doc), MIMETYPES[fmt], f"{doc.round_key}-公示名单-v{doc.version}.{fmt}")
