"""Hostile import files, generated (issue 19): each is small on the wire and huge once read.

Used by tests/web/intake/test_hostile_files.py and benchmarks/bench_hostile_files.py. Every workbook is
written part by part with zipfile (not openpyxl), so its XML says exactly what an attacker's
would, and the big parts are streamed into the zip in pieces.
"""
from __future__ import annotations

import io
import zipfile
from typing import Iterable

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
    '</Types>')
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>')
WORKBOOK = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="{NS}" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'worksheet" Target="worksheets/sheet1.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'sharedStrings" Target="sharedStrings.xml"/></Relationships>')


def workbook(sheet: Iterable[str], shared: Iterable[str] | None = None) -> bytes:
    """An XLSX whose first sheet's XML is the pieces of ``sheet`` (and shared strings, if given)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        for name, pieces in (("xl/worksheets/sheet1.xml", sheet), ("xl/sharedStrings.xml", shared)):
            if pieces is None:
                continue
            with archive.open(name, "w", force_zip64=True) as part:
                for piece in pieces:
                    part.write(piece.encode("utf-8"))
    return buffer.getvalue()


def _sheet(rows: Iterable[str], dimension: str | None) -> Iterable[str]:
    yield f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="{NS}">'
    if dimension:
        yield f'<dimension ref="{dimension}"/>'
    yield "<sheetData>"
    yield from rows
    yield "</sheetData></worksheet>"


def corners(*, dimension: str | None = "A1:XFD1048576") -> bytes:
    """One cell at A1 and one at XFD1048576 (calamine would allocate 17 billion cells, 512 GiB).

    ``dimension`` is what the sheet declares: the truth, a lie (``"A1:B2"``) or nothing (None).
    """
    rows = ['<row r="1"><c r="A1" t="inlineStr"><is><t>作品名称</t></is></c></row>',
            '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>']
    return workbook(_sheet(rows, dimension))


def many_rows(count: int = 5_000_000, *, declare: bool = False, chunk: int = 100_000) -> bytes:
    """A header and ``count`` rows of one short cell each, as Excel may write them (no ``r``
    attributes); 5 million rows zip to about 0.2 MB. ``declare`` adds a truthful ``<dimension>``."""
    def rows():
        yield '<row><c t="inlineStr"><is><t>作品名称</t></is></c></row>'
        for start in range(0, count, chunk):
            yield "<row><c><v>1</v></c></row>" * min(chunk, count - start)
    return workbook(_sheet(rows(), f"A1:A{count + 1}" if declare else None))


def padded_shared_strings(*, strings: int = 50, padding: int = 2_000_000, rows: int = 2_000) -> bytes:
    """``strings`` shared strings of ``padding`` spaces each, named by every cell of ``rows`` rows.

    calamine copies a shared string into each cell that names it: 50 x 2 MB strings read by
    2,000 x 18 cells would be 72 GB of text from a file of about 200 KB.
    """
    def table():
        yield f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="{NS}" count="{strings}">'
        for index in range(strings):
            yield f'<si><t xml:space="preserve">{index}'
            for _ in range(padding // 1_000_000):
                yield " " * 1_000_000
            yield " " * (padding % 1_000_000) + "</t></si>"
        yield "</sst>"

    def cells():
        for n in range(1, rows + 1):
            yield f'<row r="{n}">' + "".join(f'<c r="{chr(65 + k)}{n}" t="s"><v>{(n + k) % strings}</v></c>'
                                             for k in range(18)) + "</row>"
    return workbook(_sheet(cells(), f"A1:R{rows}"), table())


def entity_expansion(levels: int = 10) -> bytes:
    """The “billion laughs”: a shared string whose entity expands to 10**levels copies of “lol”."""
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, levels)]
    shared = [f'<?xml version="1.0"?><!DOCTYPE sst [{"".join(entities)}]>'
              f'<sst xmlns="{NS}" count="1"><si><t>&lol{levels - 1};</t></si></sst>']
    rows = ['<row r="1"><c r="A1" t="s"><v>0</v></c></row>']
    return workbook(_sheet(rows, "A1"), shared)


def csv_rows(count: int = 1_000_000) -> bytes:
    """A CSV of a header and ``count`` short rows (1,000,000: about 6 MB)."""
    return ("作品名称,集数\n" + "山河,1\n" * count).encode("utf-8")
