"""Run Alembic migrations programmatically (``tuiyou init-db`` and the tests)."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    """An Alembic config bound to ``engine`` (no alembic.ini needed).

    The engine's audit key (``web.core.db`` attaches the app's) goes along: migrations that write or
    seal audit events need it, and refuse to run without it when they have something to seal.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    config.attributes["audit_key"] = getattr(engine, "tuiyou_audit_key", None)
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database behind ``engine`` to ``revision``."""
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Migrate the database behind ``engine`` down to ``revision``."""
    command.downgrade(alembic_config(engine), revision)
