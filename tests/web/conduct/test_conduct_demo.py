"""The demo shows data on the conduct review: save histories over each round's scoring window,
some late submissions, the fit's figures and agreement for the experts of the signed quarter."""
from __future__ import annotations

import pytest
from sqlmodel import select

from web.conduct.report import round_report, year_report
from web.core.models import Round

pytestmark = pytest.mark.slow


def test_demo_conduct_review(demo, app, session, client, login):
    from seed.demo import DEMO_PASSWORD

    signed = session.exec(select(Round).where(Round.key == "2025Q2")).one()
    report = round_report(session=session, round_=signed)
    assert len(report.rows) >= 10
    assert all(r.submitted and r.minutes > 0 and r.bias is not None and r.agreement is not None
               for r in report.rows)
    year = year_report(session=session, year=2025)
    assert {r.key for r in year.rounds} >= {"2025Q1", "2025Q2", "2025Q3", "2025-传播案例"}
    assert sum(r.late for r in year.rows) > 0 and sum(r.on_time for r in year.rows) > sum(r.late for r in year.rows)
    assert sum(r.abnormal for r in year.rows) > 0 and sum(r.explained for r in year.rows) > 0
    session.commit()  # the rankings the reports cached (the page's own request writes the same rows)
    login("admin", DEMO_PASSWORD)
    page = client.get("/admin/conduct/year/2025")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count("data-expert-id=") == len(year.rows) and 'class="dot' in html
