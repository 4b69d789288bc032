"""Failed-login limits (Flask-Limiter): one counter per account, a much higher ceiling per address.

- **Per account**, across every address and every way in — the login form, ``POST
  /api/v1/tokens`` and the current-password check of ``/account/password`` share one counter
  (a shared limit, scope ``login-account``): 5 failures in 15 minutes, then that account answers
  429 until the window moves on, even with the right password.
- **Per address**, across every account and both ways in (scope ``login-address``): a ceiling
  against one address spraying guesses over many accounts, set far above what a room does by
  mistyping (default 100 in 15 minutes: 50 tablets behind one address, two typos each). One
  expert's typos never lock out the others: their own account stops at 5, and a 429 is not
  counted again. A separate counter per address *and* account would add nothing: the account's
  own counter, which counts every address, always trips first.

Only failed attempts count (``deduct_when``). Counters live in ``TUIYOU_RATELIMIT_STORAGE_URI``
(``memory://`` for one process; a shared ``redis://`` URL — ``TUIYOU_REDIS_URL`` — when several
app servers run). Each app gets its own limiter, so two apps in one process (the tests) never
share counters.
"""
from __future__ import annotations

from flask import Flask, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

LOGIN_ENDPOINTS = ("accounts.login", "api.issue_token")
# Endpoints where a logged-in user re-enters their password: a wrong one counts for their account.
PASSWORD_ENDPOINTS = ("accounts.password",)


def _account(name: str) -> str:
    return "account:" + name.strip().lower()


def login_account_key() -> str:
    """The account a login names, from the form or the JSON body."""
    body = request.get_json(silent=True) if request.is_json else None
    name = body.get("username") if isinstance(body, dict) else None
    return _account(name if isinstance(name, str) else request.form.get("username", ""))


def own_account_key() -> str:
    """The logged-in user's own account (the password page)."""
    from .access import current_user

    user = current_user()
    return _account(user.username if user else "")


def login_failed(response) -> bool:
    """Only failed logins use up the allowance (401), and a wrong current password (``g.password_refused``)."""
    return response.status_code == 401 or bool(g.get("password_refused"))


def init_app(app: Flask) -> None:
    """Create the app's limiter and put both shared limits on every login endpoint."""
    limiter = Limiter(key_func=get_remote_address, app=app)
    app.extensions["tuiyou.limiter"] = limiter
    per_account, per_address = app.config["LOGIN_LIMIT_PER_ACCOUNT"], app.config["LOGIN_LIMIT_PER_ADDRESS"]
    for endpoint in LOGIN_ENDPOINTS + PASSWORD_ENDPOINTS:
        key = own_account_key if endpoint in PASSWORD_ENDPOINTS else login_account_key
        view = app.view_functions[endpoint]
        view = limiter.shared_limit(per_account, scope="login-account", key_func=key,
                                    deduct_when=login_failed, methods=["POST"])(view)
        view = limiter.shared_limit(per_address, scope="login-address", key_func=get_remote_address,
                                    deduct_when=login_failed, methods=["POST"])(view)
        app.view_functions[endpoint] = view
