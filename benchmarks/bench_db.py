"""The database a database benchmark runs against, shared by bench_import.py and bench_assign_db.py:
a temporary SQLite file unless a URL is given; a PostgreSQL URL is wiped (its ``public``
schema dropped and recreated) and migrated to head. Never point it at a database you need.
"""
from __future__ import annotations

import tempfile

from sqlalchemy import text
from sqlalchemy.engine import Engine


def fresh_database(url: str | None = None) -> Engine:
    """An engine on a fresh, migrated database (a temporary SQLite file when ``url`` is None)."""
    from web.core.db import make_engine
    from web.core.migrate import upgrade

    url = url or f"sqlite:///{tempfile.mkdtemp(prefix='tuiyou-bench-')}/bench.sqlite"
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    return engine
