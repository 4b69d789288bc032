"""Conduct figures (履职评价) over plain records, against values worked out by hand."""
from __future__ import annotations

import datetime as dt

import pytest

from scoring.rules.conduct import (AssignmentRecord, ConductRule, ExpertConduct, FlagRecord, RaterFit,
                                   load_conduct_rule, round_conduct, scoring_deadline, spearman, time_spent,
                                   year_conduct)
from scoring.rules.toml_reader import ConfigError

UTC = dt.timezone.utc
T0 = dt.datetime(2025, 4, 10, 1, 0, tzinfo=UTC)  # 09:00 Beijing time
MIN = dt.timedelta(minutes=1)


def test_spearman_by_hand():
    # ranks (4,3,1,2) against (4,3,2,1): sum d^2 = 2, rho = 1 - 6*2/(4*15) = 0.8
    assert spearman([8.5, 7.5, 6.0, 6.5], [4.0, 3.0, 2.0, 1.0]) == pytest.approx(0.8)
    # ties take the average rank: (3.5,3.5,2,1) against (4,3,2,1) -> 4.5 / sqrt(4.5 * 5)
    assert spearman([8.0, 8.0, 7.0, 5.0], [4.0, 3.0, 2.0, 1.0]) == pytest.approx(4.5 / (4.5 * 5) ** 0.5)
    # three works, order (2,1,3) against (3,2,1): sum d^2 = 6, rho = 1 - 36/24 = -0.5
    assert spearman([9.0, 8.5, 10.0], [3.0, 2.0, 1.0]) == pytest.approx(-0.5)
    assert spearman([9.0, 8.0], [2.0, 1.0]) is None  # fewer than 3 works
    assert spearman([7.0, 7.0, 7.0], [3.0, 2.0, 1.0]) is None  # the expert gave one score to all
    with pytest.raises(ValueError):
        spearman([1.0, 2.0, 3.0], [1.0, 2.0])


def test_time_spent_adds_gaps_up_to_the_session_gap():
    saves = [T0, T0 + 10 * MIN, T0 + 12 * MIN, T0 + 80 * MIN]  # 10 + 2, then a 68-minute break
    assert time_spent(saves, T0 + 95 * MIN, gap_minutes=30) == pytest.approx(10 + 2 + 15)
    assert time_spent(saves, None, gap_minutes=30) == pytest.approx(12)
    assert time_spent(saves, None, gap_minutes=90) == pytest.approx(80)
    assert time_spent([T0], None, gap_minutes=30) == 0  # one save alone measures nothing
    assert time_spent([], None, gap_minutes=30) == 0


def test_scoring_deadline_from_the_calendar_or_the_round_entry():
    rule = ConductRule(days_after_forwarding=30, deadlines=(("2025", dt.date(2026, 1, 31)),))
    deadline = scoring_deadline("2025Q1", dt.date(2025, 3, 31), rule)
    assert deadline == dt.datetime(2025, 4, 30, 15, 59, 59, 999999, tzinfo=UTC)  # 24:00 Beijing time
    assert scoring_deadline("2025", dt.date(2025, 12, 31), rule).date() == dt.date(2026, 1, 31)
    assert scoring_deadline("2025Q1-浙江", None, rule) is None


def test_conduct_toml_is_read_and_checked(tmp_path):
    assert load_conduct_rule() == ConductRule(days_after_forwarding=30, deadlines=(), session_gap_minutes=30.0)
    (tmp_path / "conduct.toml").write_text('[deadline]\ndays_after_forwarding = 14\n'
                                           '[[deadline.round]]\nkey = "2025"\nlast_day = 2026-01-20\n'
                                           '[time]\nsession_gap_minutes = 20\n', encoding="utf-8")
    assert load_conduct_rule(tmp_path) == ConductRule(14, (("2025", dt.date(2026, 1, 20)),), 20.0)
    (tmp_path / "conduct.toml").write_text('[time]\nsession_gap = 20\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="session_gap"):
        load_conduct_rule(tmp_path)
    (tmp_path / "conduct.toml").write_text('[[deadline.round]]\nkey = "2025"\nlast_day = "soon"\n',
                                           encoding="utf-8")
    with pytest.raises(ConfigError, match=r"deadline.round\[0\].last_day"):
        load_conduct_rule(tmp_path)


DEADLINE = dt.datetime(2025, 4, 30, 15, 59, 59, tzinfo=UTC)


def _panel():
    """Three experts (1, 2, 3), works 11-14 (consensus order 11 > 12 > 13 > 14), work 15 recused by 2."""
    a = [AssignmentRecord(1, 1, 11, "submitted", T0 + 5 * MIN, (T0,)),
         AssignmentRecord(2, 1, 12, "submitted", T0 + 20 * MIN, (T0 + 8 * MIN, T0 + 14 * MIN)),
         AssignmentRecord(3, 1, 13, "submitted", DEADLINE + MIN, (DEADLINE - 3 * MIN,)),
         AssignmentRecord(4, 1, 14, "submitted", T0 + 200 * MIN, (T0 + 100 * MIN,)),  # 100-minute gap: a break
         AssignmentRecord(5, 2, 11, "submitted", T0, (T0 - 4 * MIN,)),
         AssignmentRecord(6, 2, 12, "submitted", T0, (T0 - 7 * MIN,)),
         AssignmentRecord(7, 2, 13, "submitted", T0, (T0 - 1 * MIN,)),
         AssignmentRecord(8, 2, 14, "submitted", T0, (T0 - 2 * MIN,)),
         AssignmentRecord(9, 2, 15, "recused"),
         AssignmentRecord(10, 3, 11, "submitted", T0, ()),
         AssignmentRecord(11, 3, 12, "submitted", T0, ()),
         AssignmentRecord(12, 3, 13, "submitted", T0, ()),
         AssignmentRecord(13, 3, 14, "in_progress", None, (T0, T0 + 6 * MIN))]
    totals = [(1, 11, 9.0), (1, 12, 8.0), (1, 13, 7.0), (1, 14, 6.0),
              (2, 11, 8.5), (2, 12, 7.5), (2, 13, 6.0), (2, 14, 6.5),
              (3, 11, 9.0), (3, 12, 8.5), (3, 13, 10.0)]
    consensus = {11: 8.8, 12: 8.0, 13: 7.6, 14: 6.2}
    fits = {1: RaterFit(1, -0.2, 1.1, 0.3, 4), 2: RaterFit(2, -0.6, 0.9, 0.4, 4), 3: RaterFit(3, 0.8, 1.0, 0.9, 3)}
    flags = [FlagRecord(12, 3, 13, "high", True, explanation="此片技术创新突出"),
             FlagRecord(8, 2, 14, "low", False),  # no longer active: not counted
             FlagRecord(6, 2, 12, "low", True, waiver="组长认可")]
    return a, totals, consensus, fits, flags


def test_round_figures_by_hand():
    a, totals, consensus, fits, flags = _panel()
    rows = round_conduct(a, deadline=DEADLINE, fits=fits, totals=totals, consensus=consensus, flags=flags,
                         rule=ConductRule(session_gap_minutes=30))
    one, two, three = rows
    assert [r.expert_id for r in rows] == [1, 2, 3]
    assert (one.assigned, one.submitted, one.on_time, one.late, one.recused) == (4, 4, 3, 1, 0)
    assert one.minutes == pytest.approx(5 + (6 + 6) + 4 + 0)  # the 100-minute gap is a break
    assert one.saves == 5
    assert one.agreement == pytest.approx(1.0) and one.agreement_n == 4
    assert (two.assigned, two.submitted, two.on_time, two.recused) == (5, 4, 4, 1)
    assert two.minutes == pytest.approx(4 + 7 + 1 + 2)
    assert two.agreement == pytest.approx(0.8)
    assert (two.abnormal, two.explained, two.waived, two.unexplained) == (1, 0, 1, 0)
    assert (three.assigned, three.submitted, three.on_time) == (4, 3, 3)
    assert three.minutes == pytest.approx(6)  # the form in progress: two saves 6 minutes apart
    assert three.agreement == pytest.approx(-0.5) and three.agreement_n == 3
    assert (three.abnormal, three.explained, three.unexplained) == (1, 1, 0)
    assert three.abnormal_share == pytest.approx(1 / 3)
    assert (three.bias, three.scale, three.residual_sd, three.n_fit) == (0.8, 1.0, 0.9, 3)
    assert one.on_time_share == pytest.approx(0.75)


def test_year_adds_counts_and_weights_the_fit():
    q1 = [ExpertConduct(1, assigned=4, submitted=4, on_time=3, late=1, minutes=20, bias=-0.2, scale=1.1,
                        residual_sd=0.3, n_fit=4, agreement=1.0, agreement_n=4, abnormal=1, explained=1)]
    q2 = [ExpertConduct(1, assigned=6, submitted=5, on_time=5, recused=1, minutes=40.5, bias=0.4, scale=0.8,
                        residual_sd=0.6, n_fit=2, agreement=0.5, agreement_n=2),
          ExpertConduct(2, assigned=3, submitted=0)]
    one, two = year_conduct([q1, q2])
    assert (one.rounds, one.assigned, one.submitted, one.on_time, one.late, one.recused) == (2, 10, 9, 8, 1, 1)
    assert one.minutes == pytest.approx(60.5)
    assert one.bias == pytest.approx((-0.2 * 4 + 0.4 * 2) / 6)  # 0.0
    assert one.scale == pytest.approx((1.1 * 4 + 0.8 * 2) / 6)  # 1.0
    assert one.residual_sd == pytest.approx(((0.09 * 4 + 0.36 * 2) / 6) ** 0.5)  # sqrt(0.18)
    assert one.agreement == pytest.approx((1.0 * 4 + 0.5 * 2) / 6)
    assert (one.abnormal, one.explained) == (1, 1)
    assert (two.rounds, two.assigned, two.bias, two.agreement) == (1, 3, None, None)


def test_missing_totals_or_consensus_scores_are_left_out_of_agreement():
    a, totals, consensus, fits, flags = _panel()
    totals = totals + [(1, 15, None)]  # a total the fit could not compute
    consensus = {**consensus, 14: None}  # and a work without a consensus score
    one = round_conduct(a, deadline=DEADLINE, fits=fits, totals=totals, consensus=consensus, flags=[],
                        rule=ConductRule())[0]
    assert (one.agreement, one.agreement_n) == (pytest.approx(1.0), 3)
