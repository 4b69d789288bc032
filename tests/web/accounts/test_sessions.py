"""Sessions end when they should (issue 19 item 4): logout, a password change and an admin's
reset end every session and API token of the user on every app server; an idle timeout and an
absolute lifetime; nothing derived from the password hash in the cookie."""
from __future__ import annotations

import pytest
from sqlmodel import select

import web.core.access
from testkit import AUDIT_KEY, PASSWORD, csrf_token
from web.core.models import AuditEvent, User

NEW_PASSWORD = "a different long phrase"


def log_in(client, username, password=PASSWORD):
    response = client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def copy_cookie(source, target) -> None:
    """What a thief does with a cookie read off a shared tablet or a proxy log."""
    target.set_cookie("session", source.get_cookie("session").value)


def logged_in(client) -> bool:
    return client.get("/").status_code == 200


def token_of(client, username, password=PASSWORD) -> dict:
    token = client.post("/api/v1/tokens", json={"username": username, "password": password}).get_json()["token"]
    return {"Authorization": f"Bearer {token}"}


def cookie_content(app, client) -> dict:
    serializer = app.session_interface.get_signing_serializer(app)
    return serializer.loads(client.get_cookie("session").value)


def test_a_cookie_copied_before_logout_is_dead_afterwards(app, client, make_user):
    make_user("ann")
    log_in(client, "ann")
    thief = app.test_client()
    copy_cookie(client, thief)
    assert logged_in(thief), "a copied cookie works while the session lives"
    assert client.post("/logout", data={"csrf_token": csrf_token(client, "/")}).status_code == 302
    assert not logged_in(thief)
    assert thief.get("/").headers["Location"].startswith("/login")


def test_logout_ends_every_session_and_token_of_the_user(app, client, make_user, session):
    make_user("ann")
    make_user("bob")
    log_in(client, "ann")
    laptop = app.test_client()
    log_in(laptop, "ann")
    colleague = app.test_client()
    log_in(colleague, "bob")
    headers = token_of(app.test_client(), "ann")
    assert app.test_client().get("/api/v1/me", headers=headers).status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert not logged_in(laptop) and not logged_in(client)
    assert app.test_client().get("/api/v1/me", headers=headers).status_code == 401
    assert logged_in(colleague), "another user's session is untouched"
    ended = session.exec(select(AuditEvent).where(AuditEvent.action == "user.sessions_ended")).all()
    assert [(e.subject, e.detail) for e in ended] == [("ann", {"why": "logout", "tokens_revoked": 1})]


def test_logout_on_one_app_server_ends_the_session_on_another(app, database_url, client, make_user, tmp_path,
                                                              monkeypatch):
    from web import create_app

    make_user("ann")
    monkeypatch.setenv("TUIYOU_INSTANCE", str(tmp_path / "second"))
    second = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test", "AUDIT_KEY": AUDIT_KEY})
    try:
        log_in(client, "ann")
        other = second.test_client()
        copy_cookie(client, other)
        assert logged_in(other)
        client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
        assert not logged_in(other)
    finally:
        second.extensions["tuiyou.engine"].dispose()


def test_changing_ones_password_ends_the_other_sessions_and_tokens(app, client, make_user, session):
    make_user("ann")
    log_in(client, "ann")
    tablet = app.test_client()
    log_in(tablet, "ann")
    headers = token_of(app.test_client(), "ann")
    form = {"current": PASSWORD, "new": NEW_PASSWORD, "repeat": NEW_PASSWORD,
            "csrf_token": csrf_token(client, "/account/password")}
    response = client.post("/account/password", data=form)
    assert response.status_code == 303
    assert logged_in(client), "the browser that changed it stays logged in"
    assert not logged_in(tablet)
    assert app.test_client().get("/api/v1/me", headers=headers).status_code == 401
    assert app.test_client().post("/api/v1/tokens", json={"username": "ann", "password": PASSWORD}).status_code == 401
    assert app.test_client().post("/api/v1/tokens", json={"username": "ann", "password": NEW_PASSWORD}).status_code == 201
    actions = [e.action for e in session.exec(select(AuditEvent).where(AuditEvent.subject == "ann"))]
    assert "user.password_set" in actions and "user.sessions_ended" in actions


@pytest.mark.parametrize("form, message", [
    ({"current": "not my password", "new": NEW_PASSWORD, "repeat": NEW_PASSWORD}, "当前密码不正确"),
    ({"current": PASSWORD, "new": NEW_PASSWORD, "repeat": NEW_PASSWORD + "x"}, "两次输入的新密码不一致"),
    ({"current": PASSWORD, "new": PASSWORD, "repeat": PASSWORD}, "不能与当前密码相同"),
    ({"current": PASSWORD, "new": "short", "repeat": "short"}, "at least 8"),
])
def test_a_refused_password_change_changes_nothing(app, client, make_user, session, form, message):
    user = make_user("ann")
    before = (user.password_hash, user.session_epoch)
    log_in(client, "ann")
    tablet = app.test_client()
    log_in(tablet, "ann")
    response = client.post("/account/password", data={**form, "csrf_token": csrf_token(client, "/account/password")})
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    session.expire_all()
    stored = session.get(User, user.id)
    assert (stored.password_hash, stored.session_epoch) == before and logged_in(tablet)


def test_an_admins_reset_ends_the_experts_sessions_and_tokens(app, client, make_user, runner):
    make_user("zhang")
    make_user("sec", role="admin")
    tablet = app.test_client()
    log_in(tablet, "zhang")
    headers = token_of(app.test_client(), "zhang")
    log_in(client, "sec")
    response = client.post("/admin/experts/zhang/password",
                           data={"password": NEW_PASSWORD, "csrf_token": csrf_token(client, "/admin/experts")})
    assert response.status_code == 303
    assert not logged_in(tablet)
    assert app.test_client().get("/api/v1/me", headers=headers).status_code == 401
    # the same from the command line
    log_in(tablet, "zhang", NEW_PASSWORD)
    headers = token_of(app.test_client(), "zhang", NEW_PASSWORD)
    result = runner.invoke(args=["experts", "set-password", "zhang", "--password-stdin"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert not logged_in(tablet)
    assert app.test_client().get("/api/v1/me", headers=headers).status_code == 401


def test_idle_timeout_and_absolute_lifetime(app, client, make_user, monkeypatch):
    assert (app.config["SESSION_IDLE_MINUTES"], app.config["SESSION_MAX_HOURS"]) == (60, 12)  # the stated defaults
    make_user("ann")
    clock = {"now": 1_760_000_000}
    monkeypatch.setattr(web.core.access, "_now", lambda: clock["now"])
    log_in(client, "ann")
    # active every 50 minutes: the idle limit never strikes ...
    for _ in range(14):
        clock["now"] += 50 * 60
        assert logged_in(client)
    # ... but 12 hours after the login the session ends all the same
    clock["now"] += 50 * 60
    assert clock["now"] - 1_760_000_000 > 12 * 3600
    assert not logged_in(client)
    # idle: 61 minutes without a request
    log_in(client, "ann")
    clock["now"] += 59 * 60
    assert logged_in(client)
    clock["now"] += 61 * 60
    assert not logged_in(client)


def test_the_limits_are_settings(database_url, make_user, tmp_path, monkeypatch):
    from web import create_app

    monkeypatch.setenv("TUIYOU_INSTANCE", str(tmp_path / "i"))
    monkeypatch.setenv("TUIYOU_SESSION_IDLE_MINUTES", "15")
    monkeypatch.setenv("TUIYOU_SESSION_MAX_HOURS", "8")
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test", "AUDIT_KEY": AUDIT_KEY})
    try:
        assert (app.config["SESSION_IDLE_MINUTES"], app.config["SESSION_MAX_HOURS"]) == (15, 8)
        assert app.config["PERMANENT_SESSION_LIFETIME"].total_seconds() == 8 * 3600
        make_user("ann")
        client = app.test_client()
        clock = {"now": 1_760_000_000}
        monkeypatch.setattr(web.core.access, "_now", lambda: clock["now"])
        log_in(client, "ann")
        clock["now"] += 16 * 60
        assert not logged_in(client)
    finally:
        app.extensions["tuiyou.engine"].dispose()


def test_the_cookie_carries_nothing_derived_from_the_password(app, client, make_user):
    user = make_user("ann")
    log_in(client, "ann")
    content = cookie_content(app, client)
    assert set(content) <= {"user_id", "epoch", "iat", "seen", "csrf_token", "lang", "_flashes", "_permanent"}
    secret = user.password_hash.rsplit("$", 2)[-2:]  # the salt and the hash proper
    for value in (v for v in content.values() if isinstance(v, str)):
        assert not any(value[i:i + 8] in part for part in secret for i in range(len(value) - 7)), value
    assert content["epoch"] == user.session_epoch and len(content["epoch"]) == 32


def test_a_cookie_of_the_old_kind_no_longer_logs_in(app, client, make_user):
    """Before this change the cookie held the user id and the password hash's last 16 characters."""
    user = make_user("ann")
    serializer = app.session_interface.get_signing_serializer(app)
    client.set_cookie("session", serializer.dumps({"user_id": user.id, "pw": user.password_hash[-16:]}))
    assert not logged_in(client)
