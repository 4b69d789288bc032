"""Issue 22: `tuiyou result verify KEY [--version N]` re-derives a signed result from the rating
rows in the database with the method, parameters, seeds and policy the snapshot recorded:
a clean round reproduces bit for bit; a rating row changed behind the app's back with plain SQL
fails naming the work (SQLite and PostgreSQL alike: these tests run on both); a restored backup
still verifies; every version after a re-open verifies."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from helpers.review import scored_cases, scored_round
from scoring.rules.config import load_rules
from seed.demo_panel import explain_flags
from testkit import PASSWORD
from web.core.models import Assignment, AuditEvent, Rating, ResultVersion, Round, RoundState, User
from web.rating.operations import ScoreChange, allow_reopen, reopen, save_scores, submit
from web.review import services, operations
from web.review.verify import verify_result
from web.rounds.operations import set_state


def _sign(session, round_, chair):
    services.propose_and_save(session=session, round_=round_, method="affine", actor=chair)
    explain_flags(session, round_)
    version = services.sign_off_shortlist(session=session, round_=round_, signer=chair, password=PASSWORD, dissent=None)
    session.commit()
    return version


@pytest.fixture
def signed(session, make_user):
    chair = make_user("chair9", role="chair")
    round_, works, people = scored_round(session, make_user)
    version = _sign(session, round_, chair)
    return round_, works, people, chair, version


def test_a_clean_signed_round_reproduces_bit_for_bit(runner, signed):
    round_, _, _, _, version = signed
    content = json.loads(version.content)
    assert content["params"]["format"] == 2 and content["params"]["policy"]["slots"]
    assert {"numpy", "scipy", "tuiyou"} <= set(content["params"]["software"])
    assert all(len(row) == 7 for row in content["ratings"])  # each row with its version and confidence
    result = runner.invoke(args=["result", "verify", round_.key])
    assert result.exit_code == 0, result.output
    assert "reproduced bit for bit" in result.output and version.content_sha256 in result.output
    assert runner.invoke(args=["result", "verify", round_.key, "--version", "1"]).exit_code == 0


def test_a_rating_changed_with_plain_sql_fails_naming_the_work(app, runner, session, signed):
    round_, works, _, _, version = signed
    target = session.exec(select(Assignment).where(Assignment.round_id == round_.id, Assignment.work_id == works[0].id)
                          .order_by(Assignment.id)).first()
    engine = app.extensions["tuiyou.engine"]
    with engine.begin() as connection:  # behind the app's back: no operation, no audit event
        connection.execute(text("UPDATE rating SET value = 1.0 WHERE assignment_id = :a AND criterion = 'thought'"),
                           {"a": target.id})
    result = runner.invoke(args=["result", "verify", round_.key])
    assert result.exit_code == 1
    title = works[0].title
    assert f"work {works[0].id} ({title}): assignment {target.id}" in result.output
    assert "criterion thought: signed" in result.output and "the database now holds 1" in result.output
    assert f"rating rows differ for works {works[0].id};" in result.output
    # the work's own result moved too, and is named with how
    session.expire_all()
    report = verify_result(session=session, round_=session.get(Round, round_.id))
    moved = [f for f in report.findings if f.kind == "result" and f.item_id == works[0].id]
    assert moved and "score" in moved[0].en


def test_a_deleted_or_inserted_rating_row_is_named(app, session, signed):
    round_, works, _, _, _ = signed
    engine = app.extensions["tuiyou.engine"]
    a = session.exec(select(Assignment).where(Assignment.work_id == works[3].id).order_by(Assignment.id)).first()
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM rating WHERE assignment_id = :a AND criterion = 'artistry'"), {"a": a.id})
        connection.execute(text("INSERT INTO rating (assignment_id, criterion, value, version, created_at) "
                                "VALUES (:a, 'extra', 9.0, 1, CURRENT_TIMESTAMP)"), {"a": a.id})
    session.expire_all()
    report = verify_result(session=session, round_=session.get(Round, round_.id))
    texts = [f.en for f in report.findings if f.item_id == works[3].id and f.kind == "rating"]
    assert any("criterion artistry: the signed rating row is gone" in t for t in texts)
    assert any("criterion extra: a rating row the signature did not include" in t for t in texts)
    assert not report.reproduced


def test_a_rewritten_snapshot_is_caught_by_its_hash_and_the_audit_log(app, session, signed):
    round_, _, _, _, version = signed
    content = json.loads(version.content)
    content["entries"][0]["included"] = not content["entries"][0]["included"]
    from web.signing.snapshot import canonical_json, content_sha256

    with app.extensions["tuiyou.engine"].begin() as connection:  # text altered, hash left
        connection.execute(text("UPDATE resultversion SET content = :c WHERE id = :i"),
                           {"c": canonical_json(content), "i": version.id})
    session.expire_all()
    report = verify_result(session=session, round_=session.get(Round, round_.id))
    assert not report.stored_text_intact and not report.reproduced
    with app.extensions["tuiyou.engine"].begin() as connection:  # and the hash too: the audit log disagrees
        connection.execute(text("UPDATE resultversion SET content_sha256 = :h WHERE id = :i"),
                           {"h": content_sha256(content), "i": version.id})
    session.expire_all()
    report = verify_result(session=session, round_=session.get(Round, round_.id))
    assert report.stored_text_intact and not report.audit_matches and not report.reproduced


def test_versions_after_a_reopen_verify_each(runner, session, make_user, signed):
    round_, works, people, chair, first = signed
    admin = make_user("admin9", role="admin")
    operations.reopen(session=session, round_=round_, actor=admin, reason="一位专家申请更正评分")
    set_state(session=session, round_=round_, state=RoundState.scoring, actor="admin9", reason="更正评分")
    assignment = session.exec(select(Assignment).where(Assignment.work_id == works[0].id)
                              .order_by(Assignment.id)).first()
    expert = session.get(User, assignment.expert_id)
    criteria = load_rules().criteria_sets["works"]
    allow_reopen(session=session, chair=chair, assignment=assignment, round_=round_)
    reopen(session=session, expert=expert, assignment=assignment, round_=round_)
    save_scores(session=session, expert=expert, assignment=assignment, round_=round_, criteria=criteria,
                change=ScoreChange(scores={"thought": 2.0}, version=assignment.version, confidence=0.5))
    submit(session=session, expert=expert, assignment=assignment, round_=round_, criteria=criteria)
    set_state(session=session, round_=round_, state=RoundState.review, actor="admin9")
    session.commit()
    second = _sign(session, round_, chair)
    assert second.version == 2 and second.content_sha256 != first.content_sha256
    for number in (1, 2):  # version 1 from the rows current then, version 2 from today's
        result = runner.invoke(args=["result", "verify", round_.key, "--version", str(number)])
        assert result.exit_code == 0 and "reproduced bit for bit" in result.output, (number, result.output)
    rows = {(r.version, r.criterion): r.value for r in session.exec(
        select(Rating).where(Rating.assignment_id == assignment.id))}
    assert rows[(assignment.version, "thought")] == 2.0 and rows[(1, "thought")] != 2.0


def test_a_case_round_verifies_and_unknown_versions_are_refused(runner, session, make_user):
    chair = make_user("chair8", role="chair")
    round_, cases, _ = scored_cases(session, make_user)
    _sign(session, round_, chair)
    assert runner.invoke(args=["result", "verify", round_.key]).exit_code == 0
    missing = runner.invoke(args=["result", "verify", round_.key, "--version", "3"])
    assert missing.exit_code == 1 and "has no version 3" in missing.output
    assert "does not exist" in runner.invoke(args=["result", "verify", "2030Q1"]).output
    assert runner.invoke(args=["result", "verify", round_.key, "--version", "0"]).exit_code == 2


def test_a_restored_backup_still_verifies(runner, session, signed, tmp_path, monkeypatch):
    from system.test_backup import cli_for, fresh_url
    from testkit import PG_URL, require_tool

    if PG_URL:
        require_tool("pg_dump")
    round_, *_, version = signed
    path = tmp_path / "verify.backup"
    assert runner.invoke(args=["backup", str(path)]).exit_code == 0
    restored = cli_for(fresh_url(tmp_path, "tuiyou_verify_restored"), monkeypatch, tmp_path)
    other = restored.test_cli_runner()
    assert other.invoke(args=["restore", str(path)]).exit_code == 0
    result = other.invoke(args=["result", "verify", round_.key])
    assert result.exit_code == 0 and "reproduced bit for bit" in result.output, result.output
    with Session(restored.extensions["tuiyou.engine"]) as check:
        assert check.exec(select(ResultVersion)).one().content_sha256 == version.content_sha256
    restored.extensions["tuiyou.engine"].dispose()


def test_differences_within_the_stated_tolerance_reproduce_but_not_bit_for_bit(session, signed, monkeypatch):
    """What another machine's floating point may do: scores moved by 1e-6 pass, by 1e-3 fail naming the work."""
    from web.review import verify

    round_, works, *_ = signed
    real = verify.compute_ranking

    def nudged(by):
        def compute(*args, **kwargs):
            ranking = real(*args, **kwargs)
            ranking.rows = [row._replace(score=round(row.score + by, 6)) if row.item_id == works[0].id else row
                            for row in ranking.rows]
            return ranking
        return compute

    monkeypatch.setattr(verify, "compute_ranking", nudged(1e-6))
    report = verify.verify_result(session=session, round_=round_)
    assert report.reproduced and not report.bit_for_bit
    assert any("within 0.0001" in en for _, en in report.notes)
    monkeypatch.setattr(verify, "compute_ranking", nudged(1e-3))
    report = verify.verify_result(session=session, round_=round_)
    assert not report.reproduced and report.items() == [works[0].id]
    assert "score" in report.findings[0].en
    # the same difference after an upgrade of the numeric core: the report says the code moved, not the data
    from web.signing import snapshot

    real_software = snapshot.software
    monkeypatch.setattr(snapshot, "software", lambda: {**real_software(), "code": "0123456789abcdef"})
    report = verify.verify_result(session=session, round_=round_)
    assert not report.reproduced and any("the software changed since signing (code " in en
                                         for _, en in report.notes)
