"""Durability under load, short: simulated tablets save scores with versions and Idempotency-Keys
while the app server is killed with SIGKILL and restarted; afterwards every acknowledged save is
in the Rating history exactly once with the values sent, versions are contiguous, and no stale
(409) save was applied. The long run is benchmarks/bench_durability.py (docs/benchmarks.md)."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from testkit import PG_URL, require

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))

from bench_durability import check_database, run_load, Tablet  # noqa: E402


def assert_durable(result: dict, clients: int, saves: int) -> None:
    """Everything the tablets were told is in the database, once, and nothing else."""
    assert result["sigkills"] == 1, result
    assert result["gave_up"] == 0, result
    assert result["acknowledged"] == clients * saves, result
    assert result["found"] == result["acknowledged"], result
    assert result["lost"] == 0 and result["wrong_values"] == 0, result
    assert result["duplicated_acks"] == 0 and result["assignments_not_contiguous"] == 0, result
    assert result["unacknowledged_versions"] == 0, result
    assert result["stale_probes_refused"] > 0 and result["stale_overwrites"] == 0, result


@pytest.mark.slow
def test_sigkill_of_tuiyou_serve_on_sqlite_loses_no_acknowledged_save(_sqlite_template, tmp_path):
    url = f"sqlite:///{tmp_path / 'durability.sqlite'}"
    shutil.copy(_sqlite_template, tmp_path / "durability.sqlite")
    result = run_load(url, kind="waitress", servers=1, clients=20, saves=10, seconds=60, workdir=tmp_path)
    assert_durable(result, 20, 10)


# Not a missing tool: the SQLite run of the suite leaves this to the PostgreSQL run (CI does both).
@pytest.mark.skipif(not PG_URL, reason="the PostgreSQL run of the suite covers it (TUIYOU_TEST_DATABASE_URL)")
def test_sigkill_of_one_of_two_gunicorn_servers_on_postgresql(database_url, tmp_path):
    require((Path(sys.executable).parent / "gunicorn").exists(), "gunicorn is not installed")
    result = run_load(database_url, kind="gunicorn", servers=2, clients=20, saves=10, seconds=60,
                      workdir=tmp_path, workers=1, threads=4)
    assert_durable(result, 20, 10)


def test_the_check_catches_a_lost_a_changed_and_a_stale_save(database_url, tmp_path):
    """The checks can fail: a forged acknowledgement, wrong values and an applied stale key are named."""
    from bench_durability import build_world
    from sqlmodel import Session, select

    from web.core.db import make_engine
    from web.core.models import Assignment, Rating, ScoreSave

    (assignment_id, token), = build_world(database_url, 1)
    engine = make_engine(database_url)
    with Session(engine) as session:
        assignment = session.get(Assignment, assignment_id)
        for version in (1, 2):
            session.add_all(Rating(assignment_id=assignment_id, criterion=c, value=5.0, version=version)
                            for c in ("thought", "artistry"))
        assignment.version = 2
        session.add(assignment)
        session.add(ScoreSave(user_id=assignment.expert_id, key="stale-key", assignment_id=assignment_id,
                              version=2))
        session.commit()
        assert len(session.exec(select(Rating)).all()) == 4
    engine.dispose()
    tablet = Tablet(assignment_id, token, [0])
    tablet.acknowledged = [(1, {"thought": 5.0, "artistry": 5.0}), (2, {"thought": 6.0, "artistry": 5.0}),
                           (3, {"thought": 1.0, "artistry": 1.0})]
    tablet.refused_keys = ["stale-key"]
    result = check_database(database_url, [tablet])
    assert (result["found"], result["wrong_values"], result["lost"], result["stale_overwrites"]) == (1, 1, 1, 1)


@pytest.mark.parametrize("versions, contiguous", [((1, 2, 3), True), ((1, 3), False)])
def test_the_check_catches_a_gap_in_versions(database_url, versions, contiguous):
    from bench_durability import build_world
    from sqlmodel import Session

    from web.core.db import make_engine
    from web.core.models import Assignment, Rating

    (assignment_id, token), = build_world(database_url, 1)
    engine = make_engine(database_url)
    with Session(engine) as session:
        assignment = session.get(Assignment, assignment_id)
        session.add_all(Rating(assignment_id=assignment_id, criterion="thought", value=5.0, version=v)
                        for v in versions)
        assignment.version = max(versions)
        session.add(assignment)
        session.commit()
    engine.dispose()
    tablet = Tablet(assignment_id, token, [0])
    tablet.acknowledged = [(v, {"thought": 5.0}) for v in versions]
    result = check_database(database_url, [tablet])
    assert result["found"] == len(versions)
    assert result["assignments_not_contiguous"] == (0 if contiguous else 1)
