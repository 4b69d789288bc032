"""`tuiyou experts import`: English or Chinese headers, all rows or none with row/column
errors, re-import updates profiles, imported experts log in only after a password is set."""
from __future__ import annotations

import io

import openpyxl
from sqlmodel import select

from web.accounts.queries import authenticate
from web.core.models import Conflict, User, Work

CSV_ZH = ("用户名,姓名,工作单位,所在省份,擅长类别,每轮最多评审数,回避单位\n"
          "zhao,赵晓明,中国传媒大学,北京市,网络剧、网络电影,40,山河文化\n"
          "qian,钱建华,浙江传媒学院,浙江省,\"网络纪录片,短视频\",,\n")


def test_import_with_chinese_headers_then_update(runner, session, tmp_path):
    path = tmp_path / "experts.csv"
    path.write_text(CSV_ZH, encoding="utf-8")
    result = runner.invoke(args=["experts", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "created 2" in result.output and "set-password" in result.output
    zhao = session.exec(select(User).where(User.username == "zhao")).one()
    assert (zhao.display_name, zhao.organisation, zhao.province, zhao.categories, zhao.capacity) == \
        ("赵晓明", "中国传媒大学", "北京市", ["网络剧", "网络电影"], 40)
    assert session.exec(select(Conflict).where(Conflict.user_id == zhao.id)).one().organisation == "山河文化"
    qian = session.exec(select(User).where(User.username == "qian")).one()
    assert qian.categories == ["网络纪录片", "短视频"] and qian.capacity is None
    # re-import: profiles updated, no duplicate conflicts
    path.write_text(CSV_ZH.replace(",40,", ",25,"), encoding="utf-8")
    again = runner.invoke(args=["experts", "import", str(path)])
    assert again.exit_code == 0 and "updated 2" in again.output
    session.expire_all()
    assert session.get(User, zhao.id).capacity == 25
    assert len(session.exec(select(Conflict).where(Conflict.user_id == zhao.id)).all()) == 1


def test_imported_experts_log_in_only_after_a_password_is_set(runner, session, tmp_path, client, login):
    path = tmp_path / "experts.csv"
    path.write_text(CSV_ZH, encoding="utf-8")
    assert runner.invoke(args=["experts", "import", str(path)]).exit_code == 0
    assert authenticate(session=session, username="zhao", password="!") is None
    response = login("zhao", "!")
    assert response.status_code in (200, 400, 401) and b"Traceback" not in response.data
    weak = runner.invoke(args=["experts", "set-password", "zhao", "--password-stdin"], input="123\n")
    assert weak.exit_code != 0 and "at least" in weak.output
    ok = runner.invoke(args=["experts", "set-password", "zhao", "--password-stdin"], input="hetu-luoshu-42\n")
    assert ok.exit_code == 0, ok.output
    session.expire_all()
    assert authenticate(session=session, username="zhao", password="hetu-luoshu-42") is not None


def test_bad_rows_import_nothing_and_name_row_and_column(runner, session, tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["username", "name", "org", "province", "categories", "capacity"])
    sheet.append(["sun", "孙志强", "四川大学", "四川省", "网络剧", 30])
    sheet.append(["li", "", "四川大学", "四川省", "网络歌剧", "many"])
    sheet.append(["sun", "孙二", "", "", "网络剧", 0])
    data = io.BytesIO()
    book.save(data)
    path = tmp_path / "experts.xlsx"
    path.write_bytes(data.getvalue())
    result = runner.invoke(args=["experts", "import", str(path)])
    assert result.exit_code == 1
    out = result.output
    assert "row 3 · 姓名 (name)" in out and "row 3 · 擅长类别 (categories)" in out and "网络歌剧" in out
    assert "row 3 · 每轮最多评审数 (capacity)" in out and "many" in out
    assert "row 4 · 用户名 (username)" in out and "row 2" in out.split("row 4 · 用户名")[1][:80]
    assert "nothing imported" in out
    assert session.exec(select(User)).all() == []


def test_missing_column_and_non_expert_are_refused(runner, session, tmp_path, make_user):
    make_user("boss", role="admin")
    path = tmp_path / "e.csv"
    path.write_text("username,name\nx,某某\n", encoding="utf-8")
    result = runner.invoke(args=["experts", "import", str(path)])
    assert result.exit_code == 1 and "categories" in result.output
    path.write_text("username,name,categories\nboss,王秘书,网络剧\n", encoding="utf-8")
    result = runner.invoke(args=["experts", "import", str(path)])
    assert result.exit_code == 1 and "not an expert" in result.output
    assert session.exec(select(User).where(User.username == "boss")).one().role.value == "admin"


def test_availability_and_declarations_from_the_command_line(runner, session):
    from helpers.assignment import build_round, live_pairs
    from web.core.models import ExpertAbsence

    round_ = build_round(session, works=30, experts=16, capacity=30)
    result = runner.invoke(args=["experts", "availability", "2025q1-e00", "--round", "2025Q1", "--unavailable",
                                 "--reason", "出国访学"])
    assert result.exit_code == 0, result.output
    assert session.exec(select(ExpertAbsence)).one().reason == "出国访学"
    work = session.exec(select(Work)).first()
    result = runner.invoke(args=["experts", "declare", "2025q1-e01", "--work", str(work.id), "--reason", "亲属参与"])
    assert result.exit_code == 0, result.output
    both = runner.invoke(args=["experts", "declare", "2025q1-e01", "--org", "甲", "--person", "乙"])
    assert both.exit_code == 2 and "exactly one" in both.output
    assert runner.invoke(args=["assign", "--round", "2025Q1", "--per-work", "2", "--seed", "3"]).exit_code == 0
    pairs = live_pairs(session, round_)
    e00 = session.exec(select(User).where(User.username == "2025q1-e00")).one()
    e01 = session.exec(select(User).where(User.username == "2025q1-e01")).one()
    assert all(e != e00.id for e, _ in pairs), "an unavailable expert gets no new works"
    assert (e01.id, work.id) not in pairs


def test_declared_works_come_in_by_number_and_a_wrong_number_names_row_and_column(runner, session, tmp_path):
    import numpy as np
    from helpers.assignment import add_works
    from web.core.models import Round
    round_ = Round(key="2025Q1", year=2025, quarter=1)
    session.add(round_)
    session.flush()
    works = add_works(session, round_, 2, np.random.default_rng(0))
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["用户名", "姓名", "擅长类别", "回避作品"])
    sheet.append(["zhou", "周某", "网络剧", f"{works[0].id}、{works[1].id}"])
    sheet.append(["wu", "吴某", "网络剧", works[1].id])  # a number cell
    data = io.BytesIO()
    book.save(data)
    path = tmp_path / "experts.xlsx"
    path.write_bytes(data.getvalue())
    result = runner.invoke(args=["experts", "import", str(path)])
    assert result.exit_code == 0, result.output
    zhou = session.exec(select(User).where(User.username == "zhou")).one()
    wu = session.exec(select(User).where(User.username == "wu")).one()
    assert sorted(c.work_id for c in session.exec(select(Conflict).where(Conflict.user_id == zhou.id))) == \
        sorted(w.id for w in works)
    assert [c.work_id for c in session.exec(select(Conflict).where(Conflict.user_id == wu.id))] == [works[1].id]
    assert runner.invoke(args=["experts", "import", str(path)]).exit_code == 0  # again: no duplicates
    assert len(session.exec(select(Conflict).where(Conflict.user_id == zhou.id)).all()) == 2

    bad = tmp_path / "bad.csv"
    bad.write_text(f"username,name,categories,avoid_works\nzheng,郑某,网络剧,{works[0].id}、99999、第三部\n",
                   encoding="utf-8")
    refused = runner.invoke(args=["experts", "import", str(bad)])
    assert refused.exit_code == 1
    assert "row 2 · 回避作品 (avoid_works)" in refused.output and "99999" in refused.output
    assert "第三部" in refused.output and "nothing imported" in refused.output
    assert session.exec(select(User).where(User.username == "zheng")).first() is None
