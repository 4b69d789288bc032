"""The expert conduct review (履职评价): figures on a small panel against hand-computed values,
the year view adding up rounds, the XLSX, and that only the admin ever sees it."""
from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook

from helpers.conduct import EXPLANATION, conduct_panel
from scoring.normalize import DEFAULT_METHOD
from web.conduct.report import round_report, year_report
from web.review import services

KEY = "2025Q1"


def _by_name(report):
    return {report.names[r.expert_id]: r for r in report.rows}


def test_round_figures_match_hand_computed_values(app, session, make_user):
    panel = conduct_panel(session, make_user)
    ranking = services.ranking_for(session=session, round_=panel.round, method=DEFAULT_METHOD)
    # the consensus the agreement is measured against: work 1 > 2 > 3 > 4 (precondition of the figures)
    scores = [ranking.row(w.id).score for w in panel.works[:4]]
    assert scores == sorted(scores, reverse=True)
    report = round_report(session=session, round_=panel.round)
    rows = _by_name(report)
    zhang, li, zhao = rows["张专家"], rows["李专家"], rows["赵专家"]
    # assigned, submitted, on time (one after 2025-04-30 24:00 Beijing time), recusals
    assert (zhang.assigned, zhang.submitted, zhang.on_time, zhang.late, zhang.recused) == (4, 4, 3, 1, 0)
    assert (li.assigned, li.submitted, li.on_time, li.late, li.recused) == (5, 4, 4, 0, 1)
    assert (zhao.assigned, zhao.submitted, zhao.on_time, zhao.recused) == (4, 3, 3, 0)
    # minutes: 张 5 + (6 + 6) + 4 + 0 (a 100-minute gap is a break); 李 4 + 7 + 1 + 2; 赵 3 + 2 + 9 + 6 (in progress)
    assert (zhang.minutes, li.minutes, zhao.minutes) == (pytest.approx(21), pytest.approx(14), pytest.approx(20))
    assert (zhang.saves, li.saves, zhao.saves) == (5, 4, 5)
    # Spearman with the consensus: 张 same order (1.0); 李 swaps 3 and 4: 1 - 6*2/60 = 0.8;
    # 赵 on works 1-3 ranks (2, 1, 3) against (3, 2, 1): 1 - 6*6/24 = -0.5
    assert (zhang.agreement, zhang.agreement_n) == (pytest.approx(1.0), 4)
    assert (li.agreement, li.agreement_n) == (pytest.approx(0.8), 4)
    assert (zhao.agreement, zhao.agreement_n) == (pytest.approx(-0.5), 3)
    # the 畸高 rating (10 against the others' 6.5) and its explanation
    assert (zhao.abnormal, zhao.explained, zhao.unexplained) == (1, 1, 0)
    assert zhao.flags[0].explanation == EXPLANATION and zhao.flags[0].direction == "high"
    assert zhang.abnormal == li.abnormal == 0
    # bias, scale and residual spread are the chair console's default fit, not a second one
    fit = {r["expert_id"]: r for r in ranking.raters}
    for row in (zhang, li, zhao):
        assert (row.bias, row.scale, row.residual_sd, row.n_fit) == (
            fit[row.expert_id]["bias"], fit[row.expert_id]["scale"], fit[row.expert_id]["residual_sd"],
            fit[row.expert_id]["n"])
    assert zhao.bias > zhang.bias > li.bias  # 赵 the most lenient, 李 the most severe
    assert report.deadlines[KEY].isoformat() == "2025-04-30T23:59:59.999999+08:00"


def test_year_view_adds_up_the_rounds_of_the_year(app, session, make_user):
    panel = conduct_panel(session, make_user, with_q2=True)
    q1 = _by_name(round_report(session=session, round_=panel.round))
    q2 = _by_name(round_report(session=session, round_=panel.q2))
    year = year_report(session=session, year=2025)
    assert [r.key for r in year.rounds] == ["2025Q1", "2025Q2"]  # 2024Q4 is another year
    rows = _by_name(year)
    zhang, li = rows["张专家"], rows["李专家"]
    assert (zhang.rounds, zhang.assigned, zhang.submitted, zhang.on_time, zhang.late) == (2, 7, 7, 3, 4)
    assert (li.rounds, li.assigned, li.submitted, li.on_time, li.recused) == (2, 8, 7, 7, 1)
    assert zhang.minutes == pytest.approx(21 + 3 * 10) and li.minutes == pytest.approx(14 + 3 * 30)
    assert rows["赵专家"].rounds == 1 and rows["赵专家"].assigned == 4
    # the fit's figures are weighted by the ratings behind them, agreement by the works
    for name in ("张专家", "李专家"):
        a, b = q1[name], q2[name]
        assert rows[name].bias == pytest.approx((a.bias * a.n_fit + b.bias * b.n_fit) / (a.n_fit + b.n_fit))
        weights = [(r.agreement, r.agreement_n) for r in (a, b) if r.agreement is not None]
        assert rows[name].agreement == pytest.approx(sum(v * n for v, n in weights) / sum(n for _, n in weights))


def test_page_and_xlsx_for_the_admin(app, client, session, make_user, login):
    conduct_panel(session, make_user)
    make_user("admin1", role="admin")
    login("admin1")
    assert client.get("/admin/conduct/").headers["Location"].endswith("/admin/conduct/year/2025")
    page = client.get(f"/admin/conduct/{KEY}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "专家履职评价" in html and "<svg" in html and "<script" not in html.split("</nav>", 2)[-1]
    assert re.search(r'data-agreement="0\.800"', html) and re.search(r'data-minutes="21\.0"', html)
    assert EXPLANATION in html
    assert client.get("/admin/conduct/2099Q1").status_code == 404
    year = client.get("/admin/conduct/year/2025")
    assert year.status_code == 200 and "2025 年全年" in year.get_data(as_text=True)
    empty = client.get("/admin/conduct/year/1999")
    assert empty.status_code == 200 and "尚无分配" in empty.get_data(as_text=True)

    answer = client.get(f"/admin/conduct/{KEY}/export.xlsx")
    assert answer.status_code == 200 and answer.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(answer.data))
    sheet = book["履职评价"]
    header = [c.value for c in sheet[3]]
    rows = {r[0]: dict(zip(header, r)) for r in sheet.iter_rows(min_row=4, values_only=True)}
    assert rows["张专家"]["按时提交"] == 3 and rows["张专家"]["逾期提交"] == 1
    assert rows["张专家"]["评分用时（分钟）"] == 21
    assert rows["李专家"]["回避"] == 1 and rows["李专家"]["与共识一致性（Spearman）"] == pytest.approx(0.8)
    assert rows["赵专家"]["与共识一致性（Spearman）"] == pytest.approx(-0.5) and rows["赵专家"]["已说明"] == 1
    flags = list(book["畸高畸低说明"].iter_rows(min_row=2, values_only=True))
    assert flags == [("赵专家", KEY, "山河作品3", flags[0][3], "畸高", EXPLANATION, None)]  # empty cells read back as None
    assert "仿射模型（评委偏差与尺度）" in sheet["A2"].value and "affine" not in sheet["A2"].value  # no code (#21)
    assert sheet.freeze_panes == "B4" and book["畸高畸低说明"].freeze_panes == "A2"  # ready to read (#21)
    explained = book["畸高畸低说明"].column_dimensions["F"].width  # fitted to the explanation (CJK counts two)
    wide = sum(2 if ord(ch) > 0x2E80 else 1 for ch in EXPLANATION)
    assert explained == min(60, wide + 2) and sheet.column_dimensions["A"].width >= 8
    deadlines = list(book["轮次与截止时间"].iter_rows(min_row=2, values_only=True))
    assert deadlines == [(KEY, "复核", "2025年4月30日 23:59 北京时间")]  # Chinese state, Beijing time (#21)
    year_book = load_workbook(io.BytesIO(client.get("/admin/conduct/year/2025/export.xlsx").data))
    assert year_book["履职评价"]["A1"].value.endswith("（全年）")


@pytest.mark.parametrize("role", ["chair", "expert"])
def test_chair_and_experts_are_refused(app, client, session, make_user, login, role):
    conduct_panel(session, make_user)
    make_user("someone", role=role)
    login("zhao" if role == "expert" else "someone")  # even the expert whose figures these are
    for path in ("/admin/conduct/", f"/admin/conduct/{KEY}", "/admin/conduct/year/2025",
                 f"/admin/conduct/{KEY}/export.xlsx", "/admin/conduct/year/2025/export.xlsx"):
        assert client.get(path).status_code == 403, path
    assert "履职评价" not in client.get("/").get_data(as_text=True)
