"""The chair's rankings recomputed in the background (issue 24): submits queue one debounced job
per round, two workers never run the same job, a job whose worker stopped mid-run is retried, the
pages serve the latest result (stale, with its time, then fresh), and the sign-off always seals
the ratings as they are at that moment. The column-wise reader gives what the ORM reader gave."""
from __future__ import annotations

import datetime as dt
import json
import threading
import time

import pytest
from sqlmodel import select

from helpers.review import rerate, scored_round
from scoring.normalize import DEFAULT_METHOD
from scoring.rules.config import load_rules
from web.core.models import (Assignment, AssignmentStatus, RankingCache, Rating, RecomputeJob, ResultVersion,
                             RoundState, utcnow)
from web.rating import operations as rating_ops
from web.recompute import runner
from web.core.recompute_queue import enqueue_recompute
from web.review import queries, services
from web.review.rankings import RatingInput

LATER = dt.timedelta(minutes=1)


@pytest.fixture
def engine(app):
    return app.extensions["tuiyou.engine"]


def _jobs(session, state=None):
    session.expire_all()
    query = select(RecomputeJob).order_by(RecomputeJob.id)
    return list(session.exec(query.where(RecomputeJob.state == state) if state else query))


def _reopen(session, round_, assignment):
    """Take one submitted form back to in progress (as the chair's allowed reopen does)."""
    assignment.status, assignment.submitted_at = AssignmentStatus.in_progress, None
    session.add(assignment)
    session.commit()


def test_submits_queue_one_debounced_job_and_saves_queue_none(session, make_user):
    round_, _works, people = scored_round(session, make_user, state=RoundState.scoring)
    forms = list(session.exec(select(Assignment).where(Assignment.round_id == round_.id).limit(3)))
    for form in forms:
        _reopen(session, round_, form)
    criteria = load_rules().criteria_sets[round_.criteria_set]
    by_id = {p.id: p for p in people}
    for form in forms:  # a save changes no ranking (they read submitted forms only): nothing queued
        rating_ops.save_scores(session=session, expert=by_id[form.expert_id], assignment=form, round_=round_,
                               criteria=criteria, change=rating_ops.ScoreChange({"thought": 9.0}, form.version))
        session.commit()
    assert _jobs(session) == []
    for form in forms:
        rating_ops.submit(session=session, expert=by_id[form.expert_id], assignment=form, round_=round_,
                          criteria=criteria)
        session.commit()
    (job,) = _jobs(session)
    assert (job.state, job.changes, job.queued_round_id) == ("queued", 3, round_.id)
    assert job.due_at > utcnow()  # the debounce: not due at once


def test_a_change_while_a_job_runs_queues_the_next_one(engine, session, make_user):
    round_, _works, _people = scored_round(session, make_user)
    enqueue_recompute(session=session, round_id=round_.id)
    session.commit()
    held = runner.claim(engine, now=utcnow() + LATER)
    enqueue_recompute(session=session, round_id=round_.id)  # lands while the first one runs
    session.commit()
    assert [j.state for j in _jobs(session)] == ["running", "queued"]
    assert runner.run_job(engine, held) == "done"
    assert runner.run_pending(engine, now=utcnow() + LATER) == 1
    assert [j.state for j in _jobs(session)] == ["done", "done"]


def test_two_workers_run_a_job_once(engine, session, make_user):
    round_, _works, _people = scored_round(session, make_user)
    enqueue_recompute(session=session, round_id=round_.id)
    session.commit()
    runs, start = [], threading.Barrier(2)

    def slow(session_, round__):
        runs.append(threading.get_ident())
        time.sleep(0.3)

    def work():
        start.wait()
        runner.run_pending(engine, now=utcnow() + LATER, recompute=slow)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(runs) == 1
    assert [(j.state, j.attempts) for j in _jobs(session)] == [("done", 1)]


def test_a_job_whose_worker_stopped_mid_run_is_retried(engine, session, make_user):
    round_, _works, _people = scored_round(session, make_user)
    enqueue_recompute(session=session, round_id=round_.id)
    session.commit()
    now = utcnow() + LATER
    crashed = runner.claim(engine, worker="gone:1:1", now=now)  # claimed, then the process died
    assert crashed is not None
    assert runner.run_pending(engine, now=now) == 0  # its lease holds: nobody takes it yet
    assert runner.run_pending(engine, now=now + runner.LEASE + dt.timedelta(seconds=1)) == 1
    (job,) = _jobs(session)
    assert (job.state, job.attempts) == ("done", 2)
    assert session.exec(select(RankingCache).where(RankingCache.round_id == round_.id)).first() is not None
    # the stopped worker coming back cannot end a job it no longer holds
    assert runner._settle(engine, crashed, state="failed") is False


def test_an_error_is_retried_then_the_job_fails_with_the_reason(engine, session, make_user):
    round_, _works, _people = scored_round(session, make_user)
    enqueue_recompute(session=session, round_id=round_.id)
    session.commit()

    def broken(session_, round__):
        raise RuntimeError("database went away")

    now = utcnow() + LATER
    for attempt in range(1, runner.MAX_ATTEMPTS + 1):
        assert runner.run_pending(engine, now=now, recompute=broken) == 1
        (job,) = _jobs(session)
        assert job.attempts == attempt
        now += runner.RETRY_AFTER + dt.timedelta(seconds=1)
    assert (job.state, job.message) == ("failed", "RuntimeError: database went away")
    assert runner.run_pending(engine, now=now, recompute=broken) == 0


def test_pages_serve_stale_with_time_then_fresh(app, engine, client, session, make_user, login):
    round_, works, _people = scored_round(session, make_user)
    make_user("chair1", role="chair")
    login("chair1")
    first = client.get(f"/review/{round_.key}/rankings?method=raw").get_data(as_text=True)
    assert 'data-updating="0"' in first
    rerate(session, works[0].id, 0.0)
    for page in ("rankings", "diagnostics", "shortlist"):
        body = client.get(f"/review/{round_.key}/{page}?method=raw").get_data(as_text=True)
        assert 'data-updating="1"' in body and "正在更新" in body, page
    assert runner.run_pending(engine, now=utcnow() + LATER) == 1
    body = client.get(f"/review/{round_.key}/rankings?method=raw").get_data(as_text=True)
    assert 'data-updating="0"' in body and "正在更新" not in body


def test_the_sign_off_seals_the_ratings_of_that_moment_never_a_stale_result(client, session, make_user):
    round_, works, _people = scored_round(session, make_user)
    chair = make_user("chair1", role="chair")
    stale = services.latest_ranking(session=session, round_=round_, method=DEFAULT_METHOD).ranking
    session.commit()
    form = rerate(session, works[0].id, 7.5)
    assert services.latest_ranking(session=session, round_=round_, method=DEFAULT_METHOD).updating  # no recompute ran
    from testkit import PASSWORD
    services.sign_off_shortlist(session=session, round_=round_, signer=chair, password=PASSWORD, dissent=None)
    session.commit()
    signed = json.loads(session.exec(select(ResultVersion)).one().content)
    now = services.compute_ranking_of(session=session, round_=round_, method=DEFAULT_METHOD)
    assert signed["method"] == DEFAULT_METHOD
    score = {r["item_id"]: r["score"] for r in signed["entries"]}
    assert score == {r.item_id: r.score for r in now.rows}
    assert score[works[0].id] != stale.row(works[0].id).score
    sealed = {tuple(r[:5]) for r in signed["ratings"] if r[0] == form.id}
    assert {r[4] for r in sealed} == {7.5}


def _orm_rating_input(session, round_) -> RatingInput:
    """The reader before issue 24 (a tuple per value through the ORM), to compare with."""
    rows = session.exec(
        select(Assignment.id, Assignment.expert_id, Assignment.work_id, Rating.criterion, Rating.value,
               Assignment.confidence)
        .join(Rating, (Rating.assignment_id == Assignment.id) & (Rating.version == Assignment.version))
        .where(Assignment.round_id == round_.id, Assignment.status == AssignmentStatus.submitted,
               Assignment.work_id.is_not(None))
        .order_by(Assignment.id, Rating.criterion)).all()
    confidence = {a: c for a, _e, _i, _k, _v, c in rows if c is not None}
    return RatingInput([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows],
                       [r[3] for r in rows], [float(r[4]) for r in rows], confidence)


@pytest.mark.parametrize("method", ["additive", "affine", "raw"])
def test_the_column_reader_gives_the_same_ratings_and_rankings(session, make_user, method):
    round_, works, _people = scored_round(session, make_user, works_per_category={"网络剧": 12, "网络电影": 9},
                                          experts=7, per_work=4)
    forms = list(session.exec(select(Assignment).where(Assignment.round_id == round_.id)))
    forms[0].confidence, forms[5].confidence = 0.5, 0.8  # confidence reaches the fit
    forms[3].status = AssignmentStatus.in_progress  # not submitted: not read
    session.add_all(forms)
    session.commit()
    before, after = _orm_rating_input(session, round_), queries.rating_input(session=session, round_=round_)
    for name in ("assignment_id", "expert_id", "item_id", "criterion", "value"):
        assert list(getattr(after, name)) == getattr(before, name), name
    assert after.confidence == before.confidence == {forms[0].id: 0.5, forms[5].id: 0.8}
    items = queries.round_items(session=session, round_=round_)
    from scoring.totals import CriterionScale
    from web.review.rankings import compute_ranking
    rules = load_rules()
    scales = [CriterionScale(c.key, c.min, c.max, c.step, c.weight)
              for c in rules.criteria_sets[round_.criteria_set].criteria]
    old = compute_ranking(before, items, method=method, scales=scales, slots={"网络剧": 3, "网络电影": 2}, threshold=7.0)
    new = compute_ranking(after, items, method=method, scales=scales, slots={"网络剧": 3, "网络电影": 2}, threshold=7.0)
    assert json.dumps(new.to_json(), ensure_ascii=False) == json.dumps(old.to_json(), ensure_ascii=False)


def test_the_worker_thread_runs_jobs_for_its_app_server(tmp_path, database_url, monkeypatch, session, make_user):
    from web import create_app
    from web.recompute import worker
    monkeypatch.setenv("TUIYOU_RECOMPUTE_DEBOUNCE_SECONDS", "0")
    monkeypatch.setenv("TUIYOU_RECOMPUTE_POLL_SECONDS", "0.1")
    round_, _works, _people = scored_round(session, make_user)
    served = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "t", "AUDIT_KEY": b"k" * 32,
                         "RECOMPUTE_WORKER": True})
    try:
        enqueue_recompute(session=session, round_id=round_.id)
        session.commit()
        served.test_client().get("/login")  # the first request starts this process's worker
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and [j.state for j in _jobs(session)] != ["done"]:
            time.sleep(0.1)
        assert [j.state for j in _jobs(session)] == ["done"]
    finally:
        assert worker.stop(served.extensions["tuiyou.engine"])
        served.extensions["tuiyou.engine"].dispose()


def test_a_write_landing_while_the_result_is_stored_does_not_fail_it(engine, session, make_user, monkeypatch):
    """On SQLite a transaction that has read cannot then write once another connection wrote
    ("database is locked" at once, no busy wait): storing a result writes first, never reads the
    stored row and then updates it (bench_day found recomputes failing so under load)."""
    from sqlmodel import Session

    from web.core.models import Round
    from web.review import operations
    round_, _works, _people = scored_round(session, make_user)
    services.latest_ranking(session=session, round_=round_, method=DEFAULT_METHOD)  # a stored row to update
    session.commit()
    real = queries.cache_entry

    def an_expert_saves_meanwhile(**kwargs):
        found = real(**kwargs)
        with Session(engine) as other:
            enqueue_recompute(session=other, round_id=round_.id)
            other.commit()
        return found

    # where the store read the stored row before updating it (absent since: the patch then does nothing)
    monkeypatch.setattr(operations, "cache_entry", an_expert_saves_meanwhile, raising=False)
    ranking = services.compute_ranking_of(session=session, round_=round_, method=DEFAULT_METHOD)
    with Session(engine, expire_on_commit=False) as worker_session:
        operations.store_ranking(session=worker_session, round_=worker_session.get(Round, round_.id),
                                 method=DEFAULT_METHOD, fingerprint="changed", ranking=ranking)
        worker_session.commit()
    assert queries.stored_ranking(session=session, round_=round_, method=DEFAULT_METHOD)[2] == "changed"
