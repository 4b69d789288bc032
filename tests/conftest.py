"""Shared fixtures: ``app`` (SQLite file under tmp_path, or PostgreSQL when
``TUIYOU_TEST_DATABASE_URL`` is set), ``client``, ``runner``, ``session``, ``make_user``.

With ``TUIYOU_REQUIRE_ALL=1`` (CI), a test whose tool is missing fails instead of skipping.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from unittest import mock

import pytest
from jinja2 import BytecodeCache
from sqlalchemy import text
from sqlmodel import Session, SQLModel

from testkit import AUDIT_KEY, CHROMIUM, CHROMIUM_ARGS, PASSWORD, PG_URL, WORKER, csrf_token, require


# Under ``-n auto``: two workers per core. A browser test's worker waits on Chromium (the browser
# tests alone kept 2 workers' processes 43 % busy, Chromium's own CPU apart), which a second
# worker per core fills: on the 2-core machine 2 workers took 285 s, 4 took 252 s in a development
# venv; in the README's venv both took about 3.5 minutes (docs/benchmarks.md, the test suite's time).
def pytest_xdist_auto_num_workers(config):
    return 2 * (os.cpu_count() or 1)


def pytest_collection_modifyitems(config, items):
    """The long tests first (``slow``, then ``browser``), each group in its collected order: under
    pytest-xdist's ``load`` scheduling they are dealt out to the workers one by one before the
    short ones, so no long test is left running alone at the end (longest first)."""
    def rank(item) -> int:
        return 0 if item.get_closest_marker("slow") else 1 if item.get_closest_marker("browser") else 2

    items.sort(key=rank)


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashes():
    """argon2id at its lowest cost inside the test process.

    The product hashes with argon2-cffi's defaults (64 MiB, 3 passes): about 0.2 s a hash or
    a login on a slow 2-core machine, which over the suite's users, logins and demo builds
    came to minutes. The hashes are still argon2id and are verified by the same code; the
    command-line and server tests that run ``tuiyou`` in a subprocess keep the real cost.
    """
    from argon2 import PasswordHasher

    from web.accounts import passwords

    patch = pytest.MonkeyPatch()
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    patch.setattr(passwords, "_hasher", cheap)
    patch.setattr(passwords, "_DUMMY_HASH", cheap.hash("not-a-real-password"))
    yield
    patch.undo()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite database, copied for each test (migrating once is much faster)."""
    from web.core.db import make_engine
    from web.core.migrate import upgrade

    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    engine.tuiyou_audit_key = AUDIT_KEY  # the migrations seal the log's head with the apps' key
    upgrade(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def _pg_migrated():
    """Reset the PostgreSQL test database once and migrate it to head (a worker's own database
    created first under pytest-xdist, on the server the URL names)."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from web.core.db import make_engine, normalize_url
    from web.core.migrate import upgrade

    if WORKER:
        server = create_engine(make_url(normalize_url(PG_URL)).set(database="postgres"))
        with server.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            name = make_url(PG_URL).database
            if not connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}).first():
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        server.dispose()
    engine = make_engine(PG_URL)
    engine.tuiyou_audit_key = AUDIT_KEY
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    engine.dispose()
    return PG_URL


@pytest.fixture
def database_url(request, tmp_path) -> str:
    """A clean, migrated database for one test."""
    if PG_URL:
        url = request.getfixturevalue("_pg_migrated")
        from web.core.audit import head_seal
        from web.core.db import make_engine

        engine = make_engine(url)
        tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
        with engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            # an empty log's sealed head, as a fresh migration leaves it
            connection.execute(text("INSERT INTO audithead (id, events, last_hash, seal, updated_at) "
                                    "VALUES (1, 0, '', :seal, now())"), {"seal": head_seal(AUDIT_KEY, 0, "")})
        engine.dispose()
        return url
    path = tmp_path / "tuiyou.sqlite"
    shutil.copy(request.getfixturevalue("_sqlite_template"), path)
    return f"sqlite:///{path}"


def build_demo_into(database_url: str, instance: Path) -> None:
    """The demo (seed/) written into the migrated database at ``database_url`` (its audit events
    sealed with the tests' key), through an app whose instance folder is ``instance``."""
    from seed.demo import build_demo
    from web import create_app

    with mock.patch.dict(os.environ, {"TUIYOU_INSTANCE": str(instance)}):
        app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test",
                          "AUDIT_KEY": AUDIT_KEY})
    engine = app.extensions["tuiyou.engine"]
    with Session(engine, expire_on_commit=False) as session:
        build_demo(session)
        session.commit()
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()


@pytest.fixture(scope="session")
def _demo_template(_sqlite_template, _cheap_password_hashes, tmp_path_factory) -> Path:
    """The demo built once per session into a SQLite file, which ``demo`` copies for each test
    (building it takes seconds; several read-only checks of it used to build their own)."""
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    shutil.copy(_sqlite_template, path)
    build_demo_into(f"sqlite:///{path}", path.parent / "instance")
    return path


@pytest.fixture
def demo(request, database_url, tmp_path) -> None:
    """This test's database holds the demo (password ``seed.demo.DEMO_PASSWORD`` for every login):
    the session's build copied on SQLite, the demo built into it on PostgreSQL. ``app`` waits
    for it."""
    if PG_URL:
        build_demo_into(database_url, tmp_path / "instance")
    else:
        shutil.copy(request.getfixturevalue("_demo_template"), database_url.removeprefix("sqlite:///"))


class _CompiledTemplates(BytecodeCache):
    """Jinja's compiled templates kept for the test process (Jinja's bytecode cache, in memory).

    Each test builds its own app, and each app's Jinja environment compiled every template it
    rendered again (10 % of a profiled run of tests/web/review and rating; 4 % of their CPU saved
    measured without the profiler). A bucket is keyed by
    the template's name and checked against its source's hash, so an edited template is compiled
    anew; every app comes from ``create_app``, so their environments compile alike."""

    def __init__(self):
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket):
        self.code[bucket.key] = bucket.bytecode_to_string()


_COMPILED_TEMPLATES = _CompiledTemplates()


@pytest.fixture
def app(request, database_url, tmp_path, monkeypatch):
    from web import create_app

    if "demo" in request.fixturenames:  # the demo's rows first: the app's engine opens the file after
        request.getfixturevalue("demo")
    monkeypatch.setenv("TUIYOU_INSTANCE", str(tmp_path / "instance"))
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test", "AUDIT_KEY": AUDIT_KEY})
    app.jinja_env.bytecode_cache = _COMPILED_TEMPLATES
    yield app
    app.extensions["tuiyou.engine"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def session(app):
    with Session(app.extensions["tuiyou.engine"], expire_on_commit=False) as session:
        yield session


@pytest.fixture
def make_user(session):
    """Create and commit a user: ``make_user("ann", role="chair")`` (password: PASSWORD)."""
    from web.accounts.operations import create_user

    def make(username: str, *, role: str = "expert", **profile):
        user = create_user(session=session, username=username, password=PASSWORD, role=role, **profile)
        session.commit()
        return user

    return make


@pytest.fixture
def login(client):
    """Log ``client`` in through the real form (CSRF is on in tests too)."""

    def do_login(username: str, password: str = PASSWORD):
        return client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": csrf_token(client)})

    return do_login



@pytest.fixture
def live_server(app):
    """Serve ``app`` on a free localhost port in a background thread; yields the base URL."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def _chromium():
    """Headless Debian Chromium driven by Playwright (never a downloaded browser), launched once per
    test process: starting Playwright's driver and Chromium costs about 1.3 CPU-seconds, and 48 tests
    use a browser. Each test gets its own browser contexts (cookies, storage, service workers)."""
    import subprocess

    from playwright.sync_api import sync_playwright

    require(os.path.exists(CHROMIUM), f"{CHROMIUM} is not installed (apt-get install chromium)")
    fonts = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout \
        if shutil.which("fc-list") else ""
    require(bool(fonts.strip()), "no CJK font: Chinese would render as boxes "
                                 "(apt-get install fonts-wqy-microhei)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser(_chromium):
    """The process's Chromium; the contexts a test opens are closed after it (a page left open would
    keep polling a stopped server)."""
    yield _chromium
    for context in _chromium.contexts:
        context.close()


@pytest.fixture
def tablet(browser):
    """A page at a 1024×768 tablet viewport with touch."""
    context = browser.new_context(viewport={"width": 1024, "height": 768}, has_touch=True,
                                  is_mobile=False, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()
