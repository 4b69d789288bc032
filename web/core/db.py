"""Engine and per-request session.

The engine lives in ``app.extensions["tuiyou.engine"]``; a session is opened on first use in
a request, kept on ``g`` and closed at teardown. Handlers commit explicitly.
"""
from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app, g
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine


def normalize_url(url: str) -> str:
    """Use psycopg 3 for ``postgresql://`` URLs (SQLAlchemy would pick psycopg2)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout."""
    url = normalize_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            # FULL: every commit reaches the disk before the save is acknowledged, so an acknowledged
            # score survives a power loss too, not only a killed server (0.17 ms a commit here).
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def default_sqlite_url(instance_path: str) -> str:
    """The embedded default: ``instance/tuiyou.sqlite``."""
    Path(instance_path).mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{Path(instance_path) / 'tuiyou.sqlite'}"


def init_app(app: Flask) -> None:
    """Create the engine for the app and close the request's session at teardown."""
    engine = make_engine(app.config["DATABASE_URL"])
    # every session on this engine seals the audit events it writes (web.core.audit.record_event)
    engine.tuiyou_audit_key = app.config.get("AUDIT_KEY")
    app.extensions["tuiyou.engine"] = engine
    app.teardown_appcontext(_close_session)


def get_engine() -> Engine:
    return current_app.extensions["tuiyou.engine"]


def get_session() -> Session:
    """The request's session, opened on first use."""
    if "db_session" not in g:
        g.db_session = Session(get_engine(), expire_on_commit=False)
    return g.db_session


def _close_session(_exc: BaseException | None = None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
