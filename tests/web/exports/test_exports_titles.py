"""Documents are titled in words from the round (issue 21): quarter, year, cases, provincial."""
from __future__ import annotations

import pytest

from web.exports.titles import document_title


@pytest.mark.parametrize("year, quarter, kind, stage, unit, document, title, stage_line", [
    (2025, 3, "quarter", "national", None, "shortlist", "2025年第三季度网络视听节目推优专家评审结果", "总局评审"),
    (2025, 1, "quarter", "national", None, "rankings", "2025年第一季度网络视听节目推优专家评审完整排名", "总局评审"),
    (2025, None, "annual", "national", None, "shortlist", "2025年度网络视听节目推优专家评审结果", "总局评审"),
    (2025, None, "dissemination", "national", None, "announcement", "2025年度优秀传播案例推优名单公示", "总局评审"),
    (2025, 3, "quarter", "provincial", "浙江省", "shortlist", "2025年第三季度网络视听节目推优专家评审结果", "浙江省推荐"),
    (2025, 1, "quarter", "provincial", "浙江省广播电视局", "shortlist", "2025年第一季度网络视听节目推优专家评审结果",
     "浙江省推荐"),
])
def test_titles_in_words(year, quarter, kind, stage, unit, document, title, stage_line):
    result = document_title(year=year, quarter=quarter, kind=kind, stage=stage, unit=unit, document=document)
    assert (result.title, result.stage) == (title, stage_line)
    assert result.full == f"{title}（{stage_line}）"


def test_an_unknown_document_is_refused():
    with pytest.raises(ValueError, match="unknown document 'minutes'"):
        document_title(year=2025, quarter=1, kind="quarter", stage="national", unit=None, document="minutes")
