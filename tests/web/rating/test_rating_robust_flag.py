"""Optional robust-fit flag (issue 12 item 1): with ``robust_fit = true`` in config/panel.toml, a
rating the default normalization's robust fit rejects as wild is flagged too, with reason
"robust fit", even when it is within 30% of the others' mean; off (the default), it is not."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlmodel import select

from helpers.signing import KEY, bearer
from helpers.review import scored_round
from testkit import PASSWORD, csrf_token
from web.core.models import AbnormalFlag, Assignment, AuditEvent, Rating, RoundState
from web.rounds.operations import set_state

CONFIG = Path(__file__).resolve().parents[3] / "config"


def config_with(tmp_path, monkeypatch, robust: bool) -> None:
    """A copy of config/ whose panel.toml switches the robust-fit flag, in use for this test."""
    target = tmp_path / "config"
    shutil.copytree(CONFIG, target)
    text = (target / "panel.toml").read_text(encoding="utf-8")
    assert "robust_fit = false" in text  # the shipped default
    (target / "panel.toml").write_text(text.replace("robust_fit = false", f"robust_fit = {str(robust).lower()}"),
                                       encoding="utf-8")
    monkeypatch.setenv("TUIYOU_CONFIG", str(target))


def moderate_outlier(session, make_user):
    """A consistent panel in scoring; one expert's rating of the best work lowered by about 20%."""
    round_, works, experts = scored_round(session, make_user, key=KEY, state=RoundState.scoring, seed=5)
    odd = session.exec(select(Assignment).where(Assignment.work_id == works[0].id)
                       .order_by(Assignment.id)).first()
    for rating in session.exec(select(Rating).where(Rating.assignment_id == odd.id)):
        rating.value = 7.5
        session.add(rating)
    session.commit()
    return round_, odd


def others_mean(session, odd) -> float:
    values = {}
    for a in session.exec(select(Assignment).where(Assignment.work_id == odd.work_id, Assignment.id != odd.id)):
        rows = session.exec(select(Rating).where(Rating.assignment_id == a.id)).all()
        values[a.id] = sum(r.value for r in rows) / len(rows)
    return sum(values.values()) / len(values)


@pytest.mark.parametrize("robust", [True, False])
def test_a_rating_the_robust_fit_rejects_is_flagged_only_when_switched_on(client, session, make_user, tmp_path,
                                                                       monkeypatch, robust):
    config_with(tmp_path, monkeypatch, robust)
    round_, odd = moderate_outlier(session, make_user)
    mean = others_mean(session, odd)
    assert abs(7.5 - mean) < 0.30 * mean  # the 30% rule alone would not flag it
    set_state(session=session, round_=round_, state="review", actor="t")
    session.commit()
    make_user("chair1", role="chair")
    chair = bearer(client, "chair1")
    listed = client.get(f"/api/v1/rounds/{KEY}/abnormal", headers=chair).get_json()
    if robust:
        assert [(f["assignment_id"], f["reason"], f["direction"]) for f in listed["flags"]] == \
            [(odd.id, "robust fit", "low")]
        assert listed["unexplained"] == [odd.id]
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "rating.flagged")).one()
        assert event.detail["reason"] == "robust fit"
        refused = client.post(f"/api/v1/rounds/{KEY}/shortlist/signoff", json={"password": PASSWORD}, headers=chair)
        assert refused.status_code == 409 and refused.get_json()["unexplained"] == [odd.id]
        page = client.application.test_client()
        page.post("/login", data={"username": "chair1", "password": PASSWORD, "csrf_token": csrf_token(page)})
        html = page.get(f"/review/{KEY}/abnormal").get_data(as_text=True)
        assert f'data-flag="{odd.id}"' in html and 'data-reason="robust-fit"' in html and "稳健拟合剔除" in html
    else:
        assert listed["flags"] == [] and session.exec(select(AbnormalFlag)).all() == []
