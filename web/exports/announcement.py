"""The public announcement list (公示名单) of a signed round, ready to publish: the issuing body,
the title in words, per category in the notice's order each work's title, producer (the
copyright holder, else the submitter), recommending unit and platform — no scores — then the
issuing body and the date; as CSV, XLSX or PDF (page numbers "— 1 —", 第 X 页 / 共 Y 页)."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlmodel import Session, select

from scoring.rules.config import load_rules
from scoring.rules.documents import load_document_rule

from ..core.models import DisseminationCase, Round, RoundKind, Work
from ..core.spreadsheet import csv_row, xlsx_append
from ..core.timefmt import day
from ..signing.queries import result_versions
from .build import Rendered, issuer_of
from .fonts import find_cjk_font
from .official import OfficialPdf
from .titles import DocumentTitle, round_title

HEADERS = ("序号", "类别", "作品名称", "出品/制作机构", "推荐单位", "播出平台")
MIMETYPES = {"csv": "text/csv", "pdf": "application/pdf",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@dataclass(frozen=True)
class Announcement:
    """The rows of the list, grouped by category in the configured order, and where they come from."""

    title: DocumentTitle
    issuer: str
    round_key: str
    version: int
    sha256: str
    signed_at: dt.datetime
    groups: list[tuple[str, list[tuple[str, str, str, str]]]]  # (title, producer, unit, platform)

    @property
    def date(self) -> str:
        return day(self.signed_at)


def announcement(*, session: Session, round_: Round) -> Announcement | None:
    """The list of the round's latest signed version (None while the round is not signed)."""
    versions = result_versions(session=session, round_=round_)
    if round_.state.value != "signed" or not versions:
        return None
    content = json.loads(versions[-1].content)
    included = sorted((e for e in content["entries"] if e["included"]), key=lambda e: (e["rank"], e["title"]))
    ids = [e["item_id"] for e in included]
    if round_.kind == RoundKind.dissemination:
        found = {c.id: (c.unit, c.unit, c.channels) for c in session.exec(
            select(DisseminationCase).where(DisseminationCase.id.in_(ids)))}
    else:
        found = {w.id: (w.copyright_holder or w.submitter, w.unit, w.platform) for w in session.exec(
            select(Work).where(Work.id.in_(ids)))}
    order = {name: i for i, name in enumerate(load_rules().category_names)}
    groups: dict[str, list[tuple[str, str, str, str]]] = {}
    for entry in included:
        producer, unit, platform = found.get(entry["item_id"], ("", "", ""))
        groups.setdefault(entry["category"], []).append((entry["title"], producer, unit, platform))
    ordered = sorted(groups.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))
    latest = versions[-1]
    return Announcement(round_title(round_, "announcement"), issuer_of(round_, load_document_rule()), round_.key,
                        latest.version, latest.content_sha256, latest.signed_at, ordered)


def _rows(doc: Announcement):
    n = 0
    for category, items in doc.groups:
        for title, producer, unit, platform in items:
            n += 1
            yield n, category, title, producer, unit, platform


def to_csv(doc: Announcement) -> bytes:
    """CSV with a BOM (Excel opens it as UTF-8)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(csv_row(HEADERS))
    writer.writerows(csv_row(row) for row in _rows(doc))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(doc: Announcement) -> bytes:
    """One sheet 公示名单: the title, the header (frozen), category by category, then body and date."""
    book = Workbook()
    sheet = book.active
    sheet.title = "公示名单"
    xlsx_append(sheet, [f"{doc.title.title}（{doc.title.stage}）"])
    sheet["A1"].font = Font(bold=True, size=14)
    xlsx_append(sheet, HEADERS)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    rows = list(_rows(doc))
    for row in rows:
        xlsx_append(sheet, row)
    for column, index in zip("ABCDEF", range(6)):
        widest = max([_width(HEADERS[index])] + [_width(r[index]) for r in rows])
        sheet.column_dimensions[column].width = min(60, max(6, widest + 2))
    sheet.freeze_panes = "A3"
    xlsx_append(sheet, [])
    xlsx_append(sheet, ["", "", "", "", doc.issuer])
    xlsx_append(sheet, ["", "", "", "", doc.date])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _width(value) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in str(value))


def to_pdf(doc: Announcement) -> bytes:
    """A4 in the official layout, a heading per category; FontMissing when no CJK font is installed."""
    pdf = OfficialPdf(find_cjk_font(), footer_note=f"{doc.round_key} 第 {doc.version} 版 · 快照 SHA-256 {doc.sha256}")
    pdf.add_page()
    pdf.masthead(doc.issuer, doc.title.title, doc.title.stage)
    total = sum(len(items) for _c, items in doc.groups)
    pdf.paragraph(f"经专家评审，现将入选名单（共 {total} 部，按类别排列）予以公示。", size=12, height=7, indent=8)
    n = 0
    for category, items in doc.groups:
        pdf.need(20)
        pdf.y += 3
        pdf.set_font("song", size=13)
        with pdf.bold(0.2):
            pdf.text(20, pdf.y + 6, f"{category}（{len(items)} 部）")
        pdf.y += 9
        for title, producer, unit, platform in items:
            n += 1
            details = "　".join(part for part in (producer, f"推荐单位：{unit}" if unit and unit != producer else "",
                                               f"播出平台：{platform}" if platform else "") if part)
            pdf.need(6.2 + (5.2 if details else 0))  # a work and its details stay on one page
            pdf.paragraph(f"{n}. 《{title}》", size=11, height=6.2, indent=4)
            if details:
                pdf.paragraph(details, size=9.5, height=5.2, indent=10, color=(60, 60, 60))
    pdf.closing(doc.issuer, doc.date)
    return bytes(pdf.output())


def render(doc: Announcement, fmt: str) -> Rendered:
    """The list as ``fmt`` (csv, xlsx, pdf)."""
    writer = {"csv": to_csv, "xlsx": to_xlsx, "pdf": to_pdf}[fmt]
    return Rendered(writer(doc), MIMETYPES[fmt], f"{doc.round_key}-公示名单-v{doc.version}.{fmt}")
