"""Exports open where a sign-off desk opens them: CSV with a BOM, XLSX in openpyxl, PDF with
Chinese text (pdftotext); a missing CJK font names the package; the snapshot hash covers
exactly the frozen fields."""
from __future__ import annotations

import copy
import csv
import io
import subprocess

import openpyxl
import pytest

from helpers.review import scored_round
from testkit import PASSWORD, require_tool
from web.signing.snapshot import FROZEN_FIELDS, canonical_json, content_sha256
from helpers.api import bearer

KEY = "2025Q1"


CHAIR_DISSENT = "保留意见：纪录片名额偏少"
REASON_IN = "紧扣主题主线，传播效果突出，经组长提议调入"
REASON_OUT = "与已入选作品题材重复，调出由下一名递补"


def pdf_pages(data: bytes, tmp_path) -> list[str]:
    """The text of each page (pdftotext), in reading order."""
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    text = subprocess.run([require_tool("pdftotext"), "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
    return text.split("\f")[:-1]


@pytest.fixture
def moved(client, session, make_user):
    """A round in review whose stored proposal the chair changed: one work in, one out, each with a reason."""
    _round, works, experts = scored_round(session, make_user)
    make_user("chair1", role="chair", display_name="李组长")
    headers = bearer(client, "chair1")
    assert client.post(f"/api/v1/rounds/{KEY}/shortlist", json={}, headers=headers).status_code == 201
    entries = client.get(f"/api/v1/rounds/{KEY}/shortlist", headers=headers).get_json()["entries"]
    outside = next(e for e in entries if not e["included"] and e["category"] == "网络剧")
    inside = next(e for e in entries if e["included"] and e["category"] == "网络剧" and e["rank"] == 2)
    for entry, included, reason in ((outside, True, REASON_IN), (inside, False, REASON_OUT)):
        assert client.post(f"/api/v1/rounds/{KEY}/shortlist/entries/{entry['entry_id']}",
                           json={"included": included, "reason": reason}, headers=headers).status_code == 200
    return headers, experts, outside, inside


@pytest.fixture
def signed(client, moved):
    headers, experts, outside, inside = moved
    body = client.post(f"/api/v1/rounds/{KEY}/shortlist/signoff", json={"password": PASSWORD, "dissent": CHAIR_DISSENT},
                       headers=headers).get_json()
    included = [e["title"] for e in client.get(f"/api/v1/rounds/{KEY}/shortlist", headers=headers).get_json()["entries"]
                if e["included"]]
    return headers, body["content_sha256"], included


def test_csv_has_a_bom_the_shortlist_and_every_move_beside_its_entry(client, signed):
    headers, _sha, included = signed
    response = client.get(f"/api/v1/rounds/{KEY}/shortlist.csv", headers=headers)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")
    text = response.data.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("名次,作品名称,类别")  # a signed file: no draft comment
    table = list(csv.reader(io.StringIO(text.split("\r\n\r\n")[0])))
    header, body = table[0], table[1:]
    assert {r[1] for r in body if r[header.index("入选")] == "是"} == set(included)
    moves = {r[header.index("组长调整")]: r for r in body if r[header.index("组长调整")]}
    assert moves["调入"][header.index("组长调整理由")] == REASON_IN
    assert moves["调出"][header.index("组长调整理由")] == REASON_OUT and moves["调出"][header.index("入选")] == "否"
    assert "北京时间" in moves["调入"][header.index("调整时间")] and "+00:00" not in text
    assert text.split("\r\n\r\n")[1].startswith("签署,姓名,签署时间,保留意见")
    assert "评审组组长,李组长," in text and "北京时间" in text.split("\r\n\r\n")[1]
    assert "类别,计算方法" in text and "按仿射模型（评委偏差与尺度）计算" in text
    full = client.get(f"/api/v1/rounds/{KEY}/shortlist.csv?scope=rankings", headers=headers).data.decode("utf-8-sig")
    assert len(full.split("\r\n\r\n")[0].strip().splitlines()) == 15
    assert "filename*=UTF-8''2025Q1-shortlist-v1.csv" in response.headers["Content-Disposition"]


def test_xlsx_opens_ready_to_read(client, signed):
    headers, sha, included = signed
    response = client.get(f"/api/v1/rounds/{KEY}/shortlist.xlsx?scope=rankings", headers=headers)
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["网络纪录片", "网络剧", "方法与签署"]
    sheet = book["网络剧"]
    header = [c.value for c in sheet[1]]
    assert sheet["B2"].value == "网络剧作品01" and sheet.max_row == 9
    assert sheet.freeze_panes == "C2" and book["方法与签署"].freeze_panes == "A2"
    width_b = sheet.column_dimensions["B"].width
    assert 12 <= width_b <= 60 and sheet.column_dimensions["N"].width >= 2 * len(REASON_IN) * 0.9
    for row in sheet.iter_rows(min_row=2, values_only=True):
        assert isinstance(row[header.index("名次")], int) and isinstance(row[header.index("标准化得分")], float)
        assert isinstance(row[header.index("评分数")], int)
    for each in book.worksheets:
        for row in each.iter_rows():
            assert all(c.data_type != "f" for c in row)
    meta = {}
    for key, value in book["方法与签署"].iter_rows(min_row=2, values_only=True):
        meta.setdefault(key, []).append(value)
    assert meta["快照 SHA-256"] == [sha] and meta["标准化方法"] == ["仿射模型（评委偏差与尺度）"]
    assert meta["状态"][0].startswith("已签署（第 1 版") and "北京时间" in meta["状态"][0]
    assert meta["发文机关"] == ["国家广播电视总局网络视听节目管理司"]
    assert meta["标题"] == ["2025年第一季度网络视听节目推优专家评审完整排名"]
    assert all("{" not in line and "'" not in line for line in meta["方法参数"])  # readable lines, no dict
    assert any(line.startswith("名次区间：90% 区间") for line in meta["方法参数"])
    assert any(CHAIR_DISSENT in str(v) for v in meta["签名"])
    texts = " ".join(str(c) for s in book.worksheets for r in s.iter_rows(values_only=True) for c in r if c)
    assert "signed" not in texts and "+00:00" not in texts and "affine" not in texts


def test_pdf_is_a_document_to_sign(client, signed, tmp_path):
    headers, sha, included = signed
    response = client.get(f"/api/v1/rounds/{KEY}/shortlist.pdf", headers=headers)
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    pages = pdf_pages(response.data, tmp_path)
    text = "\f".join(pages)
    flat = "".join(text.split())
    assert "2025年第一季度网络视听节目推优专家评审结果" in flat and "（总局评审）" in flat
    assert "国家广播电视总局网络视听节目管理司" in flat and sha in text
    assert "北京时间" in text and "+00:00" not in text and "UTC" not in text
    assert "".join(REASON_IN.split()) in flat and "".join(REASON_OUT.split()) in flat
    assert "组长调入" in flat and "组长调出" in flat
    assert all(title in text for title in included)
    assert "草稿" not in flat and "评审组组长李组长系统签署" in flat and "第1版" in flat  # the seal
    for n, page in enumerate(pages, 1):
        assert f"第 {n} 页 / 共 {len(pages)} 页" in page and f"—{n}—" in "".join(page.split()) and sha in page


def test_the_signature_block_names_the_whole_panel_chair_first(client, signed, session, tmp_path):
    from web.core.models import User
    from sqlmodel import select
    headers = signed[0]
    experts = [u.username for u in session.exec(select(User).where(User.role == "expert")).all()]
    flat = "".join("\f".join(pdf_pages(client.get(f"/api/v1/rounds/{KEY}/shortlist.pdf", headers=headers).data,
                                         tmp_path)).split())
    block = flat[flat.index("评审组签署"):]
    assert block.index("李组长") < min(block.index(name) for name in experts)
    assert all(f"评审专家{name}未签署签字日期" in block for name in experts)  # paper lines (documents.toml)
    assert "".join(CHAIR_DISSENT.split()) in block


def test_an_unsigned_proposal_is_a_draft_in_every_format(client, moved, tmp_path):
    headers = moved[0]
    pdf = client.get(f"/api/v1/rounds/{KEY}/shortlist.pdf?scope=rankings", headers=headers)
    pages = pdf_pages(pdf.data, tmp_path)
    assert pages and all("草稿·未签署" in "".join(page.split()) for page in pages)
    assert all(f"第 {n} 页 / 共 {len(pages)} 页" in page for n, page in enumerate(pages, 1))
    assert "".join(REASON_IN.split()) in "".join("".join(pages).split())
    assert "filename*=UTF-8''2025Q1-rankings-%E8%8D%89%E7%A8%BF.pdf" in pdf.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(client.get(f"/api/v1/rounds/{KEY}/shortlist.xlsx", headers=headers).data))
    assert book.sheetnames and all(name.endswith("（草稿）") for name in book.sheetnames)
    meta = {row[0]: row[1] for row in book["方法与签署（草稿）"].iter_rows(values_only=True)}
    assert meta["快照 SHA-256"] == "未签署，无快照" and "未签署" in meta["状态"]
    text = client.get(f"/api/v1/rounds/{KEY}/shortlist.csv", headers=headers).data.decode("utf-8-sig")
    assert text.startswith("# 草稿 · 未签署") and text.splitlines()[1].startswith("名次,作品名称")


def test_the_shortlist_pdf_says_why_a_rank_is_skipped(client, signed, tmp_path):
    headers = signed[0]
    lines = "\f".join(pdf_pages(client.get(f"/api/v1/rounds/{KEY}/shortlist.pdf", headers=headers).data,
                                  tmp_path)).splitlines()
    skipped = next(line for line in lines if "网络剧作品" in line and " 否 " in line)
    assert "组长调出" in skipped


def test_the_signed_shortlist_page_shows_beijing_time(client, signed, login):
    login("chair1")
    page = client.get(f"/review/{KEY}/shortlist").get_data(as_text=True)
    assert "北京时间" in page and " UTC" not in page and "+00:00" not in page


def test_pdf_without_a_cjk_font_names_the_package(client, signed, monkeypatch):
    from web.exports import fonts, pdf

    def no_font():
        raise fonts.FontMissing()

    monkeypatch.setattr(pdf, "find_cjk_font", no_font)
    response = client.get(f"/api/v1/rounds/{KEY}/shortlist.pdf", headers=signed[0])
    assert response.status_code == 503
    assert response.get_json()["package"] == "fonts-noto-cjk"
    assert "fonts-noto-cjk" in response.get_json()["message"]


def test_font_lookup_fails_cleanly_when_fontconfig_finds_nothing(monkeypatch):
    from web.exports import fonts

    monkeypatch.setattr(fonts, "_run", lambda *args: "")
    with pytest.raises(fonts.FontMissing, match="fonts-noto-cjk"):
        fonts.find_cjk_font()


def test_the_serif_face_is_wanted_and_another_chinese_face_is_a_logged_fallback(monkeypatch, tmp_path, caplog):
    from web.exports import fonts

    serif, sans = tmp_path / "NotoSerifCJK-Regular.ttc", tmp_path / "wqy-microhei.ttc"
    serif.write_bytes(b"x")
    sans.write_bytes(b"x")
    listing = f"{sans}|0|80|0|WenQuanYi Micro Hei\n{serif}|2|80|0|Noto Serif CJK SC\n{serif}|2|200|0|Noto Serif CJK SC\n"
    monkeypatch.setattr(fonts, "_run", lambda *args: listing)
    chosen = fonts.find_cjk_font()
    assert (chosen.path, chosen.index, chosen.wanted) == (serif, 2, True)
    monkeypatch.setattr(fonts, "_run", lambda *args: f"{sans}|0|80|0|WenQuanYi Micro Hei\n")
    fonts._warn_once.cache_clear()
    with caplog.at_level("WARNING", logger="web.exports.fonts"):
        chosen = fonts.find_cjk_font()
    assert chosen.family == "WenQuanYi Micro Hei" and not chosen.wanted
    assert "Noto Serif CJK SC is not installed" in caplog.text


SNAPSHOT = {
    "round": {"key": "2025Q1", "kind": "quarter", "stage": "national", "unit": None, "criteria_set": "works"},
    "method": "affine", "params": {"band": 0.9, "seed": 20250, "slots": {"网络剧": 4}, "threshold": 6.0},
    "ratings": [[1, 7, 3, "artistry", 8.0], [1, 7, 3, "thought", 8.5]],
    "entries": [{"item_id": 3, "title": "山河作品", "rank": 1, "score": 8.2, "included": True, "proposed": True}],
    "overrides": [{"item_id": 3, "included": True, "override_reason": "题材重大", "override_by": "李组长"}],
}


def _paths(value, prefix=()):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, prefix + (index,))
    else:
        yield prefix


def test_hash_changes_when_any_frozen_field_changes():
    base = content_sha256(SNAPSHOT)
    leaves = list(_paths(SNAPSHOT))
    assert {path[0] for path in leaves} == set(FROZEN_FIELDS)
    for path in leaves:
        changed = copy.deepcopy(SNAPSHOT)
        target = changed
        for step in path[:-1]:
            target = target[step]
        old = target[path[-1]]
        target[path[-1]] = (not old) if isinstance(old, bool) else (old + 0.5 if isinstance(old, (int, float))
                                                                       else f"{old}改" if old else "x")
        assert content_sha256(changed) != base, path


def test_hash_does_not_change_otherwise():
    reordered = {key: SNAPSHOT[key] for key in reversed(list(SNAPSHOT))}
    reordered["round"] = dict(reversed(list(SNAPSHOT["round"].items())))
    assert content_sha256(reordered) == content_sha256(SNAPSHOT) == content_sha256(copy.deepcopy(SNAPSHOT))
    assert canonical_json(SNAPSHOT).startswith('{"entries":[{"included":true')
    assert "山河作品" in canonical_json(SNAPSHOT)  # UTF-8, not \\u escapes
    with pytest.raises(ValueError, match="lacks overrides"):
        canonical_json({k: v for k, v in SNAPSHOT.items() if k != "overrides"})


def test_the_annex_lists_the_explanations_the_sign_off_relied_on(client, session, make_user, tmp_path):
    from helpers.signing import wild_rating
    from sqlmodel import select
    from web.core.models import Round
    from web.rounds.operations import set_state

    world = wild_rating(client, session, make_user)
    explanation = "该片史实错误较多，故各项打低分。"
    assert client.post(f"/api/v1/assignments/{world.wild_id}/explanation", json={"text": explanation},
                       headers=bearer(client, world.wild_expert)).status_code == 201
    set_state(session=session, round_=session.exec(select(Round).where(Round.key == KEY)).one(), state="review",
              actor="t")
    session.commit()
    make_user("chair1", role="chair", display_name="李组长")
    headers = bearer(client, "chair1")
    assert client.post(f"/api/v1/rounds/{KEY}/shortlist/signoff", json={"password": PASSWORD},
                       headers=headers).status_code == 201
    flat = "".join("\f".join(pdf_pages(client.get(f"/api/v1/rounds/{KEY}/shortlist.pdf", headers=headers).data,
                                       tmp_path)).split())
    annex = flat[flat.index("附件：签署所依据的畸高/畸低评分说明与豁免"):]
    assert "王专家" in annex and "畸低" in annex and explanation in annex and "北京时间" in annex
    text = client.get(f"/api/v1/rounds/{KEY}/shortlist.csv", headers=headers).data.decode("utf-8-sig")
    assert "附件：畸高/畸低评分的说明与豁免" in text and explanation in text
    book = openpyxl.load_workbook(io.BytesIO(client.get(f"/api/v1/rounds/{KEY}/shortlist.xlsx", headers=headers).data))
    rows = list(book["附件·评分说明"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[3], r[4]) for r in rows] == [("王专家", "畸低", explanation)]


def test_every_document_is_built_in_exports():
    """No CSV, XLSX or PDF writer outside web/exports/ (issue 21); `tuiyou analyze` writes its
    machine-readable CSV itself (it must not load Flask), and the cell rules live in core."""
    import ast
    from pathlib import Path

    web = Path(__file__).resolve().parents[3] / "web"
    allowed = {web / "analysis" / "cli.py"}
    writers = []
    for path in web.rglob("*.py"):
        if web / "exports" in path.parents or path in allowed:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "csv":
                names = [f"csv.{node.attr}"] if node.attr in ("writer", "DictWriter") else []
            writers += [f"{path.relative_to(web)}: {name}" for name in names
                        if name.split(".")[0] in ("openpyxl", "fpdf", "xlsxwriter", "reportlab")
                        or name in ("csv.writer", "csv.DictWriter")]
    assert writers == []
