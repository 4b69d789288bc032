"""Random assignment instances in the database, for the assignment tests."""
from __future__ import annotations

import threading

import numpy as np
from sqlmodel import Session, select

from web.core.models import Assignment, AssignmentStatus, Role, Round, RoundState, SubmitterType, UnitType, User, Work

CATEGORIES = ["网络剧", "网络电影", "网络纪录片", "短视频"]
ORGS = ["山河文化", "星海影业", "中国传媒大学", "北京电影学院", "江南传媒", "西部影视"]
PROVINCES = ["浙江省", "北京市", "四川省", "广东省"]


def build_round(session: Session, *, key: str = "2025Q1", works: int = 60, experts: int = 24, seed: int = 1,
                capacity: int | None = None, state: RoundState = RoundState.scoring, stage: str = "national") -> Round:
    """A round with random works and experts (some sharing organisations with submitters)."""
    rng = np.random.default_rng(seed)
    round_ = Round(key=key, year=2025, quarter=1, state=state, stage=stage)
    session.add(round_)
    session.flush()
    add_works(session, round_, works, rng)
    for i in range(experts):
        cats = [CATEGORIES[(i + s) % len(CATEGORIES)] for s in (0, 1)]
        session.add(User(username=f"{key.lower()}-e{i:02d}", display_name=f"专家{i}", role=Role.expert,
                         password_hash="!", organisation=ORGS[i % len(ORGS)], province=PROVINCES[i % len(PROVINCES)],
                         categories=cats, capacity=capacity))
    session.commit()
    return round_


def add_works(session: Session, round_: Round, n: int, rng: np.random.Generator) -> list[Work]:
    """``n`` random works in the round (half submitted by an organisation some experts belong to)."""
    works = []
    for _ in range(n):
        province = PROVINCES[rng.integers(len(PROVINCES))]
        works.append(Work(round_id=round_.id, title=f"作品{rng.integers(10**9)}",
                          category=CATEGORIES[rng.integers(len(CATEGORIES))],
                          submitter=ORGS[rng.integers(len(ORGS))], submitter_type=SubmitterType.organisation,
                          unit=province + "广播电视局", unit_type=UnitType.province,
                          copyright_holder=ORGS[rng.integers(len(ORGS))]))
    session.add_all(works)
    session.commit()
    return works


def live_pairs(session: Session, round_: Round) -> set[tuple[int, int]]:
    """(expert_id, work_id) of the round's live (not recused) assignments."""
    return {(a.expert_id, a.work_id) for a in session.exec(select(Assignment).where(
        Assignment.round_id == round_.id, Assignment.status != AssignmentStatus.recused))}


def wait_for_job(client, key: str, timeout: float = 60.0, until=None) -> dict:
    """Poll the round page's latest draw job until ``until(status)`` (default: it has finished)."""
    import re
    import time

    html = client.get(f"/admin/rounds/{key}/assignment").get_data(as_text=True)
    url = re.search(r'data-status-url="([^"]+)"', html).group(1)
    until = until or (lambda status: status["finished"])
    deadline = time.monotonic() + timeout
    while True:
        status = client.get(url).get_json()
        if until(status):
            return status
        assert time.monotonic() < deadline, f"draw job still {status['state']} after {timeout} s: {status}"
        time.sleep(0.05)


def draw_on_page(client, key: str = "2025Q1", **form) -> dict:
    """Start the round page's draw with ``form`` (per_work, seed) and wait for the job to finish."""
    from testkit import csrf_token

    page = f"/admin/rounds/{key}/assignment"
    response = client.post(page + "/draw", data={"csrf_token": csrf_token(client, page), **form})
    assert response.status_code == 303, response.status_code
    return wait_for_job(client, key)


def hold_draw_after_first_category(monkeypatch) -> threading.Event:
    """Let the draw (run by the live server in this process) pause once a category is done, until
    the test sets the event it returns."""
    import web.assignment.operations as operations

    go_on = threading.Event()
    real = operations.draw_assignment

    def held(*args, progress=None, **kwargs):
        def tell(step, done, total):
            progress(step, done, total)
            if step == "category" and done == 1:
                assert go_on.wait(60), "the test never let the draw go on"
        return real(*args, progress=tell, **kwargs)

    monkeypatch.setattr(operations, "draw_assignment", held)
    return go_on
