"""The API's declared models: each body and query is checked by its model before the view runs
(wrong type, missing field, a field nobody asked for, text holding a NUL) and refused with the
status and error code the API has always used and a message naming the field; nothing is written.
JSON no model could hold (a lone surrogate, NaN, nesting too deep, an integer beyond 2^53) is
refused before, by web.core.inputs, for every route. The scoring form's JSON calls go through the same
models. The OpenAPI document is generated from the same declarations, and a route without one
is reported."""
from __future__ import annotations

import re

import pytest
from sqlmodel import select

from helpers.rating import scoring_scene, token
from testkit import PASSWORD
from web.core.models import AuditEvent, Comment, Rating

SAVE = "/api/v1/assignments/{id}/scores"


@pytest.fixture
def scene(session, make_user):
    scene = scoring_scene(session, make_user)
    make_user("wang", role="chair")
    return scene


@pytest.mark.parametrize("raw, code, names", [
    ('{"version": "0"}', "invalid_version", "version"),
    ('{"scores": {"thought": 8}}', "invalid_version", "version: Field required"),
    ('{"version": 0, "comment": "a\\u0000b"}', "invalid_comment", "NUL"),
    ('{"version": 0, "highlights": ["ok", "\\u0000"]}', "invalid_highlights", "highlights.1"),
    ('{"version": 0, "scores": {"thought\\u0000": 8}}', "invalid_scores", "scores"),
    ('{"version": 0, "scores": {"thought": "8"}}', "invalid_score", "thought"),
    ('{"version": 0, "scores": {"thought": true}}', "invalid_score", "thought"),
    ('{"version": 0, "confidence": "high"}', "invalid_confidence", "confidence"),
    ('{"version": 0, "colour": "red"}', "bad_body", "colour: Extra inputs are not permitted"),
    ('{"version": 2147483648}', "invalid_version", "version"),
    ('"just text"', "bad_body", "send a JSON object"),
    ("[1, 2]", "bad_body", "send a JSON object"),
])
def test_a_save_that_does_not_fit_is_422_naming_the_field_and_writes_nothing(client, session, scene, raw, code,
                                                                              names):
    assignment = scene.mine[0]
    response = client.put(SAVE.format(id=assignment.id), data=raw, content_type="application/json",
                          headers=token(client))
    assert response.status_code == 422, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"] == code and names in body["message"], body
    assert session.exec(select(Rating).where(Rating.assignment_id == assignment.id)).all() == []
    assert session.exec(select(Comment)).all() == []


@pytest.mark.parametrize("raw, where", [
    ('{"version": 0, "comment": "ok\\ud800"}', "$.comment"), ('{"version": 0, "scores": {"thought": NaN}}', "NaN"),
    ("[" * 100_000, "nested"), ('{"version": 9007199254740993}', "$.version"),
])
def test_json_no_model_could_hold_is_refused_before_the_model(client, session, scene, raw, where):
    """web.core.inputs' answer (400 invalid_json) for every route; the model never sees it; nothing is written."""
    assignment = scene.mine[0]
    response = client.put(SAVE.format(id=assignment.id), data=raw, content_type="application/json",
                          headers=token(client))
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_json"
    assert where in response.get_json()["message"]
    assert session.exec(select(Rating).where(Rating.assignment_id == assignment.id)).all() == []


def test_text_a_database_cannot_store_is_refused_by_the_model_too():
    """Whatever hands the model its data: a lone surrogate or a NUL in a field is named, never stored."""
    from web.rating.schemas import Recusal, ScoreSave

    refused = ScoreSave.check({"version": 0, "comment": "ok\ud800"})
    assert (refused.status, refused.code) == (422, "invalid_comment") and "lone surrogate" in refused.message
    refused = Recusal.check({"reason": "亲属\x00"})
    assert refused.code == "reason_required" and refused.message.startswith("reason: must not contain a NUL")


def test_a_whole_number_written_with_a_zero_fraction_is_that_number(client, scene):
    """JSON Schema's integer includes 3.0: what the document calls valid is accepted (found by schemathesis)."""
    auth = token(client)
    saved = client.put(SAVE.format(id=scene.mine[0].id), data='{"version": 0.0, "scores": {"thought": 8}}',
                       content_type="application/json", headers=auth)
    assert saved.status_code == 200 and saved.get_json() == {"version": 1}
    half = client.put(SAVE.format(id=scene.mine[0].id), json={"version": 1.5}, headers=auth)
    assert half.status_code == 422 and half.get_json()["error"] == "invalid_version"


def test_the_scoring_forms_own_calls_are_checked_by_the_same_models(client, login, scene):
    login("zhang")
    assignment = scene.mine[0]
    csrf = re.search(r'data-csrf="([^"]+)"', client.get(f"/assignments/{assignment.id}").get_data(as_text=True))[1]
    headers = {"X-CSRFToken": csrf}
    refused = client.put(f"/assignments/{assignment.id}/scores", json={"version": 0, "comment": "a\x00"},
                         headers=headers)
    assert refused.status_code == 422 and refused.get_json()["error"] == "invalid_comment"
    blank = client.post(f"/assignments/{assignment.id}/recuse", json={"reason": " \t"}, headers=headers)
    assert blank.status_code == 422 and blank.get_json()["error"] == "reason_required"
    long = client.post(f"/assignments/{assignment.id}/recuse", json={"reason": "x" * 1001}, headers=headers)
    assert long.status_code == 422 and long.get_json()["error"] == "reason_too_long"


@pytest.mark.parametrize("body, status, code, names", [
    ({"username": "zhang\x00", "password": "x"}, 400, "bad_request", "username"),
    ({"username": "zhang"}, 400, "bad_request", "password: Field required"),
    ({"username": 7, "password": "x"}, 400, "bad_request", "username"),
    ({"username": "zhang", "password": PASSWORD, "remember": True}, 400, "bad_request", "remember"),
    (None, 400, "bad_request", "username"),
])
def test_a_token_request_that_does_not_fit_is_400_and_logs_nothing(client, session, scene, body, status, code,
                                                                     names):
    events = len(session.exec(select(AuditEvent)).all())
    response = client.post("/api/v1/tokens", json=body)
    assert response.status_code == status and response.get_json()["error"] == code
    assert names in response.get_json()["message"]
    assert len(session.exec(select(AuditEvent)).all()) == events


@pytest.mark.parametrize("path, body, status, code, names", [
    ("/api/v1/assignments/{mine}/recuse", {"reason": "  "}, 422, "reason_required", "reason"),
    ("/api/v1/assignments/{mine}/recuse", {"reason": 5}, 422, "reason_required", "reason"),
    ("/api/v1/assignments/{mine}/recuse", {"reason": "x" * 1001}, 422, "reason_too_long", "reason"),
    ("/api/v1/assignments/{mine}/recuse", {"reason": "有关联", "also": 1}, 422, "reason_required", "also"),
    ("/api/v1/assignments/{mine}/explanation", {"text": "\x00"}, 422, "text_required", "text"),
    ("/api/v1/assignments/{mine}/explanation", {"text": "x" * 4001}, 422, "text_too_long", "text"),
])
def test_an_experts_body_that_does_not_fit_is_refused_naming_the_field(client, scene, path, body, status, code,
                                                                       names):
    response = client.post(path.format(mine=scene.mine[0].id), json=body, headers=token(client))
    assert response.status_code == status and response.get_json()["error"] == code
    assert response.get_json()["message"].startswith(names)


@pytest.mark.parametrize("method, path, body, status, code, names", [
    ("post", "/api/v1/rounds/2025Q1/draws", {"seed": "x"}, 400, "bad_request", "seed"),
    ("post", "/api/v1/rounds/2025Q1/draws", {"per_work": True}, 400, "bad_request", "per_work"),
    ("post", "/api/v1/rounds/2025Q1/draws", [1, 2], 400, "bad_request", "send a JSON object"),
    ("post", "/api/v1/assignments/{mine}/replacement", {"expert": 5}, 400, "bad_request", "expert"),
    ("post", "/api/v1/rounds/2025Q1/shortlist/entries/1", {"included": "yes", "reason": "x"}, 422,
     "included_required", "included"),
    ("post", "/api/v1/rounds/2025Q1/shortlist/entries/1", {"included": True, "reason": " "}, 422,
     "reason_required", "reason"),
    ("post", "/api/v1/rounds/2025Q1/shortlist/signoff", {"password": 5}, 403, "wrong_password", "password"),
    ("post", "/api/v1/rounds/2025Q1/shortlist/signoff", {"password": PASSWORD, "dissent": 5}, 422, "bad_dissent",
     "dissent"),
    ("post", "/api/v1/rounds/2025Q1/shortlist", {"method": "median"}, 422, "unknown_method", "method"),
    ("post", "/api/v1/assignments/{mine}/waiver", {"reason": ""}, 422, "text_required", "reason"),
    ("get", "/api/v1/rounds/2025Q1/rankings?method=median", None, 422, "unknown_method", "method"),
    ("get", "/api/v1/rounds/2025Q1/shortlist?version=two", None, 422, "bad_version", "version"),
    ("get", "/api/v1/rounds/2025Q1/shortlist?version=99999999999999999999", None, 422, "bad_version", "version"),
    ("get", "/api/v1/rounds/2025Q1/shortlist.csv?scope=all", None, 422, "bad_scope", "scope"),
])
def test_a_chairs_request_that_does_not_fit_is_refused_with_the_code_it_always_had(client, scene, method, path,
                                                                                   body, status, code, names):
    chair = token(client, "wang")
    response = getattr(client, method)(path.format(mine=scene.mine[0].id), json=body, headers=chair)
    assert response.status_code == status and response.get_json()["error"] == code, response.get_json()
    assert response.get_json()["message"].startswith(names)


def test_version_zero_names_no_signed_version(client, scene):
    response = client.get("/api/v1/rounds/2025Q1/shortlist?version=0", headers=token(client, "wang"))
    assert response.status_code == 404 and response.get_json()["error"] == "no_such_version"


def test_an_unknown_category_lists_the_known_ones(client, scene):
    response = client.get("/api/v1/rounds/2025Q1/rankings?category=科幻片", headers=token(client, "wang"))
    assert response.status_code == 422 and response.get_json()["error"] == "unknown_category"
    assert "网络剧" in response.get_json()["known"]


def test_a_round_key_holding_a_nul_names_no_round(client, scene):
    """PostgreSQL cannot compare text holding a NUL: the key is refused before any query (was a 500)."""
    response = client.get("/api/v1/rounds/2025Q1-%00/rankings", headers=token(client, "wang"))
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"


def test_the_document_is_generated_from_the_declarations(client):
    from web.api.tokens import Credentials
    from web.rating.schemas import ScoreSave

    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    save = document["paths"]["/assignments/{assignment_id}/scores"]["put"]
    assert save["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ScoreSave"}
    schemas = document["components"]["schemas"]
    assert schemas["ScoreSave"]["additionalProperties"] is False
    assert set(schemas["ScoreSave"]["properties"]) == set(ScoreSave.model_fields)
    assert set(schemas["Credentials"]["required"]) == {name for name, f in Credentials.model_fields.items()
                                                     if f.is_required()}
    # statuses every call can give are there without being written out: 401, 403, 404, the model's refusal
    assert {"200", "401", "403", "404", "409", "422", "423"} <= set(save["responses"])
    assert "security" not in document["paths"]["/tokens"]["post"]
    assert document["paths"]["/tokens"]["post"]["responses"]["400"]


def test_a_route_without_a_declaration_is_reported(app):
    from web.api.openapi import undocumented

    assert undocumented(app) == []
    app.add_url_rule("/api/v1/rounds/<key>/secret", endpoint="api.secret", view_func=lambda key: "")
    assert undocumented(app) == ["GET /rounds/{key}/secret (no documentation)"]


def test_an_answer_is_serialized_by_its_declared_model_and_nothing_else(app):
    from web.api.registry import Operation
    from web.rating.schemas import Saved

    spec = Operation("test", roles=None, answers={200: ("Saved", Saved)})
    with app.test_request_context():
        answer = spec.respond({"version": 3, "secret": "秘密申报文化传媒有限公司"})
        assert answer.get_json() == {"version": 3}
        with pytest.raises(KeyError):  # a status the view does not declare is a bug, not an answer
            spec.respond(({"version": 3}, 201))


def test_a_memoized_answer_is_checked_once_then_served_as_its_bytes_with_an_etag(app):
    from web.api.registry import Memoized, Operation
    from web.rating.schemas import Saved

    spec = Operation("test", roles=None, answers={200: ("Saved", Saved)})
    store, made = {}, []

    def produce():
        made.append(1)
        return {"version": len(made), "secret": "秘密"}

    with app.test_request_context():
        first = spec.respond(Memoized(store, "k", produce))
        again = spec.respond(Memoized(store, "k", produce))
        other = spec.respond(Memoized(store, "other", produce))
    assert first.get_json() == {"version": 1} == again.get_json()  # the declared model, once
    assert other.get_json() == {"version": 2} and len(made) == 2
    assert first.headers["ETag"] == again.headers["ETag"] != other.headers["ETag"]
    with app.test_request_context(headers={"If-None-Match": first.headers["ETag"]}):
        assert spec.respond(Memoized(store, "k", produce)).status_code == 304
        assert spec.respond(Memoized(store, "other", produce)).status_code == 200
    with app.test_request_context(headers={"If-None-Match": first.headers["ETag"]}):
        newer = spec.respond(Memoized({}, "k", produce))  # another store: a newer result, made afresh
    assert newer.status_code == 200 and newer.get_json() == {"version": 3}


def test_times_in_answers_are_written_as_they_always_were(client, session, scene):
    from web.core.models import ApiToken

    answer = client.post("/api/v1/tokens", json={"username": "zhang", "password": PASSWORD}).get_json()
    row = session.exec(select(ApiToken)).one()
    assert answer["expires_at"] == row.expires_at.isoformat()
