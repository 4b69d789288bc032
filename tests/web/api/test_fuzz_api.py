"""schemathesis, an outside client, against the JSON API over HTTP: the run ``st run`` makes
(examples, coverage, fuzzing and stateful phases; every check: server errors, status codes,
content types, response schemas, negative data rejected, positive data accepted, a 405 with
``Allow``, auth enforced, …), seeded and bounded, as an expert and as the chair, on the demo
(``seed/``, conftest's ``demo``: built once per session) and on a small world (a round in scoring). Each run must
find 0 failures and 0 schema errors; ``tests/web/api/schemathesis.toml`` is the configuration.
"""
from __future__ import annotations

import contextlib
import os
import threading
import tomllib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events, from_schema
from sqlmodel import Session
from werkzeug.serving import WSGIRequestHandler, make_server

from helpers.rating import scoring_scene
from testkit import AUDIT_KEY, PASSWORD

CONFIG = Path(__file__).with_name("schemathesis.toml")
SEED = 20
EXAMPLES = 3  # generated cases per operation in the fuzzing phase (the other phases are deterministic)
# The fuzzer fails logins by the hundred: the limits (tested in test_accounts.py) would answer
# 429 to the token the run itself needs.
UNLIMITED = {"LOGIN_LIMIT_PER_ACCOUNT": "100000 per minute", "LOGIN_LIMIT_PER_ADDRESS": "100000 per minute"}


@dataclass
class Run:
    """What one schemathesis run found, and what the API answered per operation."""

    failures: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # check → examples
    errors: list[str] = field(default_factory=list)
    answered: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))

    def report(self) -> str:
        found = [f"{check}: {', '.join(sorted(where))}" for check, where in sorted(self.failures.items())]
        return "\n".join(found + [f"schema error: {error}" for error in self.errors])

    def succeeded(self) -> set[str]:
        """The operations that answered at least once with a 2xx."""
        return {label for label, statuses in self.answered.items() if any(200 <= s < 300 for s in statuses)}


def _title(check) -> str:
    return check.failure_info.failure.title if check.failure_info else check.name


def _example(recorder, case_id: str) -> str:
    """The operation and one request that failed, with its answer."""
    interaction = recorder.interactions.get(case_id)
    if interaction is None or interaction.response is None:
        return recorder.label
    request = interaction.request
    return (f"{recorder.label} ({request.method} {request.uri} {(request.body or b'')[:120]!r} -> "
            f"{interaction.response.status_code} {interaction.response.content[:160]!r})")


def run_schemathesis(base_url: str, username: str, password: str) -> Run:
    """Every phase and check of schemathesis against ``base_url``, as ``username`` (its bearer token
    fetched from POST /tokens, and again after DELETE /tokens/current revoked it)."""
    settings = tomllib.loads(CONFIG.read_text(encoding="utf-8"))
    settings |= {"seed": SEED, "cache": {"enabled": False},
                 "generation": {"max-examples": EXAMPLES, "database": "none"},
                 "auth": {"dynamic": {"openapi": {"bearer": {
                     "path": "/tokens", "payload": {"username": username, "password": password},
                     "extract_selector": "/token"}}}}}
    schema = schemathesis.openapi.from_url(f"{base_url}/api/v1/openapi.json",
                                           config=SchemathesisConfig.from_dict(settings))
    run = Run()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            for case_id, checks in event.recorder.checks.items():
                for check in checks:
                    if check.status == Status.FAILURE:
                        run.failures[_title(check)].add(_example(event.recorder, case_id))
            for interaction in event.recorder.interactions.values():
                if interaction.response is not None:
                    run.answered[event.recorder.label][interaction.response.status_code] += 1
        elif isinstance(event, (events.NonFatalError, events.FatalError)):
            run.errors.append(f"{getattr(event, 'label', '')}: {getattr(event, 'value', None) or event.exception}")
    return run


class _Quiet(WSGIRequestHandler):
    def log(self, *args, **kwargs) -> None:  # thousands of requests: keep the test's output readable
        pass


@contextlib.contextmanager
def served(app):
    """``app`` on a free localhost port in a thread (schemathesis talks HTTP to it, as to a server)."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def make_app(database_url: str, instance: Path):
    """The app on ``database_url`` with its instance folder under ``instance``, without login limits."""
    from web import create_app

    with mock.patch.dict(os.environ, {"TUIYOU_INSTANCE": str(instance / "instance")}):
        return create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test", "AUDIT_KEY": AUDIT_KEY,
                           **UNLIMITED})


@pytest.fixture
def demo_app(demo, database_url, tmp_path):
    """An app on this test's copy of the demo (conftest's ``demo``), without login limits."""
    app = make_app(database_url, tmp_path)
    yield app
    app.extensions["tuiyou.engine"].dispose()


@pytest.fixture
def world_app(database_url, tmp_path):
    """An app on the small world: 2025Q1 in scoring, expert "zhang" with three assignments, "li"
    with one, chair "wang"."""
    from web.accounts.operations import create_user

    app = make_app(database_url, tmp_path)
    with Session(app.extensions["tuiyou.engine"], expire_on_commit=False) as session:
        def make_user(username: str, *, role: str = "expert", **profile):
            user = create_user(session=session, username=username, password=PASSWORD, role=role, **profile)
            session.commit()
            return user

        scoring_scene(session, make_user)
        make_user("wang", role="chair", display_name="王主任")
    yield app
    app.extensions["tuiyou.engine"].dispose()


def _assert_clean(run: Run, *, at_least_succeeded: set[str]) -> None:
    assert not run.failures and not run.errors, run.report()
    # the run reached the API's logic as this caller, not only its 401s and 404s
    missing = at_least_succeeded - run.succeeded()
    assert not missing, f"never answered 2xx: {sorted(missing)}"


@pytest.mark.slow
@pytest.mark.parametrize("username, succeeded", [
    ("expert01", {"GET /assignments", "GET /me", "GET /rounds"}),
    ("chair", {"GET /rounds/{key}/rankings", "GET /rounds/{key}/shortlist", "GET /rounds/{key}/abnormal",
               "GET /rounds/{key}/assignment-report", "GET /rounds/{key}/shortlist.{fmt}"}),
])
def test_schemathesis_finds_nothing_on_the_demo(demo_app, username, succeeded):
    from seed.demo import DEMO_PASSWORD

    with served(demo_app) as base_url:
        run = run_schemathesis(base_url, username, DEMO_PASSWORD)
    _assert_clean(run, at_least_succeeded=succeeded)


@pytest.mark.slow
@pytest.mark.parametrize("username, succeeded", [
    ("zhang", {"GET /assignments", "GET /rounds"}),
    ("wang", {"GET /rounds/{key}/rankings", "GET /rounds/{key}/assignment-report"}),
])
def test_schemathesis_finds_nothing_on_a_small_world(world_app, username, succeeded):
    with served(world_app) as base_url:
        run = run_schemathesis(base_url, username, PASSWORD)
    _assert_clean(run, at_least_succeeded=succeeded | {"GET /me"})


@pytest.mark.parametrize("path", ["/api/v1/assignments/9223372036854775808/allow-reopen",
                                  "/api/v1/assignments/2147483648/allow-reopen",
                                  "/api/v1/assignments/99999999999999999999999/submit"])
def test_an_id_too_large_for_the_database_is_404_not_500(client, session, make_user, path):
    """Found by the fuzzer: SQLite (beyond 64 bits) and PostgreSQL (beyond 32) raised a 500."""
    make_user("wang", role="chair")
    token = client.post("/api/v1/tokens", json={"username": "wang", "password": PASSWORD}).get_json()["token"]
    response = client.post(path, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found" and "out of range" in response.get_json()["message"]
