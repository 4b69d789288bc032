"""The demo gives the chair console something to read: a round in review with every rating in,
a signed round whose exports open, and dissemination cases in review."""
from __future__ import annotations

import hashlib

import pytest
from sqlmodel import select

from web.core.models import ResultVersion, Round, RoundState

pytestmark = pytest.mark.slow


def test_demo_review_rounds(demo, app, session, client, login):
    from seed.demo import DEMO_PASSWORD
    from seed.demo_review import CASES_KEY, REVIEW_KEY, SIGNED_KEY

    rounds = {r.key: r for r in session.exec(select(Round))}
    assert rounds[REVIEW_KEY].state == RoundState.review and rounds[SIGNED_KEY].state == RoundState.signed
    assert rounds[CASES_KEY].state == RoundState.review
    version = session.exec(select(ResultVersion).where(ResultVersion.round_id == rounds[SIGNED_KEY].id)).one()
    assert hashlib.sha256(version.content.encode()).hexdigest() == version.content_sha256
    assert "紧扣抗战胜利80周年主题" in version.content  # the chair's override is frozen with its reason
    login("chair", DEMO_PASSWORD)
    page = client.get(f"/review/{REVIEW_KEY}/rankings").get_data(as_text=True)
    assert page.count("data-work-id=") == 100
    cases = client.get(f"/review/{CASES_KEY}/shortlist").get_data(as_text=True)
    assert "优秀传播案例" in cases and "宁缺毋滥" in cases
    assert client.get(f"/review/{SIGNED_KEY}/export.xlsx").status_code == 200
    # issue 22: the cases round is drawn as a panel, so every rater's bias rests on all six cases
    from web.assignment.queries import round_report
    from web.review.services import ranking_for

    figures = round_report(session=session, round_=rounds[CASES_KEY], per_work=5).categories[0].figures
    assert (figures.design, figures.ratings_per_rater_min, figures.ratings_per_rater_max) == ("complete", 6, 6)
    raters = ranking_for(session=session, round_=rounds[CASES_KEY], method="affine").raters
    assert len(raters) == 5 and {r["n"] for r in raters} == {6}
    from web.review.verify import verify_result  # the demo's signed quarter re-derives from its ratings

    report = verify_result(session=session, round_=rounds[SIGNED_KEY])
    assert report.reproduced and report.bit_for_bit, report.findings
