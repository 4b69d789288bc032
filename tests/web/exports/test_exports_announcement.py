"""The public announcement list (公示名单): only for a signed round; per category in the notice's
order, with title, producer and platform, in CSV, XLSX and PDF."""
from __future__ import annotations

import csv
import io
import re
import subprocess

from openpyxl import load_workbook

from helpers.signing import bearer
from helpers.review import scored_round
from scoring.rules.config import load_rules
from testkit import PASSWORD, require_tool
from web.core.models import Work

KEY = "2025Q1"


def test_the_announcement_lists_the_signed_shortlist_by_category(client, session, make_user):
    # 网络纪录片 comes before 网络剧 in the notice's order, though its works are created second
    _round, works, _experts = scored_round(session, make_user, key=KEY,
                                           works_per_category={"网络剧": 6, "网络纪录片": 5})
    for work in works:
        work.platform = "腾讯视频" if work.category == "网络剧" else "哔哩哔哩"
        session.add(work)
    works[0].copyright_holder = ""
    works[0].submitter = "某某影业"
    session.commit()
    make_user("chair1", role="chair")
    chair = bearer(client, "chair1")
    early = client.get(f"/api/v1/rounds/{KEY}/announcement.csv", headers=chair)
    assert early.status_code == 409 and early.get_json()["error"] == "not_signed"
    assert client.post(f"/api/v1/rounds/{KEY}/shortlist/signoff", json={"password": PASSWORD},
                       headers=chair).status_code == 201
    included = client.get(f"/api/v1/rounds/{KEY}/shortlist", headers=chair).get_json()["entries"]
    included = [e for e in included if e["included"]]
    text = client.get(f"/api/v1/rounds/{KEY}/announcement.csv", headers=chair).get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["序号", "类别", "作品名称", "出品/制作机构", "推荐单位", "播出平台"]
    body = rows[1:]
    assert len(body) == len(included) and [int(r[0]) for r in body] == list(range(1, len(body) + 1))
    order = load_rules().category_names
    categories = [r[1] for r in body]
    assert categories == sorted(categories, key=order.index) and categories[0] == "网络纪录片"
    by_title = {r[2]: r for r in body}
    first = session.get(Work, works[0].id)
    assert by_title[first.title][3:] == ["某某影业", first.unit, "腾讯视频"]  # no copyright holder: the submitter
    other = next(w for w in works[1:] if w.title in by_title)
    assert by_title[other.title][3] == other.copyright_holder
    book = load_workbook(io.BytesIO(client.get(f"/api/v1/rounds/{KEY}/announcement.xlsx", headers=chair).data))
    sheet = list(book["公示名单"].iter_rows(values_only=True))
    assert [list(r) for r in sheet[2:2 + len(body)]] == [[int(r[0]), *r[1:]] for r in body]
    assert sheet[-2][4] == "国家广播电视总局网络视听节目管理司" and sheet[-1][4].endswith("日")  # issuer and date (#21)
    require_tool("pdftotext")
    pdf = client.get(f"/api/v1/rounds/{KEY}/announcement.pdf", headers=chair)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    plain = "".join(subprocess.run(["pdftotext", "-", "-"], input=pdf.data, capture_output=True,
                                   check=True).stdout.decode().split())
    assert all("".join(r[2].split()) in plain for r in body) and "某某影业" in plain
    assert plain.index("网络纪录片（") < plain.index("网络剧（")
    # ready to publish (#21): issuing body, title in words, the signing's date, page numbers, no scores
    assert plain.startswith("国家广播电视总局网络视听节目管理司") and "2025年第一季度网络视听节目推优名单公示" in plain
    assert plain.count("国家广播电视总局网络视听节目管理司") == 2 and re.search(r"\d{4}年\d{1,2}月\d{1,2}日—1—", plain)
    assert "第1页/共1页" in plain and "得分" not in plain and "标准误" not in plain
