"""App-wide commands: ``init-db``, ``serve``, ``demo`` and ``audit verify [--anchor COUNT:HASH]``."""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app

from ..core.audit import verify_log
from ..core.cli_support import db_session, with_app
from ..core.migrate import upgrade


@click.command("init-db")
@with_app
def init_db_command():
    """Create or migrate the database to the newest schema."""
    upgrade(current_app.extensions["tuiyou.engine"])
    click.echo(f"database ready: {_display_url(current_app.config['DATABASE_URL'])}")


def _display_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@click.group("audit")
def audit_group():
    """Check the append-only audit log."""


@audit_group.command("verify")
@click.option("--anchor", default=None, metavar="COUNT:HASH",
              help="A head printed on a signed PDF (审计锚点): the log must still hold it.")
@with_app
def audit_verify_command(anchor):
    """Recompute the audit log's chain, seals and sealed head; exit 1 if any event was edited,
    removed, inserted, unsealed or cut off the end, or when the log does not hold ANCHOR."""
    from ..core.audit import parse_anchor

    try:
        wanted = parse_anchor(anchor) if anchor is not None else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--anchor") from None
    with db_session() as session:
        check = verify_log(session, key=current_app.config["AUDIT_KEY"], anchor=wanted)
    if not check.ok:
        for problem in check.problems:
            where = f"event {problem.event_id}" if problem.event_id is not None else "head"
            click.echo(f"{where}: {problem.kind}: {problem.message}", err=True)
        where = f" at event {check.first_bad_id}" if check.first_bad_id is not None else ""
        raise click.ClickException(f"audit log broken{where}: {check.problem} "
                                   f"({len(check.problems)} problem(s) in {check.events} events)")
    click.echo(f"audit log intact: {check.events} events, every one sealed; head {check.head.anchor}")
    if wanted is not None:
        click.echo(f"anchor {wanted[0]}:{wanted[1][:16]}… found: event {check.anchor_event_id}")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@with_app
def serve_command(host, port, threads):
    """Serve the app with waitress (a production WSGI server)."""
    serve_app(current_app._get_current_object(), host=host, port=port, threads=threads)


def serve_app(app: Flask, *, host: str, port: int, threads: int = 8) -> None:
    """Serve ``app`` until interrupted (start-up's heap frozen first: ``core.heap``)."""
    import waitress

    from ..core.heap import settle

    settle()
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

    from .. import create_app

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


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_app
def backup_command(path: Path):
    """Write a consistent backup of the whole database to PATH (SQLite online backup or pg_dump)."""
    from .backup import BackupError, backup

    try:
        manifest = backup(current_app.extensions["tuiyou.engine"], path)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    rows = sum(manifest.tables.values())
    click.echo(f"backup written: {path} ({manifest.kind}, schema {manifest.revision}, "
               f"{len(manifest.tables)} tables, {rows} rows)")


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Overwrite a database that already holds data.")
@with_app
def restore_command(path: Path, replace: bool):
    """Restore a backup made by `tuiyou backup` (stop the app servers first), then migrate to head."""
    from .backup import BackupError, restore

    try:
        manifest = restore(current_app.extensions["tuiyou.engine"], path, replace=replace)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"restored {path} (made {manifest.created_at}, schema {manifest.revision}, "
               f"{sum(manifest.tables.values())} rows)")
