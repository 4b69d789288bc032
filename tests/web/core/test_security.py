"""Web hardening: security headers and a CSP without inline script, a 405 with Allow, cookies,
the password policy, upload limits, and no stack trace ever reaching a user."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from testkit import PASSWORD
from web.accounts.passwords import hash_password, password_problem

WEB = Path(__file__).resolve().parents[3] / "web"


def test_every_response_carries_the_security_headers(client):
    for path in ("/login", "/api/v1/openapi.json", "/no-such-page", "/api/v1/no-such-thing"):
        response = client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "same-origin"
    assert client.get("/api/v1/openapi.json").headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/api/v1/assignments", "/api/v1/rounds/2025Q1/shortlist", "/login"])
def test_a_method_a_path_does_not_take_is_405_with_allow(client, path):
    response = client.patch(path)
    assert response.status_code == 405
    allowed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert "GET" in allowed and "PATCH" not in allowed
    if path.startswith("/api/"):
        assert response.get_json()["error"] == "method_not_allowed"


def test_templates_hold_no_inline_script():
    """The CSP forbids inline script, so no template may rely on it (it would silently break)."""
    offenders = []
    for path in WEB.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"<script\b([^>]*)>", text):
            if "src=" not in match.group(1):
                offenders.append(f"{path.relative_to(WEB)}: inline <script>")
        for match in re.finditer(r"\s(on[a-z]+)\s*=", text):
            offenders.append(f"{path.relative_to(WEB)}: {match.group(1)}= handler")
        if "javascript:" in text:
            offenders.append(f"{path.relative_to(WEB)}: javascript: URL")
    assert offenders == []


def test_session_cookie_is_httponly_and_samesite_and_secure_when_asked(app, client, make_user, monkeypatch,
                                                                       tmp_path, database_url):
    make_user("ann")
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    response = client.post("/login", data={"username": "ann", "password": PASSWORD, "csrf_token": token})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert "Strict-Transport-Security" not in response.headers

    from web import create_app

    monkeypatch.setenv("TUIYOU_SECURE_COOKIES", "1")
    monkeypatch.setenv("TUIYOU_INSTANCE", str(tmp_path / "tls"))
    secure = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test"})
    tls = secure.test_client()
    page = tls.get("/login", base_url="https://localhost")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    response = tls.post("/login", data={"username": "ann", "password": PASSWORD, "csrf_token": token},
                        base_url="https://localhost", headers={"Referer": "https://localhost/login"})
    assert response.status_code == 302
    assert "Secure" in response.headers["Set-Cookie"]
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    secure.extensions["tuiyou.engine"].dispose()


@pytest.mark.parametrize("password, problem", [
    ("short", "at least 8"),
    ("password123", "most common"),
    ("12345678", "most common"),
    ("aaaaaaaaaaaa", "4 different"),
    ("wang-expert-2025", "user name"),
    ("x" * 2000, "at most"),
])
def test_password_policy_refuses_weak_passwords(password, problem):
    assert problem in password_problem(password, username="wang")
    with pytest.raises(ValueError, match=problem):
        hash_password(password, username="wang")


def test_password_policy_accepts_a_decent_password():
    assert password_problem("correct horse battery", username="wang") is None
    assert password_problem("山河人间2025评审", username="wang") is None


def test_user_add_refuses_a_weak_password_with_a_clear_message(runner):
    result = runner.invoke(args=["user", "add", "wang", "--role", "expert", "--password-stdin"], input="password123\n")
    assert result.exit_code == 1 and "most common" in result.output and "Traceback" not in result.output


def test_an_unexpected_error_never_shows_a_stack_trace(database_url, tmp_path, monkeypatch):
    from web import create_app

    monkeypatch.setenv("TUIYOU_INSTANCE", str(tmp_path / "boom"))
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "test"})  # not TESTING: errors are handled

    def explode():
        raise RuntimeError("secret internals: /etc/passwd")

    app.add_url_rule("/explode", "explode", explode)
    app.add_url_rule("/api/v1/explode", "api_explode", explode)
    client = app.test_client()
    page = client.get("/explode")
    assert page.status_code == 500
    text = page.get_data(as_text=True)
    assert "Traceback" not in text and "secret internals" not in text and "服务器出错" in text
    api = client.get("/api/v1/explode")
    assert api.status_code == 500 and api.get_json()["error"] == "internal_error"
    assert "secret internals" not in api.get_data(as_text=True)
    app.extensions["tuiyou.engine"].dispose()


def test_uploads_over_the_limit_are_refused(database_url, tmp_path, monkeypatch):
    from web import create_app

    monkeypatch.setenv("TUIYOU_INSTANCE", str(tmp_path / "small"))
    monkeypatch.setenv("TUIYOU_MAX_UPLOAD_MB", "1")
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test",
                      "WTF_CSRF_ENABLED": False})
    response = app.test_client().post("/api/v1/tokens", data=b"x" * (2 * 1024 * 1024),
                                      content_type="application/json")
    assert response.status_code == 413 and response.get_json()["error"] == "request_entity_too_large"
    app.extensions["tuiyou.engine"].dispose()
