"""The ranking's ratings read incrementally (issue 24): a recompute reads the values of the
forms that changed, and what it gets is exactly what a full read gives."""
from __future__ import annotations

import pytest
from sqlmodel import Session, select

from helpers.review import scored_round
from web.core.models import Assignment, AssignmentStatus, Rating, utcnow
from web.review import rating_reads


@pytest.fixture(autouse=True)
def _nothing_kept():
    rating_reads.forget()
    yield
    rating_reads.forget()


def _full(session, round_):
    """A read with nothing kept: every value from the database."""
    rating_reads.forget()
    ratings = rating_reads.rating_input(session=session, round_=round_)
    return _plain(ratings)


def _plain(ratings):
    return ([list(map(int, ratings.assignment_id)), list(map(int, ratings.expert_id)), list(map(int, ratings.item_id)),
             list(ratings.criterion), [float(v) for v in ratings.value]], ratings.confidence)


def _resubmit(session, form, values):
    """A reopen and a new submit: a new version with a full set of values (as saves write them)."""
    version = form.version + 1
    form.version, form.status, form.updated_at, form.submitted_at = version, AssignmentStatus.submitted, utcnow(), utcnow()
    session.add(form)
    session.add_all(Rating(assignment_id=form.id, criterion=c, value=v, version=version) for c, v in values.items())
    session.commit()


def test_a_second_read_fetches_only_the_changed_forms_and_equals_a_full_read(session, make_user):
    round_, _works, _people = scored_round(session, make_user, works_per_category={"网络剧": 10, "网络电影": 8},
                                           experts=6, per_work=4)
    first = _plain(rating_reads.rating_input(session=session, round_=round_))
    assert rating_reads.last_read.fetched_forms == rating_reads.last_read.forms == 72
    again = _plain(rating_reads.rating_input(session=session, round_=round_))
    assert again == first and rating_reads.last_read.fetched_forms == 0  # nothing changed: no value read

    forms = list(session.exec(select(Assignment).where(Assignment.round_id == round_.id).order_by(Assignment.id)))
    criteria = sorted({r.criterion for r in session.exec(select(Rating).where(Rating.assignment_id == forms[0].id))})
    _resubmit(session, forms[0], {c: 9.5 for c in criteria})        # new values at a new version
    forms[1].status = AssignmentStatus.in_progress                   # reopened: leaves the ranking
    forms[2].confidence = 0.5                                        # a changed confidence, same values
    session.add_all(forms[1:3])
    session.commit()
    after = rating_reads.rating_input(session=session, round_=round_)
    assert rating_reads.last_read.fetched_forms == 1 and rating_reads.last_read.fetched_values == len(criteria)
    assert _plain(after) == _full(session, round_)
    values = dict(zip(after.assignment_id.tolist(), after.value.tolist()))
    assert values[forms[0].id] == 9.5 and forms[1].id not in values and after.confidence == {forms[2].id: 0.5}

    _resubmit(session, forms[1], {c: 1.0 for c in criteria})        # back, with values of a later version
    assert _plain(rating_reads.rating_input(session=session, round_=round_)) == _full(session, round_)


def test_a_new_form_that_reuses_a_deleted_forms_id_is_read_afresh(session, make_user):
    round_, _works, _people = scored_round(session, make_user, works_per_category={"网络剧": 4}, experts=4, per_work=2)
    rating_reads.rating_input(session=session, round_=round_)
    last = session.exec(select(Assignment).where(Assignment.round_id == round_.id).order_by(Assignment.id.desc())).first()
    kept = {"id": last.id, "version": last.version}
    criteria = [r.criterion for r in session.exec(select(Rating).where(Rating.assignment_id == last.id,
                                                                       Rating.version == last.version))]
    # another form under the same id and version (SQLite reuses the largest rowid of a deleted
    # row): modelled in place, as its other rows hold the id; only its creation time differs
    for rating in session.exec(select(Rating).where(Rating.assignment_id == last.id)):
        session.delete(rating)
    session.flush()
    last.created_at = utcnow()
    session.add(last)
    session.add_all(Rating(assignment_id=kept["id"], criterion=c, value=2.0, version=kept["version"]) for c in criteria)
    session.commit()
    after = rating_reads.rating_input(session=session, round_=round_)
    assert rating_reads.last_read.fetched_forms == 1
    assert [v for a, v in zip(after.assignment_id.tolist(), after.value.tolist()) if a == kept["id"]] == [2.0] * len(criteria)
    assert _plain(after) == _full(session, round_)


def test_a_form_resubmitted_between_the_two_statements_keeps_the_version_first_seen(session, make_user, monkeypatch):
    """The values are fetched by (form, version): a newer version written after the forms'
    statement is not mixed in (PostgreSQL's READ COMMITTED gives each statement its own snapshot)."""
    round_, _works, _people = scored_round(session, make_user, works_per_category={"网络剧": 4}, experts=4, per_work=2)
    form = session.exec(select(Assignment).where(Assignment.round_id == round_.id).order_by(Assignment.id)).first()
    seen_version = form.version
    criteria = [r.criterion for r in session.exec(select(Rating).where(Rating.assignment_id == form.id,
                                                                       Rating.version == form.version))]
    expected = _full(session, round_)
    calls = []
    real = rating_reads._tuples

    def after_the_forms(connection, statement, parameters=None):
        rows = real(connection, statement, parameters)
        if not calls:  # the forms' statement has run: a newer version lands now, from elsewhere
            with Session(session.get_bind()) as elsewhere:
                _resubmit(elsewhere, elsewhere.get(Assignment, form.id), {c: 0.5 for c in criteria})
        calls.append(statement)
        return rows

    rating_reads.forget()
    monkeypatch.setattr(rating_reads, "BULK_FROM", 0)
    monkeypatch.setattr(rating_reads, "_tuples", after_the_forms)
    got = rating_reads.rating_input(session=session, round_=round_)
    session.expire_all()
    assert _plain(got) == expected and session.get(Assignment, form.id).version == seen_version + 1
    assert len(calls) >= 2
