"""Untrusted import files (CSV, XLSX) to rows, under caps the file cannot talk its way past.

This module runs inside the parse worker (``web.intake.sandbox``): it imports no Flask and no
database code. Every refusal is a :class:`FileRefused` (a ``web.core.refused.Refused``, 422) with a Chinese and an English reason.

CSV is decoded and read row by row; reading stops at the row cap and at the column cap.

XLSX is checked before calamine sees it, because calamine builds the sheet's whole rectangle
in memory at once (A1 plus XFD1048576 asks for 17 billion cells, 512 GiB; python-calamine
tells a sheet's size only once it has built it):

1. the zip: at most ``max_members`` parts, whose declared unpacked sizes add up to at most
   ``max_unpacked`` bytes (what is read is counted too, so a size that lies gains nothing);
2. every XML part is streamed through expat with any DOCTYPE refused (no entity can expand);
3. in each worksheet, its declared ``<dimension>`` first, then every row and cell as it streams
   by: the last row, the last column, the used rectangle and the number of cell elements must
   stay under the caps, and the scan stops at the first one crossed;
4. only then calamine reads the first sheet; the text of its cells must stay under ``max_text``
   before the rows leave the worker.

calamine also copies a shared string into every cell that names it (50 strings of 2 MB named
by 36,000 cells: 72 GB); that, and anything else the caps do not foresee, ends on the worker's
address-space limit, not in the server.
"""
from __future__ import annotations

import csv
import io
import re
import warnings
import zipfile
from dataclasses import dataclass
from typing import Any, Iterable, Sequence
from xml.parsers import expat

from ..core.refused import Refused

TOO_LARGE_ZH, TOO_LARGE_EN = "文件过大或已损坏", "the file is too large or damaged"


@dataclass(frozen=True)
class Limits:
    """Caps on one import file (the defaults fit a national quarter many times over)."""

    max_rows: int = 200_000          # data rows (a national quarter has a few thousand entries)
    max_columns: int = 200           # the works template has 18 columns
    max_cells: int = 5_000_000       # the sheet's used rectangle, rows x columns (calamine allocates it)
    max_text: int = 32 * 1024 * 1024  # characters the cells hold in all (as much as a 32 MiB CSV)
    max_unpacked: int = 256 * 1024 * 1024  # bytes of an XLSX's parts once unzipped
    max_members: int = 1_000         # parts in an XLSX zip (Excel writes about a dozen)

    @property
    def max_sheet_rows(self) -> int:
        """The last row a sheet may use: the data rows, a header and a few title or blank rows."""
        return self.max_rows + 100


class FileRefused(Refused):
    """The file cannot be read within the limits or at all (422); ``zh`` and ``en`` say why."""

    def __init__(self, zh: str, en: str):
        super().__init__(422, "unreadable_file", zh, en)


def too_large(zh: str, en: str) -> FileRefused:
    """A refusal that starts with “文件过大或已损坏” and says which cap was crossed."""
    return FileRefused(f"{TOO_LARGE_ZH}：{zh}", f"{TOO_LARGE_EN}: {en}")


@dataclass(frozen=True)
class Table:
    """A header row and the rows below it, each with its row number as a spreadsheet shows it."""

    header_row: int
    headers: list[Any]
    rows: list[tuple[int, list[Any]]]


def parse_table(data: bytes, filename: str, limits: Limits = Limits()) -> Table:
    """The table in ``data``: XLSX by content, otherwise CSV (UTF-8 with or without BOM, or GBK)."""
    if not data or not data.strip(b"\xef\xbb\xbf \t\r\n"):
        raise FileRefused("文件为空", "the file is empty")
    if data[:4] == b"PK\x03\x04" or filename.lower().endswith((".xlsx", ".xlsm")):
        return _table(_xlsx_rows(data, limits), limits)
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise FileRefused("不支持旧版 Excel（.xls）文件，请另存为 .xlsx 或 CSV",
                      "old Excel (.xls) files are not supported; save as .xlsx or CSV")
    return _table(_csv_rows(data, limits), limits)


# --- CSV --------------------------------------------------------------------------------------

def _decode(data: bytes) -> str:
    if b"\x00" in data:
        raise FileRefused("文件不是表格（含二进制内容），请上传 CSV 或 XLSX 文件",
                      "the file is not a table (it has binary content); upload CSV or XLSX")
    for encoding in ("utf-8-sig", "gb18030"):  # GB18030 is a superset of GBK
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if any(ord(ch) < 32 and ch not in "\t\r\n" for ch in text[:10_000]):
            break
        return text
    raise FileRefused("无法识别文件编码，请将 CSV 保存为 UTF-8 或 GBK 编码",
                  "unknown text encoding; save the CSV as UTF-8 or GBK")


def _csv_rows(data: bytes, limits: Limits) -> list[list[Any]]:
    text = _decode(data)
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = max([",", "\t", ";", "，"], key=first_line.count)
    rows: list[list[Any]] = []
    try:
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True):
            if len(rows) >= limits.max_sheet_rows:
                raise too_large(f"超过 {limits.max_sheet_rows:,} 行（每个文件最多 {limits.max_rows:,} 行数据）",
                                f"more than {limits.max_sheet_rows:,} rows (at most {limits.max_rows:,} "
                                "data rows a file)")
            if len(row) > limits.max_columns:
                raise too_large(f"第 {len(rows) + 1} 行有 {len(row):,} 列（最多 {limits.max_columns} 列）",
                                f"row {len(rows) + 1} has {len(row):,} columns (at most {limits.max_columns})")
            rows.append(row)
    except csv.Error as exc:
        raise FileRefused(f"CSV 格式有误：{exc}（请检查引号是否配对）",
                      f"malformed CSV: {exc} (check that quotes are paired)") from None
    return rows


# --- XLSX: the checks before calamine ---------------------------------------------------------

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_CELL_REF = re.compile(r"([A-Za-z]{1,3})([0-9]{1,7})$")


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - 64
    return number


def _column_letters(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _cell(ref: str) -> tuple[int, int] | None:
    """(row, column) of a reference such as ``XFD1048576`` (1-based), or None if it is not one."""
    match = _CELL_REF.match(ref.strip())
    return (int(match.group(2)), _column_number(match.group(1))) if match else None


class _Budget:
    """Bytes unzipped so far, against ``max_unpacked``."""

    def __init__(self, limits: Limits):
        self.limits, self.used = limits, 0

    def take(self, size: int, part: str) -> None:
        self.used += size
        if self.used > self.limits.max_unpacked:
            mib = self.limits.max_unpacked // (1024 * 1024)
            raise too_large(f"解压后超过 {mib} MiB（在 {part} 处）", f"more than {mib} MiB once unzipped (at {part})")


def _stream(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget, scan: "_SheetScan") -> None:
    """Feed one part to a fresh expat parser (any DOCTYPE refused) in 1 MiB pieces, counting every byte."""
    parser = expat.ParserCreate()
    parser.buffer_text = True

    def refuse_doctype(*_args):
        raise too_large(f"{info.filename} 含有 DTD 声明（XLSX 不应有：可能是实体膨胀攻击）",
                        f"{info.filename} carries a DTD (no XLSX does: an entity-expansion attack?)")

    parser.StartDoctypeDeclHandler = refuse_doctype
    parser.EntityDeclHandler = refuse_doctype
    scan.install(parser)
    with archive.open(info) as part:
        while chunk := part.read(1 << 20):
            budget.take(len(chunk), info.filename)
            parser.Parse(chunk, False)
        parser.Parse(b"", True)


class _SheetScan:
    """Streams one part: a worksheet's declared dimension, then its last row and column, its used
    rectangle and its number of cell elements. Any other part has no rows and no cells."""

    def __init__(self, name: str, limits: Limits):
        self.name, self.limits = name, limits
        self.row = self.column = self.last_row = self.last_column = self.cells = 0
        self._columns: dict[str, int] = {}

    def install(self, parser) -> None:
        parser.StartElementHandler = self.start

    def _declared(self, ref: str) -> None:
        corners = [_cell(part) for part in ref.split(":")]
        if not ref or None in corners:
            return  # no usable declaration: the rows themselves are checked below
        rows, columns = max(c[0] for c in corners), max(c[1] for c in corners)
        if rows > self.limits.max_sheet_rows or columns > self.limits.max_columns or \
                rows * columns > self.limits.max_cells:
            raise too_large(
                f"工作表 {self.name} 声明的范围 {ref}（{rows:,} 行 × {columns:,} 列）超过上限"
                f"（最多 {self.limits.max_sheet_rows:,} 行、{self.limits.max_columns} 列、"
                f"{self.limits.max_cells:,} 个单元格）",
                f"sheet {self.name} declares the range {ref} ({rows:,} rows x {columns:,} columns), over the "
                f"limit ({self.limits.max_sheet_rows:,} rows, {self.limits.max_columns} columns, "
                f"{self.limits.max_cells:,} cells)")

    def _grow(self, row: int, column: int) -> None:
        limits = self.limits
        if self.cells > limits.max_cells:  # calamine keeps every cell element, repeats included
            raise too_large(f"工作表 {self.name} 的单元格超过 {limits.max_cells:,} 个",
                            f"sheet {self.name} has more than {limits.max_cells:,} cells")
        if row > limits.max_sheet_rows:
            raise too_large(f"工作表 {self.name} 超过 {limits.max_sheet_rows:,} 行（每个文件最多 {limits.max_rows:,} 行数据）",
                            f"sheet {self.name} has more than {limits.max_sheet_rows:,} rows (at most "
                            f"{limits.max_rows:,} data rows a file)")
        if column > limits.max_columns:
            ref = f"{_column_letters(column)}{row}"
            raise too_large(f"工作表 {self.name} 的单元格 {ref} 超过第 {limits.max_columns} 列",
                            f"cell {ref} of sheet {self.name} is beyond column {limits.max_columns}")
        self.last_row, self.last_column = max(self.last_row, row), max(self.last_column, column)
        if self.last_row * self.last_column > limits.max_cells:
            raise too_large(f"工作表 {self.name} 的使用范围（{self.last_row:,} 行 × {self.last_column} 列）"
                            f"超过 {limits.max_cells:,} 个单元格",
                            f"the used range of sheet {self.name} ({self.last_row:,} rows x {self.last_column} "
                            f"columns) is over {limits.max_cells:,} cells")

    def start(self, name: str, attrs: dict) -> None:
        # Called for every element of every part: the common case (a cell inside the known
        # rectangle) costs a few string operations; the checks run only when the rectangle grows.
        local = name[name.rfind(":") + 1:]  # any prefix: calamine matches local names too
        if local == "c":
            self.cells += 1
            ref = attrs.get("r") or ""
            digits = ref.lstrip(_LETTERS)
            letters = ref[:len(ref) - len(digits)]
            if 0 < len(letters) <= 3 and digits.isascii() and digits.isdigit() and len(digits) <= 7:
                column, row = self._columns.get(letters) or self._column(letters), int(digits)
                self.row = max(self.row, row)
            else:  # no usable reference: the next cell of the row, as calamine reads it
                column, row = self.column + 1, max(self.row, 1)
            self.column = column
            if row > self.last_row or column > self.last_column or self.cells > self.limits.max_cells:
                self._grow(row, column)
        elif local == "row":
            number = attrs.get("r", "")
            self.row = int(number) if number.isascii() and number.isdigit() else self.row + 1
            self.column = 0
            if self.row > self.last_row:
                self._grow(self.row, 1)
        elif local == "dimension":
            self._declared(attrs.get("ref", ""))

    def _column(self, letters: str) -> int:
        self._columns[letters] = number = _column_number(letters)
        return number


def _looks_like_xml(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    with archive.open(info) as part:
        head = part.read(4)
    return head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"<" or head[:2] in (b"\xff\xfe", b"\xfe\xff")


def check_xlsx(data: bytes, limits: Limits = Limits()) -> None:
    """Refuse a workbook that would take calamine past the caps (see the module's docstring)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise FileRefused("文件不是有效的 XLSX 表格", "the file is not a valid XLSX workbook") from None
    with archive:
        members = archive.infolist()
        if len(members) > limits.max_members:
            raise too_large(f"压缩包内有 {len(members):,} 个部件（最多 {limits.max_members:,} 个）",
                            f"the zip holds {len(members):,} parts (at most {limits.max_members:,})")
        declared = sum(info.file_size for info in members)
        if declared > limits.max_unpacked:
            raise too_large(f"解压后将有 {declared / 2**20:,.0f} MiB（最多 {limits.max_unpacked // 2**20} MiB）",
                            f"it would unzip to {declared / 2**20:,.0f} MiB (at most "
                            f"{limits.max_unpacked // 2**20} MiB)")
        budget = _Budget(limits)
        for info in members:  # every part calamine might read as XML, not only the sheets it names
            if not info.is_dir() and _looks_like_xml(archive, info):
                _stream(archive, info, budget, _SheetScan(info.filename, limits))


def _text_within(rows: list[list[Any]], limits: Limits) -> None:
    """Refuse a table whose cells hold more text than ``max_text`` (before it leaves the worker)."""
    total = 0
    for number, row in enumerate(rows, start=1):
        total += sum(len(value) for value in row if isinstance(value, str))
        if total > limits.max_text:
            mib = limits.max_text // (1024 * 1024)
            raise too_large(f"单元格文字超过 {mib}M 个字符（在第 {number:,} 行）",
                            f"the cells hold more than {mib}M characters (at row {number:,})")


def _xlsx_rows(data: bytes, limits: Limits) -> list[list[Any]]:
    # calamine (Rust) reads 10,000 rows in about 0.3 s where openpyxl takes about 6 s; date
    # cells come back as dates, numbers as numbers, empty cells as "".
    from python_calamine import CalamineWorkbook

    try:
        check_xlsx(data, limits)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError, RuntimeError,
            expat.ExpatError) as exc:  # a damaged part: bad CRC, unknown compression, broken XML
        raise FileRefused("文件不是有效的 XLSX 表格（无法解压或 XML 有误）",
                      f"the file is not a valid XLSX workbook ({type(exc).__name__})") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
            if not workbook.sheet_names:
                raise FileRefused("XLSX 文件中没有工作表", "the XLSX workbook has no worksheet")
            # skip_empty_area=False keeps row 1 as row 1, so row numbers match the spreadsheet.
            rows = workbook.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except FileRefused:
        raise
    except Exception as exc:  # noqa: BLE001 — any failure of an untrusted workbook is a bad file
        raise FileRefused("文件不是有效的 XLSX 表格（无法读取工作表）",
                      f"the file is not a valid XLSX workbook ({type(exc).__name__})") from None
    _text_within(rows, limits)
    return rows  # lists already: no copy (a 200,000-row file is millions of cells)


# --- both -------------------------------------------------------------------------------------

def _blank(values: Sequence[Any]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def _table(rows: Iterable[list[Any]], limits: Limits) -> Table:
    numbered = [(index + 1, values) for index, values in enumerate(rows)]
    while numbered and _blank(numbered[0][1]):
        numbered.pop(0)
    if not numbered:
        raise FileRefused("文件为空（没有表头）", "the file is empty (no header row)")
    header_row, headers = numbered[0]
    body = [(number, values) for number, values in numbered[1:] if not _blank(values)]
    if not body:
        raise FileRefused("文件只有表头，没有数据行", "the file has a header row but no entries")
    if len(body) > limits.max_rows:
        raise too_large(f"数据行过多（超过 {limits.max_rows:,} 行）", f"too many rows (more than {limits.max_rows:,})")
    return Table(header_row, headers, body)
