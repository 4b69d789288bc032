"""Rounds: states through the CLI, the annual round from signed quarters, the provincial cap,
and dissemination cases."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from sqlmodel import select

from helpers.intake import Q1_DAY, csv_bytes, distinct_title, dump_database, work_row
from web.core.audit import verify_log
from web.core.models import AuditEvent, DisseminationCase, Round, RoundState, Shortlist, ShortlistEntry, Work
from web.rounds.operations import create_round, set_state


def cli(app, runner, *args):
    with app.app_context():
        return runner.invoke(args=list(args))


def test_set_state_contract_and_audit(app, runner, session):
    assert cli(app, runner, "round", "create", "2025Q1").exit_code == 0
    for state in ("intake", "scoring", "review"):
        result = cli(app, runner, "round", "set-state", "2025Q1", state)
        assert result.exit_code == 0, result.output
    back = cli(app, runner, "round", "set-state", "2025Q1", "scoring")
    assert back.exit_code == 1 and "reason" in back.output
    assert cli(app, runner, "round", "set-state", "2025Q1", "scoring", "--reason", "复核退回").exit_code == 0
    skip = cli(app, runner, "round", "set-state", "2025Q1", "signed")
    assert skip.exit_code == 1 and "only through the chair's sign-off" in skip.output
    assert cli(app, runner, "round", "set-state", "2025Q1", "review").exit_code == 0
    # signed has one owner, the chair's sealed sign-off: never a change of state (issue 19 item 7)
    signed = cli(app, runner, "round", "set-state", "2025Q1", "signed")
    assert signed.exit_code == 1 and "/review/2025Q1/shortlist" in signed.output \
        and "POST /api/v1/rounds/2025Q1/shortlist/signoff" in signed.output
    session.expire_all()
    assert session.exec(select(Round).where(Round.key == "2025Q1")).one().state.value == "review"
    session.execute(text("UPDATE round SET state = 'signed' WHERE key = '2025Q1'"))  # as a sign-off leaves it
    session.commit()
    final = cli(app, runner, "round", "set-state", "2025Q1", "review", "--reason", "x")
    assert final.exit_code == 1 and "final" in final.output and "reopen" in final.output
    assert cli(app, runner, "round", "set-state", "2025Q1", "bogus").exit_code == 2
    assert cli(app, runner, "round", "set-state", "2099Q1", "intake").exit_code == 1
    states = [e.detail["to"] for e in session.exec(select(AuditEvent).where(AuditEvent.action == "round.state"))]
    assert states == ["intake", "scoring", "review", "scoring", "review"]
    assert verify_log(session).ok
    listing = cli(app, runner, "round", "list")
    assert "2025Q1" in listing.output and "signed" in listing.output and "2025-03-31" in listing.output


def signed_quarter(session, key: str, titles: list[str], included: list[bool], *, shortlist_state="signed"):
    round_ = create_round(session=session, key=key, actor="t")
    session.flush()
    works = [Work(round_id=round_.id, title=t, title_normalized=t, category="网络剧", submitter="s",
                  copyright_holder="s", uhd=True) for t in titles]
    session.add_all(works)
    shortlist = Shortlist(round_id=round_.id, state=shortlist_state)
    session.add(shortlist)
    session.flush()
    session.add_all([ShortlistEntry(shortlist_id=shortlist.id, work_id=w.id, category=w.category, rank=i + 1,
                                    score=8.0, se=0.1, proposed=inc, included=inc)
                     for i, (w, inc) in enumerate(zip(works, included))])
    for state in ("intake", "scoring", "review"):
        set_state(session=session, round_=round_, state=state, actor="t")
    round_.state = RoundState.signed  # as the chair's sign-off leaves it (the shortlist is built by hand here)
    session.add(round_)
    session.commit()
    return round_, works


def test_create_annual_from_signed_quarters(app, runner, session):
    none = cli(app, runner, "round", "create-annual", "2025")
    assert none.exit_code == 1 and "no national quarter round of 2025 is signed" in none.output
    _, q1_works = signed_quarter(session, "2025Q1", ["甲", "乙", "丙"], [True, False, True])
    _, q2_works = signed_quarter(session, "2025Q2", ["丁"], [True], shortlist_state="proposed")
    result = cli(app, runner, "round", "create-annual", "2025")
    assert result.exit_code == 0, result.output
    assert "2 works added" in result.output and "2025Q2" in result.output  # Q2 not yet signed
    annual = session.exec(select(Round).where(Round.key == "2025")).one()
    copies = session.exec(select(Work).where(Work.round_id == annual.id).order_by(Work.id)).all()
    assert [(c.title, c.source_work_id, c.uhd) for c in copies] == [("甲", q1_works[0].id, True),
                                                                    ("丙", q1_works[2].id, True)]
    # Running it again adds only what is missing.
    again = cli(app, runner, "round", "create-annual", "2025")
    assert again.exit_code == 0 and "0 works added" in again.output
    assert len(session.exec(select(Work).where(Work.round_id == annual.id)).all()) == 2
    set_state(session=session, round_=annual, state="intake", actor="t")
    set_state(session=session, round_=annual, state="scoring", actor="t")
    session.commit()
    closed = cli(app, runner, "round", "create-annual", "2025")
    assert closed.exit_code == 1 and "already exists" in closed.output


def test_annual_round_takes_no_imports(app, runner, session, tmp_path):
    signed_quarter(session, "2025Q1", ["甲"], [True])
    cli(app, runner, "round", "create-annual", "2025")
    path = tmp_path / "w.csv"
    path.write_bytes(csv_bytes([work_row(1)]))
    result = cli(app, runner, "import-works", str(path), "--round", "2025")
    assert result.exit_code == 1 and "re-submission" in result.output


@pytest.fixture
def zhejiang(app, runner, session, tmp_path):
    app.config["TODAY"] = Q1_DAY
    result = cli(app, runner, "round", "create", "2025Q1-浙江", "--stage", "provincial", "--unit", "浙江省广播电视局")
    assert result.exit_code == 0, result.output
    path = tmp_path / "zj.csv"
    path.write_bytes(csv_bytes([work_row(n) for n in range(1, 11)]))
    assert cli(app, runner, "import-works", str(path), "--round", "2025Q1-浙江").exit_code == 0
    return [w.id for w in session.exec(select(Work).order_by(Work.id))]


def test_provincial_cap_exactly_half_and_one_over(app, runner, session, zhejiang):
    half = cli(app, runner, "round", "recommend", "2025Q1-浙江", *map(str, zhejiang[:5]))
    assert half.exit_code == 0, half.output
    session.expire_all()
    assert sum(w.recommended for w in session.exec(select(Work))) == 5
    before = dump_database(app.extensions["tuiyou.engine"])
    over = cli(app, runner, "round", "recommend", "2025Q1-浙江", *map(str, zhejiang[:6]))
    assert over.exit_code == 1 and "50%" in over.output and "written reason" in over.output
    assert dump_database(app.extensions["tuiyou.engine"]) == before
    reasoned = cli(app, runner, "round", "recommend", "2025Q1-浙江", *map(str, zhejiang[:6]),
                   "--reason", "本季度精品集中，经局务会研究同意")
    assert reasoned.exit_code == 0, reasoned.output
    session.expire_all()
    assert sum(w.recommended for w in session.exec(select(Work))) == 6
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "round.recommended")
                         .order_by(AuditEvent.id.desc())).first()
    assert event.detail["over_cap"] and event.detail["reason"].startswith("本季度") and event.detail["limit"] == 5


def test_recommend_only_in_provincial_rounds_and_own_works(app, runner, session, zhejiang):
    assert cli(app, runner, "round", "create", "2025Q1").exit_code == 0
    national = cli(app, runner, "round", "recommend", "2025Q1", str(zhejiang[0]))
    assert national.exit_code == 1 and "central units submit directly" in national.output
    stranger = cli(app, runner, "round", "recommend", "2025Q1-浙江", "99999")
    assert stranger.exit_code == 1 and "not entries" in stranger.output


def test_central_units_rejected_in_provincial_round_but_welcome_nationally(app, runner, session, tmp_path, zhejiang):
    path = tmp_path / "central.csv"
    path.write_bytes(csv_bytes([work_row(50, unit="中央广播电视总台", unit_type="中央直属")]))
    refused = cli(app, runner, "import-works", str(path), "--round", "2025Q1-浙江")
    assert refused.exit_code == 1 and "中央直属" in refused.output
    assert cli(app, runner, "round", "create", "2025Q1").exit_code == 0
    assert cli(app, runner, "import-works", str(path), "--round", "2025Q1").exit_code == 0


CASE_HEADERS = ["案例名称", "推荐单位", "开展时间", "案例简介", "传播渠道", "传播数据", "链接"]
CASE_KEYS = ["name", "unit", "period", "description", "channels", "reach", "url"]


def case_row(n, **changes):
    row = {"name": f"{distinct_title(n)}主题宣传活动", "unit": "中央广播电视总台", "period": "2025-01-20 至 2025-02-15",
           "description": "围绕首个非遗春节开展的主题宣传", "channels": "抖音、微博", "reach": "播放 3.2 亿次",
           "url": f"https://example.org/c/{n}"}
    row.update(changes)
    return row


@pytest.fixture
def cases_round(app, runner):
    app.config["TODAY"] = dt.date(2025, 12, 20)
    assert cli(app, runner, "round", "create", "2025-cases").exit_code == 0


def import_cases(app, runner, tmp_path, rows, *args, headers=CASE_HEADERS, keys=CASE_KEYS, name="cases.csv"):
    path = tmp_path / name
    path.write_bytes(csv_bytes(rows, headers=headers, keys=keys))
    return cli(app, runner, "import-cases", str(path), "--round", "2025-cases", *args)


def test_cases_import_all_or_nothing(app, runner, session, tmp_path, cases_round):
    bad = import_cases(app, runner, tmp_path, [case_row(1), case_row(2, period="2024-11-01 至 2024-12-01"),
                                               case_row(3, description="")])
    assert bad.exit_code == 1 and "第 3 行" in bad.output and "第 4 行" in bad.output
    assert session.exec(select(DisseminationCase)).all() == []
    good = import_cases(app, runner, tmp_path, [case_row(1), case_row(2, period="2025年3月1日—2025年4月30日")],
                        name="good.csv")
    assert good.exit_code == 0, good.output
    stored = session.exec(select(DisseminationCase).order_by(DisseminationCase.id)).all()
    assert [(c.period_start, c.period_end) for c in stored] == [(dt.date(2025, 1, 20), dt.date(2025, 2, 15)),
                                                                (dt.date(2025, 3, 1), dt.date(2025, 4, 30))]
    twice = import_cases(app, runner, tmp_path, [case_row(1, unit="浙江省广播电视局")], name="again.csv")
    assert twice.exit_code == 1 and "多头申报" in twice.output


def test_cases_with_start_and_end_columns(app, runner, session, tmp_path, cases_round):
    headers = ["name", "unit", "period_start", "period_end", "description"]
    rows = [{"name": "创新传播实践", "unit": "湖南省广播电视局", "period_start": "2025/6/1",
             "period_end": "2025/8/31", "description": "d"}]
    assert import_cases(app, runner, tmp_path, rows, headers=headers, keys=headers).exit_code == 0
    missing = import_cases(app, runner, tmp_path, rows, headers=headers[:3] + headers[4:],
                           keys=headers[:3] + headers[4:], name="m.csv")
    assert missing.exit_code == 1 and "period_end" in missing.output


def test_cases_only_in_the_case_round_and_with_q4_deadline(app, runner, session, tmp_path, cases_round):
    assert cli(app, runner, "round", "create", "2025Q4").exit_code == 0
    path = tmp_path / "c.csv"
    path.write_bytes(csv_bytes([case_row(1)], headers=CASE_HEADERS, keys=CASE_KEYS))
    wrong = cli(app, runner, "import-cases", str(path), "--round", "2025Q4")
    assert wrong.exit_code == 1 and "2025-cases" in wrong.output
    works_into_cases = cli(app, runner, "import-works", str(path), "--round", "2025-cases")
    assert works_into_cases.exit_code == 1 and "import-cases" in works_into_cases.output
    app.config["TODAY"] = dt.date(2026, 1, 5)  # after Q4's forwarding deadline, 2025-12-31
    late = import_cases(app, runner, tmp_path, [case_row(1)])
    assert late.exit_code == 1 and "2025-12-31" in late.output
    assert import_cases(app, runner, tmp_path, [case_row(1)], "--late-reason", "年底系统维护").exit_code == 0
