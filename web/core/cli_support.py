"""What every database command shares: the app it runs in (``with_app``), a session, and the
unit of work (``unit_of_work``: committed when the block ends, rolled back on a refusal or error,
the refusal's reason printed in Chinese and English with exit status 1)."""
from __future__ import annotations

import functools
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator

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


@contextmanager
def unit_of_work(session: "Session") -> Iterator["Session"]:
    """The command's writes as one unit (``web.core.db.unit_of_work``); a ``Refused`` ends the command."""
    from .db import unit_of_work as unit
    from .refused import Refused

    try:
        with unit(session):
            yield session
    except Refused as refused:
        raise click.ClickException(str(refused)) from None
