"""The notice's intake rules as pure functions: cell parsing, one-row eligibility, duplicates,
the provincial quota and the round life cycle."""
from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest

from scoring.rules.cases import CaseContext, check_case, split_period
from scoring.rules.columns import CASE_COLUMNS, WORK_COLUMNS, map_headers
from scoring.rules.config import DEFAULT_CONFIG_DIR, Stage, load_rules
from scoring.rules.duplicates import Candidate, find_duplicates
from scoring.rules.eligibility import IntakeContext, check_entry, license_format_ok
from scoring.rules.fields import FieldError, normalize_title, parse_bool, parse_date
from scoring.rules.quota import check_recommendation, max_recommendable
from scoring.rules.states import TransitionError, check_transition

RULES = load_rules()
Q1 = IntakeContext(round_key="2025Q1", window=(dt.date(2024, 12, 1), dt.date(2025, 2, 28)),
                   stage="national", today=dt.date(2025, 3, 20))


def valid_cells(**changes) -> dict:
    cells = {"title": "山河人间", "category": "网络剧", "submitter": "山河文化", "submitter_type": "机构",
             "unit": "浙江省广播电视局", "unit_type": "省级", "platform": "优酷", "first_broadcast": "2025-01-05",
             "last_broadcast": "2025-02-20", "license_no": "（浙）网剧审字（2024）第012号",
             "copyright_holder": "山河文化", "uhd": "是", "aigc": "否", "single_episode": "否",
             "episodes": "24", "duration_min": "45", "synopsis": "", "url": "https://example.org/1"}
    cells.update(changes)
    return cells


def issues_of(**changes):
    entry, issues = check_entry(7, valid_cells(**changes), rules=RULES, context=Q1)
    return entry, issues


@pytest.mark.parametrize("text", ["2025-01-05", "2025-1-5", "2025/1/5", "2025/01/05", "2025.1.5",
                                  "2025年1月5日", "2025年01月05日", "2025 年 1 月 5 日", "20250105",
                                  "2025-01-05 00:00:00", "２０２５－０１－０５"])
def test_every_date_format(text):
    assert parse_date(text) == dt.date(2025, 1, 5)


def test_typed_spreadsheet_dates():
    assert parse_date(dt.datetime(2025, 1, 5, 0, 0)) == dt.date(2025, 1, 5)
    assert parse_date(dt.date(2025, 1, 5)) == dt.date(2025, 1, 5)
    assert parse_date(45662) == dt.date(2025, 1, 5)  # an Excel serial number
    assert parse_date("") is None and parse_date(None) is None


@pytest.mark.parametrize("text", ["2025-02-30", "2025年13月1日", "5/1/2025", "明天", "2025-01", "1.5"])
def test_impossible_or_unreadable_dates(text):
    with pytest.raises(FieldError):
        parse_date(text)


@pytest.mark.parametrize("text,expected", [("是", True), ("否", False), ("yes", True), ("No", False),
                                           ("TRUE", True), ("false", False), ("1", True), ("0", False),
                                           ("", False), (None, False), (True, True), (1, True), (0.0, False)])
def test_booleans(text, expected):
    assert parse_bool(text) is expected


def test_bad_boolean():
    with pytest.raises(FieldError, match="yes/no"):
        parse_bool("maybe")


def test_a_valid_row_passes_with_flags():
    entry, issues = issues_of(uhd="是", aigc="yes", single_episode="1")
    assert issues == []
    assert (entry.uhd, entry.aigc, entry.single_episode) == (True, True, True)
    assert entry.category == "网络剧" and entry.episodes == 24 and entry.duration_min == 45.0
    assert entry.row == 7


@pytest.mark.parametrize("changes,column,code", [
    ({"category": "网络小说"}, "category", "category"),
    ({"first_broadcast": "2025-03-02", "last_broadcast": ""}, "first_broadcast", "window"),
    ({"first_broadcast": "2024-11-30", "last_broadcast": ""}, "first_broadcast", "window"),
    ({"first_broadcast": "2025-01-05", "last_broadcast": "2025-03-10"}, "last_broadcast", "window"),
    ({"license_no": ""}, "license_no", "license"),
    ({"license_no": "待定"}, "license_no", "license"),
    ({"copyright_holder": ""}, "copyright_holder", "copyright"),
    ({"title": ""}, "title", "required"),
    ({"platform": "  "}, "platform", "required"),
    ({"first_broadcast": "2025-02-30"}, "first_broadcast", "date"),
    ({"last_broadcast": "2025-01-01", "first_broadcast": "2025-01-05"}, "last_broadcast", "date"),
    ({"first_broadcast": "2025-04-01", "last_broadcast": ""}, "first_broadcast", "date"),  # future
])
def test_each_rule_rejects_its_row(changes, column, code):
    entry, issues = issues_of(**changes)
    assert entry is None
    assert (column, code) in {(i.column, i.code) for i in issues}, issues
    assert all(i.row == 7 and i.zh and i.en for i in issues)


def test_window_edges_are_inside():
    assert issues_of(first_broadcast="2024-12-01", last_broadcast="2025-02-28")[1] == []


def test_licence_needed_only_where_config_says():
    entry, issues = issues_of(category="短视频", license_no="")
    assert issues == [] and entry.license_no is None
    assert not issues_of(category="网络微短剧", license_no="")[0]


@pytest.mark.parametrize("number,ok", [("（沪）网剧审字（2024）第012号", True), ("(京)网影审字(2023)第11号", True),
                                       ("（粤）网微剧备字（2024）第001号", True), ("D31011905160100068", True),
                                       ("无", False), ("N/A", False), ("123", False), ("待补充", False)])
def test_licence_format(number, ok):
    assert license_format_ok(number, RULES) is ok


def test_central_units_do_not_go_through_a_provincial_round():
    provincial = IntakeContext("2025Q1-浙江", Q1.window, "provincial", Q1.today)
    _, issues = check_entry(2, valid_cells(unit_type="中央直属"), rules=RULES, context=provincial)
    assert [i.code for i in issues] == ["stage"]
    assert check_entry(2, valid_cells(unit_type="中央直属"), rules=RULES, context=Q1)[1] == []


def test_all_issues_of_a_row_are_reported_not_only_the_first():
    _, issues = issues_of(category="", copyright_holder="", uhd="maybe", episodes="-3")
    assert {i.column for i in issues} >= {"category", "copyright_holder", "uhd", "episodes"}


def test_headers_in_english_chinese_and_variants():
    headers = [c.key for c in WORK_COLUMNS]
    assert map_headers(headers, WORK_COLUMNS).ok
    labels = [c.label for c in WORK_COLUMNS]
    labels[15] = "时长(分钟)"  # half-width parentheses
    assert map_headers(["\ufeff" + labels[0], *labels[1:]], WORK_COLUMNS).ok
    bad = map_headers(["作品名称", "作品类型", "片长", "作品名称"], WORK_COLUMNS)
    assert bad.unknown == ("片长",) and "submitter" in bad.missing and bad.repeated == ("title",)
    zh, en = bad.problem(WORK_COLUMNS)
    assert "片长" in zh and "申报主体" in zh and "submitter" in en


def candidate(ref, title, license="", submitter="甲公司", round_key=None):
    return Candidate(ref, title, normalize_title(title), license, submitter, round_key)


def test_exact_duplicates_entered_twice_or_by_several_submitters():
    new = [candidate(2, "《山河人间》"), candidate(3, "山河 人间"), candidate(4, "山河人间", submitter="乙公司")]
    matches = find_duplicates(new, [], threshold=0.92)
    assert [(m.new.ref, m.other.ref, m.exact) for m in matches] == [(3, 2, True), (4, 2, True)]
    assert matches[0].issue().code == "duplicate" and "重复参评" in matches[0].issue().zh
    assert matches[1].issue().code == "multiple_submitters" and "多头申报" in matches[1].issue().zh


def test_same_licence_number_is_the_same_work():
    new = [candidate(2, "山河人间", "A1234567"), candidate(3, "完全不同的名字", "A1234567", "乙公司")]
    [match] = find_duplicates(new, [], threshold=0.92)
    assert match.by_license and match.issue().column == "license_no"


def test_same_title_with_different_licences_are_different_works():
    new = [candidate(2, "家", "A1234567"), candidate(3, "家", "B7654321")]
    assert find_duplicates(new, [], threshold=0.92) == []


def test_near_duplicate_names_the_pair_and_respects_the_threshold():
    stored = [candidate(41, "追光者：新时代的乡村振兴故事", round_key="2025Q1")]
    new = [candidate(2, "追光者：新时代的乡村振兴故事集", submitter="乙公司"), candidate(3, "完全无关的作品名称")]
    [match] = find_duplicates(new, stored, threshold=0.92)
    assert not match.exact and match.similarity >= 0.92
    issue = match.issue()
    assert issue.row == 2 and "2025Q1" in issue.zh and "追光者" in issue.zh and "多头申报" in issue.zh
    assert find_duplicates(new, stored, threshold=0.99) == []


def test_distinct_titles_are_not_flagged():
    new = [candidate(2, "山河人间第一季"), candidate(3, "山河人间第二季")]
    assert find_duplicates(new, [], threshold=0.92) == []


@pytest.mark.parametrize("received,expected", [(0, 0), (1, 0), (2, 1), (9, 4), (10, 5), (11, 5), (101, 50)])
def test_max_recommendable_is_floor_of_half(received, expected):
    assert max_recommendable(received, 0.5) == expected


def test_cap_exactly_fifty_percent_and_one_over():
    provincial = RULES.stages["provincial"]
    assert check_recommendation(received=10, chosen=5, stage=provincial).allowed
    over = check_recommendation(received=10, chosen=6, stage=provincial)
    assert not over.allowed and over.over_cap and over.needs_reason and over.limit == 5
    with_reason = check_recommendation(received=10, chosen=6, stage=provincial, reason="本季度精品集中")
    assert with_reason.allowed and with_reason.over_cap
    strict = Stage("provincial", "省级初审", "Provincial", recommend_cap=0.5, cap_overridable=False)
    assert not check_recommendation(received=10, chosen=6, stage=strict, reason="x").allowed
    assert check_recommendation(received=10, chosen=10, stage=RULES.stages["national"]).limit is None


@pytest.mark.parametrize("source,target,reason,ok", [
    ("draft", "intake", None, True), ("intake", "scoring", None, True), ("scoring", "review", None, True),
    ("review", "signed", None, False), ("review", "scoring", "复核发现评分遗漏", True),
    ("review", "scoring", None, False), ("review", "scoring", "  ", False), ("signed", "review", "x", False),
    ("draft", "scoring", None, False), ("intake", "signed", None, False), ("scoring", "draft", "x", False),
    ("draft", "draft", None, False), ("draft", "closed", None, False),
])
def test_round_transitions(source, target, reason, ok):
    if ok:
        assert check_transition(source, target, reason=reason).target == target
    else:
        with pytest.raises(TransitionError):
            check_transition(source, target, reason=reason)


def test_signed_is_reached_only_through_the_sign_off():
    """No change of state leads to signed (issue 19 item 7): the message names the sign-off."""
    with pytest.raises(TransitionError) as refused:
        check_transition("review", "signed", reason="组长已口头同意", key="2025Q1")
    assert refused.value.code == "sign_off_required"
    assert "/review/2025Q1/shortlist" in refused.value.zh and "POST /api/v1/rounds/2025Q1/shortlist/signoff" \
        in refused.value.en and "sign-off" in refused.value.en
    with pytest.raises(TransitionError) as final:
        check_transition("signed", "review", reason="x", key="2025Q1")
    assert final.value.code == "final" and "/api/v1/rounds/2025Q1/reopen" in final.value.en


CASES = CaseContext("2025-cases", (dt.date(2025, 1, 1), dt.date(2025, 12, 31)), dt.date(2025, 12, 20))


@pytest.mark.parametrize("period,ok", [("2025-03-01 至 2025-04-30", True), ("2025年3月1日—2025年4月30日", True),
                                       ("2025/3/1~2025/4/30", True), ("2025-05-01", True),
                                       ("2024-12-01 至 2025-01-31", False), ("2025-04-30 至 2025-03-01", False),
                                       ("2026-01-01", False), ("三月", False), ("", False)])
def test_case_period(period, ok):
    cells = {"name": "非遗春节传播", "unit": "中央广播电视总台", "period": period, "description": "活动"}
    entry, issues = check_case(2, cells, context=CASES)
    assert (entry is not None) is ok, issues
    assert split_period("2025-03-01至2025-04-30") == ("2025-03-01", "2025-04-30")
    assert map_headers(["案例名称", "推荐单位", "起止日期", "案例简介"], CASE_COLUMNS).ok


def test_domain_rules_import_no_web_framework():
    """scoring/ stays plain Python: no flask, sqlmodel, sqlalchemy or web imports (STYLE: layers)."""
    banned = {"flask", "sqlmodel", "sqlalchemy", "web", "flask_babel", "werkzeug"}
    offenders = []
    for path in sorted((DEFAULT_CONFIG_DIR.parent / "scoring").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else []
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in banned]
    assert not offenders
    assert Path(DEFAULT_CONFIG_DIR).exists()
