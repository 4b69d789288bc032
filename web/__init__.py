"""Tuiyou web application: the Flask app factory.

Nothing is created at import time; ``create_app`` builds the app from defaults, then the
environment (``DATABASE_URL``, ``TUIYOU_SECRET_KEY``, …), then the test mapping.
"""
from __future__ import annotations

import datetime as dt
import importlib
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:  # Flask is imported by create_app only: the numeric commands never load it
    from flask import Flask


# Modules whose blueprint ``bp`` the app registers: each feature's pages, then the JSON API.
FEATURES = ("accounts.routes", "home.routes", "rounds.routes", "intake.routes", "assignment.routes", "rating.routes",
            "review.routes", "signing.routes", "exports.routes", "conduct.routes", "progress.routes",
            "api")


def _secret_key(instance_path: str, name: str = "secret_key") -> str:
    """A key kept in the instance folder so restarts keep it and every process agrees."""
    path = Path(instance_path) / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Tuiyou app."""
    from flask import Flask

    from .core import access, db, errors, i18n, inputs, labels, limits, security, timefmt
    from .core.commands import COMMANDS
    from .core.lazy_group import lazy_app_group

    app = Flask(__name__, instance_path=os.environ.get("TUIYOU_INSTANCE") or None,
                instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(
        DATABASE_URL=os.environ.get("DATABASE_URL") or db.default_sqlite_url(app.instance_path),
        TOKEN_TTL_HOURS=float(os.environ.get("TUIYOU_TOKEN_TTL_HOURS", "12")),
        LOGIN_LIMIT_PER_ACCOUNT=os.environ.get("TUIYOU_LOGIN_LIMIT_PER_ACCOUNT", "5 per 15 minutes"),
        # a ceiling far above a review room's typos (50 tablets behind one address): see web/limits.py
        LOGIN_LIMIT_PER_ADDRESS=os.environ.get("TUIYOU_LOGIN_LIMIT_PER_ADDRESS", "100 per 15 minutes"),
        # Shared state of several app servers lives in Redis when TUIYOU_REDIS_URL is set.
        REDIS_URL=os.environ.get("TUIYOU_REDIS_URL") or None,
        RATELIMIT_STORAGE_URI=(os.environ.get("TUIYOU_RATELIMIT_STORAGE_URI") or os.environ.get("TUIYOU_REDIS_URL")
                               or "memory://"),
        RATELIMIT_HEADERS_ENABLED=True,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # A login ends after this long without a request, and this long after it began, whatever happens.
        SESSION_IDLE_MINUTES=float(os.environ.get("TUIYOU_SESSION_IDLE_MINUTES", "60")),
        SESSION_MAX_HOURS=float(os.environ.get("TUIYOU_SESSION_MAX_HOURS", "12")),
        BABEL_DEFAULT_LOCALE="zh_CN",
        MAX_CONTENT_LENGTH=int(os.environ.get("TUIYOU_MAX_UPLOAD_MB", "32")) * 1024 * 1024,
        # Import files are read in a worker process with these limits (web/intake/sandbox.py).
        IMPORT_MEMORY_MB=int(os.environ.get("TUIYOU_IMPORT_MEMORY_MB", "1024")),
        IMPORT_SECONDS=float(os.environ.get("TUIYOU_IMPORT_SECONDS", "60")),
        # Searches on the expert's 回避申报 page, per expert (web/assignment/routes.py).
        CONFLICT_SEARCH_LIMIT=os.environ.get("TUIYOU_CONFLICT_SEARCH_LIMIT", "30 per minute"),
        **security.settings_from_environment(),
    )
    app.config.from_pyfile("config.py", silent=True)
    if test_config is not None:
        app.config.from_mapping(test_config)
    # the cookie expires with the login's absolute lifetime (the server checks it too)
    app.config["PERMANENT_SESSION_LIFETIME"] = dt.timedelta(hours=app.config["SESSION_MAX_HOURS"])
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = os.environ.get("TUIYOU_SECRET_KEY") or _secret_key(app.instance_path)
    if not app.config.get("AUDIT_KEY"):  # seals the audit log; kept apart from the session key
        app.config["AUDIT_KEY"] = (os.environ.get("TUIYOU_AUDIT_KEY")
                                   or _secret_key(app.instance_path, "audit_key"))
    if isinstance(app.config["AUDIT_KEY"], str):
        app.config["AUDIT_KEY"] = app.config["AUDIT_KEY"].encode()

    inputs.init_app(app)
    db.init_app(app)
    i18n.init_app(app)
    labels.init_app(app)
    timefmt.init_app(app)
    access.init_app(app)
    errors.init_app(app)
    security.init_app(app)
    for feature in FEATURES:
        app.register_blueprint(importlib.import_module(f"{__name__}.{feature}").bp)
    # bearer tokens, no cookies: nothing to forge
    app.extensions["tuiyou.csrf"].exempt(app.blueprints["api"])
    limits.init_app(app)
    from .recompute import worker as recompute_worker
    recompute_worker.init_app(app)
    app.cli = lazy_app_group(app.name, COMMANDS)
    return app
