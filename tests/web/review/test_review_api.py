"""The chair console's API: rankings rows, access by role, the shortlist, overrides with reasons,
the sign-off that seals the round (423 afterwards), re-opening into a new version."""
from __future__ import annotations

import pytest
from sqlmodel import select

from helpers.review import rerate, scored_cases, scored_round
from testkit import PASSWORD
from web.core.models import AuditEvent, ResultVersion, Round, RoundState, ShortlistEntry
from helpers.api import bearer

KEY = "2025Q1"


@pytest.fixture
def scored(session, make_user):
    return scored_round(session, make_user)


@pytest.fixture
def chair(client, make_user):
    make_user("chair1", role="chair", display_name="李组长")
    return bearer(client, "chair1")


CHAIR_ENDPOINTS = [("get", f"/api/v1/rounds/{KEY}/rankings"), ("get", f"/api/v1/rounds/{KEY}/shortlist"),
                   ("post", f"/api/v1/rounds/{KEY}/shortlist"), ("post", f"/api/v1/rounds/{KEY}/shortlist/signoff"),
                   ("post", f"/api/v1/rounds/{KEY}/shortlist/entries/1"),
                   ("get", f"/api/v1/rounds/{KEY}/shortlist.csv"), ("get", f"/api/v1/rounds/{KEY}/shortlist.xlsx"),
                   ("get", f"/api/v1/rounds/{KEY}/shortlist.pdf"), ("post", f"/api/v1/rounds/{KEY}/reopen")]


@pytest.mark.parametrize("method,path", CHAIR_ENDPOINTS)
def test_expert_gets_403_and_anonymous_401(client, scored, method, path):
    assert getattr(client, method)(path, json={}).status_code == 401
    headers = bearer(client, scored[2][0].username)
    # a panel member calling sign-off before the chair sealed the round: 409 not_sealed (#12), not a signature
    expected = 409 if path.endswith("/signoff") else 403
    assert getattr(client, method)(path, json={"password": PASSWORD}, headers=headers).status_code == expected


def test_rankings_rows_follow_the_analyze_contract(client, scored, chair):
    rows = client.get(f"/api/v1/rounds/{KEY}/rankings?method=raw", headers=chair).get_json()
    assert len(rows) == 14
    for name in ("work_id", "category", "score", "se", "rank", "rank_low", "rank_high", "n_ratings", "title"):
        assert name in rows[0]
    drama = [r for r in rows if r["category"] == "网络剧"]
    assert [r["rank"] for r in drama] == sorted(r["rank"] for r in drama) and drama[0]["rank"] == 1
    assert all(r["rank_low"] <= r["rank"] <= r["rank_high"] for r in rows)
    assert all(r["n_ratings"] == 4 for r in rows)
    # raw: the score is the mean of the weighted totals
    assert all(abs(r["score"] - r["raw_mean"]) < 1e-6 for r in rows)
    only = client.get(f"/api/v1/rounds/{KEY}/rankings?category=网络纪录片", headers=chair).get_json()
    assert {r["category"] for r in only} == {"网络纪录片"} and len(only) == 6
    bad = client.get(f"/api/v1/rounds/{KEY}/rankings?method=median", headers=chair)
    assert bad.status_code == 422 and "affine" in bad.get_json()["message"]
    assert client.get(f"/api/v1/rounds/{KEY}/rankings?category=电视剧", headers=chair).status_code == 422
    assert client.get("/api/v1/rounds/2030Q1/rankings", headers=chair).status_code == 404


def test_a_new_rating_is_served_stale_with_its_time_then_fresh_after_the_recompute(app, client, session, scored,
                                                                                 chair):
    import datetime as dt

    from web.core.models import Assignment, Rating, RecomputeJob, utcnow
    from web.recompute.runner import run_pending
    first = client.get(f"/api/v1/rounds/{KEY}/rankings?method=raw", headers=chair)
    assert first.headers["X-Tuiyou-Updating"] == "0"
    top = first.get_json()[0]
    assignment = session.exec(select(Assignment).where(Assignment.work_id == top["work_id"])).first()
    assignment.version = 2
    session.add(assignment)
    for key in ("thought", "artistry", "production", "innovation"):
        session.add(Rating(assignment_id=assignment.id, criterion=key, value=0.0, version=2))
    session.commit()
    # the request never computes: the latest result, with its time, marked as being updated
    stale = client.get(f"/api/v1/rounds/{KEY}/rankings?method=raw", headers=chair)
    assert stale.get_json() == first.get_json()
    assert stale.headers["X-Tuiyou-Updating"] == "1"
    assert stale.headers["X-Tuiyou-Computed-At"] == first.headers["X-Tuiyou-Computed-At"]
    assert len(session.exec(select(RecomputeJob).where(RecomputeJob.state == "queued")).all()) == 1
    assert run_pending(app.extensions["tuiyou.engine"], now=utcnow() + dt.timedelta(minutes=1)) == 1
    again = client.get(f"/api/v1/rounds/{KEY}/rankings?method=raw", headers=chair)
    assert again.headers["X-Tuiyou-Updating"] == "0"
    assert again.headers["X-Tuiyou-Computed-At"] > first.headers["X-Tuiyou-Computed-At"]
    moved = next(r for r in again.get_json() if r["work_id"] == top["work_id"])
    assert moved["score"] < top["score"] - 1


def test_the_rankings_answer_is_serialized_once_per_stored_result_and_carries_an_etag(app, client, session, scored,
                                                                                      chair, monkeypatch):
    import datetime as dt

    from web.api.registry import Operation
    from web.core.models import Assignment, Rating, utcnow
    from web.recompute.runner import run_pending

    serialized = []
    real = Operation._serialize
    monkeypatch.setattr(Operation, "_serialize",
                        lambda self, status, value: serialized.append(self.summary) or real(self, status, value))
    path = f"/api/v1/rounds/{KEY}/rankings?method=raw"
    computed = client.get(path, headers=chair)  # the round's first: computed and stored in the request
    first = client.get(path, headers=chair)  # the stored result, read once by this process
    made = len(serialized)
    again = client.get(path, headers=chair)
    assert again.data == first.data == computed.data and len(serialized) == made  # its bytes, kept
    assert first.headers["ETag"] == again.headers["ETag"]
    unchanged = client.get(path, headers={**chair, "If-None-Match": first.headers["ETag"]})
    assert unchanged.status_code == 304 and unchanged.data == b""
    assert unchanged.headers["X-Tuiyou-Computed-At"] == first.headers["X-Tuiyou-Computed-At"]
    # one category is its own answer, with its own tag
    drama = client.get(f"{path}&category=网络剧", headers={**chair, "If-None-Match": first.headers["ETag"]})
    assert drama.status_code == 200 and {r["category"] for r in drama.get_json()} == {"网络剧"}
    assert drama.headers["ETag"] != first.headers["ETag"] and len(serialized) == made + 1
    # a newer stored result is a new answer: never the old bytes, never a 304 for the old tag
    top = first.get_json()[0]
    form = session.exec(select(Assignment).where(Assignment.work_id == top["work_id"])).first()
    form.version = 2
    session.add(form)
    session.add_all(Rating(assignment_id=form.id, criterion=key, value=0.0, version=2)
                    for key in ("thought", "artistry", "production", "innovation"))
    session.commit()
    stale = client.get(path, headers={**chair, "If-None-Match": first.headers["ETag"]})  # queues the recompute
    assert stale.status_code == 304 and stale.headers["X-Tuiyou-Updating"] == "1"
    assert run_pending(app.extensions["tuiyou.engine"], now=utcnow() + dt.timedelta(minutes=1)) == 1
    fresh = client.get(path, headers={**chair, "If-None-Match": first.headers["ETag"]})
    assert fresh.status_code == 200 and fresh.headers["ETag"] != first.headers["ETag"]
    assert next(r for r in fresh.get_json() if r["work_id"] == top["work_id"])["score"] < top["score"] - 1
    from web.review import queries
    rows = [row_id for row_id, _fingerprint, _at in queries._PARSED]  # the older result of the row let go
    assert len(rows) == len(set(rows))


def test_override_needs_a_reason_and_is_audited(client, session, scored, chair):
    assert client.post(f"/api/v1/rounds/{KEY}/shortlist", json={"method": "raw"}, headers=chair).status_code == 201
    entries = client.get(f"/api/v1/rounds/{KEY}/shortlist", headers=chair).get_json()["entries"]
    outside = next(e for e in entries if not e["included"])
    url = f"/api/v1/rounds/{KEY}/shortlist/entries/{outside['entry_id']}"
    refused = client.post(url, json={"included": True, "reason": "   "}, headers=chair)
    assert refused.status_code == 422 and refused.get_json()["error"] == "reason_required"
    assert session.get(ShortlistEntry, outside["entry_id"]).included is False
    ok = client.post(url, json={"included": True, "reason": "题材重大，组长提议调入"}, headers=chair)
    assert ok.status_code == 200
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "shortlist.override")).all()
    assert len(events) == 1 and events[0].detail["reason"] == "题材重大，组长提议调入"
    # a re-proposal keeps the chair's decision
    client.post(f"/api/v1/rounds/{KEY}/shortlist", json={"method": "raw"}, headers=chair)
    entries = client.get(f"/api/v1/rounds/{KEY}/shortlist", headers=chair).get_json()["entries"]
    kept = next(e for e in entries if e["item_id"] == outside["item_id"])
    assert kept["included"] and kept["override_reason"] == "题材重大，组长提议调入" and kept["override_by"] == "李组长"


@pytest.mark.parametrize("path", [f"/api/v1/rounds/{KEY}/rankings", f"/api/v1/rounds/{KEY}/shortlist"])
def test_a_hostile_if_none_match_gets_the_answer_never_an_error(client, scored, chair, path):
    whole = client.get(path, headers=chair)
    assert whole.status_code == 200
    for hostile in ('"' + "a" * 8000 + '"', 'W/"', '"unterminated', "=cmd|' /C calc'!A0", "\x00\x01", ",,,",
                    "\udcff".encode("utf-8", "surrogatepass").decode("latin-1"), whole.headers["ETag"] + "x"):
        answer = client.get(path, headers={**chair, "If-None-Match": hostile})
        assert answer.status_code == 200 and answer.data == whole.data, hostile
    # "*" matches any current answer (RFC 9110, 13.1.2): nothing new to send
    assert client.get(path, headers={**chair, "If-None-Match": "*"}).status_code == 304


def test_the_shortlist_answer_is_kept_until_something_in_it_changes(client, session, scored, chair):
    from web.core.models import User
    from web.review import queries

    path = f"/api/v1/rounds/{KEY}/shortlist?method=raw"

    def get(tag=None):
        return client.get(path, headers={**chair, **({"If-None-Match": tag} if tag else {})})

    get()  # the round's first: computed in the request
    unsaved = get()
    assert unsaved.get_json()["state"] == "unsaved" and get(unsaved.headers["ETag"]).status_code == 304
    assert client.post(f"/api/v1/rounds/{KEY}/shortlist", json={"method": "raw"}, headers=chair).status_code == 201
    proposed = get(unsaved.headers["ETag"])
    assert proposed.status_code == 200 and proposed.get_json()["state"] == "proposed"
    assert get(proposed.headers["ETag"]).status_code == 304
    tag, moved = proposed.headers["ETag"], []
    for entry in [e for e in proposed.get_json()["entries"] if not e["included"]][:5]:  # each move is seen at once
        assert client.post(f"/api/v1/rounds/{KEY}/shortlist/entries/{entry['entry_id']}",
                           json={"included": True, "reason": "组长提议调入"}, headers=chair).status_code == 200
        moved.append(entry["entry_id"])
        answer = get(tag)
        assert answer.status_code == 200 and answer.headers["ETag"] != tag
        tag = answer.headers["ETag"]
        now = {e["entry_id"]: e for e in answer.get_json()["entries"]}
        assert all(now[i]["included"] and now[i]["override_by"] == "李组长" for i in moved)
        kept = sum(len(ranking.memo) for ranking in queries._PARSED.values())
        if len(moved) == 1:
            kept_after_one = kept
    assert kept == kept_after_one  # each move replaced what was kept: nothing piles up
    # who moved an entry is shown by their name as it is now
    chair_user = session.exec(select(User).where(User.username == "chair1")).one()
    chair_user.display_name = "王组长"
    session.add(chair_user)
    session.commit()
    renamed = get(tag)
    assert renamed.status_code == 200
    assert {e["override_by"] for e in renamed.get_json()["entries"] if e["entry_id"] in moved} == {"王组长"}


def test_a_newer_result_rebuilds_the_saved_entries_from_rows_read_once_per_write(client, session, scored, chair,
                                                                                  monkeypatch):
    """The saved entries' rows are read once per audited write of them, not once per ranking
    result: a newer result (a rating changed, the background job ran) answers from the kept rows,
    the same answer as from the database; a move reads them again."""
    from web.recompute import runner
    from web.review import queries, services

    path = f"/api/v1/rounds/{KEY}/shortlist?method=raw"
    reads, read = [], queries.shortlist_entry_rows
    monkeypatch.setattr(queries, "shortlist_entry_rows", lambda **kw: reads.append(kw["shortlist"].id) or read(**kw))
    assert client.post(f"/api/v1/rounds/{KEY}/shortlist", json={"method": "raw"}, headers=chair).status_code == 201
    before = client.get(path, headers=chair)
    assert before.status_code == 200 and len(reads) == 1  # read once, for the proposal's answer and this

    round_, works, _people = scored
    rerate(session, works[0].id, 0.0)
    runner.refresh_round(session, round_)  # what the background job does: every stored method afresh
    session.commit()
    after = client.get(path, headers=chair)
    assert after.status_code == 200 and after.headers["ETag"] != before.headers["ETag"]  # a newer result
    assert len(reads) == 1  # rebuilt from the kept rows
    services._ENTRY_ROWS.clear()  # the same answer as from the database
    for ranking in queries._PARSED.values():
        ranking.memo.clear()
    assert client.get(path, headers=chair).data == after.data and len(reads) == 2

    entry = next(e for e in after.get_json()["entries"] if not e["included"])
    assert client.post(f"/api/v1/rounds/{KEY}/shortlist/entries/{entry['entry_id']}",
                       json={"included": True, "reason": "组长提议调入"}, headers=chair).status_code == 200
    moved = client.get(path, headers=chair).get_json()["entries"]
    assert len(reads) == 3 and next(e for e in moved if e["entry_id"] == entry["entry_id"])["included"]


def test_signoff_seals_and_every_write_answers_423(client, session, scored, chair, make_user):
    wrong = client.post(f"/api/v1/rounds/{KEY}/shortlist/signoff", json={"password": "nope"}, headers=chair)
    assert wrong.status_code == 403 and wrong.get_json()["error"] == "wrong_password"
    assert session.exec(select(Round).where(Round.key == KEY)).one().state == RoundState.review
    signed = client.post(f"/api/v1/rounds/{KEY}/shortlist/signoff", json={"password": PASSWORD}, headers=chair)
    assert signed.status_code == 201, signed.get_json()
    body = signed.get_json()
    assert len(body["content_sha256"]) == 64 and body["version"] == 1
    session.expire_all()
    assert session.exec(select(Round).where(Round.key == KEY)).one().state == RoundState.signed
    writes = [("post", f"/api/v1/rounds/{KEY}/shortlist", {"method": "raw"}),
              ("post", f"/api/v1/rounds/{KEY}/shortlist/signoff", {"password": PASSWORD}),
              ("post", f"/api/v1/rounds/{KEY}/shortlist/entries/1", {"included": True, "reason": "x"})]
    for method, path, payload in writes:
        response = getattr(client, method)(path, json=payload, headers=chair)
        assert response.status_code == 423, path
        assert response.get_json()["error"] == "locked"
    view = client.get(f"/api/v1/rounds/{KEY}/shortlist", headers=chair).get_json()
    assert view["state"] == "signed" and view["content_sha256"] == body["content_sha256"]
    stored = session.exec(select(ResultVersion)).one()
    import hashlib
    assert hashlib.sha256(stored.content.encode()).hexdigest() == body["content_sha256"]


def test_reopen_needs_an_admin_and_a_reason_and_keeps_the_old_version(client, session, scored, chair, make_user):
    client.post(f"/api/v1/rounds/{KEY}/shortlist/signoff", json={"password": PASSWORD}, headers=chair)
    first = client.get(f"/api/v1/rounds/{KEY}/shortlist", headers=chair).get_json()["content_sha256"]
    make_user("sec", role="admin")
    admin = bearer(client, "sec")
    assert client.post(f"/api/v1/rounds/{KEY}/reopen", json={"reason": "x"}, headers=chair).status_code == 403
    assert client.post(f"/api/v1/rounds/{KEY}/reopen", json={"reason": " "}, headers=admin).status_code == 422
    assert client.post(f"/api/v1/rounds/{KEY}/reopen", json={"reason": "复核一部作品的评分"}, headers=admin).status_code == 200
    listing = client.get(f"/api/v1/rounds/{KEY}/shortlist", headers=chair).get_json()
    assert listing["round_state"] == "review" and listing["versions"][0]["reopen_reason"] == "复核一部作品的评分"
    entries = listing["entries"]
    out = next(e for e in entries if not e["included"])
    client.post(f"/api/v1/rounds/{KEY}/shortlist/entries/{out['entry_id']}",
                json={"included": True, "reason": "复核后调入"}, headers=chair)
    second = client.post(f"/api/v1/rounds/{KEY}/shortlist/signoff", json={"password": PASSWORD, "dissent": ""},
                         headers=chair).get_json()
    assert second["version"] == 2 and second["content_sha256"] != first
    old = client.get(f"/api/v1/rounds/{KEY}/shortlist?version=1", headers=chair).get_json()
    assert old["content_sha256"] == first and old["content"]["method"]
    assert client.get(f"/api/v1/rounds/{KEY}/shortlist?version=9", headers=chair).status_code == 404


def test_signoff_outside_review_is_409(client, session, make_user, chair):
    scored_round(session, make_user, key="2025Q2", state=RoundState.scoring, seed=2)
    response = client.post("/api/v1/rounds/2025Q2/shortlist/signoff", json={"password": PASSWORD}, headers=chair)
    assert response.status_code == 409 and response.get_json()["error"] == "not_in_review"


def test_dissemination_cases_pass_the_bar_or_none(client, session, make_user, chair):
    round_, cases, _ = scored_cases(session, make_user)
    view = client.get(f"/api/v1/rounds/{round_.key}/shortlist?method=raw", headers=chair).get_json()
    chosen = {e["title"] for e in view["entries"] if e["included"]}
    assert chosen and all(e["score"] >= 8.0 for e in view["entries"] if e["included"])
    assert all(e["score"] < 8.0 for e in view["entries"] if not e["included"])


@pytest.mark.parametrize("method, path", [
    ("get", "/api/v1/rounds/2099Q1/rankings"), ("get", "/api/v1/rounds/2099Q1/shortlist"),
    ("post", "/api/v1/rounds/2099Q1/shortlist"), ("get", "/api/v1/rounds/2099Q1/shortlist.csv"),
    ("post", "/api/v1/rounds/2099Q1/shortlist/signoff"), ("get", "/api/v1/rounds/2099Q1/abnormal"),
    ("get", "/api/v1/rounds/2099Q1/announcement.csv"), ("post", "/api/v1/rounds/2099Q1/draws"),
    ("get", "/api/v1/rounds/2099Q1/assignment-report")])
def test_an_unknown_round_is_a_json_404_everywhere(client, chair, method, path):
    # each call with a body its model accepts (a body that does not fit is refused first, 400 or 422)
    body = {"password": PASSWORD} if path.endswith("/signoff") else {}
    response = getattr(client, method)(path, json=body, headers=chair)
    assert response.status_code == 404, path
    assert response.get_json() == {"error": "not_found", "message": "no round '2099Q1'"}
