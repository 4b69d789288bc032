"""Exports open where a sign-off desk opens them: CSV with a BOM, XLSX in openpyxl, PDF with
Chinese text (pdftotext); a missing CJK font names the package; the snapshot hash covers
exactly the frozen fields."""
from __future__ import annotations

import copy
import io
import subprocess

import openpyxl
import pytest

from review_support import scored_round
from testkit import PASSWORD, require_tool
from web.signing.snapshot import FROZEN_FIELDS, canonical_json, content_sha256

KEY = "2025Q1"


def bearer(client, username):
    token = client.post("/api/v1/tokens", json={"username": username, "password": PASSWORD}).get_json()["token"]
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def signed(client, session, make_user):
    scored_round(session, make_user)
    make_user("chair1", role="chair", display_name="李组长")
    headers = bearer(client, "chair1")
    body = client.post(f"/api/v1/rounds/{KEY}/shortlist/signoff", json={"password": PASSWORD, "dissent": "保留意见：纪录片名额偏少"},
                       headers=headers).get_json()
    included = [e["title"] for e in client.get(f"/api/v1/rounds/{KEY}/shortlist", headers=headers).get_json()["entries"]
                if e["included"]]
    return headers, body["content_sha256"], included


def test_csv_has_a_bom_and_the_shortlist(client, signed):
    headers, _sha, included = signed
    response = client.get(f"/api/v1/rounds/{KEY}/shortlist.csv", headers=headers)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")
    text = response.data.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("名次,作品名称,类别")
    table = text.split("\r\n\r\n")[0]  # the signature block follows after an empty line (#12)
    assert len(table.strip().splitlines()) == len(included) + 1 and all(title in text for title in included)
    assert text.split("\r\n\r\n")[1].startswith("签署,姓名,签署时间,保留意见")
    full = client.get(f"/api/v1/rounds/{KEY}/shortlist.csv?scope=rankings", headers=headers).data.decode("utf-8-sig")
    assert len(full.split("\r\n\r\n")[0].strip().splitlines()) == 15
    assert "filename*=UTF-8''2025Q1-shortlist-v1.csv" in response.headers["Content-Disposition"]


def test_xlsx_opens_with_a_sheet_per_category_and_the_hash(client, signed):
    headers, sha, included = signed
    response = client.get(f"/api/v1/rounds/{KEY}/shortlist.xlsx?scope=rankings", headers=headers)
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["网络纪录片", "网络剧", "方法与签署"]
    assert book["网络剧"]["B2"].value == "网络剧作品01" and book["网络剧"].max_row == 9
    meta = {row[0]: row[1] for row in book["方法与签署"].iter_rows(values_only=True)}
    assert meta["快照 SHA-256"] == sha and "affine" in meta["标准化方法"]
    assert any("纪录片名额偏少" in str(v) for v in meta.values())


def test_pdf_carries_chinese_text(client, signed, tmp_path):
    headers, sha, included = signed
    response = client.get(f"/api/v1/rounds/{KEY}/shortlist.pdf", headers=headers)
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    path = tmp_path / "shortlist.pdf"
    path.write_bytes(response.data)
    text = subprocess.run([require_tool("pdftotext"), "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "推优入选名单" in text and sha in text and "评审组组长签字" in text
    assert all(title in text for title in included)


def test_pdf_without_a_cjk_font_names_the_package(client, signed, monkeypatch):
    from web.exports import fonts, pdf

    def no_font():
        raise fonts.FontMissing()

    monkeypatch.setattr(pdf, "find_cjk_font", no_font)
    response = client.get(f"/api/v1/rounds/{KEY}/shortlist.pdf", headers=signed[0])
    assert response.status_code == 503
    assert response.get_json()["package"] == "fonts-wqy-microhei"
    assert "fonts-wqy-microhei" in response.get_json()["message"]


def test_font_lookup_fails_cleanly_when_fontconfig_finds_nothing(monkeypatch):
    from web.exports import fonts

    monkeypatch.setattr(fonts, "_run", lambda *args: "")
    with pytest.raises(fonts.FontMissing, match="fonts-wqy-microhei"):
        fonts.find_cjk_font()


def test_unsigned_exports_are_marked_as_drafts(client, session, make_user):
    scored_round(session, make_user)
    make_user("chair1", role="chair")
    response = client.get(f"/api/v1/rounds/{KEY}/shortlist.xlsx", headers=bearer(client, "chair1"))
    meta = {row[0]: row[1] for row in openpyxl.load_workbook(io.BytesIO(response.data))["方法与签署"].iter_rows(values_only=True)}
    assert meta["快照 SHA-256"] == "未签署，无快照" and "未" in meta["状态"]


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
