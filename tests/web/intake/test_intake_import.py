"""Importing works: every rule, all-or-nothing, idempotent, deadlines, malformed files.

Runs on SQLite by default and on PostgreSQL with TUIYOU_TEST_DATABASE_URL."""
from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from helpers.intake import (HEADERS_ZH, KEYS, Q1_DAY, csv_bytes, distinct_title, dump_database, sqlite_files,
                            work_row, xlsx_bytes)
from web.intake.operations import import_works
from web.intake.files import IntakeError
from web.core.models import AuditEvent, ImportBatch, RoundState, Work
from web.rounds.operations import create_round, set_state


@pytest.fixture
def q1(app, session):
    app.config["TODAY"] = Q1_DAY
    round_ = create_round(session=session, key="2025Q1", actor="admin")
    set_state(session=session, round_=round_, state=RoundState.intake, actor="admin")
    session.commit()
    return round_


def run_import(app, runner, tmp_path, data: bytes, *args, name="works.csv"):
    path = tmp_path / name
    path.write_bytes(data)
    with app.app_context():
        return runner.invoke(args=["import-works", str(path), "--round", "2025Q1", *args]), path


def works(session):
    session.expire_all()
    return list(session.exec(select(Work).order_by(Work.id)))


def test_valid_file_imports_everything_with_flags(app, runner, session, tmp_path, q1):
    rows = [work_row(1, uhd="是"), work_row(2, aigc="yes", category="短视频", license_no=""),
            work_row(3, single_episode="1", first_broadcast="2025年1月5日", last_broadcast="2025/2/1")]
    result, _ = run_import(app, runner, tmp_path, csv_bytes(rows))
    assert result.exit_code == 0, result.output
    assert "已导入 3" in result.output and "imported 3" in result.output
    stored = works(session)
    assert [(w.uhd, w.aigc, w.single_episode) for w in stored] == [(True, False, False), (False, True, False),
                                                                    (False, False, True)]
    assert stored[2].last_broadcast == dt.date(2025, 2, 1) and stored[1].license_no is None
    assert all(w.import_batch_id == stored[0].import_batch_id for w in stored)
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "import.works")).one()
    assert event.detail["imported"] == 3


def test_english_headers_utf8_bom_and_gbk(app, runner, session, tmp_path, q1):
    data = csv_bytes([work_row(1)], headers=KEYS)
    assert run_import(app, runner, tmp_path, b"\xef\xbb\xbf" + data)[0].exit_code == 0
    gbk = csv_bytes([work_row(2, title="春风十里不如你")], encoding="gbk")
    result, _ = run_import(app, runner, tmp_path, gbk, name="gbk.csv")
    assert result.exit_code == 0, result.output
    assert {w.title for w in works(session)} == {work_row(1)["title"], "春风十里不如你"}


def test_xlsx_with_real_date_cells(app, runner, session, tmp_path, q1):
    row = [work_row(1)[k] for k in KEYS]
    row[7], row[8] = dt.datetime(2025, 1, 5), dt.date(2025, 2, 1)
    row[11], row[14] = True, 24
    result, _ = run_import(app, runner, tmp_path, xlsx_bytes([row]), name="works.xlsx")
    assert result.exit_code == 0, result.output
    [work] = works(session)
    assert work.first_broadcast == dt.date(2025, 1, 5) and work.uhd and work.episodes == 24


def test_failing_rows_import_nothing_and_list_every_row(app, runner, session, tmp_path, q1, database_url):
    good = csv_bytes([work_row(1)])
    assert run_import(app, runner, tmp_path, good, name="first.csv")[0].exit_code == 0
    engine = app.extensions["tuiyou.engine"]
    before, files_before = dump_database(engine), sqlite_files(database_url)
    rows = [work_row(2), work_row(3, category="网络小说"), work_row(4), work_row(5, first_broadcast="2025-03-05",
                                                                          last_broadcast="")]
    result, path = run_import(app, runner, tmp_path, csv_bytes(rows))
    assert result.exit_code == 1
    assert "第 3 行" in result.output and "第 5 行" in result.output and "第 4 行" not in result.output
    assert "作品类型" in result.output and "unknown category" in result.output
    assert dump_database(engine) == before
    assert sqlite_files(database_url) == files_before  # byte for byte (SQLite)
    assert not path.with_name(path.name + ".rejected.csv").exists()


def test_accept_valid_imports_valid_rows_and_writes_rejected_file(app, runner, session, tmp_path, q1):
    rows = [work_row(1), work_row(2, copyright_holder=""), work_row(3)]
    result, path = run_import(app, runner, tmp_path, csv_bytes(rows), "--accept-valid")
    assert result.exit_code == 1  # not everything was imported
    assert len(works(session)) == 2
    rejected = path.with_name("works.csv.rejected.csv").read_text(encoding="utf-8-sig")
    lines = rejected.strip().splitlines()
    assert len(lines) == 2 and lines[1].startswith("3,") and "版权方" in lines[1]
    batch = session.exec(select(ImportBatch)).one()
    assert (batch.rows_imported, batch.rows_rejected) == (2, 1)


def test_reimporting_the_same_file_is_a_no_op(app, runner, session, tmp_path, q1):
    data = csv_bytes([work_row(1), work_row(2)])
    assert run_import(app, runner, tmp_path, data)[0].exit_code == 0
    again, _ = run_import(app, runner, tmp_path, data)
    assert again.exit_code == 0 and "already imported" in again.output
    assert len(works(session)) == 2 and len(session.exec(select(ImportBatch)).all()) == 1


def test_same_rows_in_a_new_file_are_duplicates(app, runner, session, tmp_path, q1):
    assert run_import(app, runner, tmp_path, csv_bytes([work_row(1)]))[0].exit_code == 0
    result, _ = run_import(app, runner, tmp_path, csv_bytes([work_row(1, synopsis="改过的简介")]), name="b.csv")
    assert result.exit_code == 1 and "重复参评" in result.output and "2025Q1" in result.output


def test_duplicates_within_a_file(app, runner, session, tmp_path, q1):
    rows = [work_row(1), work_row(2), work_row(3, title=work_row(1)["title"], submitter="别家公司",
                                              license_no=work_row(1)["license_no"])]
    result, _ = run_import(app, runner, tmp_path, csv_bytes(rows))
    assert result.exit_code == 1
    assert "第 4 行" in result.output and "第 2 行《" in result.output and "多头申报" in result.output
    assert works(session) == []


def test_near_duplicates_across_two_quarterly_rounds(app, runner, session, tmp_path, q1):
    assert run_import(app, runner, tmp_path, csv_bytes([work_row(1, title="追光者：新时代的乡村振兴故事",
                                                                 license_no="")
                                                        | {"category": "短视频"}]))[0].exit_code == 0
    q2 = create_round(session=session, key="2025Q2", actor="admin")
    session.commit()
    app.config["TODAY"] = dt.date(2025, 6, 20)
    row = work_row(9, title="追光者:新时代的乡村振兴故事集", category="短视频", license_no="",
                   first_broadcast="2025-03-05", last_broadcast="")
    path = tmp_path / "q2.csv"
    path.write_bytes(csv_bytes([row]))
    with app.app_context():
        result = runner.invoke(args=["import-works", str(path), "--round", "2025Q2"])
    assert result.exit_code == 1, result.output
    assert "高度相似" in result.output and "追光者：新时代的乡村振兴故事" in result.output and "2025Q1" in result.output
    assert "similarity" in result.output
    assert session.exec(select(Work).where(Work.round_id == q2.id)).all() == []


def test_deadline_needs_a_late_reason_which_is_audited(app, runner, session, tmp_path, q1):
    app.config["TODAY"] = dt.date(2025, 4, 2)  # after 2025-03-31
    data = csv_bytes([work_row(1)])
    refused, _ = run_import(app, runner, tmp_path, data)
    assert refused.exit_code == 1 and "2025-03-31" in refused.output and "late-reason" in refused.output
    assert works(session) == []
    accepted, _ = run_import(app, runner, tmp_path, data, "--late-reason", "省局系统故障，延期两天报送")
    assert accepted.exit_code == 0, accepted.output
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "import.works")).one()
    assert event.detail["late_reason"] == "省局系统故障，延期两天报送"
    assert session.exec(select(ImportBatch)).one().late_reason == "省局系统故障，延期两天报送"


def test_import_only_while_draft_or_intake(app, runner, session, tmp_path, q1):
    set_state(session=session, round_=q1, state=RoundState.scoring, actor="admin")
    session.commit()
    result, _ = run_import(app, runner, tmp_path, csv_bytes([work_row(1)]))
    assert result.exit_code == 1 and "scoring" in result.output
    assert works(session) == []


def test_unknown_and_missing_columns_are_named(app, runner, session, tmp_path, q1):
    headers = [h for h in HEADERS_ZH if h != "版权方"] + ["片长"]
    keys = [k for k in KEYS if k != "copyright_holder"] + ["x"]
    result, _ = run_import(app, runner, tmp_path, csv_bytes([work_row(1)], headers=headers, keys=keys))
    assert result.exit_code == 1
    assert "片长" in result.output and "版权方" in result.output and "copyright_holder" in result.output


def zip_of_something_else() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")
    return buffer.getvalue()


@pytest.mark.parametrize("name,data,expected", [
    ("empty.csv", b"", "empty"),
    ("blank.csv", b"\xef\xbb\xbf\r\n\r\n", "empty"),
    ("header.csv", ",".join(HEADERS_ZH).encode(), "no entries"),
    ("fake.xlsx", zip_of_something_else(), "XLSX"),
    ("fake2.xlsx", b"PK\x03\x04garbage", "XLSX"),
    ("garbage.csv", bytes(range(256)) * 4, "binary"),
    ("utf16.csv", "作品名称".encode("utf-16"), "encoding"),
    ("utf16-ascii.csv", "title,category".encode("utf-16"), "binary"),
    ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, ".xls"),
    ("quotes.csv", (",".join(HEADERS_ZH) + '\n"a,b\n').encode(), "quotes"),
])
def test_malformed_files_give_a_clear_error(app, runner, session, tmp_path, q1, name, data, expected):
    result, _ = run_import(app, runner, tmp_path, data, name=name)
    assert result.exit_code == 1
    assert expected in result.output and "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert works(session) == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(
    st.binary(max_size=400),
    st.lists(st.lists(st.text(max_size=12), min_size=18, max_size=20), max_size=4).map(
        lambda rows: csv_bytes([dict(zip(KEYS, r)) for r in rows])),
    st.lists(st.fixed_dictionaries({k: st.sampled_from(["", "是", "2025-01-05", "网络剧", "x" * 500, "\x00",
                                                         "2025-02-30", "短视频", "（浙）网剧审字（2024）第1号"])
                                    for k in KEYS}), max_size=4).map(csv_bytes),
))
def test_fuzzed_files_never_crash_or_half_import(app, session, q1, data):
    engine = app.extensions["tuiyou.engine"]
    before = dump_database(engine)
    with app.app_context():
        try:
            report = import_works(session, round_key="2025Q1", data=data, filename="fuzz.csv")
        except IntakeError as exc:
            assert exc.zh and exc.en
            report = None
    after = dump_database(engine)
    if report is None or report.issues or not report.imported:
        assert after == before
    else:
        assert len(after["work"]) == len(before["work"]) + report.total_rows


@pytest.mark.slow
def test_ten_thousand_rows(app, session, q1):
    rows = [work_row(n, title=distinct_title(n), category="短视频", license_no="") for n in range(10_000)]
    data = csv_bytes(rows)
    with app.app_context():
        report = import_works(session, round_key="2025Q1", data=data, filename="big.csv")
    assert report.issues == [] and report.imported == 10_000
    assert len(works(session)) == 10_000
