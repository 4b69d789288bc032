"""Fuzzing the JSON API with schemathesis against ``/api/v1/openapi.json`` (WSGI, no network).

For every documented operation, a bounded, derandomized set of generated requests (valid ones,
and invalid ones: wrong types, missing fields, no token) is sent as
an expert and as a chair on a small world (a round in scoring with assignments); every answer
must be no 5xx, carry a documented status code and content type, and match its schema."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from rating_support import scoring_scene

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 6


@pytest.fixture
def world(app, session, make_user):
    """Round 2025Q1 in scoring: expert "zhang" with three assignments, "li" with one, a chair."""
    scene = scoring_scene(session, make_user)
    chair = make_user("wang", role="chair", display_name="王主任")
    users = {"expert": scene.mine[0].expert_id, "chair": chair.id}
    return scene, users


def bearer(session, user_id: int) -> dict[str, str]:
    """A fresh bearer token for the user with ``user_id`` (issued directly, not through a login)."""
    from web.accounts.operations import issue_token
    from web.core.models import User

    token, _ = issue_token(session=session, user=session.get(User, user_id), ttl_hours=1)
    session.commit()
    return {"Authorization": f"Bearer {token}"}


def summary(exc: BaseException) -> str:
    """The failed checks of one operation with the answer received, without tracebacks."""
    lines = [line.strip() for line in str(exc).splitlines()]
    kept = [line for line in lines if line.startswith(("- ST", "Received", "Documented", "`{", "curl"))]
    return " | ".join(kept)[:1200] or str(exc)[:1200]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
def test_every_operation_answers_as_documented_for_an_expert_and_a_chair(app, session, world, mode):
    _, users = world
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    tokens = {role: bearer(session, user_id) for role, user_id in users.items()}
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:
        revokes = operation.method.upper() == "DELETE" and operation.path == "/tokens/current"

        @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode))
        def exercise(case):
            for role in ("expert", "chair"):
                headers = bearer(session, users[role]) if revokes else tokens[role]
                case.call_and_validate(headers={**(case.headers or {}), **headers}, checks=CHECKS)

        try:
            exercise()
        except BaseExceptionGroup as exc:  # schemathesis' FailureGroup: collect them all, report at the end
            failures.append(f"{operation.method.upper()} {operation.path}: {summary(exc)}")
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("path", ["/api/v1/assignments/9223372036854775808/allow-reopen",
                                  "/api/v1/assignments/2147483648/allow-reopen",
                                  "/api/v1/assignments/99999999999999999999999/submit"])
def test_an_id_too_large_for_the_database_is_404_not_500(client, session, world, path):
    """Found by the fuzzer: SQLite (beyond 64 bits) and PostgreSQL (beyond 32) raised a 500."""
    _, users = world
    response = client.post(path, headers=bearer(session, users["chair"]))
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found" and "out of range" in response.get_json()["message"]
