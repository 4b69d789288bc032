"""The PDF export (fpdf2): A4, Chinese as text in a system CJK font, a table per category, the
method, date, round, snapshot hash, the audit anchor of a signed version (on every page), and
signature lines."""
from __future__ import annotations

from fpdf import FPDF

from .document import ExportDocument, cell
from .fonts import find_cjk_font

# (column, heading, width in mm); A4 portrait leaves 180 mm between 15 mm margins.
TABLE = (("rank", "名次", 11), ("title", "作品名称", 62), ("score", "得分", 15), ("se", "标准误", 14),
         ("band", "名次区间", 18), ("n_ratings", "评分数", 13), ("included", "入选", 11),
         ("note", "说明", 36))
ROW_H = 6.5


class _Pdf(FPDF):
    footer_text = ""

    def footer(self):
        self.set_y(-12)
        self.set_font("cjk", size=7.5)
        self.set_text_color(90)
        self.cell(0, 5, f"{self.footer_text}    第 {self.page_no()}/{{nb}} 页", align="C")


# A version signed before the log had a sealed head (migration 0009) has no anchor to print.
NO_ANCHOR = "无（本版本签署时审计日志尚无封存的头部）"


def _short_anchor(anchor: str | None) -> str:
    """COUNT:first 16 hex digits… (``tuiyou audit verify --anchor`` accepts this short form too)."""
    if not anchor:
        return "无"
    count, _, digest = anchor.partition(":")
    return f"{count}:{digest[:16]}…"


def _fit(pdf: FPDF, text: str, width: float) -> str:
    if pdf.get_string_width(text) <= width - 1.5:
        return text
    while text and pdf.get_string_width(text + "…") > width - 1.5:
        text = text[:-1]
    return text + "…"


def _note(row: dict) -> str:
    parts = []
    if row.get("override_reason"):
        parts.append(("调入：" if row.get("included") else "调出：") + row["override_reason"])
    if row.get("straddles_cut"):
        parts.append("跨越入选线")
    return "；".join(parts)


def to_pdf(doc: ExportDocument) -> bytes:
    """The PDF bytes; FontMissing (naming the package to install) when no CJK font exists."""
    font = find_cjk_font()
    pdf = _Pdf(format="A4")
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_font("cjk", "", str(font))
    pdf.footer_text = f"{doc.round_label} · SHA-256 {doc.sha256[:16] + '…' if doc.sha256 else '未签署'}"
    if doc.state == "signed":  # every page carries the audit log's head at the signing (short form)
        pdf.footer_text += f" · 审计锚点 {_short_anchor(doc.audit_anchor)}"
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.set_font("cjk", size=16)
    title = "入选名单" if doc.scope == "shortlist" else "完整排名"
    pdf.cell(0, 10, f"{doc.round_label} 推优{title}", new_x="LMARGIN", new_y="NEXT", align="C")
    pdf.set_font("cjk", size=9)
    state = {"signed": f"已签署（第 {doc.version} 版，{doc.signed_at}）", "proposed": "建议名单，尚未签署",
             "unsaved": "建议名单，尚未保存"}.get(doc.state, doc.state)
    rows = [("轮次", doc.round_label), ("状态", state), ("标准化方法", doc.method_label),
            ("导出日期", doc.generated_at[:10]), ("快照 SHA-256", doc.sha256 or "未签署，无快照哈希")]
    if doc.state == "signed":
        rows.append(("审计锚点", doc.audit_anchor or NO_ANCHOR))
    for label, value in rows:
        pdf.cell(28, 5.5, label)
        pdf.cell(0, 5.5, str(value), new_x="LMARGIN", new_y="NEXT")
    if doc.params.get("band"):
        pdf.cell(28, 5.5, "名次区间")
        pdf.cell(0, 5.5, f"{doc.params['band']:.0%} 区间（参数自助法，种子 {doc.params.get('seed')}）",
                 new_x="LMARGIN", new_y="NEXT")
    groups = doc.categories()
    if not groups:
        pdf.ln(4)
        pdf.cell(0, 8, "无入选（宁缺毋滥）" if doc.scope == "shortlist" else "无评分", new_x="LMARGIN", new_y="NEXT")
    for category, rows in groups:
        pdf.ln(3)
        if pdf.will_page_break(ROW_H * 3 + 8):
            pdf.add_page()
        pdf.set_font("cjk", size=11.5)
        pdf.cell(0, 8, f"{category}（{len(rows)}）", new_x="LMARGIN", new_y="NEXT")
        _header(pdf)
        for row in rows:
            if pdf.will_page_break(ROW_H):
                pdf.add_page()
                _header(pdf)
            values = {**{c: cell(row, c) for c, _h, _w in TABLE if c in row},
                      "score": f"{row['score']:.2f}", "se": f"{row['se']:.2f}" if row.get("se") is not None else "",
                      "band": f"{row['rank_low']}–{row['rank_high']}", "note": _note(row)}
            for column, _heading, width in TABLE:
                text = _fit(pdf, str(values.get(column, "")), width)
                pdf.cell(width, ROW_H, text, border="B", align="R" if column in ("score", "se", "n_ratings", "rank") else "L")
            pdf.ln(ROW_H)
    _signatures(pdf, doc)
    return bytes(pdf.output())


def _header(pdf: FPDF) -> None:
    pdf.set_font("cjk", size=8.5)
    pdf.set_fill_color(238, 241, 244)
    for _column, heading, width in TABLE:
        pdf.cell(width, ROW_H, heading, border="B", fill=True)
    pdf.ln(ROW_H)


def _signatures(pdf: FPDF, doc: ExportDocument) -> None:
    if pdf.will_page_break(60):
        pdf.add_page()
    pdf.ln(8)
    pdf.set_font("cjk", size=10)
    pdf.cell(0, 7, "签署", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=9)
    for signature in doc.signatures:
        line = f"{signature['role']}：{signature['name']}（系统签署 {signature['signed_at']}）"
        if signature.get("dissent"):
            line += f"  保留意见：{signature['dissent']}"
        pdf.multi_cell(0, 5.5, line, new_x="LMARGIN", new_y="NEXT")
    if doc.unsigned:
        pdf.multi_cell(0, 5.5, f"尚未签署的评审组成员（{len(doc.unsigned)}）：{'、'.join(doc.unsigned)}",
                       new_x="LMARGIN", new_y="NEXT")
    if doc.state == "signed" and doc.audit_anchor:
        pdf.multi_cell(0, 5.5, f"审计锚点（签署时审计日志的封存头部，可用 tuiyou audit verify --anchor 核对）："
                               f"{doc.audit_anchor}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    for label in ("评审组组长签字", "评审专家签字", "评审专家签字", "评审专家签字"):
        pdf.cell(40, 10, f"{label}：")
        pdf.cell(70, 10, "", border="B")
        pdf.cell(18, 10, "  日期：")
        pdf.cell(40, 10, "", border="B", new_x="LMARGIN", new_y="NEXT")
