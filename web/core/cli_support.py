"""What every database command shares: the app it runs in (``with_app``) and a session."""
from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from flask import Flask
    from sqlmodel import Session


def _app() -> "Flask":
    """The app ``flask --app`` (or a test runner) loaded, else a new one (under ``tuiyou``)."""
    from flask import current_app
    from flask.cli import ScriptInfo

    try:
        return current_app._get_current_object()
    except RuntimeError:
        pass
    info = click.get_current_context().find_object(ScriptInfo)
    if info is not None:
        return info.load_app()
    from .. import create_app

    return create_app()


def with_app(command):
    """Run ``command`` inside an app context, creating the app when needed."""
    @functools.wraps(command)
    def wrapped(*args, **kwargs):
        app = _app()
        with app.app_context():
            return command(*args, **kwargs)

    return wrapped


def db_session() -> "Session":
    """A new session on the current app's engine (the caller commits)."""
    from flask import current_app
    from sqlmodel import Session

    return Session(current_app.extensions["tuiyou.engine"], expire_on_commit=False)
