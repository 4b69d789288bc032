"""Constants and helpers the tests share (import as ``from testkit import ...``).

Kept out of conftest.py because several conftest modules exist and ``from conftest``
would be ambiguous.
"""
from __future__ import annotations

import os
import re
import shutil

import pytest

# pytest-xdist names each worker (gw0, gw1, ...); each gets a database of its own on PostgreSQL.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def worker_database(url: str) -> str:
    """``url`` with this xdist worker's name after the database's (``test`` -> ``test_gw0``): the
    workers of one run never share a PostgreSQL database. Unchanged without xdist."""
    if not url or not WORKER:
        return url
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{WORKER}").render_as_string(hide_password=False)


PG_URL = worker_database(os.environ.get("TUIYOU_TEST_DATABASE_URL", ""))
REQUIRE_ALL = os.environ.get("TUIYOU_REQUIRE_ALL") == "1"
PASSWORD = "correct horse battery"
# The audit key of the test databases and apps: the migrations seal the (empty) log's head with it.
AUDIT_KEY = b"tuiyou-test-audit-key"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


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


def csrf_token(client, path: str = "/login") -> str:
    """The CSRF token the form at ``path`` carries."""
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def browser_log_in(page, base: str, username: str, *, password: str = PASSWORD, tap: bool = False) -> None:
    """Sign in through the login form (a tap on touch pages, else a click) and wait for the home page."""
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    button = page.locator("button[type=submit]")
    button.tap() if tap else button.click()
    page.wait_for_url(f"{base}/")
