"""Shared fixtures: ``app`` (SQLite file under tmp_path, or PostgreSQL when
``TUIYOU_TEST_DATABASE_URL`` is set), ``client``, ``runner``, ``session``, ``make_user``.

With ``TUIYOU_REQUIRE_ALL=1`` (CI), a test whose tool is missing fails instead of skipping.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session, SQLModel

PG_URL = os.environ.get("TUIYOU_TEST_DATABASE_URL", "")
REQUIRE_ALL = os.environ.get("TUIYOU_REQUIRE_ALL") == "1"
PASSWORD = "correct horse battery"


def require(condition: bool, why: str) -> None:
    """Skip (or, under TUIYOU_REQUIRE_ALL=1, fail) when a needed tool is missing."""
    if not condition:
        if REQUIRE_ALL:
            pytest.fail(f"required for this test but missing: {why}")
        pytest.skip(why)


def require_tool(name: str) -> str:
    """The path of executable ``name``; skip or fail when it is not installed."""
    path = shutil.which(name) or (name if os.path.exists(name) else None)
    require(path is not None, f"{name} is not installed")
    return path


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite database, copied for each test (migrating once is much faster)."""
    from web.db import make_engine
    from web.migrate import upgrade

    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def _pg_migrated():
    """Reset the PostgreSQL test database once and migrate it to head."""
    from web.db import make_engine
    from web.migrate import upgrade

    engine = make_engine(PG_URL)
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
        from web.db import make_engine

        engine = make_engine(url)
        tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
        with engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
        return url
    path = tmp_path / "tuiyou.sqlite"
    shutil.copy(request.getfixturevalue("_sqlite_template"), path)
    return f"sqlite:///{path}"


@pytest.fixture
def app(database_url, tmp_path, monkeypatch):
    from web import create_app

    monkeypatch.setenv("TUIYOU_INSTANCE", str(tmp_path / "instance"))
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test"})
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
    from web.accounts import create_user

    def make(username: str, *, role: str = "expert", **profile):
        user = create_user(session=session, username=username, password=PASSWORD, role=role, **profile)
        session.commit()
        return user

    return make


@pytest.fixture
def login(client):
    """Log ``client`` in through the real form (CSRF is on in tests too)."""
    import re

    def do_login(username: str, password: str = PASSWORD):
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        return client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": token})

    return do_login


def csrf_token(client, path: str = "/login") -> str:
    """The CSRF token the form at ``path`` carries."""
    import re

    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


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


@pytest.fixture
def browser():
    """Headless Debian Chromium driven by Playwright (never a downloaded browser)."""
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
def tablet(browser):
    """A page at a 1024×768 tablet viewport with touch."""
    context = browser.new_context(viewport={"width": 1024, "height": 768}, has_touch=True,
                                  is_mobile=False, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()
