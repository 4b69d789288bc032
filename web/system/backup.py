"""Backing up and restoring the whole database (``tuiyou backup PATH`` / ``tuiyou restore PATH``).

A backup is one tar file holding ``manifest.json`` (format, database kind, schema revision,
row counts per table, creation time) and the database itself: a SQLite copy made with
SQLite's online backup API (consistent while the app keeps writing), or a ``pg_dump``
custom-format archive. Restoring checks the manifest first: a backup from a newer schema
than this code knows is refused, a backup into a non-empty database is refused unless the
caller asks to replace it, and after the restore the schema is migrated to this code's head
and the row counts are compared with the manifest's.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import SQLModel

from ..core.migrate import alembic_config, upgrade

FORMAT = "tuiyou-backup/1"
PAYLOAD = {"sqlite": "database.sqlite", "postgresql": "database.pgdump"}


class BackupError(RuntimeError):
    """A backup or restore that cannot go ahead; the message says why."""


@dataclass(frozen=True)
class Manifest:
    """What a backup file says about itself."""

    format: str
    kind: str
    revision: str | None
    created_at: str
    tables: dict[str, int]

    def to_json(self) -> bytes:
        return json.dumps(self.__dict__, ensure_ascii=False, indent=1).encode()


def database_kind(engine: Engine) -> str:
    """``sqlite`` or ``postgresql``."""
    name = engine.dialect.name
    if name not in PAYLOAD:
        raise BackupError(f"backups support SQLite and PostgreSQL, not {name}")
    return name


def current_revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at (None when it has no schema)."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows per application table (the tables this code's models declare and the database has)."""
    with engine.connect() as connection:
        present = set(inspect(connection).get_table_names())
        return {table.name: connection.execute(text(f'SELECT count(*) FROM "{table.name}"')).scalar()
                for table in SQLModel.metadata.sorted_tables if table.name in present}


def _known_revisions(engine: Engine) -> set[str]:
    scripts = ScriptDirectory.from_config(alembic_config(engine))
    return {script.revision for script in scripts.walk_revisions()}


def _pg_connection_args(engine: Engine) -> tuple[list[str], dict[str, str]]:
    url = make_url(str(engine.url.render_as_string(hide_password=False)))
    args = ["--host", url.host or "127.0.0.1", "--port", str(url.port or 5432), "--username",
            url.username or "postgres", "--dbname", url.database or "postgres"]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    return args, env


def _run(tool: str, args: list[str], env: dict[str, str]) -> None:
    binary = shutil.which(tool)
    if binary is None:
        raise BackupError(f"{tool} not found: install the PostgreSQL client (Debian: postgresql-client)")
    done = subprocess.run([binary, *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{tool} failed: {done.stderr.strip()[-800:]}")


def backup(engine: Engine, path: Path) -> Manifest:
    """Write a backup of the database behind ``engine`` to ``path`` (atomically: a temp file, then rename)."""
    kind = database_kind(engine)
    revision = current_revision(engine)
    if revision is None:
        raise BackupError("the database has no schema yet (run tuiyou init-db)")
    with tempfile.TemporaryDirectory() as scratch:
        payload = Path(scratch) / PAYLOAD[kind]
        if kind == "sqlite":
            source = sqlite3.connect(engine.url.database)
            target = sqlite3.connect(payload)
            try:
                source.backup(target)  # the online backup API: consistent while others write
            finally:
                target.close()
                source.close()
            counts = _sqlite_counts(payload)
        else:
            counts = _pg_dump(engine, payload)
        manifest = Manifest(FORMAT, kind, revision, dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                            counts)
        path = Path(path)
        partial = path.with_name(path.name + ".partial")
        with tarfile.open(partial, "w") as archive:
            data = manifest.to_json()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
            archive.add(payload, arcname=PAYLOAD[kind])
        os.replace(partial, path)
    return manifest


def _pg_dump(engine: Engine, payload: Path) -> dict[str, int]:
    """pg_dump from a snapshot exported by a transaction that also counts the rows (one consistent view)."""
    args, env = _pg_connection_args(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
        present = set(inspect(connection).get_table_names())
        counts = {t.name: connection.execute(text(f'SELECT count(*) FROM "{t.name}"')).scalar()
                  for t in SQLModel.metadata.sorted_tables if t.name in present}
        _run("pg_dump", ["--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
                         "--file", str(payload), *args], env)
        connection.exec_driver_sql("COMMIT")
    return counts


def _sqlite_counts(path: Path) -> dict[str, int]:
    connection = sqlite3.connect(path)
    try:
        present = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return {t.name: connection.execute(f'SELECT count(*) FROM "{t.name}"').fetchone()[0]
                for t in SQLModel.metadata.sorted_tables if t.name in present}
    finally:
        connection.close()


def read_manifest(path: Path) -> Manifest:
    """The manifest of backup file ``path``; BackupError when it is not a Tuiyou backup."""
    try:
        with tarfile.open(path, "r") as archive:
            member = archive.extractfile("manifest.json")
            raw = json.loads(member.read()) if member else None
    except (tarfile.TarError, KeyError, OSError, ValueError) as exc:
        raise BackupError(f"{path} is not a Tuiyou backup ({exc})") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise BackupError(f"{path} is not a Tuiyou backup (format {raw.get('format') if isinstance(raw, dict) else '?'})")
    try:
        return Manifest(raw["format"], raw["kind"], raw["revision"], raw["created_at"], dict(raw["tables"]))
    except (KeyError, TypeError) as exc:
        raise BackupError(f"{path}: incomplete manifest ({exc})") from None


def _is_empty(engine: Engine) -> bool:
    counts = row_counts(engine)
    # audithead holds one row from the first migration on (an empty log's sealed head): not data
    return not any(n for table, n in counts.items() if table != "audithead")


def restore(engine: Engine, path: Path, *, replace: bool = False) -> Manifest:
    """Restore backup ``path`` into the database behind ``engine``, then migrate it to head.

    Refused (nothing written) when the backup comes from a newer schema, from the other kind
    of database, or when the target holds data and ``replace`` is false.
    """
    manifest = read_manifest(path)
    kind = database_kind(engine)
    if manifest.kind != kind:
        raise BackupError(f"the backup is of a {manifest.kind} database; the target is {kind}")
    if manifest.revision not in _known_revisions(engine):
        raise BackupError(f"the backup's schema revision {manifest.revision!r} is newer than (or unknown to) "
                          "this version of Tuiyou; upgrade Tuiyou before restoring it")
    if not replace and not _is_empty(engine):
        raise BackupError("the target database already holds data; restore into an empty database "
                          "or pass --replace to overwrite it")
    with tempfile.TemporaryDirectory() as scratch, tarfile.open(path, "r") as archive:
        member = archive.getmember(PAYLOAD[kind])
        if not member.isfile():
            raise BackupError(f"{path}: {PAYLOAD[kind]} is not a regular file")
        payload = Path(scratch) / PAYLOAD[kind]
        with archive.extractfile(member) as source, payload.open("wb") as target:
            shutil.copyfileobj(source, target)
        if kind == "sqlite":
            _restore_sqlite(engine, payload)
        else:
            _restore_postgres(engine, payload)
    found = row_counts(engine)
    different = {t: (n, found.get(t)) for t, n in manifest.tables.items() if found.get(t) != n}
    if different:
        raise BackupError(f"restored row counts differ from the backup's: {different}")
    upgrade(engine)
    return manifest


def _restore_sqlite(engine: Engine, payload: Path) -> None:
    engine.dispose()
    source = sqlite3.connect(payload)
    target = sqlite3.connect(engine.url.database)
    try:
        source.backup(target)  # replaces every page of the target, in one step
    finally:
        target.close()
        source.close()


def _restore_postgres(engine: Engine, payload: Path) -> None:
    """Set the current schema aside, restore into a new ``public``; put the old one back on failure."""
    aside = "public_before_restore"
    engine.dispose()
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {aside} CASCADE"))
        connection.execute(text(f"ALTER SCHEMA public RENAME TO {aside}"))
        connection.execute(text("CREATE SCHEMA public"))
    args, env = _pg_connection_args(engine)
    try:
        _run("pg_restore", ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", *args,
                            str(payload)], env)
    except BaseException:
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text(f"ALTER SCHEMA {aside} RENAME TO public"))
        raise
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {aside} CASCADE"))
    engine.dispose()
