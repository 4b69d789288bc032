"""The expert's list and scoring form (server side): hooks, blindness, filters, the form's own
calls (cookie + CSRF header), the own-scale aid and the service worker route."""
from __future__ import annotations

import re

import pytest

from helpers.rating import FULL, SECRETS, scoring_scene, token
from web.core.models import Assignment, Round, RoundState, Work


@pytest.fixture
def scene(session, make_user):
    return scoring_scene(session, make_user)


def _csrf(page: str) -> str:
    return re.search(r'data-csrf="([^"]+)"', page).group(1)


def test_home_lists_links_with_hooks_in_a_stable_per_expert_order(client, login, scene):
    login("zhang")
    page = client.get("/").get_data(as_text=True)
    ids = [int(i) for i in re.findall(r'data-assignment-id="(\d+)"', page)]
    assert sorted(ids) == sorted(a.id for a in scene.mine)
    assert ids == [int(i) for i in re.findall(r'data-assignment-id="(\d+)"', client.get("/").get_data(as_text=True))]
    assert f'href="/assignments/{ids[0]}"' in page and "已完成 0 / 3" in page
    for secret in SECRETS:
        assert secret not in page


def test_home_filters_by_status_and_category(client, login, scene):
    login("zhang")
    auth = token(client)
    client.put(f"/api/v1/assignments/{scene.mine[0].id}/scores", json={"scores": {"thought": 8}, "version": 0},
               headers=auth)
    page = client.get("/?status=in_progress").get_data(as_text=True)
    assert re.findall(r'data-assignment-id="(\d+)"', page) == [str(scene.mine[0].id)]
    assert "没有符合筛选条件的作品" in client.get("/?category=短视频").get_data(as_text=True)


def test_form_is_blind_and_carries_the_hooks(client, login, scene):
    login("zhang")
    response = client.get(f"/assignments/{scene.mine[0].id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'data-assignment-id="{scene.mine[0].id}"' in page
    assert page.count("data-save-state=") == 1 and 'data-pending="0"' in page
    for key in FULL:
        assert f'data-criterion="{key}"' in page
    assert page.count('data-value="') == 4 * 21 and 'aria-pressed="false"' in page
    assert 'data-action="submit"' in page and 'data-action="recuse"' in page
    assert "山河人间0" in page and "超高清" in page and "一部关于乡村振兴的剧" in page
    assert "坚持正确政治方向" in page, "the rubric text is shown"
    assert "<script>" not in page and "onclick" not in page and 'style="' not in page
    for secret in SECRETS:
        assert secret not in page
    english = client.get(f"/assignments/{scene.mine[0].id}?lang=en").get_data(as_text=True)
    assert "Depth of thought" in english and "Submit scores" in english


def test_form_of_another_expert_is_404_and_chairs_are_403(client, login, make_user, scene):
    login("zhang")
    assert client.get(f"/assignments/{scene.other.id}").status_code == 404
    make_user("chair", role="chair")
    client.post("/logout", data={"csrf_token": _csrf(client.get(f"/assignments/{scene.mine[0].id}")
                                                     .get_data(as_text=True))})
    login("chair")
    assert client.get(f"/assignments/{scene.mine[0].id}").status_code == 403


def test_the_forms_own_calls_need_the_csrf_header_and_share_the_operation(client, login, scene):
    login("zhang")
    a = scene.mine[0]
    csrf = _csrf(client.get(f"/assignments/{a.id}").get_data(as_text=True))
    assert client.put(f"/assignments/{a.id}/scores", json={"scores": FULL, "version": 0}).status_code == 400
    saved = client.put(f"/assignments/{a.id}/scores", json={"scores": FULL, "version": 0},
                       headers={"X-CSRFToken": csrf, "Idempotency-Key": "tablet-1"})
    assert saved.status_code == 200 and saved.get_json() == {"version": 1}
    again = client.put(f"/assignments/{a.id}/scores", json={"scores": FULL, "version": 0},
                       headers={"X-CSRFToken": csrf, "Idempotency-Key": "tablet-1"})
    assert again.get_json() == {"version": 1}
    assert client.get("/rating/csrf").get_json()["token"]
    assert client.post(f"/assignments/{a.id}/submit", headers={"X-CSRFToken": csrf}).status_code == 200
    page = client.get(f"/assignments/{a.id}").get_data(as_text=True)
    assert 'data-editable="false"' in page and "已提交，表单只读" in page
    assert 'aria-pressed="true"' in page


def test_form_calls_without_a_session_answer_401_json(client, scene):
    response = client.put(f"/assignments/{scene.mine[0].id}/scores", json={})
    assert response.status_code in (400, 401)  # CSRF first when there is no session at all


def test_own_scale_lists_only_my_scored_works_best_first(client, login, session, scene):
    auth = token(client)
    client.put(f"/api/v1/assignments/{scene.mine[1].id}/scores", json={"scores": FULL, "version": 0}, headers=auth)
    client.put(f"/api/v1/assignments/{scene.mine[2].id}/scores",
               json={"scores": {k: 4 for k in FULL}, "version": 0}, headers=auth)
    li = token(client, "li")
    client.put(f"/api/v1/assignments/{scene.other.id}/scores",
               json={"scores": {k: 9.5 for k in FULL}, "version": 0}, headers=li)
    login("zhang")
    page = client.get(f"/assignments/{scene.mine[0].id}").get_data(as_text=True)
    own = page[page.index("own-scale"):]
    assert own.index("山河人间1") < own.index("山河人间2")
    assert "7.85" in own and "4.00" in own and "9.5" not in own, "never another expert's scores"


def test_service_worker_is_served_from_the_root(client):
    response = client.get("/sw.js")
    assert response.status_code == 200 and response.headers["Service-Worker-Allowed"] == "/"
    assert "javascript" in response.headers["Content-Type"] and b"addEventListener" in response.data
