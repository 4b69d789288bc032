"""One count of abnormal ratings (畸高/畸低) on every page (issue 22): the diagnostics, the 畸高/畸低
tab, the API's list, the chair's sign-off refusal and the exports' annex all come from
``rating.flags.abnormal_ratings``, compared here on every demo round a chair can review."""
from __future__ import annotations

import csv
import io
import re

from sqlmodel import select

from web.core.models import Round, RoundState
from web.rating.flags import abnormal_ratings, unexplained


def _count(page: str) -> int:
    found = re.search(r'data-abnormal-count="(\d+)"', page)
    assert found, page[:300]
    return int(found.group(1))


def _annex_rows(exported: bytes) -> int:
    """Rows of the CSV export's annex (畸高/畸低评分的说明与豁免): after its title and header line."""
    rows = list(csv.reader(io.StringIO(exported.decode("utf-8-sig"))))
    starts = [i for i, row in enumerate(rows) if row and row[0].startswith("附件：畸高/畸低评分")]
    return len(rows) - starts[0] - 2 if starts else 0


def test_every_page_counts_the_same_abnormal_ratings_on_every_demo_round(demo, app, session, client, login):
    from seed.demo import DEMO_PASSWORD

    login("chair", DEMO_PASSWORD)
    token = client.post("/api/v1/tokens", json={"username": "chair", "password": DEMO_PASSWORD}).get_json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    rounds = [r for r in session.exec(select(Round).order_by(Round.key))
              if r.state in (RoundState.scoring, RoundState.review, RoundState.signed)]
    assert len(rounds) >= 3
    seen_abnormal = seen_annexed = 0
    for round_ in rounds:
        listed = abnormal_ratings(session=session, round_=round_)
        seen_abnormal += len(listed)
        tab = client.get(f"/review/{round_.key}/abnormal").get_data(as_text=True)
        diagnostics = client.get(f"/review/{round_.key}/diagnostics").get_data(as_text=True)
        api = client.get(f"/api/v1/rounds/{round_.key}/abnormal", headers=bearer).get_json()
        assert _count(tab) == _count(diagnostics) == len(listed), round_.key
        assert sorted(f["assignment_id"] for f in api["flags"] if f["active"]) == \
            sorted(r.flag.assignment_id for r in listed), round_.key
        waiting = unexplained(session=session, round_=round_)
        exported = client.get(f"/api/v1/rounds/{round_.key}/shortlist.csv", headers=bearer)
        assert exported.status_code == 200, round_.key
        annexed = _annex_rows(exported.data)
        assert annexed == len(listed) - len(waiting), round_.key  # the explained or waived ones
        seen_annexed += annexed
        assert api["unexplained"] == waiting and set(waiting) <= {r.flag.assignment_id for r in listed}
        if round_.state == RoundState.review and waiting:  # the sign-off is refused over exactly these
            refused = client.post(f"/api/v1/rounds/{round_.key}/shortlist/signoff", headers=bearer,
                                  json={"password": DEMO_PASSWORD})
            assert refused.status_code == 409 and refused.get_json()["unexplained"] == waiting
            assert f"{len(waiting)} abnormal rating(s)" in refused.get_json()["message"]
    assert seen_abnormal > 0 and seen_annexed > 0  # the demo has abnormal ratings to count, some explained
