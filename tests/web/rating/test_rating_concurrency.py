"""Two tablets saving at once: of two saves on one version exactly one wins (the other gets 409
with the winner's values), and concurrent retries of one save are applied once."""
from __future__ import annotations

import threading

import pytest
from sqlmodel import Session, select

from helpers.rating import scoring_scene, token
from web.core.models import Rating, ScoreSave


@pytest.fixture
def scene(session, make_user):
    return scoring_scene(session, make_user, works=1)


def _race(app, auth, assignment_id, bodies_and_keys):
    """Send the PUTs from parallel threads, released together; the (status, json) answers in order."""
    answers = [None] * len(bodies_and_keys)
    gate = threading.Barrier(len(bodies_and_keys))

    def send(index, body, key):
        client = app.test_client()
        headers = {**auth, **({"Idempotency-Key": key} if key else {})}
        gate.wait()
        response = client.put(f"/api/v1/assignments/{assignment_id}/scores", json=body, headers=headers)
        answers[index] = (response.status_code, response.get_json())

    threads = [threading.Thread(target=send, args=(i, body, key)) for i, (body, key) in enumerate(bodies_and_keys)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_two_saves_on_one_version_one_wins(app, client, scene):
    auth, a = token(client), scene.mine[0]
    answers = _race(app, auth, a.id, [({"scores": {"thought": 3}, "version": 0}, "tablet-a"),
                                      ({"scores": {"thought": 9}, "version": 0}, "tablet-b")])
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200, 409]
    winner = next(body for status, body in answers if status == 200)
    loser = next(body for status, body in answers if status == 409)
    assert winner == {"version": 1} and loser["version"] == 1
    assert loser["scores"]["thought"] in (3, 9)
    with Session(app.extensions["tuiyou.engine"]) as db:
        assert len(db.exec(select(Rating).where(Rating.assignment_id == a.id)).all()) == 1


def test_concurrent_retries_of_one_save_apply_once(app, client, scene):
    auth, a = token(client), scene.mine[0]
    body = {"scores": {"artistry": 6.5}, "version": 0}
    answers = _race(app, auth, a.id, [(body, "same-key")] * 4)
    assert all(status == 200 and answer == {"version": 1} for status, answer in answers), answers
    with Session(app.extensions["tuiyou.engine"]) as db:
        assert len(db.exec(select(ScoreSave)).all()) == 1
        assert {r.version for r in db.exec(select(Rating).where(Rating.assignment_id == a.id))} == {1}


def test_a_save_read_before_a_submit_does_not_reopen_the_submitted_form(app, client, scene):
    """A save that loaded the form just before another request submitted it is refused (423) and
    writes nothing: the compare-and-set also requires the form to be still open."""
    from scoring.rules.config import load_rules
    from web.core.models import Assignment, AssignmentStatus, Round, User
    from web.core.errors import Refused
    from web.rating.operations import ScoreChange, save_scores

    auth, a = token(client), scene.mine[0]
    criteria = load_rules().criteria_sets["works"]
    full = {c.key: c.max for c in criteria.criteria}
    assert client.put(f"/api/v1/assignments/{a.id}/scores", json={"scores": full, "version": 0},
                      headers=auth).status_code == 200
    with Session(app.extensions["tuiyou.engine"], expire_on_commit=False) as late:
        stale = late.get(Assignment, a.id)  # read while still in progress, version 1
        assert stale.status == AssignmentStatus.in_progress and stale.version == 1
        expert, round_ = late.get(User, stale.expert_id), late.get(Round, stale.round_id)
        late.commit()  # end the read (PostgreSQL would otherwise hold the snapshot)
        assert client.post(f"/api/v1/assignments/{a.id}/submit", headers=auth).status_code == 200
        with pytest.raises(Refused) as refused:
            save_scores(session=late, expert=expert, assignment=stale, round_=round_, criteria=criteria,
                        change=ScoreChange(scores={criteria.criteria[0].key: criteria.criteria[0].min}, version=1))
        assert refused.value.status == 423
        late.rollback()
    with Session(app.extensions["tuiyou.engine"]) as db:
        now = db.get(Assignment, a.id)
        assert now.status == AssignmentStatus.submitted and now.version == 1
        assert {r.version for r in db.exec(select(Rating).where(Rating.assignment_id == a.id))} == {1}
