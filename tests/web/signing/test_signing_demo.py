"""The demo's panel practice: the signed quarter carries members' signatures with one dissent, the
round in review has abnormal ratings waiting for explanations (sign-off 409), the 2025 annual
round is drawn and in scoring."""
from __future__ import annotations

import pytest
from sqlmodel import select

from web.core.models import Assignment, Round, RoundKind, RoundState, SignOff
from web.rating.flags import unexplained
from web.signing.queries import panel_members

pytestmark = pytest.mark.slow


def test_demo_panel_practice(demo, app, session, client, login):
    from seed.demo import DEMO_PASSWORD
    from seed.demo_panel import DISSENT, REVIEW_KEY, SIGNED_KEY

    rounds = {r.key: r for r in session.exec(select(Round))}
    signed = rounds[SIGNED_KEY]
    signatures = session.exec(select(SignOff)).all()
    members = panel_members(session=session, round_=signed)
    assert len(signatures) == 1 + len(members) - 2  # the chair and all members but two
    assert [s.dissent for s in signatures if s.dissent] == [DISSENT]
    waiting = unexplained(session=session, round_=rounds[REVIEW_KEY])
    assert waiting
    annual = next(r for r in rounds.values() if r.kind == RoundKind.annual)
    assert annual.state == RoundState.scoring
    assert session.exec(select(Assignment).where(Assignment.round_id == annual.id)).first() is not None
    login("chair", DEMO_PASSWORD)
    page = client.get(f"/review/{REVIEW_KEY}/abnormal").get_data(as_text=True)
    assert f'data-flag="{waiting[0]}"' in page
    sign_page = client.get(f"/panel/{SIGNED_KEY}/sign").get_data(as_text=True)
    assert DISSENT in sign_page and sign_page.count("data-unsigned=") == 2
