"""Login, logout, CSRF, bearer tokens, role checks and login-failure limits."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from testkit import PASSWORD, csrf_token
from web.accounts.passwords import hash_password
from web.accounts.queries import authenticate, user_for_token
from web.core.models import ApiToken, AuditEvent, User


def test_passwords_are_hashed_with_argon2(make_user, session):
    user = make_user("ann")
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert authenticate(session=session, username="ANN ", password=PASSWORD).id == user.id
    assert authenticate(session=session, username="ann", password="wrong password") is None
    assert authenticate(session=session, username="nobody", password=PASSWORD) is None
    with pytest.raises(ValueError, match="at least 8"):
        hash_password("short")


def test_login_page_answers_in_chinese(client):
    page = client.get("/login")
    assert page.status_code == 200
    assert "登录" in page.get_data(as_text=True)
    assert "Log in" in client.get("/login?lang=en").get_data(as_text=True)


def test_login_then_logout(client, make_user, login, session):
    make_user("ann", role="chair")
    assert client.get("/").status_code == 302
    response = login("ann")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200 and "评审轮次" in home.get_data(as_text=True)
    token = csrf_token(client, "/")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302
    actions = session.exec(select(AuditEvent.action)).all()
    assert "login" in actions


def test_wrong_password_is_refused_with_401(client, make_user, login):
    make_user("ann")
    response = login("ann", "not the password")
    assert response.status_code == 401
    assert "用户名或密码不正确" in response.get_data(as_text=True)


def test_login_redirects_only_to_local_next(client, make_user):
    make_user("ann")
    token = csrf_token(client)
    response = client.post("/login", data={"username": "ann", "password": PASSWORD, "csrf_token": token,
                                           "next": "https://evil.example/"})
    assert response.headers["Location"] == "/"


def test_forms_without_csrf_token_are_rejected(client, make_user):
    make_user("ann")
    assert client.post("/login", data={"username": "ann", "password": PASSWORD}).status_code == 400
    assert client.post("/logout").status_code == 400


def test_token_issue_use_expiry_and_revocation(app, client, make_user, session):
    make_user("ann")
    assert client.post("/api/v1/tokens", json={"username": "ann", "password": "nope nope"}).status_code == 401
    assert client.post("/api/v1/tokens", json={"username": "ann"}).status_code == 400
    response = client.post("/api/v1/tokens", json={"username": "ann", "password": PASSWORD})
    assert response.status_code == 201
    token = response.get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=headers).get_json()["username"] == "ann"
    stored = session.exec(select(ApiToken)).one()
    assert stored.token_hash != token and len(stored.token_hash) == 64  # hashed at rest

    # expiry
    stored.expires_at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)
    session.add(stored)
    session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401

    # revocation
    token2 = client.post("/api/v1/tokens", json={"username": "ann", "password": PASSWORD}).get_json()["token"]
    headers2 = {"Authorization": f"Bearer {token2}"}
    assert client.get("/api/v1/me", headers=headers2).status_code == 200
    assert client.delete("/api/v1/tokens/current", headers=headers2).status_code == 204
    assert client.get("/api/v1/me", headers=headers2).status_code == 401
    with app.app_context():
        assert user_for_token(session=session, token=token2) is None


def test_deactivated_user_loses_access(client, make_user, session):
    user = make_user("ann")
    token = client.post("/api/v1/tokens", json={"username": "ann", "password": PASSWORD}).get_json()["token"]
    user.active = False
    session.add(user)
    session.commit()
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def _token(client, username):
    return client.post("/api/v1/tokens", json={"username": username, "password": PASSWORD}).get_json()["token"]


# (role, method, path, expected status); None = no credentials
ACCESS = [
    (None, "GET", "/api/v1/me", 401),
    (None, "GET", "/api/v1/rounds", 401),
    (None, "GET", "/api/v1/assignments", 401),
    ("expert", "GET", "/api/v1/assignments", 200),
    ("chair", "GET", "/api/v1/assignments", 403),
    ("admin", "GET", "/api/v1/assignments", 403),
    ("expert", "GET", "/api/v1/rounds", 200),
    ("chair", "GET", "/api/v1/rounds", 200),
    ("admin", "GET", "/api/v1/me", 200),
    (None, "GET", "/api/v1/openapi.json", 200),
]


@pytest.mark.parametrize("role, method, path, expected", ACCESS)
def test_api_access_by_role(client, make_user, role, method, path, expected):
    headers = {}
    if role:
        make_user(f"user_{role}", role=role)
        headers["Authorization"] = f"Bearer {_token(client, f'user_{role}')}"
    response = client.open(path, method=method, headers=headers)
    assert response.status_code == expected
    if expected in (401, 403):
        assert response.get_json()["error"] in ("unauthorized", "forbidden")


def test_bad_bearer_token_is_401(client):
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401 and response.headers["WWW-Authenticate"] == "Bearer"


def test_too_many_failed_logins_per_account_get_429(app, client, make_user):
    make_user("ann")
    for _ in range(5):
        assert client.post("/api/v1/tokens", json={"username": "ann", "password": "wrong pass"}).status_code == 401
    # the right password no longer helps: the account is locked for the window
    assert client.post("/api/v1/tokens", json={"username": "ann", "password": PASSWORD}).status_code == 429
    # another account from the same address is still fine
    make_user("bob")
    assert client.post("/api/v1/tokens", json={"username": "bob", "password": PASSWORD}).status_code == 201


def test_successful_logins_do_not_count(client, make_user):
    make_user("ann")
    for _ in range(8):
        assert client.post("/api/v1/tokens", json={"username": "ann", "password": PASSWORD}).status_code == 201


def test_form_login_is_limited_too(client, make_user):
    make_user("ann")
    for _ in range(5):
        token = csrf_token(client)
        assert client.post("/login", data={"username": "ann", "password": "wrong pass",
                                           "csrf_token": token}).status_code == 401
    token = csrf_token(client)
    assert client.post("/login", data={"username": "ann", "password": PASSWORD,
                                       "csrf_token": token}).status_code == 429


def test_users_are_unique_and_roles_checked(make_user, session):
    make_user("ann")
    with pytest.raises(ValueError, match="already exists"):
        make_user("Ann")
    with pytest.raises(ValueError, match="unknown role"):
        make_user("bob", role="boss")
    assert session.exec(select(User)).all()[0].username == "ann"


def test_errors_speak_the_users_language_and_json_under_api(client, make_user):
    assert "页面不存在" in client.get("/no-such-page").get_data(as_text=True)
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.get_json()["error"] == "not_found"
    csrf = client.post("/login", data={"username": "x", "password": "y"})
    assert csrf.status_code == 400 and "CSRF" in csrf.get_data(as_text=True)
    make_user("ann")
    for _ in range(6):
        response = client.post("/api/v1/tokens", json={"username": "ann", "password": "wrong pass"})
    assert response.status_code == 429
    assert response.get_json()["error"] == "too_many_requests" and "Retry-After" in response.headers
