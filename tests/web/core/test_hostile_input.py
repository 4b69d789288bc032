"""No 5xx from any input (issue 19, item 6).

Every rule of the app's URL map, with every method it accepts, is called as anonymous, as an
expert and as a chair with each hostile shape in the path, the query, and the body (a form for
pages, JSON for the API and for the pages that read JSON): a lone surrogate, 100,000 nested
``[``, a 30-digit integer, a 50,000-character string, and JSON fields of the wrong type (a
number, an object). The query and body carry every parameter
name the code reads (found in ``web/`` by a regular expression, so a new one is covered too).
Nothing may answer 500. Then the issue's own requests, each with the clear 4xx it gets now.
"""
from __future__ import annotations

import inspect
import json
import re
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from helpers.access import USERS, Callers, World, build_world
from testkit import PASSWORD

WEB = Path(__file__).resolve().parents[3] / "web"
NAME = re.compile(r'(?:args|form|body)\s*(?:\.get(?:list)?\(|\[)\s*"([a-z_]+)"')
SURROGATE = "%ED%A0%80"  # how "\ud800" arrives in a URL or a form: UTF-8 would refuse to encode it
LONG = "x" * 50_000
DIGITS = "9" * 30
DEEP = "[" * 100_000 + "]" * 100_000
SHAPES = ("surrogate", "nesting", "digits", "long", "number", "object")  # the last two: wrong JSON types
SKIPPED_LAST = ("/logout", "/api/v1/tokens/current")  # they end the caller's session: called last


def names_in(package: Path) -> set[str]:
    """The query, form and JSON field names the modules of one package read."""
    return {name for path in package.glob("*.py") for name in NAME.findall(path.read_text(encoding="utf-8"))}


def declared_names(view) -> set[str]:
    """The fields of the body and query models a view reads through (web.core.schemas, web.api.registry)."""
    from web.api.registry import declaration

    spec = declaration(view)
    models = [getattr(view, "body_model", None), *((spec.body, spec.query) if spec else ())]
    return {name for model in models if model is not None for name in model.model_fields}


def parameter_names(app) -> dict[str, list[str]]:
    """Endpoint → the names its package reads and its declared models name (with a few every page
    shares), so each request carries what its view may read without megabytes it never looks at."""
    found = {}
    for endpoint, view in app.view_functions.items():
        package = Path(inspect.getsourcefile(inspect.unwrap(view))).parent
        shared = {"q", "page", "version", "next", "lang"}
        found[endpoint] = sorted(names_in(package) | declared_names(view) | shared)
    every = set().union(*found.values())
    assert {"q", "version", "page", "username", "password", "scores", "reason", "work_id", "withdraw"} <= every
    return found


def path_value(shape: str) -> str:
    return {"surrogate": SURROGATE, "nesting": "%5B" * 1_000, "digits": DIGITS, "long": LONG}.get(shape, "7")


def json_body(shape: str, names: list[str]) -> str:
    """A raw JSON text: the shape as every field's value (or, for nesting, as the whole body)."""
    if shape == "nesting":
        return DEEP
    value = {"surrogate": '"\\ud800"', "digits": DIGITS, "long": json.dumps(LONG), "number": "7",
             "object": '{"a": [1]}'}[shape]
    fields = ",".join(f'"{name}":{value}' for name in names if name != "scores")
    return "{" + fields + ',"scores":{"thought":' + value + "}}"


def urlencoded(shape: str, names: list[str]) -> str:
    """A query string or form body: the shape as every field's value."""
    value = {"surrogate": SURROGATE, "nesting": "%5B" * 1_000, "digits": DIGITS, "long": LONG}.get(shape, "7")
    return "&".join(f"{name}={value}" for name in names)


def concrete_paths(rule, world: World, shape: str) -> tuple[str, str]:
    """The rule with every variable hostile, and with the world's real values (a real round,
    assignment, work), so the hostile query and body reach the view behind them."""
    real = {"key": world.round_key, "assignment_id": str(world.assignment_id), "item_id": str(world.work_id),
            "work_id": str(world.work_id), "entry_id": "1", "job_id": "1", "year": "2025", "name": "exp_owner"}

    def fill(match: re.Match, hostile: bool) -> str:
        converter, name = match.group(1) or "default", match.group(2)
        if converter.startswith("any("):
            return converter[4:].split(",")[0].strip()
        if converter == "path":
            return "tuiyou.css"
        if not hostile:
            return real.get(name, "1")
        return DIGITS if converter == "int" else path_value(shape)

    pattern = re.compile(r"<(?:([^:>]+(?:\([^)]*\))?):)?([^>]+)>")
    return pattern.sub(lambda m: fill(m, True), rule.rule), pattern.sub(lambda m: fill(m, False), rule.rule)


class Walk:
    """Sends the requests and collects every 5xx (or exception: the test app propagates them)."""

    def __init__(self, app, callers: Callers):
        self.app, self.callers, self.failures, self.count = app, callers, [], 0

    def send(self, role: str, method: str, path: str, query: str = "", body: tuple[str, str] | None = None,
             where: str = "") -> int:
        api = path.startswith("/api/")
        client = self.app.test_client() if api else self.callers.pages[role]
        headers = {"Authorization": f"Bearer {self.callers.tokens[role]}"} if api and role in self.callers.tokens \
            else {}
        kwargs = {"data": body[1], "content_type": body[0]} if body else {}
        self.count += 1
        try:
            response = client.open(f"{path}?{query}" if query else path, method=method, headers=headers, **kwargs)
        except Exception as exc:  # noqa: BLE001 — each one is a failure to report
            self.failures.append(f"{type(exc).__name__}: {str(exc)[:80]} — {role} {method} {where}")
            return 500
        if response.status_code >= 500:
            self.failures.append(f"{response.status_code} {role} {method} {where}")
        response.close()
        return response.status_code


def walk(app, callers: Callers, world: World) -> Walk:
    """Every rule × method × caller × shape; payloads that only a view can read are sent where the
    caller gets past the role check (a request the check turns away never reads them)."""
    run = Walk(app, callers)
    names = parameter_names(app)
    rules = sorted(app.url_map.iter_rules(), key=lambda r: (r.rule in SKIPPED_LAST, r.rule))
    for rule in rules:
        fields = names[rule.endpoint]
        for role in ("anonymous", "expert", "chair"):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                writes = method in ("POST", "PUT", "PATCH", "DELETE")
                real_path = concrete_paths(rule, world, "digits")[1]
                probe = run.send(role, method, real_path, where=rule.rule)
                turned_away = probe in (401, 403, 405) or (probe == 302 and role == "anonymous")
                for shape in SHAPES:
                    hostile_path, real_path = concrete_paths(rule, world, shape)
                    heavy = shape in ("long", "nesting")
                    bodies = [None]
                    if writes:
                        bodies = [("application/json", json_body(shape, fields))]
                        if not real_path.startswith("/api/") and shape != "nesting":
                            bodies.append(("application/x-www-form-urlencoded", urlencoded(shape, fields)))
                    query = "" if shape == "nesting" else urlencoded(shape, fields)
                    if rule.arguments:  # hostile variables: the URL map and its converters
                        run.send(role, method, hostile_path, "" if heavy else query, None if heavy else bodies[0],
                                 where=f"{rule.rule} [{shape} in the path]")
                    if turned_away and heavy and shape != "nesting":
                        continue
                    for body in bodies:
                        run.send(role, method, real_path, query, body,
                                 where=f"{rule.rule} [{shape}{', ' + body[0] if body else ''}]")
    return run


@pytest.mark.slow
def test_every_rule_as_every_caller_with_every_hostile_shape_answers_below_500(app, session, make_user):
    app.config["WTF_CSRF_ENABLED"] = False  # the requests must reach the views (CSRF is tested elsewhere)
    world = build_world(session, make_user)
    started = time.perf_counter()
    run = walk(app, Callers(app), world)
    seconds = time.perf_counter() - started
    print(f"{run.count} requests in {seconds:.1f} s")
    assert not run.failures, f"{len(run.failures)} of {run.count} requests failed:\n" + "\n".join(run.failures)
    assert run.count > 1_500 and seconds < 120, (run.count, seconds)


# --- the requests, each with its clear answer --------------------------------------------

@pytest.fixture
def world(app, session, make_user):
    app.config["WTF_CSRF_ENABLED"] = False  # Callers signs in without a token
    world = build_world(session, make_user)
    return world, Callers(app)


def test_a_lone_surrogate_in_a_json_string_is_400_with_where_it_was(client, world):
    answer = client.post("/api/v1/tokens", data='{"username": "\\ud800", "password": "x"}',
                         content_type="application/json")
    assert answer.status_code == 400
    body = answer.get_json()
    assert body["error"] == "invalid_json" and "surrogate" in body["message"] and "$.username" in body["message"]


def test_deep_nesting_is_400_for_anonymous_and_signed_in_callers(app, client, world):
    _world, callers = world
    deep = DEEP
    answer = client.post("/api/v1/tokens", data=deep, content_type="application/json")
    assert answer.status_code == 400 and "nested" in answer.get_json()["message"]
    token = {"Authorization": f"Bearer {callers.tokens['expert']}"}
    put = app.test_client().put(f"/api/v1/assignments/{_world.assignment_id}/scores", data=deep,
                                content_type="application/json", headers=token)
    assert put.status_code == 400


def test_numbers_json_cannot_carry_are_refused_where_they_stand(app, world):
    _world, callers = world
    token = {"Authorization": f"Bearer {callers.tokens['expert']}"}
    for text, where in ((f'{{"scores": {{"thought": 8}}, "version": {DIGITS}}}', "$.version"),
                        ('{"scores": {"thought": NaN}, "version": 1}', "NaN"),
                        ('{"scores": {"thought": 1e999}, "version": 1}', "$.scores.thought")):
        answer = app.test_client().put(f"/api/v1/assignments/{_world.assignment_id}/scores", data=text,
                                       content_type="application/json", headers=token)
        assert answer.status_code == 400 and where in answer.get_json()["message"], (text, answer.get_json())


def test_an_id_no_column_can_hold_is_404_in_any_path(world):
    _world, callers = world
    expert, chair = callers.pages["expert"], callers.pages["chair"]
    assert expert.get(f"/assignments/{DIGITS}").status_code == 404
    assert chair.get(f"/review/{_world.round_key}/works/{DIGITS}").status_code == 404
    assert chair.get(f"/admin/rounds/{_world.round_key}/assignment/{DIGITS}/replace").status_code == 404


def test_a_version_no_column_can_hold_is_a_clear_4xx(app, world):
    _world, callers = world
    token = {"Authorization": f"Bearer {callers.tokens['chair']}"}
    answer = app.test_client().get(f"/api/v1/rounds/{_world.round_key}/shortlist?version={DIGITS}", headers=token)
    assert answer.status_code == 422 and answer.get_json()["error"] == "bad_version"
    page = callers.pages["chair"].get(f"/review/{_world.round_key}/export.csv?version={DIGITS}")
    assert page.status_code in (400, 404)


def test_a_50000_character_search_is_400_naming_the_parameter(app, world):
    _world, callers = world
    client = app.test_client()
    client.post("/login", data={"username": USERS["admin"][0], "password": PASSWORD})
    answer = client.get(f"/admin/works?q={quote('长' * 50_000)}")
    assert answer.status_code == 400 and "查询参数 q 过长（50,000 个字符，最多 2000）" in answer.get_data(as_text=True)
    assert client.get(f"/admin/works?q={quote('长' * 2_000)}").status_code == 200
    api = app.test_client().get(f"/api/v1/rounds?q={'x' * 3_000}",
                                headers={"Authorization": f"Bearer {callers.tokens['expert']}"})
    assert api.status_code == 400 and api.get_json()["error"] == "invalid_query"
