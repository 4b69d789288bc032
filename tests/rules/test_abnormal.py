"""The abnormal-score rule (畸高/畸低): hand-computed cases, the threshold's edge, config errors."""
from __future__ import annotations

import pytest

from scoring.rules.abnormal import AbnormalRule, flag_abnormal, load_abnormal_rule, reason_of, robust_rejections
from scoring.rules.toml_reader import ConfigError


def test_a_wild_low_rating_is_flagged_with_the_others_mean():
    rows = [(1, "w", 8.0), (2, "w", 7.5), (3, "w", 8.5), (4, "w", 8.0), (5, "w", 3.0), (6, "v", 6.0), (7, "v", 6.5)]
    flags = flag_abnormal(rows, AbnormalRule())
    # rating 5: others (8, 7.5, 8.5, 8) mean 8.0; |3 - 8| = 5 > 0.3 * 8 = 2.4
    # rating 3: others (8, 7.5, 8, 3) mean 6.625; |8.5 - 6.625| = 1.875 < 1.9875: not flagged
    assert [(f.rating, f.direction, f.others_n) for f in flags] == [(5, "low", 4)]
    assert flags[0].others_mean == pytest.approx(8.0)
    assert flags[0].deviation == pytest.approx(-0.625)


def test_with_few_ratings_a_wild_one_can_push_another_over_the_line():
    # rating 3: others (8, 7, 3) mean 6.0; |9 - 6| = 3 > 1.8: the rule as written flags it too
    flags = flag_abnormal([(1, "w", 8.0), (2, "w", 7.0), (3, "w", 9.0), (4, "w", 3.0)], AbnormalRule())
    assert [(f.rating, f.direction) for f in flags] == [(3, "high"), (4, "low")]


def test_high_ratings_and_the_edge_of_the_threshold():
    # others of rating 3: (5, 5) mean 5, limit 1.5: 6.5 is exactly on it (not flagged), 6.6 is over
    assert flag_abnormal([(1, "w", 5.0), (2, "w", 5.0), (3, "w", 6.5)], AbnormalRule()) == []
    flags = flag_abnormal([(1, "w", 5.0), (2, "w", 5.0), (3, "w", 6.6)], AbnormalRule())
    assert [(f.rating, f.direction) for f in flags] == [(3, "high")]


def test_too_few_other_ratings_are_not_judged():
    rows = [(1, "w", 9.0), (2, "w", 1.0)]
    assert flag_abnormal(rows, AbnormalRule()) == []
    assert {f.rating for f in flag_abnormal(rows, AbnormalRule(min_other_ratings=1))} == {1, 2}


def test_the_shipped_config_is_the_documented_default():
    assert load_abnormal_rule() == AbnormalRule(relative_threshold=0.30, min_other_ratings=2)


@pytest.mark.parametrize("text,where", [
    ("[abnormal]\nrelative_threshold = 0\n", "abnormal.relative_threshold"),
    ("[abnormal]\nrelative_threshhold = 0.2\n", "abnormal.relative_threshhold"),
    ("[abnormal]\nmin_other_ratings = 0\n", "abnormal.min_other_ratings"),
    ("[abnormal]\nmin_other_ratings = 1.5\n", "abnormal.min_other_ratings"),
    ("[abnorml]\n", "abnorml"),
    ("[abnormal]\nrobust_fit = \"yes\"\n", "abnormal.robust_fit"),
])
def test_a_wrong_setting_names_file_and_key(tmp_path, text, where):
    (tmp_path / "panel.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_abnormal_rule(tmp_path)
    assert caught.value.file == "panel.toml" and caught.value.key == where


def test_a_custom_threshold_is_read(tmp_path):
    (tmp_path / "panel.toml").write_text("[abnormal]\nrelative_threshold = 0.2\nmin_other_ratings = 3\n")
    assert load_abnormal_rule(tmp_path) == AbnormalRule(0.2, 3)


def test_robust_fit_flags_what_the_fit_rejects_only_when_on():
    rows = [(1, "w", 8.0), (2, "w", 7.5), (3, "w", 8.5), (4, "w", 6.5), (5, "v", 6.0), (6, "v", 6.5), (7, "v", 6.0)]
    # rating 4: others (8, 7.5, 8.5) mean 8.0; |6.5 - 8| = 1.5 < 2.4: the relative rule is silent
    assert flag_abnormal(rows, AbnormalRule(), rejected={4}) == []
    flags = flag_abnormal(rows, AbnormalRule(robust_fit=True), rejected={4})
    assert [(f.rating, f.direction, f.reason, f.others_n) for f in flags] == [(4, "low", "robust fit", 3)]
    assert flags[0].others_mean == pytest.approx(8.0)
    # a rating both rules catch is reported under the relative rule
    five = [(1, "w", 8.0), (2, "w", 8.0), (3, "w", 8.0), (4, "w", 8.0), (8, "w", 2.0)]
    both = flag_abnormal(five, AbnormalRule(robust_fit=True), rejected={8})
    assert [(f.rating, f.reason) for f in both] == [(8, "relative")]
    assert reason_of(AbnormalRule(), 6.5, 8.0, 3) == "robust fit" and reason_of(AbnormalRule(), 2.0, 8.0, 3) == "relative"


def test_the_fit_rejects_a_wild_rating_of_a_consistent_rater():
    # 4 raters x 6 works, each rater consistent (work quality + own severity); rater "d" gives
    # work 0 one wild score 3 points under what the panel (and d's own severity) predicts
    quality = [9.0, 8.4, 7.8, 7.0, 6.2, 5.5]
    severity = {"a": 0.3, "b": -0.2, "c": 0.0, "d": -0.1}
    rows = [((w, r), w, r, q + s, "网络剧") for w, q in enumerate(quality) for r, s in severity.items()]
    rows = [(key, w, r, t - 3.0 if key == (0, "d") else t + 0.05 * ((w * 7 + ord(r)) % 3 - 1), c)
            for key, w, r, t, c in rows]
    assert robust_rejections(rows) == {(0, "d")}
    assert robust_rejections([]) == set()
