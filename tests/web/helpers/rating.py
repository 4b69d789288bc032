"""A scoring round with one expert's assignments, for the rating tests."""
from __future__ import annotations

from dataclasses import dataclass

from web.core.models import Assignment, Round, RoundState, Work
from helpers.api import bearer

SECRETS = ("秘密申报文化传媒有限公司", "秘密推荐广播电视局", "秘密省", "秘密版权方影业")


@dataclass
class Scene:
    round: Round
    works: list[Work]
    mine: list[Assignment]
    other: Assignment


def scoring_scene(session, make_user, *, works: int = 3) -> Scene:
    """Round 2025Q1 in scoring, expert "zhang" with ``works`` assignments, "li" with one more."""
    zhang = make_user("zhang", role="expert", display_name="张晓明", categories=["网络剧"])
    li = make_user("li", role="expert", display_name="李四", categories=["网络剧"])
    round_ = Round(key="2025Q1", year=2025, quarter=1, state=RoundState.scoring)
    session.add(round_)
    session.flush()
    items = [Work(round_id=round_.id, title=f"山河人间{i}", category="网络剧", submitter=SECRETS[0],
                  unit=SECRETS[1] + SECRETS[2], copyright_holder=SECRETS[3], synopsis="一部关于乡村振兴的剧。",
                  episodes=24, duration_min=45.0, uhd=i == 0, url=f"https://example.org/w/{i}")
             for i in range(works)]
    session.add_all(items)
    session.flush()
    mine = [Assignment(round_id=round_.id, expert_id=zhang.id, work_id=w.id) for w in items]
    other = Assignment(round_id=round_.id, expert_id=li.id, work_id=items[0].id)
    session.add_all([*mine, other])
    session.commit()
    return Scene(round_, items, mine, other)


def token(client, username: str = "zhang") -> dict[str, str]:
    """Authorization header for ``username`` (the rating scenes' default expert: zhang)."""
    return bearer(client, username)


FULL = {"thought": 8.5, "artistry": 7, "production": 9, "innovation": 6.5}


def server_side(app, assignment_id: int):
    """The assignment and its full save history (``{version: {criterion: value}}``), read fresh from
    the database while a browser test's live server writes it."""
    from sqlmodel import Session, select

    from web.core.models import Rating

    with Session(app.extensions["tuiyou.engine"]) as db:
        assignment = db.get(Assignment, assignment_id)
        history: dict[int, dict[str, float]] = {}
        for r in db.exec(select(Rating).where(Rating.assignment_id == assignment_id)):
            history.setdefault(r.version, {})[r.criterion] = r.value
        return assignment, history


def tap(page, criterion: str, value: str) -> None:
    """Tap one value of a criterion on the scoring form and wait until the form shows it chosen."""
    page.locator(f'[data-criterion="{criterion}"] [data-value="{value}"]').tap()
    page.wait_for_function(f"""document.querySelector('[data-criterion="{criterion}"] [data-value="{value}"]')
                               .getAttribute('aria-pressed') === 'true'""")


def device_queue(page) -> int:
    """How many changes the device's offline queue (IndexedDB) holds: 0 once all are acknowledged."""
    return page.evaluate("""() => new Promise((resolve, reject) => {
        const open = indexedDB.open("tuiyou-rating", 1);
        open.onsuccess = () => {
            const count = open.result.transaction("queue").objectStore("queue").count();
            count.onsuccess = () => { open.result.close(); resolve(count.result); };
            count.onerror = () => reject(count.error);
        };
        open.onerror = () => reject(open.error);
    })""")


def wait_saved(page, timeout: int = 15000) -> None:
    """Until the form says every change is saved and none waits."""
    page.wait_for_selector('[data-save-state="saved"][data-pending="0"]', timeout=timeout)
