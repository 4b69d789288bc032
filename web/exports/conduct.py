"""The conduct review (履职评价) as an XLSX workbook: one sheet of figures per expert, one of the
abnormal ratings with their explanations or waivers, one of the rounds and their deadlines.
Chinese labels for every state, times in the configured zone, widths fitted, headers frozen."""
from __future__ import annotations

import io
from typing import Any, Protocol

from openpyxl import Workbook
from openpyxl.styles import Font

from ..core.spreadsheet import xlsx_append
from ..core.timefmt import moment
from .labels import DIRECTIONS, STATE_LABELS, method_label



class ConductReport(Protocol):
    """What this writer reads of the conduct feature's report (web/conduct/report.py builds it;
    exports does not import conduct, so the two features form no cycle)."""
    label: str
    scope: str
    method: str
    rule: Any
    rows: list
    names: dict
    flag_titles: dict
    rounds: list
    deadlines: dict

MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
COLUMNS = ("专家", "轮次数", "分配", "已提交", "按时提交", "逾期提交", "无截止日期", "回避", "评分用时（分钟）",
           "保存次数", "偏差", "尺度", "残差标准差", "拟合评分数", "畸高/畸低", "已说明", "已豁免", "未说明",
           "与共识一致性（Spearman）", "一致性作品数")


def _cell(value):
    return value if value is not None else ""


def _rounded(value, digits: int):
    return round(value, digits) if value is not None else None


def _fit(sheet, first_row: int = 1, cap: float = 40) -> None:
    """Column widths fitted to the content from ``first_row`` on (a CJK character counts two)."""
    from openpyxl.utils import get_column_letter
    widths: dict[int, int] = {}
    for row in sheet.iter_rows(min_row=first_row, values_only=True):
        for i, value in enumerate(row):
            if value not in (None, ""):
                widths[i] = max(widths.get(i, 0), sum(2 if ord(ch) > 0x2E80 else 1 for ch in str(value)))
    for i, width in widths.items():
        sheet.column_dimensions[get_column_letter(i + 1)].width = min(cap, max(6, width + 2))


def to_xlsx(report: ConductReport) -> bytes:
    """The workbook's bytes."""
    book = Workbook()
    sheet = book.active
    sheet.title = "履职评价"
    xlsx_append(sheet, [f"专家履职评价 · {report.label}" + ("（全年）" if report.scope == "year" else "")])
    sheet["A1"].font = Font(bold=True, size=13)
    xlsx_append(sheet, [f"偏差与尺度来自默认标准化方法（{method_label(report.method)}）；一致性为专家评分与标准化得分的 Spearman 秩相关；"
                  f"评分用时为同一任务相邻保存（及提交）间隔之和，超过 {report.rule.session_gap_minutes:g} 分钟的间隔不计。"])
    xlsx_append(sheet, list(COLUMNS))
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    for r in report.rows:
        xlsx_append(sheet, [_cell(v) for v in (
            report.names.get(r.expert_id, str(r.expert_id)), r.rounds, r.assigned, r.submitted, r.on_time, r.late,
            r.undated, r.recused, _rounded(r.minutes, 1), r.saves, _rounded(r.bias, 3), _rounded(r.scale, 3),
            _rounded(r.residual_sd, 3), r.n_fit, r.abnormal, r.explained, r.waived, r.unexplained,
            _rounded(r.agreement, 3), r.agreement_n)])
    _fit(sheet, first_row=3, cap=24)
    sheet.freeze_panes = "B4"
    flags = book.create_sheet("畸高畸低说明")
    xlsx_append(flags, ["专家", "轮次", "作品", "任务编号", "方向", "专家说明", "组长豁免理由"])
    for cell in flags[1]:
        cell.font = Font(bold=True)
    for r in report.rows:
        for f in r.flags:
            key, title = report.flag_titles.get(f.assignment_id, ("", ""))
            xlsx_append(flags, [report.names.get(r.expert_id, str(r.expert_id)), key, title, f.assignment_id,
                          DIRECTIONS.get(f.direction, f.direction), f.explanation or "", f.waiver or ""])
    _fit(flags, cap=60)
    flags.freeze_panes = "A2"
    rounds = book.create_sheet("轮次与截止时间")
    xlsx_append(rounds, ["轮次", "状态", "评审截止"])
    for cell in rounds[1]:
        cell.font = Font(bold=True)
    for round_ in report.rounds:
        deadline = report.deadlines.get(round_.key)
        xlsx_append(rounds, [round_.key, STATE_LABELS.get(round_.state.value, round_.state.value),
                             moment(deadline) if deadline else "未设定"])
    _fit(rounds)
    rounds.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
