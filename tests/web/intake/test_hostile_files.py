"""Hostile import files never take the server down (issue 19, item 1).

Each shape of the issue is generated (benchmarks/hostile_files.py) and refused with a message
that starts with “文件过大或已损坏” and names the cap it crossed; every cap has a test that only
it can pass. What the caps do not foresee ends on the parse worker's memory or time limit, and
the worker is replaced for the next file. Against a real ``tuiyou serve``, every file on both
upload forms answers 422, the server keeps serving, and its resident memory grows by less than
200 MiB while it refuses them.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))

import hostile_files as hostile  # noqa: E402
from testkit import csrf_token  # noqa: E402
from web.intake.files import IntakeError, read_table  # noqa: E402
from web.intake.sandbox import LimitExceeded, WorkerLimits, run_limited  # noqa: E402
from web.intake.sheets import Limits, parse_table  # noqa: E402

TOO_LARGE = "文件过大或已损坏："


def refusal(data: bytes, filename: str, **limits) -> str:
    """The Chinese reason ``read_table`` gives for refusing ``data`` (fails if it reads it)."""
    with pytest.raises(IntakeError) as caught:
        read_table(data, filename, limits=Limits(**limits) if limits else None)
    assert caught.value.en, "every refusal says why in English too"
    return caught.value.zh


def sheet(*rows: str, dimension: str | None = None) -> bytes:
    return hostile.workbook(hostile._sheet(rows, dimension))


def test_one_cell_at_a1_and_one_at_xfd1048576_is_refused_by_the_declared_dimension():
    data = hostile.corners()
    assert len(data) < 2_000
    reason = refusal(data, "corners.xlsx")
    assert reason.startswith(TOO_LARGE) and "声明的范围 A1:XFD1048576" in reason and "1,048,576 行" in reason


@pytest.mark.parametrize("dimension", ["A1:B2", None], ids=["dimension-lies", "no-dimension"])
def test_the_corners_are_found_by_the_row_scan_when_the_dimension_lies_or_is_missing(dimension):
    reason = refusal(hostile.corners(dimension=dimension), "corners.xlsx")
    assert reason.startswith(TOO_LARGE) and "超过 200,100 行" in reason


def test_five_million_rows_stop_at_the_row_cap_while_streaming():
    data = hostile.many_rows()
    assert len(data) < 1_000_000  # small on the wire
    started = time.perf_counter()
    reason = refusal(data, "rows.xlsx")
    assert reason.startswith(TOO_LARGE) and "超过 200,100 行" in reason
    assert time.perf_counter() - started < 20  # the scan stops at row 200,101 of 5,000,001


def test_a_cell_beyond_the_column_cap_is_refused():
    reason = refusal(sheet('<row r="1"><c r="A1"><v>1</v></c><c r="GS1"><v>1</v></c></row>'), "wide.xlsx")
    assert reason.startswith(TOO_LARGE) and "GS1 超过第 200 列" in reason


def test_a_used_rectangle_over_the_cell_cap_is_refused():
    rows = ['<row r="1"><c r="A1"><v>1</v></c></row>', '<row r="20"><c r="J20"><v>1</v></c></row>']
    reason = refusal(sheet(*rows), "area.xlsx", max_cells=150)
    assert "使用范围（20 行 × 10 列）超过 150 个单元格" in reason


def test_repeated_cell_elements_count_against_the_cell_cap():
    """calamine keeps every <c>, the same A1 written 2,000 times included."""
    reason = refusal(sheet('<row r="1">' + '<c r="A1"><v>1</v></c>' * 2_000 + "</row>"), "repeat.xlsx",
                     max_cells=1_000)
    assert "单元格超过 1,000 个" in reason


def test_cells_named_with_any_prefix_are_counted():
    rows = ['<x:row r="1"><x:c r="A1"><x:v>1</x:v></x:c><x:c r="GS1"><x:v>1</x:v></x:c></x:row>']
    data = hostile.workbook([f'<x:worksheet xmlns:x="{hostile.NS}"><x:sheetData>', *rows,
                             "</x:sheetData></x:worksheet>"])
    assert "GS1 超过第 200 列" in refusal(data, "prefixed.xlsx")


def test_a_workbook_that_would_unzip_past_the_cap_is_refused_before_reading():
    data = hostile.padded_shared_strings(strings=200, padding=2_000_000, rows=10)  # 400 MB unzipped
    reason = refusal(data, "padded.xlsx")
    assert reason.startswith(TOO_LARGE) and "解压后将有 381 MiB（最多 256 MiB）" in reason


def test_an_entity_expansion_workbook_is_refused_for_its_dtd():
    reason = refusal(hostile.entity_expansion(), "laughs.xlsx")
    assert reason.startswith(TOO_LARGE) and "xl/sharedStrings.xml 含有 DTD 声明" in reason


def test_cell_text_over_the_text_cap_never_leaves_the_worker():
    rows = [f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>{"长" * 60}</t></is></c></row>' for n in range(1, 5)]
    assert "单元格文字超过" in refusal(sheet(*rows), "text.xlsx", max_text=200)


@pytest.mark.slow
def test_padded_shared_strings_end_on_the_worker_memory_limit_and_the_next_file_is_read():
    """50 shared strings of 2 MB named by 36,000 cells: calamine would copy 72 GB."""
    reason = refusal(hostile.padded_shared_strings(), "padded.xlsx")
    assert reason.startswith(TOO_LARGE) and "读取进程超出内存上限（1024 MiB）" in reason
    assert read_table("作品名称\n山河\n".encode(), "ok.csv").rows == [(2, ["山河"])]


def test_a_million_row_csv_stops_at_the_row_cap():
    reason = refusal(hostile.csv_rows(), "rows.csv")
    assert reason.startswith(TOO_LARGE) and "超过 200,100 行" in reason


def test_a_csv_row_over_the_column_cap_is_refused():
    reason = refusal(("a" + ",a" * 500 + "\n").encode(), "wide.csv")
    assert reason.startswith(TOO_LARGE) and "第 1 行有 501 列（最多 200 列）" in reason


def test_what_the_caps_let_through_ends_on_the_worker_limit_not_in_this_process():
    """With the caps lifted, calamine asks for 512 GiB on the corners file: the worker dies, we do not."""
    lifted = Limits(max_rows=10**9, max_columns=10**6, max_cells=10**12)
    with pytest.raises(LimitExceeded) as caught:
        run_limited(parse_table, hostile.corners(), "corners.xlsx", lifted, limits=WorkerLimits(512, 30))
    assert "512 MiB" in caught.value.zh and "退出码" in caught.value.zh
    assert run_limited(len, b"abc", limits=WorkerLimits(512, 30)) == 3  # a fresh worker took its place


def test_the_worker_memory_and_time_limits():
    with pytest.raises(LimitExceeded) as memory:
        run_limited(bytearray, 2 << 30, limits=WorkerLimits(512, 30))
    assert "超过上限（512 MiB）" in memory.value.zh
    started = time.perf_counter()
    with pytest.raises(LimitExceeded) as slow:
        run_limited(time.sleep, 30, limits=WorkerLimits(512, 1))
    assert "读取超过 1 秒，已中止" in slow.value.zh and time.perf_counter() - started < 10


def test_the_limits_come_from_the_settings(app, monkeypatch):
    assert WorkerLimits.from_settings(app.config) == WorkerLimits(1024, 60.0)
    monkeypatch.setenv("TUIYOU_IMPORT_MEMORY_MB", "300")
    monkeypatch.setenv("TUIYOU_IMPORT_SECONDS", "5")
    assert WorkerLimits.from_settings() == WorkerLimits(300, 5.0)


# --- through the pages and the command line ------------------------------------------------------

@pytest.fixture
def admin_client(app, client, session, make_user):
    from web.rounds.operations import create_round, set_state

    make_user("admin", role="admin")
    round_ = create_round(session=session, key="2025Q1", actor="t")
    set_state(session=session, round_=round_, state="intake", actor="t")
    session.commit()
    app.config["TODAY"] = "2025-03-20"
    client.post("/login", data={"username": "admin", "password": "correct horse battery",
                                "csrf_token": csrf_token(client)})
    return client


@pytest.mark.parametrize("page, action, fields", [("/admin/imports", "/admin/imports", {"round": "2025Q1"}),
                                                  ("/admin/experts", "/admin/experts/import", {})])
def test_both_upload_forms_answer_422_with_the_reason(admin_client, page, action, fields):
    import io

    response = admin_client.post(action, data={"csrf_token": csrf_token(admin_client, page), **fields,
                                               "file": (io.BytesIO(hostile.corners()), "corners.xlsx")},
                                 content_type="multipart/form-data")
    assert response.status_code == 422
    assert "文件过大或已损坏：工作表 xl/worksheets/sheet1.xml 声明的范围" in response.get_data(as_text=True)


def test_the_import_commands_refuse_with_the_reason(admin_client, runner, tmp_path):
    path = tmp_path / "corners.xlsx"
    path.write_bytes(hostile.corners())
    for args in (["import-works", str(path), "--round", "2025Q1"], ["experts", "import", str(path)]):
        result = runner.invoke(args=args)
        assert result.exit_code == 1 and "文件过大或已损坏" in result.output, result.output


@pytest.mark.slow
def test_a_real_server_refuses_every_shape_keeps_serving_and_stays_small(database_url, tmp_path):
    from bench_hostile_files import prepare, run

    prepare(database_url)
    outcome = run(database_url, tmp_path)
    assert len(outcome["results"]) == 12
    for result in outcome["results"]:
        assert result["status"] == 422 and result["message"].startswith(TOO_LARGE), result
        assert result["still_serving"], result
        assert result["server_peak_growth_mib"] < 200, result
