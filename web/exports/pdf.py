"""The shortlist and rankings PDF: the official page (official.py), the state, the method used
per category and its parameters, a table per category whose 说明 column gives every override's
reason and why a skipped rank is skipped, the whole panel's signature block, an annex of the
abnormal-score explanations and waivers, and the issuing body, date and seal at the end."""
from __future__ import annotations

from .document import DRAFT_MARK, ExportDocument
from .fonts import find_cjk_font
from .labels import DIRECTIONS, params_lines
from .official import MARGIN_X, OfficialPdf

# (column, heading, width in mm, right-aligned); 170 mm between the 20 mm margins.
TABLE = (("rank", "名次", 10, True), ("title", "作品名称", 52, False), ("score", "得分", 13, True),
         ("se", "标准误", 12, True), ("band", "名次区间", 16, True), ("n_ratings", "评分数", 11, True),
         ("included", "入选", 9, False), ("note", "说明", 47, False))
LINE_H = 4.6
PAD = 1.4
SIZE = 8.5


def _short(anchor: str | None) -> str:
    """COUNT:first 16 hex digits… (``tuiyou audit verify --anchor`` accepts this short form too)."""
    if not anchor:
        return "无"
    count, _, digest = anchor.partition(":")
    return f"{count}:{digest[:16]}…"


def to_pdf(doc: ExportDocument) -> bytes:
    """The PDF bytes; FontMissing (naming the package to install) when no CJK font exists."""
    footer = (f"快照 SHA-256 {doc.sha256}" if doc.sha256 else "未签署，无快照哈希") + \
        f" · {doc.audit_label} {_short(doc.audit_head)} ·"
    pdf = OfficialPdf(find_cjk_font(), watermark=DRAFT_MARK if doc.draft else None, footer_note=footer)
    pdf.add_page()
    pdf.masthead(doc.issuer, doc.title.title, doc.title.stage)
    _facts(pdf, doc)
    groups = doc.categories()
    if not groups:
        pdf.paragraph("无入选（宁缺毋滥）" if doc.scope == "shortlist" else "无评分", size=12)
    for category, rows in groups:
        _table(pdf, category, rows, doc)
    _signatures(pdf, doc)
    _annex(pdf, doc)
    date = doc.signed_at if not doc.draft else doc.generated_at
    seal = (f"第 {doc.version} 版", "已签署") if not doc.draft else None
    pdf.closing(doc.issuer, _day(doc, date), seal)
    return bytes(pdf.output())


def _day(doc: ExportDocument, value) -> str:
    from ..core.timefmt import day
    return day(value, rule=doc.rule)


def _facts(pdf: OfficialPdf, doc: ExportDocument) -> None:
    facts = [("状态", doc.state_label + ("（本文件为草稿，不是评审结果）" if doc.draft else "")),
             ("标准化方法", doc.method_label)]
    facts += [("计算方法", line) for line in doc.method_summary()]
    facts += [("方法参数", line) for line in params_lines(doc.params)]
    facts += [("快照 SHA-256", doc.sha256 or "未签署，无快照哈希"),
              (doc.audit_label, (doc.audit_head or "无") + ("（签署时；可用 tuiyou audit verify --anchor 核对）"
                                                     if not doc.draft else "（导出时）")),
              ("导出时间", doc.when(doc.generated_at))]
    pdf.set_font("song", size=9)
    for label, value in facts:
        lines = pdf.wrap(str(value), 170 - 26)
        pdf.need(len(lines) * 4.8)
        pdf.text(MARGIN_X, pdf.y + 3.6, label)
        for line in lines:
            pdf.text(MARGIN_X + 26, pdf.y + 3.6, line)
            pdf.y += 4.8
    pdf.y += 2


def _header(pdf: OfficialPdf) -> None:
    pdf.set_font("song", size=SIZE)
    pdf.set_fill_color(238, 241, 244)
    pdf.rect(MARGIN_X, pdf.y, 170, LINE_H + 2 * PAD, style="F")
    x = MARGIN_X
    with pdf.bold(0.15):
        for _column, heading, width, right in TABLE:
            pdf.text(x + (width - 1 - pdf.width_of(heading) if right else 1), pdf.y + PAD + 3.4, heading)
            x += width
    pdf.y += LINE_H + 2 * PAD


def _values(row: dict) -> dict[str, str]:
    se = row.get("se")
    return {"rank": str(row.get("rank", "")), "title": str(row.get("title", "")),
            "score": f"{row['score']:.2f}" if row.get("score") is not None else "–",
            "se": f"{se:.2f}" if se is not None else "–",
            "band": f"{row['rank_low']}–{row['rank_high']}" if row.get("rank_low") is not None else "",
            "n_ratings": str(row.get("n_ratings", "")), "included": "是" if row.get("included") else "否",
            "note": row.get("note", "")}


def _table(pdf: OfficialPdf, category: str, rows: list[dict], doc: ExportDocument) -> None:
    pdf.need(8 + 3 * (LINE_H + 2 * PAD))
    pdf.y += 2
    pdf.set_font("song", size=12)
    included = sum(1 for r in rows if r.get("included"))
    heading = f"{category}（入选 {included}）" if doc.scope == "shortlist" else f"{category}（{len(rows)}）"
    with pdf.bold(0.2):
        pdf.text(MARGIN_X, pdf.y + 5.5, heading)
    pdf.y += 8
    _header(pdf)
    pdf.set_font("song", size=SIZE)
    pdf.set_draw_color(200)
    for row in rows:
        values = _values(row)
        cells = [(pdf.wrap(values[c], w - 2) if c in ("title", "note") else [values[c]], w, right)
                 for c, _h, w, right in TABLE]
        height = max(len(lines) for lines, _w, _r in cells) * LINE_H + 2 * PAD
        if pdf.need(height):
            pdf.set_font("song", size=10)
            pdf.text(MARGIN_X, pdf.y + 4, f"{category}（续）")
            pdf.y += 6
            _header(pdf)
            pdf.set_font("song", size=SIZE)
        grey = not row.get("included")
        if grey:
            pdf.set_text_color(110)
        x, top = MARGIN_X, pdf.y
        width_of, placed = pdf.width_of, []
        for lines, width, right in cells:
            for i, line in enumerate(lines):
                if line:
                    placed.append((x + (width - 1 - width_of(line) if right else 1), top + PAD + 3.3 + i * LINE_H, line))
            x += width
        pdf.texts(placed)
        if grey:
            pdf.set_text_color(0)
        pdf.y = top + height
        pdf.line(MARGIN_X, pdf.y, MARGIN_X + 170, pdf.y)  # in the rule colour set once above
    pdf.set_draw_color(0)


def _signatures(pdf: OfficialPdf, doc: ExportDocument) -> None:
    """One line per member, chair first: the system signature's time or 未签署, the dissent beneath
    (wrapped, no gap), and a line to sign by hand when paper signatures are on."""
    pdf.need(30)
    pdf.y += 6
    pdf.set_font("song", size=12)
    with pdf.bold(0.2):
        pdf.text(MARGIN_X, pdf.y + 5, f"评审组签署（{len(doc.signed)} / {len([m for m in doc.members if m.name])} 已系统签署）")
    pdf.y += 9
    paper = doc.rule.paper_signatures
    for member in doc.members:
        pdf.set_font("song", size=10)
        status = f"系统签署 {doc.when(member.signed_at)}" if member.signed_at else "未签署"
        dissent = pdf.wrap(f"保留意见：{member.dissent}", 170 - 24) if member.dissent else []
        line_h = 9 if paper else 6.5
        pdf.need(line_h + len(dissent) * 4.8)
        base = pdf.y + line_h - 2.2
        pdf.text(MARGIN_X, base, member.role_label)
        name = member.name or "（组长）"
        _fitted(pdf, name, 29)  # a long name is set smaller, never cut
        pdf.text(MARGIN_X + 20, base, name)
        pdf.set_font("song", size=8.5)
        _fitted(pdf, status, 55 if paper else 110)
        pdf.text(MARGIN_X + 51, base, status)
        if paper:
            pdf.text(MARGIN_X + 108, base, "签字")
            pdf.line(MARGIN_X + 116, base + 0.8, MARGIN_X + 146, base + 0.8)
            pdf.text(MARGIN_X + 148, base, "日期")
            pdf.line(MARGIN_X + 156, base + 0.8, MARGIN_X + 170, base + 0.8)
        pdf.y += line_h
        if dissent:
            pdf.set_font("song", size=9)
            pdf.set_text_color(60)
            for text in dissent:
                pdf.text(MARGIN_X + 24, pdf.y + 3.4, text)
                pdf.y += 4.8
            pdf.set_text_color(0)


def _fitted(pdf: OfficialPdf, text: str, width: float) -> None:
    """Make the current size small enough for ``text`` to fit ``width`` (down to 6 pt)."""
    while pdf.width_of(text) > width and pdf.font_size_pt > 6:
        pdf.set_font("song", size=pdf.font_size_pt - 0.5)


def _annex(pdf: OfficialPdf, doc: ExportDocument) -> None:
    if not doc.annex:
        return
    pdf.need(30)
    pdf.y += 8
    pdf.set_font("song", size=12)
    with pdf.bold(0.2):
        pdf.text(MARGIN_X, pdf.y + 5, f"附件：签署所依据的畸高/畸低评分说明与豁免（{len(doc.annex)} 条）")
    pdf.y += 9
    for n, item in enumerate(doc.annex, 1):
        head = f"{n}. {item.expert} · {item.category}《{item.title}》 · {DIRECTIONS.get(item.direction, item.direction)}"
        pdf.paragraph(head, size=9.5, height=5)
        if item.explanation:
            pdf.paragraph(f"专家说明（{doc.when(item.explained_at)}）：{item.explanation}", size=9, height=4.8, indent=6)
        if item.waiver:
            pdf.paragraph(f"组长豁免（{item.waived_by or ''}，{doc.when(item.waived_at)}）：{item.waiver}",
                          size=9, height=4.8, indent=6)
