"""Issue 12 item 4: dissemination cases (优秀传播案例) end to end, through the contracts only.

The secretariat creates the year's case round and imports its cases with the ``tuiyou``
commands, assigns experts by hand on the round's assignment page (case rounds have no draw), the
experts score with the cases' own criteria set (config/criteria.toml ``[dissemination]``)
through the API, and the chair proposes: only cases whose score reaches the absolute bar, and
none at all when every case is below it (宁缺毋滥) — the page and the API say so.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
import subprocess

import pytest
from sqlmodel import select

from helpers.e2e import add_user, bearer, cli, ok, score_round, set_state, steps
from helpers.intake import csv_bytes
from scoring.rules.config import load_rules
from testkit import PASSWORD, csrf_token, require_tool
from web.core.models import Assignment, AuditEvent, Conflict, DisseminationCase

KEY = "2025-cases"
HEADERS = ["案例名称", "推荐单位", "开展时间", "案例简介", "传播渠道", "传播数据", "链接"]
FIELDS = ["name", "unit", "period", "description", "channels", "reach", "url"]
EXPERTS = ["case1", "case2", "case3", "case4"]
BIAS = {"case1": 0.5, "case2": -0.5, "case3": 0.0, "case4": 0.0}
NAMES = {"非遗春节": "非遗春节主题传播活动", "山海行": "山海行创意推广", "光影课": "光影课堂创新实践",
         "乡音": "乡音直播推介季"}


def case_file(names: list[str]) -> bytes:
    rows = [{"name": NAMES[n], "unit": f"{n}传播中心", "period": "2025-03-01 至 2025-05-31",
             "description": f"{NAMES[n]}：围绕主题开展的传播实践", "channels": "抖音、微博", "reach": "播放 1 亿次",
             "url": f"https://example.org/cases/{i}"} for i, n in enumerate(names, start=1)]
    return csv_bytes(rows, headers=HEADERS, keys=FIELDS)


def admin_client(app):
    """A second browser: the secretariat logged in on the pages."""
    browser = app.test_client()
    answer = browser.post("/login", data={"username": "office", "password": PASSWORD,
                                          "csrf_token": csrf_token(browser)})
    assert answer.status_code in (302, 303)
    return browser


def case_round(app, runner, client, session, tmp_path, quality: dict[str, float]) -> dict:
    """The case round imported, assigned by hand, scored by 4 experts through the API, in review."""
    app.config["TODAY"] = dt.date(2025, 12, 20)  # cases go in with Q4's deadlines
    ok(cli(app, runner, "round", "create", KEY))
    set_state(app, runner, KEY, "intake")
    path = tmp_path / "cases.csv"
    path.write_bytes(case_file(list(quality)))
    ok(cli(app, runner, "import-cases", path, "--round", KEY))
    for name in EXPERTS:
        add_user(app, runner, name, "expert", org="某大学")
    first = list(quality)[0]
    add_user(app, runner, "outsider", "expert", org=f"{first}传播中心")  # the unit of the first case
    add_user(app, runner, "office", "admin")
    add_user(app, runner, "chair1", "chair")
    set_state(app, runner, KEY, "scoring")
    office = admin_client(app)
    page = office.get(f"/admin/rounds/{KEY}/assignment")
    assert page.status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    cases = session.exec(select(DisseminationCase).order_by(DisseminationCase.id)).all()
    assert [c.name for c in cases] == [NAMES[n] for n in quality]

    def add(expert, case_id):
        return office.post(f"/admin/rounds/{KEY}/assignment/add", follow_redirects=True,
                           data={"csrf_token": token, "work_id": case_id, "expert": expert, "reason": "传播案例人工分配"})
    for case in cases:
        for expert in EXPERTS:
            assert "已保存调整" in add(expert, case.id).get_data(as_text=True)
    # the unit that submitted a case never rates it; nothing is written
    refused = add("outsider", cases[0].id).get_data(as_text=True)
    assert "存在回避关系" in refused and f"{first}传播中心" in refused
    assert len(session.exec(select(Assignment).where(Assignment.case_id == cases[0].id)).all()) == len(EXPERTS)
    # the round page lists the case assignments and its report counts the cases
    page = office.get(f"/admin/rounds/{KEY}/assignment").get_data(as_text=True)
    table = page.split('id="assignments"')[1]
    assert all(c.name in table for c in cases) and table.count("优秀传播案例") == len(cases) * len(EXPERTS)
    assert f'<dd id="coverage">0 / {len(cases)}</dd>' in page  # 4 experts each, short of the configured 5
    assert f'<dd id="assignment-count">{len(cases) * len(EXPERTS)}</dd>' in page

    criteria = {c.key for c in load_rules().criteria_sets["dissemination"].criteria}
    seen = []

    def value_of(expert, title, criterion):
        seen.append(criterion)
        short = next(k for k, v in NAMES.items() if v == title)
        return steps(quality[short] + BIAS[expert])
    for name in EXPERTS:
        listed = [a for a in client.get("/api/v1/assignments", headers=bearer(client, name)).get_json()
                  if a["round"] == KEY]
        assert len(listed) == len(quality) and {a["work"]["category"] for a in listed} == {"优秀传播案例"}
        assert all({c["key"] for c in a["criteria"]} == criteria for a in listed)
        assert all("传播中心" not in str(a["work"]) for a in listed)  # blind: not the submitting unit
    # the expert's home and scoring form (the page hooks of DESIGN.md) carry the case and its criteria
    tablet = app.test_client()
    tablet.post("/login", data={"username": EXPERTS[0], "password": PASSWORD, "csrf_token": csrf_token(tablet)})
    home = tablet.get("/").get_data(as_text=True)
    ids = re.findall(r'data-assignment-id="(\d+)"', home)
    assert len(set(ids)) == len(quality) and NAMES[first] in home
    form = tablet.get(f"/assignments/{ids[0]}").get_data(as_text=True)
    assert f'data-assignment-id="{ids[0]}"' in form and "传播中心" not in form
    assert set(re.findall(r'data-criterion="([a-z_]+)"', form)) == criteria
    assert score_round(client, EXPERTS, KEY, value_of) == len(quality) * len(EXPERTS)
    assert set(seen) == criteria and not criteria & {"thought", "artistry"}  # the cases' own set
    set_state(app, runner, KEY, "review")
    return bearer(client, "chair1")


def test_cases_are_proposed_only_above_the_bar(app, runner, client, session, tmp_path):
    bar = load_rules().criteria_sets["dissemination"].bar
    quality = {"非遗春节": 9.2, "山海行": 8.6, "光影课": 7.2, "乡音": 6.0}
    chair = case_round(app, runner, client, session, tmp_path, quality)
    rankings = client.get(f"/api/v1/rounds/{KEY}/rankings", headers=chair).get_json()
    assert [r["title"] for r in sorted(rankings, key=lambda r: r["rank"])] == [NAMES[n] for n in quality]
    proposed = client.post(f"/api/v1/rounds/{KEY}/shortlist", json={}, headers=chair)
    assert proposed.status_code == 201, proposed.get_json()
    entries = proposed.get_json()["entries"]
    assert {e["title"] for e in entries if e["proposed"]} == {NAMES["非遗春节"], NAMES["山海行"]}
    assert all(e["score"] >= bar for e in entries if e["proposed"])
    assert all(e["score"] < bar for e in entries if not e["proposed"])
    signed = client.post(f"/api/v1/rounds/{KEY}/shortlist/signoff", json={"password": PASSWORD}, headers=chair)
    assert signed.status_code == 201, signed.get_json()
    text = client.get(f"/api/v1/rounds/{KEY}/shortlist.csv", headers=chair).get_data().decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text.split("\r\n\r\n")[0])))
    assert sorted(row[1] for row in table[1:]) == sorted([NAMES["非遗春节"], NAMES["山海行"]])


def test_every_case_below_the_bar_proposes_none(app, runner, client, session, tmp_path, login):
    quality = {"非遗春节": 7.4, "光影课": 6.8, "乡音": 5.5}
    chair = case_round(app, runner, client, session, tmp_path, quality)
    view = client.get(f"/api/v1/rounds/{KEY}/shortlist", headers=chair).get_json()
    assert view["entries"] and not any(e["proposed"] or e["included"] for e in view["entries"])
    assert {e["reason"] for e in view["entries"]} == {"below_bar"}
    proposed = client.post(f"/api/v1/rounds/{KEY}/shortlist", json={}, headers=chair)
    assert proposed.status_code == 201 and not any(e["included"] for e in proposed.get_json()["entries"])
    page = app.test_client()
    page.post("/login", data={"username": "chair1", "password": PASSWORD, "csrf_token": csrf_token(page)})
    html = page.get(f"/review/{KEY}/shortlist").get_data(as_text=True)
    assert "入选 0 部" in html and "data-none-above-bar" in html
    assert "没有案例达到入选门槛 8.0 分：本轮不推荐任何案例（宁缺毋滥）" in html
    signed = client.post(f"/api/v1/rounds/{KEY}/shortlist/signoff", json={"password": PASSWORD}, headers=chair)
    assert signed.status_code == 201, signed.get_json()
    require_tool("pdftotext")
    pdf = client.get(f"/api/v1/rounds/{KEY}/shortlist.pdf", headers=chair)
    plain = subprocess.run(["pdftotext", "-", "-"], input=pdf.data, capture_output=True, check=True).stdout.decode()
    assert "无入选（宁缺毋滥）" in "".join(plain.split())
    assert all(NAMES[n] not in "".join(plain.split()) for n in quality)
    events = [e.action for e in session.exec(select(AuditEvent).where(AuditEvent.action == "assignment.added"))]
    assert len(events) == len(quality) * len(EXPERTS)


def test_a_case_assignment_by_hand_keeps_its_rules(client, session, make_user):
    from web.assignment.operations import AssignmentRefused, add_case_assignment
    from web.core.models import Conflict
    from web.rounds.operations import create_round, set_state as move

    round_ = create_round(session=session, key=KEY, actor="t")
    other = create_round(session=session, key="2025Q4", actor="t")
    cases = [DisseminationCase(round_id=round_.id, name=f"案例{i}", unit="某台", description="d") for i in range(3)]
    stray = DisseminationCase(round_id=other.id, name="别处案例", unit="某台", description="d")
    session.add_all([*cases, stray])
    move(session=session, round_=round_, state="intake", actor="t")
    session.commit()
    expert = make_user("solo", role="expert", organisation="某大学")
    expert.capacity = 2
    session.add(expert)
    declared = make_user("declared", role="expert", organisation="某大学")
    session.add(Conflict(user_id=declared.id, organisation="某台", reason="曾任职"))
    session.commit()

    def add(user, case, reason="人工分配"):
        return add_case_assignment(session=session, round_=round_, expert=user, case=case, actor="t", reason=reason)
    for user, case, reason, message in [(expert, cases[0], "", "请填写调整理由"),
                                        (expert, stray, "x", "不属于轮次"),
                                        (declared, cases[0], "x", "存在回避关系")]:
        with pytest.raises(AssignmentRefused, match=message):
            add(user, case, reason)
    first = add(expert, cases[0])
    with pytest.raises(AssignmentRefused, match="已分配该案例"):
        add(expert, cases[0])
    add(expert, cases[1])
    with pytest.raises(AssignmentRefused, match="已达本轮上限 2"):
        add(expert, cases[2])
    session.commit()
    headers = bearer(client, "solo")
    recused = client.post(f"/api/v1/assignments/{first.id}/recuse", json={"reason": "曾参与该活动策划"}, headers=headers)
    assert recused.status_code == 200, recused.get_json()
    session.expire_all()
    with pytest.raises(AssignmentRefused, match="已对该案例申请回避"):
        add(expert, cases[0])
    assert add(expert, cases[2]).case_id == cases[2].id  # the recusal freed a place
    # the recusal is kept on the assignment, not as a conflict row naming nothing
    assert not [c for c in session.exec(select(Conflict).where(Conflict.user_id == expert.id))
                if c.work_id is None and not c.organisation and not c.person]
    move(session=session, round_=round_, state="scoring", actor="t")
    move(session=session, round_=round_, state="review", actor="t")
    with pytest.raises(AssignmentRefused, match="intake"):
        add(make_user("late", role="expert"), cases[1])
