"""The conflict search on the expert's 回避申报 page (issue 19, item 8) shows only what the
expert could be assigned anyway: works of the expert's own categories in rounds taking entries
or being scored, for at least two characters, at most 20, never the submitter, and it is
limited per expert. Declaring a work outside that set is refused too (the declared list would
otherwise show its title)."""
from __future__ import annotations

import re

import pytest
from sqlmodel import select

from testkit import csrf_token
from web.core.models import Conflict, Round, RoundKind, RoundState, Work

PAGE = "/me/conflicts"


def titles(html: str) -> list[str]:
    table = html.split('id="work-results"')[1].split("</table>")[0]
    return re.findall(r'<td class="title">([^<]*)</td>', table)


@pytest.fixture
def rounds(session):
    """A round of each state, each with a 网络剧 and a 短视频 work titled 山河…, and a case round."""
    made = {}
    for state in RoundState:
        round_ = Round(key=f"2025-{state.value}", year=2025, quarter=1, state=state)
        session.add(round_)
        session.flush()
        made[state] = round_
        session.add_all([Work(round_id=round_.id, title=f"山河{state.value}剧", category="网络剧", submitter="秘密出品方",
                              copyright_holder="秘密版权方", unit="浙江省广播电视局"),
                         Work(round_id=round_.id, title=f"山河{state.value}短", category="短视频", submitter="x")])
    cases = Round(key="2025-cases", year=2025, state=RoundState.scoring, kind=RoundKind.dissemination)
    session.add(cases)
    session.commit()
    return made


@pytest.fixture
def expert(make_user, login):
    user = make_user("wang", role="expert", categories=["网络剧"])
    login("wang")
    return user


def test_only_works_of_the_experts_categories_in_rounds_in_intake_or_scoring(client, rounds, expert):
    html = client.get(f"{PAGE}?q=山河").get_data(as_text=True)
    assert sorted(titles(html)) == ["山河intake剧", "山河scoring剧"]
    for secret in ("秘密出品方", "秘密版权方", "浙江省广播电视局"):  # blind: no submitter, holder or unit
        assert secret not in html
    for state in (RoundState.draft, RoundState.review, RoundState.signed):
        assert titles(client.get(f"{PAGE}?q=山河{state.value}剧").get_data(as_text=True)) == []


def test_a_number_finds_only_a_work_the_expert_could_be_assigned(client, session, rounds, expert):
    for filler in range(10):  # two-digit numbers
        session.add(Work(round_id=rounds[RoundState.draft].id, title=f"填充{filler}", category="网络剧", submitter="x"))
    session.commit()
    mine = Work(round_id=rounds[RoundState.scoring].id, title="编号查找剧", category="网络剧", submitter="x")
    theirs = Work(round_id=rounds[RoundState.scoring].id, title="编号查找短", category="短视频", submitter="x")
    session.add_all([mine, theirs])
    session.commit()
    assert titles(client.get(f"{PAGE}?q={mine.id}").get_data(as_text=True)) == ["编号查找剧"]
    assert titles(client.get(f"{PAGE}?q={theirs.id}").get_data(as_text=True)) == []


def test_fewer_than_two_characters_search_nothing(client, rounds, expert):
    for text in ("山", "1", " 山 "):
        html = client.get(f"{PAGE}?q={text}").get_data(as_text=True)
        assert 'id="work-results"' not in html and "请至少输入两个字符" in html
    assert titles(client.get(f"{PAGE}?q=山河").get_data(as_text=True))


def test_at_most_twenty_results(client, session, rounds, expert):
    session.add_all([Work(round_id=rounds[RoundState.intake].id, title=f"山河系列{i:02d}", category="网络剧",
                          submitter="x") for i in range(30)])
    session.commit()
    html = client.get(f"{PAGE}?q=山河系列").get_data(as_text=True)
    assert len(titles(html)) == 20 and "仅显示前 20 部" in html


def test_searches_are_limited_per_expert(app, client, rounds, expert, make_user):
    app.config["CONFLICT_SEARCH_LIMIT"] = "3 per minute"
    assert [client.get(f"{PAGE}?q=山河").status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get(f"{PAGE}?q=山河")
    assert refused.status_code == 429 and "查找过于频繁" in refused.get_data(as_text=True)
    assert 'id="work-results"' not in refused.get_data(as_text=True)
    assert client.get(PAGE).status_code == 200  # the page itself, without a search, is not counted
    make_user("li", role="expert", categories=["网络剧"])
    other = app.test_client()
    other.post("/login", data={"username": "li", "password": "correct horse battery",
                               "csrf_token": csrf_token(other)})
    assert other.get(f"{PAGE}?q=山河").status_code == 200  # another expert has their own allowance


def test_declaring_a_work_outside_the_experts_categories_is_refused(client, session, rounds, expert):
    theirs = session.exec(select(Work).where(Work.title == "山河scoring短")).one()
    client.post(PAGE, data={"csrf_token": csrf_token(client, PAGE), "work_id": str(theirs.id), "reason": "亲属参演"})
    assert "作品不存在，或不是您擅长类别中征集或评审中的作品" in client.get(PAGE).get_data(as_text=True)
    assert session.exec(select(Conflict)).all() == []
    mine = session.exec(select(Work).where(Work.title == "山河scoring剧")).one()
    client.post(PAGE, data={"csrf_token": csrf_token(client, PAGE), "work_id": str(mine.id), "reason": "亲属参演"})
    assert [c.work_id for c in session.exec(select(Conflict))] == [mine.id]
