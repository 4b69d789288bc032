"""Console behaviour that needs a particular panel: a disconnected rater–work graph is warned
about, and an annual round proposes only works that come from a signed quarter."""
from __future__ import annotations

import numpy as np
import pytest

from helpers.review import CRITERIA, _rate, scored_round
from testkit import PASSWORD
from web.core.models import RoundState, Work
from web.rounds.operations import create_round, set_state


@pytest.fixture
def chair(client, make_user, login):
    make_user("chair1", role="chair")
    login("chair1")
    return client


def test_disconnected_panel_is_flagged(chair, session, make_user):
    experts = [make_user(f"d{i}", role="expert") for i in range(6)]
    round_ = create_round(session=session, key="2025Q1", actor="t")
    drama = [Work(round_id=round_.id, title=f"剧{i}", category="网络剧", submitter="s") for i in range(4)]
    docs = [Work(round_id=round_.id, title=f"纪录{i}", category="网络纪录片", submitter="s") for i in range(4)]
    session.add_all(drama + docs)
    session.flush()
    rng = np.random.default_rng(0)
    _rate(session, round_, experts[:3], drama, np.linspace(9, 6, 4), field="work_id", criteria=CRITERIA,
          per_item=3, rng=rng)
    _rate(session, round_, experts[3:], docs, np.linspace(9, 6, 4), field="work_id", criteria=CRITERIA,
          per_item=3, rng=rng)
    for state in ("intake", "scoring", "review"):
        set_state(session=session, round_=round_, state=state, actor="t")
    session.commit()
    for page in ("rankings", "diagnostics"):
        html = chair.get(f"/review/2025Q1/{page}").get_data(as_text=True)
        assert 'data-warning="disconnected"' in html and "2 个分块" in html


def test_annual_round_proposes_only_works_from_signed_quarters(chair, client, session, make_user):
    from web.review import services
    from web.rounds.operations import create_annual

    quarter, _works, _ = scored_round(session, make_user, works_per_category={"网络剧": 6})
    user = make_user("chair2", role="chair")
    services.sign_off_shortlist(session=session, round_=quarter, signer=user, password=PASSWORD, dissent=None)
    session.commit()
    build = create_annual(session=session, year=2025, actor="t")
    annual = build.round
    stray = Work(round_id=annual.id, title="未经季度推优的作品", category="网络剧", submitter="s")
    session.add(stray)
    session.flush()
    candidates = [w for w in session.exec(__import__("sqlmodel").select(Work).where(Work.round_id == annual.id))]
    others = make_user("annual_e", role="expert"), make_user("annual_f", role="expert"), make_user("annual_g", role="expert")
    _rate(session, annual, list(others), candidates, np.full(len(candidates), 9.0), field="work_id",
          criteria=CRITERIA, per_item=3, rng=np.random.default_rng(1))
    for state in ("intake", "scoring", "review"):
        set_state(session=session, round_=annual, state=state, actor="t")
    session.commit()
    ranking = services.ranking_for(session=session, round_=annual, method="raw")
    proposal = services.proposal_for(session=session, round_=annual, ranking=ranking)
    decision = next(e for e in proposal.entries if e.candidate.key == stray.id)
    assert not decision.proposed and decision.reason == "ineligible"
    assert decision.candidate.ineligible_reason == "not_from_quarter"
    assert all(e.candidate.eligible for e in proposal.entries if e.candidate.key != stray.id)
    assert annual.state == RoundState.review
