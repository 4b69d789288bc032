"""One refusal type, answered in one place, inside one unit of work per request.

``Refused`` is JSON for the API and the pages' script calls, a flash and a redirect (or the route's
own page) for forms, in the request's language; whatever the view wrote before it was refused is
rolled back, and what a view wrote when it answered is committed without a ``commit()`` of its own.
"""
from __future__ import annotations

import pickle
import re

import pytest
from flask import url_for
from sqlmodel import Session, select

from helpers.rating import scoring_scene
from web.core.errors import Refused, on_refusal
from web.core.models import Round


@pytest.fixture
def probe(app):
    """Three test routes, added before the app serves: write then refuse, write then answer, a form."""
    from web.core.db import get_session

    def write_then_refuse():
        get_session().add(Round(key="2031Q1", year=2031, quarter=1))
        get_session().flush()
        raise Refused(409, "probe_refused", "探针拒绝", "probe refused", where="probe")

    def write_and_answer():
        get_session().add(Round(key="2031Q2", year=2031, quarter=2))
        return "ok"

    @on_refusal(lambda: url_for("home.index"))
    def form_refused():
        get_session().add(Round(key="2031Q3", year=2031, quarter=3))
        raise Refused(422, "probe_form", "表单被拒绝", "form refused")

    app.add_url_rule("/probe/refuse", view_func=write_then_refuse, methods=["GET"])
    app.add_url_rule("/probe/answer", view_func=write_and_answer, methods=["GET"])
    app.add_url_rule("/probe/form", view_func=form_refused, methods=["GET"])
    return app


def _round_keys(app) -> set[str]:
    with Session(app.extensions["tuiyou.engine"]) as db:
        return {r.key for r in db.exec(select(Round))}


def test_a_refusal_rolls_back_what_the_view_wrote_and_an_answer_commits_it(probe):
    client = probe.test_client()
    refused = client.get("/probe/refuse", headers={"Accept": "application/json"})
    assert refused.status_code == 409
    assert refused.get_json() == {"error": "probe_refused", "message": "探针拒绝", "where": "probe"}
    assert client.get("/probe/answer").status_code == 200
    assert _round_keys(probe) == {"2031Q2"}  # the refused write is gone; the answered one was committed


def test_a_form_gets_a_flash_and_a_redirect_in_its_language(probe):
    client = probe.test_client()
    answer = client.get("/probe/form")
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/")
    with client.session_transaction() as cookie:
        assert cookie["_flashes"] == [("error", "表单被拒绝")]
    client.get("/probe/refuse?lang=en", headers={"Accept": "text/html"})  # remembers English
    assert "probe refused" in client.get("/probe/refuse", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert client.get("/probe/form").status_code == 303
    with client.session_transaction() as cookie:
        assert ("error", "form refused") in cookie["_flashes"]
    assert _round_keys(probe) == set()


def test_the_api_answers_english_with_the_chinese_beside_it_unless_asked(probe):
    client = probe.test_client()
    probe.add_url_rule("/api/v1/probe", view_func=probe.view_functions["write_then_refuse"])
    body = client.get("/api/v1/probe").get_json()
    assert body == {"error": "probe_refused", "message": "probe refused", "message_zh": "探针拒绝", "where": "probe"}
    assert client.get("/api/v1/probe", headers={"Accept-Language": "zh-CN"}).get_json()["message"] == "探针拒绝"


def test_a_refusal_crosses_a_process_boundary_intact():
    from web.intake.sheets import FileRefused

    again = pickle.loads(pickle.dumps(FileRefused("文件损坏", "broken file")))
    assert isinstance(again, FileRefused) and isinstance(again, Refused)
    assert (again.status, again.code, again.zh, again.en) == (422, "unreadable_file", "文件损坏", "broken file")
    plain = pickle.loads(pickle.dumps(Refused(409, "x", "甲", "a", n=1)))
    assert (plain.status, plain.extra, str(plain)) == (409, {"n": 1}, "甲 / a")


def test_the_scoring_forms_refusals_read_in_the_experts_language(client, login, session, make_user):
    """rating.js shows the server's message: it follows the UI language, not English always."""
    scene = scoring_scene(session, make_user)
    login("zhang")
    page = client.get(f"/assignments/{scene.mine[0].id}").get_data(as_text=True)
    csrf = re.search(r'data-csrf="([^"]+)"', page).group(1)
    headers = {"X-CSRFToken": csrf, "Accept": "application/json"}
    incomplete = client.post(f"/assignments/{scene.mine[0].id}/submit", headers=headers)
    assert incomplete.status_code == 422 and incomplete.get_json()["error"] == "incomplete"
    assert incomplete.get_json()["message"].startswith("请先为每个评分项打分再提交")
    client.get("/?lang=en")
    english = client.post(f"/assignments/{scene.mine[0].id}/submit", headers=headers).get_json()
    assert english["message"].startswith("Score every criterion before submitting")


def test_a_form_refused_for_something_missing_gets_the_404_page_not_a_redirect(app):
    @on_refusal(lambda: url_for("home.index"))
    def missing():
        raise Refused(404, "not_found", "轮次 2099Q1 不存在", "no round '2099Q1'")

    app.add_url_rule("/probe/missing", view_func=missing, methods=["GET"])
    answer = app.test_client().get("/probe/missing")
    assert answer.status_code == 404 and "轮次 2099Q1 不存在" in answer.get_data(as_text=True)
