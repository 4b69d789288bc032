"""Every table round-trips on the database under test (SQLite by default, PostgreSQL with
TUIYOU_TEST_DATABASE_URL); migrations go from empty to head and back."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import inspect
from sqlmodel import Session, SQLModel, select

from web.core import models as m
from web.core.db import make_engine
from web.core.migrate import downgrade, upgrade


def _fill(session: Session) -> dict[type, object]:
    """One row in every table, with every column given a non-default value where possible."""
    today = dt.date(2025, 1, 5)
    user = m.User(username="张专家", display_name="张晓明", role=m.Role.expert, password_hash="h",
                  organisation="中国传媒大学", province="北京市", categories=["网络剧", "短视频"])
    round_ = m.Round(key="2025Q1-浙江", year=2025, quarter=1, kind=m.RoundKind.quarter,
                     stage=m.Stage.provincial, unit="浙江省广播电视局", state=m.RoundState.scoring)
    session.add_all([user, round_])
    session.flush()
    batch = m.ImportBatch(round_id=round_.id, filename="申报表.xlsx", sha256="a" * 64, rows_imported=2,
                          rows_rejected=1, late_reason="逾期补报", actor="admin")
    session.add(batch)
    session.flush()
    work = m.Work(round_id=round_.id, title="山河人间", title_normalized="山河人间", category="网络剧",
                  submitter="山河文化传媒有限公司", submitter_type=m.SubmitterType.individual, unit="浙江省广播电视局",
                  unit_type=m.UnitType.central, platform="优酷", first_broadcast=today,
                  last_broadcast=today + dt.timedelta(days=20), license_no="（浙）网剧审字（2024）第012号",
                  copyright_holder="山河文化", uhd=True, aigc=True, single_episode=True, episodes=24,
                  duration_min=45.5, synopsis="简介", url="https://example.org/1", import_batch_id=batch.id)
    session.add(work)
    session.flush()
    copy = m.Work(round_id=round_.id, title="山河人间", category="网络剧", submitter="s", source_work_id=work.id)
    case = m.DisseminationCase(round_id=round_.id, name="非遗春节传播", unit="中央广播电视总台",
                               period_start=today, period_end=today, description="d", channels="抖音",
                               reach="3.2亿次", url="https://example.org/c", import_batch_id=batch.id)
    session.add_all([copy, case])
    session.flush()
    assignment = m.Assignment(round_id=round_.id, expert_id=user.id, work_id=work.id,
                              status=m.AssignmentStatus.submitted, version=3, confidence=0.8,
                              presentation_order=7, recuse_reason=None,
                              submitted_at=dt.datetime(2025, 3, 1, 8, 30, tzinfo=dt.timezone.utc))
    session.add(assignment)
    session.flush()
    shortlist = m.Shortlist(round_id=round_.id, method="additive", state="signed", content_sha256="b" * 64,
                            frozen_at=dt.datetime(2025, 4, 1, tzinfo=dt.timezone.utc))
    session.add(shortlist)
    session.flush()
    rows = {
        m.ApiToken: m.ApiToken(user_id=user.id, token_hash="c" * 64,
                               expires_at=dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc)),
        m.Conflict: m.Conflict(user_id=user.id, work_id=work.id, organisation="山河文化", kind="employer",
                               reason="三年内任职"),
        m.Rating: m.Rating(assignment_id=assignment.id, criterion="thought", value=8.5, version=3),
        m.Comment: m.Comment(assignment_id=assignment.id, author_id=user.id, kind="explanation",
                             body="该作品立意高远", version=3),
        m.HighlightTag: m.HighlightTag(assignment_id=assignment.id, tag="anniversaries_2025"),
        m.ScoreSave: m.ScoreSave(user_id=user.id, key="5f0c-平板-1", assignment_id=assignment.id, version=3),
        m.ShortlistEntry: m.ShortlistEntry(shortlist_id=shortlist.id, work_id=work.id, category="网络剧",
                                           rank=1, score=8.25, se=0.31, proposed=False, included=True,
                                           straddles_cut=True, override_reason="组长调整：题材重大",
                                           override_by=user.id,
                                           override_at=dt.datetime(2025, 4, 1, tzinfo=dt.timezone.utc)),
        m.SignOff: m.SignOff(shortlist_id=shortlist.id, user_id=user.id, dissent="保留意见",
                             content_sha256="d" * 64),
        m.ResultVersion: m.ResultVersion(round_id=round_.id, version=1, method="affine",
                                         content='{"标题":"钱塘"}', content_sha256="a" * 64,
                                         signed_by=user.id, reopened_by=user.id,
                                         reopened_at=dt.datetime(2025, 4, 2, tzinfo=dt.timezone.utc),
                                         reopen_reason="复核"),
        m.RankingCache: m.RankingCache(round_id=round_.id, method="affine", fingerprint="1:2:3",
                                       payload='{"rows":[]}'),
        m.AuditEvent: m.AuditEvent(actor="admin", action="round.state", round_id=round_.id, subject="2025Q1",
                                   detail={"from": "intake", "to": "scoring", "说明": "中文"},
                                   prev_hash="e" * 64, hash="f" * 64),
        m.ExpertAbsence: m.ExpertAbsence(round_id=round_.id, user_id=user.id, reason="出差"),
        m.AssignmentDraw: m.AssignmentDraw(round_id=round_.id, seed=2**40 + 7, per_work=5, created=10, kept=2,
                                           report={"seed": 2**40 + 7, "类别": "网络剧"}, actor="admin"),
        m.DrawJob: m.DrawJob(round_id=round_.id, active_round_id=None, state="failed", stage="category",
                             categories_done=2, categories_total=5, per_work=5, seed=2**40 + 9, actor="chair",
                             worker="host:42", message_zh="无法分配：网络剧", message_en="infeasible: 网络剧",
                             failure={"category": "网络剧", "needed": 5, "available": 3},
                             result={"lines_zh": ["随机种子"]},
                             finished_at=dt.datetime(2025, 7, 1, 10, tzinfo=dt.timezone.utc)),
        m.RecomputeJob: m.RecomputeJob(round_id=round_.id, queued_round_id=None, state="running", changes=7,
                                       due_at=dt.datetime(2025, 7, 1, 10, tzinfo=dt.timezone.utc), attempts=2,
                                       worker="host:42:7", message="OperationalError: 评分",
                                       lease_until=dt.datetime(2025, 7, 1, 10, 2, tzinfo=dt.timezone.utc),
                                       started_at=dt.datetime(2025, 7, 1, 10, tzinfo=dt.timezone.utc)),
        m.AbnormalFlag: m.AbnormalFlag(round_id=round_.id, assignment_id=assignment.id, total=2.5, others_mean=8.25,
                                       others_n=3, direction="low", explanation="误触，已说明",
                                       explained_at=dt.datetime(2025, 7, 1, 8, tzinfo=dt.timezone.utc),
                                       waiver_reason="组长豁免", waived_by=user.id,
                                       waived_at=dt.datetime(2025, 7, 1, 9, tzinfo=dt.timezone.utc)),
    }
    head = session.get(m.AuditHead, 1)  # one row from the first migration on: changed, not added
    head.events, head.last_hash, head.seal = 7, "1" * 64, "2" * 64
    head.updated_at = dt.datetime(2025, 7, 2, 8, tzinfo=dt.timezone.utc)
    rows[m.AuditHead] = head
    session.add_all(rows.values())
    session.commit()
    rows.update({m.User: user, m.Round: round_, m.ImportBatch: batch, m.Work: work,
                 m.DisseminationCase: case, m.Assignment: assignment, m.Shortlist: shortlist})
    return rows


def _as_dict(row) -> dict:
    return {c.key: getattr(row, c.key) for c in inspect(type(row)).mapper.column_attrs}


def test_every_table_round_trips(app):
    engine = app.extensions["tuiyou.engine"]
    with Session(engine, expire_on_commit=False) as session:
        written = {model: _as_dict(row) for model, row in _fill(session).items()}
    tables = {model.__tablename__ for model in written}
    assert tables == set(SQLModel.metadata.tables), "a table is missing from the round-trip"
    with Session(engine) as session:
        for model, expected in written.items():
            stored = session.exec(select(model).where(model.id == expected["id"])).one()
            assert _as_dict(stored) == expected, model.__name__
            for value in _as_dict(stored).values():
                if isinstance(value, dt.datetime):
                    assert value.tzinfo is not None, f"{model.__name__}: datetimes come back aware"


def test_migrations_from_empty_to_head_and_back(database_url, tmp_path):
    url = database_url if database_url.startswith("postgres") else f"sqlite:///{tmp_path / 'empty.sqlite'}"
    engine = make_engine(url)
    try:
        downgrade(engine, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(engine, "head")
        assert set(SQLModel.metadata.tables) <= set(inspect(engine).get_table_names())
        downgrade(engine, "base")
        upgrade(engine, "head")
    finally:
        engine.dispose()


def test_models_and_migrations_agree(database_url):
    """Autogenerate against head finds nothing to do: no change to models.py without a migration."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_sqlite_runs_with_wal_and_foreign_keys(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite'}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()
