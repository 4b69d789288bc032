"""Cells of every CSV and XLSX the product writes: text a spreadsheet would run is made inert.

A title, copyright holder, override reason, dissent, explanation or any other text that comes
from outside and starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (also after
leading spaces, and the full-width ``＝＋－＠`` that Chinese input methods type) is what Excel and
LibreOffice evaluate as a formula: ``=HYPERLINK("http://…"&A1,"点击")`` leaks a cell, and
``=cmd|' /C calc'!A0`` runs a program. As OWASP's CSV-injection guidance describes, such text
gets a leading single quote, which every spreadsheet shows as text; the csv module doubles
embedded quotes and quotes the field. In XLSX the cell is also written with the string type,
so openpyxl never makes it a formula cell. Numbers (int, float) stay numbers.
"""
from __future__ import annotations

from typing import Any, Iterable

FORMULA_STARTS = frozenset("=+-@\t\r＝＋－＠")


def neutralize(value: Any) -> Any:
    """``value`` as a cell may hold it: text that would start a formula gets a leading ``'``."""
    if not isinstance(value, str):
        return value
    if value.lstrip(" \u3000")[:1] in FORMULA_STARTS or value.lstrip()[:1] in FORMULA_STARTS:
        return "'" + value
    return value


def csv_row(values: Iterable[Any]) -> list[Any]:
    """A row for ``csv.writer``, every text cell neutralized."""
    return [neutralize(value) for value in values]


def xlsx_append(sheet, values: Iterable[Any]) -> None:
    """Append a row to an openpyxl sheet: text neutralized and stored as text, never as a formula."""
    sheet.append(csv_row(values))
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"


def xlsx_set(sheet, row: int, column: int, value: Any):
    """Set one cell of an openpyxl sheet the same way (text neutralized, stored as text); the cell."""
    cell = sheet.cell(row=row, column=column, value=neutralize(value))
    if isinstance(cell.value, str):
        cell.data_type = "s"
    return cell
