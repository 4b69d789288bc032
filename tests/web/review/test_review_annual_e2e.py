"""Issue 12 item 4: the annual round end to end, through the contracts only.

A secretariat runs a national quarter with the ``tuiyou`` commands (round, import-works, user
add, assign), the experts score through ``PUT /api/v1/assignments/{id}/scores`` and submit, the
chair proposes and signs; then ``tuiyou round create-annual`` builds the year's round from the
signed selection, and that round is assigned, scored, ranked, proposed with the ANNUAL slots of
config/stages.toml, signed by the chair and a member, and exported (CSV, XLSX, PDF). The annual
round refuses what was not in a signed quarterly selection: an import into it, the quarter's
works the chair left out, and a quarter not yet signed.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess

from openpyxl import load_workbook
from sqlmodel import select

from helpers.e2e import add_user, bearer, cli, import_works, ok, score_round, set_state, steps
from helpers.intake import csv_bytes, dump_database, work_row
from scoring.rules.config import load_rules
from testkit import PASSWORD, require_tool
from web.core.models import AuditEvent, Round, Work

# true quality of each work: Q1 proposes 4 网络剧 (quarter slots 4, floor 6.0) and all 3 网络电影;
# the annual round then keeps 3 网络剧 and 2 网络电影 (annual slots 3 and 2, floor 7.0)
QUALITY = {"春山": 9.2, "江月": 8.6, "长河": 8.0, "晚钟": 7.5, "旧巷": 5.0,
           "星图": 8.8, "归帆": 7.8, "雾城": 6.5}
CATEGORY = {**{t: "网络剧" for t in ("春山", "江月", "长河", "晚钟", "旧巷")},
            **{t: "网络电影" for t in ("星图", "归帆", "雾城")}}
EXPERTS = [f"expert{i}" for i in range(1, 6)]
BIAS = {"expert1": 0.5, "expert2": -0.5, "expert3": 0.0, "expert4": 0.5, "expert5": -0.5}


def title_of(n: int, short: str) -> str:
    return f"{short}之歌第{n}部"


def short_of(title: str) -> str:
    return title[:2]


def value_of(expert: str, title: str, criterion: str) -> float:
    """A consistent panel: each expert a little severe or lenient, never 30% away from the others."""
    return steps(QUALITY[short_of(title)] + BIAS[expert])


def q1_file() -> bytes:
    rows = [work_row(n, title=title_of(n, short), category=CATEGORY[short],
                     license_no=f"（浙）网{'剧' if CATEGORY[short] == '网络剧' else '影'}审字（2024）第{n:03d}号")
            for n, short in enumerate(QUALITY, start=1)]
    return csv_bytes(rows)


def quarter_signed(app, runner, client, tmp_path) -> dict:
    """2025Q1 imported, assigned, scored, proposed and signed; returns the chair's headers."""
    ok(cli(app, runner, "round", "create", "2025Q1"))
    set_state(app, runner, "2025Q1", "intake")
    ok(import_works(app, runner, tmp_path, "2025Q1", q1_file(), dt.date(2025, 3, 20)))
    for name in EXPERTS:
        add_user(app, runner, name, "expert", categories="网络剧,网络电影", org="某大学")
    add_user(app, runner, "chair1", "chair")
    set_state(app, runner, "2025Q1", "scoring")
    ok(cli(app, runner, "assign", "--round", "2025Q1", "--per-work", 4, "--seed", 7))
    assert score_round(client, EXPERTS, "2025Q1", value_of) == len(QUALITY) * 4
    set_state(app, runner, "2025Q1", "review")
    chair = bearer(client, "chair1")
    proposed = client.post("/api/v1/rounds/2025Q1/shortlist", json={}, headers=chair)
    assert proposed.status_code == 201, proposed.get_json()
    included = sorted(short_of(e["title"]) for e in proposed.get_json()["entries"] if e["included"])
    assert included == sorted(["春山", "江月", "长河", "晚钟", "星图", "归帆", "雾城"])
    signed = client.post("/api/v1/rounds/2025Q1/shortlist/signoff", json={"password": PASSWORD}, headers=chair)
    assert signed.status_code == 201, signed.get_json()
    return chair


def test_annual_round_from_a_signed_quarter_to_its_exports(app, runner, client, session, tmp_path):
    chair = quarter_signed(app, runner, client, tmp_path)
    # Q2 has entries but is not signed: create-annual says so and takes none of its works
    ok(cli(app, runner, "round", "create", "2025Q2"))
    set_state(app, runner, "2025Q2", "intake")
    q2 = csv_bytes([work_row(50, title="夏潮之歌第50部", first_broadcast="2025-03-05", last_broadcast="2025-05-20")])
    ok(import_works(app, runner, tmp_path, "2025Q2", q2, dt.date(2025, 6, 20)))

    built = ok(cli(app, runner, "round", "create-annual", "2025"))
    assert "7 works added from 2025Q1" in built.output and "not yet signed (not included): 2025Q2" in built.output
    annual = session.exec(select(Round).where(Round.key == "2025")).one()
    works = session.exec(select(Work).where(Work.round_id == annual.id)).all()
    assert sorted(short_of(w.title) for w in works) == sorted(["春山", "江月", "长河", "晚钟", "星图", "归帆", "雾城"])
    assert all(w.source_work_id is not None for w in works)  # copies, no re-submission

    # a work that was not in a signed quarterly selection cannot get in: the import is refused
    before = dump_database(app.extensions["tuiyou.engine"])
    refused = import_works(app, runner, tmp_path, "2025", csv_bytes([work_row(60, title="旧巷之歌第60部")]),
                           dt.date(2025, 12, 20))
    assert refused.exit_code == 1
    assert "年度推优从已签署的季度推优结果中产生" in refused.output and "create-annual" in refused.output
    assert dump_database(app.extensions["tuiyou.engine"]) == before

    set_state(app, runner, "2025", "intake", "scoring")
    # once the annual round is being scored, create-annual adds nothing more (clear refusal, no write)
    before = dump_database(app.extensions["tuiyou.engine"])
    again = cli(app, runner, "round", "create-annual", "2025")
    assert again.exit_code == 1 and "annual round 2025 already exists and is scoring" in again.output
    assert dump_database(app.extensions["tuiyou.engine"]) == before
    ok(cli(app, runner, "assign", "--round", "2025", "--per-work", 4, "--seed", 11))
    assert score_round(client, EXPERTS, "2025", value_of) == len(works) * 4
    set_state(app, runner, "2025", "review")

    rankings = client.get("/api/v1/rounds/2025/rankings", headers=chair)
    assert rankings.status_code == 200
    order = {(r["category"], r["rank"]): short_of(r["title"]) for r in rankings.get_json()}
    assert order[("网络剧", 1)] == "春山" and order[("网络电影", 1)] == "星图"

    proposed = client.post("/api/v1/rounds/2025/shortlist", json={"method": "affine"}, headers=chair)
    assert proposed.status_code == 201, proposed.get_json()
    entries = proposed.get_json()["entries"]
    slots = load_rules().shortlists["annual"].slots
    picked = {cat: sorted(short_of(e["title"]) for e in entries if e["proposed"] and e["category"] == cat)
              for cat in ("网络剧", "网络电影")}
    assert len(picked["网络剧"]) == slots["网络剧"] == 3 and len(picked["网络电影"]) == slots["网络电影"] == 2
    assert picked == {"网络剧": sorted(["春山", "江月", "长河"]), "网络电影": sorted(["星图", "归帆"])}

    signed = client.post("/api/v1/rounds/2025/shortlist/signoff", json={"password": PASSWORD}, headers=chair)
    assert signed.status_code == 201, signed.get_json()
    member = client.post("/api/v1/rounds/2025/shortlist/signoff", json={"password": PASSWORD,
                         "dissent": "归帆入选年度名单理由不足"}, headers=bearer(client, "expert2"))
    assert member.status_code == 201, member.get_json()
    assert client.post("/api/v1/rounds/2025/shortlist", json={}, headers=chair).status_code == 423
    rounds = {r["key"]: r["state"] for r in client.get("/api/v1/rounds", headers=chair).get_json()}
    assert rounds["2025"] == "signed" and rounds["2025Q1"] == "signed"

    annual_list = sorted(title_of(n, s) for n, s in enumerate(QUALITY, start=1)
                         if s in picked["网络剧"] + picked["网络电影"])
    text = client.get("/api/v1/rounds/2025/shortlist.csv", headers=chair).get_data().decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text.split("\r\n\r\n")[0])))
    assert sorted(row[1] for row in table[1:]) == annual_list
    assert "归帆入选年度名单理由不足" in text
    book = load_workbook(io.BytesIO(client.get("/api/v1/rounds/2025/shortlist.xlsx", headers=chair).data))
    cells = {str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row if v is not None}
    assert set(annual_list) <= cells and not {title_of(4, "晚钟"), title_of(8, "雾城")} & cells
    require_tool("pdftotext")
    pdf = client.get("/api/v1/rounds/2025/shortlist.pdf", headers=chair)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    plain = subprocess.run(["pdftotext", "-", "-"], input=pdf.data, capture_output=True, check=True).stdout.decode()
    flat = "".join(plain.split())
    assert all(title in flat for title in annual_list) and "晚钟之歌" not in flat
    actions = [e.action for e in session.exec(select(AuditEvent).where(AuditEvent.round_id == annual.id))]
    assert "round.annual_built" in actions and "shortlist.signed" in actions
