"""Weighted totals from long-form criterion ratings."""

from __future__ import annotations

import numpy as np
import pytest

from scoring.totals import CriterionScale, weighted_totals

SCALES = [CriterionScale("theme", 0, 10, 0.5, 3), CriterionScale("craft", 0, 10, 0.5, 1)]


def test_weighted_mean_on_common_scale():
    t = weighted_totals(["w1", "w1", "w2", "w2"], ["a", "a", "a", "a"], ["theme", "craft", "craft", "theme"],
                        [8, 4, 10, 6], scales=SCALES)
    assert t.work_id.tolist() == ["w1", "w2"]
    assert t.total == pytest.approx([7.0, 7.0])  # 0.75*8 + 0.25*4, 0.75*6 + 0.25*10
    assert (t.scale_min, t.scale_max) == (0, 10)


def test_different_scales_map_through_unit_interval_onto_first_scale():
    scales = [CriterionScale("a", 0, 10, 1, 1), CriterionScale("b", 1, 5, 1, 1)]
    t = weighted_totals(["w", "w"], ["r", "r"], ["a", "b"], [10, 3], scales=scales)
    assert t.total == pytest.approx([0.5 * 10 + 0.5 * 5.0])  # b=3 is halfway on 1..5


@pytest.mark.parametrize("values, criteria, message", [
    ([8, "abc"], ["theme", "craft"], r"data row 2: value 'abc' .* not a number"),
    ([8, 11], ["theme", "craft"], r"data row 2: value 11 .* outside its scale 0\.\.10"),
    ([8, -1], ["theme", "craft"], r"data row 2: value -1 .* outside"),
    ([8.2, 5], ["theme", "craft"], r"data row 1: value 8.2 .* not on its step grid"),
    ([8, 5], ["theme", "story"], r"data row 2: unknown criterion 'story'"),
])
def test_bad_values_name_the_row(values, criteria, message):
    with pytest.raises(ValueError, match=message):
        weighted_totals(["w", "w"], ["r", "r"], criteria, values, scales=SCALES)


def test_missing_criterion_names_rating():
    with pytest.raises(ValueError, match=r"data row 3: rating of work 'w2' by rater 'r' lacks criterion 'craft'"):
        weighted_totals(["w1", "w1", "w2"], ["r", "r", "r"], ["theme", "craft", "theme"], [1, 2, 3], scales=SCALES)


def test_duplicate_row():
    with pytest.raises(ValueError, match=r"data row 3 duplicates data row 1: rater 'r', work 'w', criterion 'theme'"):
        weighted_totals(["w", "w", "w"], ["r", "r", "r"], ["theme", "craft", "theme"], [1, 2, 3], scales=SCALES)


def test_invalid_scale_and_empty_input():
    with pytest.raises(ValueError, match="max"):
        CriterionScale("x", 5, 5, 1, 1)
    with pytest.raises(ValueError, match="no ratings"):
        weighted_totals([], [], [], [], scales=SCALES)


def test_first_row_points_at_each_rating():
    t = weighted_totals(["w2", "w1", "w1", "w2"], ["r"] * 4, ["theme", "theme", "craft", "craft"],
                        [1, 2, 3, 4], scales=SCALES)
    assert t.work_id[np.argsort(t.first_row)].tolist() == ["w2", "w1"]
