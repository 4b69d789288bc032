"""Every member signs: after the chair seals the round, each expert of its panel signs through the
same endpoint (password re-entered, optional dissent); the exports list signatures, dissents and
who has not signed."""
from __future__ import annotations

import csv
import io
import subprocess

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from helpers.signing import bearer
from helpers.review import scored_round
from testkit import PASSWORD, csrf_token, require_tool
from web.core.models import AuditEvent, SignOff

KEY = "2025Q1"
DISSENT = "对网络剧作品03入选持保留意见：题材重复"


@pytest.fixture
def sealed(client, session, make_user):
    round_, works, experts = scored_round(session, make_user, key=KEY)
    make_user("chair1", role="chair", display_name="李组长")
    chair = bearer(client, "chair1")
    assert client.post(f"/api/v1/rounds/{KEY}/shortlist/signoff", json={"password": PASSWORD},
                       headers=chair).status_code == 201
    return chair, experts


def sign(client, username, **body):
    return client.post(f"/api/v1/rounds/{KEY}/shortlist/signoff", json=body, headers=bearer(client, username))


def test_members_sign_with_their_password_and_an_optional_dissent(client, session, make_user, sealed):
    chair, experts = sealed
    first, second = experts[0].username, experts[1].username
    wrong = sign(client, first, password="not-mine")
    assert wrong.status_code == 403 and wrong.get_json()["error"] == "wrong_password"
    assert sign(client, first, password="").status_code == 403
    assert session.exec(select(SignOff).where(SignOff.user_id == experts[0].id)).first() is None
    ok = sign(client, first, password=PASSWORD)
    assert ok.status_code == 201 and ok.get_json()["dissent"] is None
    again = sign(client, first, password=PASSWORD)
    assert again.status_code == 409 and again.get_json()["error"] == "already_signed"
    dissent = sign(client, second, password=PASSWORD, dissent=DISSENT)
    assert dissent.status_code == 201 and dissent.get_json()["dissent"] == DISSENT
    make_user("outsider", role="expert")
    assert sign(client, "outsider", password=PASSWORD).status_code == 403
    # the chair's other writes still answer 423
    assert client.post(f"/api/v1/rounds/{KEY}/shortlist/signoff", json={"password": PASSWORD},
                       headers=chair).status_code == 423
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "shortlist.member_signed")).all()
    assert [e.actor for e in events] == [first, second] and events[1].detail["dissent"] == DISSENT


def test_before_the_seal_a_member_cannot_sign(client, session, make_user):
    _round, _works, experts = scored_round(session, make_user, key=KEY)
    refused = sign(client, experts[0].username, password=PASSWORD)
    assert refused.status_code == 409 and refused.get_json()["error"] == "not_sealed"


def test_all_three_exports_list_signatures_dissent_and_who_has_not_signed(client, session, sealed):
    chair, experts = sealed
    assert sign(client, experts[0].username, password=PASSWORD, dissent=DISSENT).status_code == 201
    unsigned = [e.username for e in experts[1:]]
    text = client.get(f"/api/v1/rounds/{KEY}/shortlist.csv", headers=chair).get_data().decode("utf-8-sig")
    block = text.split("\r\n\r\n")[1]  # the signature block, beneath the table
    rows = list(csv.reader(io.StringIO(block)))
    assert ["评审专家", experts[0].username] == rows[-len(unsigned) - 1][:2] and rows[-len(unsigned) - 1][3] == DISSENT
    assert [r[1] for r in rows if r and r[0] == "尚未签署"] == unsigned
    book = load_workbook(io.BytesIO(client.get(f"/api/v1/rounds/{KEY}/shortlist.xlsx", headers=chair).data))
    meta = [(r[0], r[1]) for r in book["方法与签署"].iter_rows(values_only=True)]
    assert any(k == "签名" and DISSENT in v and experts[0].username in v for k, v in meta)
    assert ("尚未签署", "、".join(unsigned)) in meta
    require_tool("pdftotext")
    pdf = client.get(f"/api/v1/rounds/{KEY}/shortlist.pdf", headers=chair)
    assert pdf.status_code == 200
    plain = subprocess.run(["pdftotext", "-", "-"], input=pdf.data, capture_output=True, check=True).stdout.decode()
    flat = "".join(plain.split())
    assert "".join(DISSENT.split()) in flat
    assert all(f"评审专家{name}未签署" in flat for name in unsigned)  # one line per member (#21)


def test_the_signing_page_shows_who_signed_and_takes_a_signature(client, session, sealed, login):
    _chair, experts = sealed
    login(experts[2].username)
    home = client.get("/").get_data(as_text=True)
    assert f'data-sign-round="{KEY}"' in home
    page = client.get(f"/panel/{KEY}/sign").get_data(as_text=True)
    assert "data-sign-form" in page and f'data-unsigned="{experts[2].id}"' in page
    token = csrf_token(client, f"/panel/{KEY}/sign")
    client.post(f"/panel/{KEY}/sign", data={"password": "wrong", "dissent": "", "csrf_token": token})
    assert session.exec(select(SignOff).where(SignOff.user_id == experts[2].id)).first() is None
    client.post(f"/panel/{KEY}/sign", data={"password": PASSWORD, "dissent": "保留意见", "csrf_token": token})
    page = client.get(f"/panel/{KEY}/sign").get_data(as_text=True)
    assert f'data-signed="{experts[2].id}"' in page and "保留意见" in page and "data-sign-form" not in page
    assert f'data-sign-round="{KEY}"' not in client.get("/").get_data(as_text=True)


def test_the_chairs_shortlist_page_links_to_the_members_signatures_once_sealed(client, session, sealed, login):
    login("chair1")
    page = client.get(f"/review/{KEY}/shortlist").get_data(as_text=True)
    assert f'href="/panel/{KEY}/sign"' in page and "data-members-signing" in page
    signatures = client.get(f"/panel/{KEY}/sign")
    assert signatures.status_code == 200 and "data-unsigned" in signatures.get_data(as_text=True)
