"""The ``tuiyou`` command line (also ``flask --app web …``).

Every command that touches the database reads ``DATABASE_URL`` (default: a SQLite file in
the instance folder). Errors are one clear line and a non-zero exit, never a traceback.
"""
from __future__ import annotations

import functools
import sys

import click
from flask import Flask, current_app
from flask.cli import ScriptInfo
from sqlmodel import Session

from scoring.rules.config import ConfigError, load_rules

from .audit import record_event, verify_log
from .migrate import upgrade


def _app() -> Flask:
    """The app ``flask --app`` (or a test runner) loaded, else a new one (under ``tuiyou``)."""
    try:
        return current_app._get_current_object()
    except RuntimeError:
        pass
    info = click.get_current_context().find_object(ScriptInfo)
    if info is not None:
        return info.load_app()
    from . import create_app

    return create_app()


def with_app(command):
    """Run ``command`` inside an app context, creating the app when needed."""
    @functools.wraps(command)
    def wrapped(*args, **kwargs):
        app = _app()
        with app.app_context():
            return command(*args, **kwargs)

    return wrapped


def db_session() -> Session:
    return Session(current_app.extensions["tuiyou.engine"], expire_on_commit=False)


@click.command("init-db")
@with_app
def init_db_command():
    """Create or migrate the database to the newest schema."""
    upgrade(current_app.extensions["tuiyou.engine"])
    click.echo(f"database ready: {_display_url(current_app.config['DATABASE_URL'])}")


def _display_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@click.group("user")
def user_group():
    """Manage accounts."""


@user_group.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["expert", "chair", "admin"]), required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--display-name", default="", help="Name shown in the UI (default: NAME).")
@click.option("--org", default="", help="Expert's organisation (for conflict checks).")
@click.option("--province", default="", help="Expert's province.")
@click.option("--categories", default="", help="Categories of expertise, comma-separated.")
@with_app
def user_add_command(name, role, password_stdin, display_name, org, province, categories):
    """Add a user NAME with a role; the password comes from standard input."""
    from .accounts import create_user

    if not password_stdin:
        raise click.UsageError("pass --password-stdin and send the password on standard input")
    password = sys.stdin.readline().rstrip("\r\n")
    wanted = [c.strip() for c in categories.replace("，", ",").split(",") if c.strip()]
    rules = load_rules()
    unknown = [c for c in wanted if c not in rules.category_names]
    if unknown:
        raise click.BadParameter(f"unknown category {unknown[0]!r}; known: "
                                 + ", ".join(rules.category_names), param_hint="--categories")
    with db_session() as session:
        try:
            user = create_user(session=session, username=name, password=password, role=role,
                               display_name=display_name, organisation=org, province=province,
                               categories=wanted)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        record_event(session, "user.added", actor="cli", subject=user.username,
                     detail={"role": role})
        session.commit()
    click.echo(f"added {role} {user.username}")


@click.group("round")
def round_group():
    """Create rounds and move them through their states."""


@round_group.command("create")
@click.argument("key")
@click.option("--stage", type=click.Choice(["national", "provincial"]), default="national")
@click.option("--unit", default=None, help="Provincial bureau running a provincial round.")
@with_app
def round_create_command(key, stage, unit):
    """Create round KEY (2025Q1, 2025, 2025-cases, 2025Q1-浙江)."""
    from .round_admin import create_round

    with db_session() as session:
        try:
            round_ = create_round(session=session, key=key, stage=stage, unit=unit, actor="cli")
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        session.commit()
        click.echo(f"created round {round_.key} ({round_.kind.value}, {round_.stage.value})")


@click.group("audit")
def audit_group():
    """Check the append-only audit log."""


@audit_group.command("verify")
@with_app
def audit_verify_command():
    """Recompute the audit log's hash chain; exit 1 if any event was changed or removed."""
    with db_session() as session:
        check = verify_log(session)
    if not check.ok:
        raise click.ClickException(f"audit log broken at event {check.first_bad_id}: {check.problem}")
    click.echo(f"audit log intact: {check.events} events")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@with_app
def serve_command(host, port, threads):
    """Serve the app with waitress (a production WSGI server)."""
    serve_app(current_app._get_current_object(), host=host, port=port, threads=threads)


def serve_app(app: Flask, *, host: str, port: int, threads: int = 8) -> None:
    """Serve ``app`` until interrupted."""
    import waitress

    click.echo(f"serving on http://{host}:{port}/  (Ctrl+C stops)")
    waitress.serve(app, host=host, port=port, threads=threads, ident="tuiyou")


@click.command("demo")
@click.option("--db", "db_path", default=None, type=click.Path(dir_okay=False),
              help="SQLite file to build (default: instance/demo.sqlite, rebuilt each time).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--seed", default=2025, show_default=True, type=int)
@click.option("--no-serve", is_flag=True, help="Build the demo database and stop.")
def demo_command(db_path, host, port, seed, no_serve):
    """Build a realistic demo (2025 Q1, national) in a fresh SQLite file and serve it."""
    from pathlib import Path

    from seed.demo import DEMO_PASSWORD, build_demo

    from . import create_app

    probe = create_app({"DATABASE_URL": "sqlite://"})
    path = Path(db_path or Path(probe.instance_path) / "demo.sqlite").resolve()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    app = create_app({"DATABASE_URL": f"sqlite:///{path}"})
    with app.app_context():
        upgrade(app.extensions["tuiyou.engine"])
        with db_session() as session:
            summary = build_demo(session, seed=seed)
    click.echo(f"demo database: {path}")
    click.echo(summary.describe())
    click.echo(f"logins (password {DEMO_PASSWORD} for all): " + ", ".join(summary.logins))
    if not no_serve:
        click.echo(f"open http://{host}:{port}/login")
        serve_app(app, host=host, port=port)


def _add_commands(group: click.Group) -> None:
    from .analysis.cli import analyze_command, reliability_command
    from .intake_cli import ROUND_COMMANDS, TOP_COMMANDS

    for command in ROUND_COMMANDS:  # round set-state | create-annual | recommend | list
        round_group.add_command(command)
    for command in (init_db_command, user_group, round_group, audit_group, serve_command,
                    demo_command, analyze_command, reliability_command, *TOP_COMMANDS):
        group.add_command(command)


def register(app: Flask) -> None:
    """Make every command available as ``flask --app web COMMAND``."""
    _add_commands(app.cli)


class _Group(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            raise click.ClickException(f"configuration error: {exc}") from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tuiyou")
def main():
    """Tuiyou (推优): expert-panel scoring and ranking for 网络视听节目推优."""


_add_commands(main)
