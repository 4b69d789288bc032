"""Access control as a table: every route of the app × every caller, generated from the URL map
(a route without an entry fails). Nobody reads or writes another expert's assignment, no
chair changes a rating, no expert sees rankings, shortlists or exports.

Each entry names who may use the route: ``"all"`` (public), ``"login"`` (anyone logged in),
``"owner"`` (the expert whose assignment it is: another expert gets 404, which does not even
say the assignment exists; chair and admin get 403), or a set of roles; ``("json", …)`` marks a
page-side endpoint that the form's script calls, which answers 401 rather than a redirect.
Everyone else gets 401 on the API, a redirect to the login page on pages (when not logged
in), or 403.
"""
from __future__ import annotations

import pytest

from helpers.access import ROLES, Callers, build_world, scores_of

CHAIR = frozenset({"chair", "admin"})
ADMIN = frozenset({"admin"})
EXPERT = frozenset({"expert", "other_expert"})

TABLE: dict[tuple[str, str], object] = {
    ("GET", "/"): "login",
    ("GET", "/login"): "all",
    ("POST", "/login"): "all",
    ("POST", "/logout"): "all",
    ("GET", "/account/password"): "login",
    ("POST", "/account/password"): "login",
    ("GET", "/static/<path:filename>"): "all",
    ("GET", "/sw.js"): "all",
    ("GET", "/offline"): "all",
    ("GET", "/rating/csrf"): ("json", EXPERT),
    # rounds and intake (admin)
    ("GET", "/admin/rounds"): ADMIN,
    ("POST", "/admin/rounds"): ADMIN,
    ("POST", "/admin/rounds/<key>/state"): ADMIN,
    ("GET", "/admin/imports"): ADMIN,
    ("POST", "/admin/imports"): ADMIN,
    ("GET", "/admin/imports/template.xlsx"): ADMIN,
    ("GET", "/admin/works"): ADMIN,
    ("GET", "/admin/rounds/<key>/recommend"): ADMIN,
    ("POST", "/admin/rounds/<key>/recommend"): ADMIN,
    # assignment and the expert pool
    ("GET", "/admin/assignment"): CHAIR,
    ("GET", "/admin/rounds/<key>/assignment"): CHAIR,
    ("POST", "/admin/rounds/<key>/assignment/draw"): CHAIR,
    ("GET", "/admin/rounds/<key>/assignment/jobs/<int:job_id>"): ("json", CHAIR),
    ("POST", "/admin/rounds/<key>/assignment/add"): CHAIR,
    ("POST", "/admin/rounds/<key>/assignment/<int:assignment_id>/remove"): CHAIR,
    ("POST", "/admin/rounds/<key>/assignment/<int:assignment_id>/move"): CHAIR,
    ("GET", "/admin/rounds/<key>/assignment/<int:assignment_id>/replace"): CHAIR,
    ("POST", "/admin/rounds/<key>/assignment/<int:assignment_id>/replace"): CHAIR,
    ("GET", "/admin/experts"): ADMIN,
    ("POST", "/admin/experts/availability"): ADMIN,
    ("POST", "/admin/experts/import"): ADMIN,
    ("POST", "/admin/experts/<name>/password"): ADMIN,
    ("GET", "/me/conflicts"): EXPERT,
    ("POST", "/me/conflicts"): EXPERT,
    # the expert's form (pages)
    ("GET", "/assignments/<int:assignment_id>"): "owner",
    ("PUT", "/assignments/<int:assignment_id>/scores"): ("json", "owner"),
    ("POST", "/assignments/<int:assignment_id>/submit"): ("json", "owner"),
    ("POST", "/assignments/<int:assignment_id>/recuse"): ("json", "owner"),
    ("POST", "/assignments/<int:assignment_id>/reopen"): ("json", "owner"),
    # panel practice: the expert's explanation form, the chair's abnormal ratings and waivers
    ("POST", "/assignments/<int:assignment_id>/explanation"): "owner",
    ("GET", "/review/<key>/abnormal"): CHAIR,
    ("POST", "/review/<key>/abnormal/<int:assignment_id>/waive"): CHAIR,
    ("GET", "/panel/<key>/sign"): CHAIR | EXPERT,  # experts of the round's panel; others 403
    ("POST", "/panel/<key>/sign"): EXPERT,
    ("GET", "/review/<key>/announcement.<any(csv, xlsx, pdf):fmt>"): CHAIR,
    # the expert conduct review (admin only: chairs and experts never see it)
    ("GET", "/admin/conduct/"): ADMIN,
    ("GET", "/admin/conduct/year/<int:year>"): ADMIN,
    ("GET", "/admin/conduct/year/<int:year>/export.xlsx"): ADMIN,
    ("GET", "/admin/conduct/<key>"): ADMIN,
    ("GET", "/admin/conduct/<key>/export.xlsx"): ADMIN,
    # the chair console (pages)
    ("GET", "/review/"): CHAIR,
    ("GET", "/review/<key>/rankings"): CHAIR,
    ("GET", "/review/<key>/diagnostics"): CHAIR,
    ("GET", "/rounds/<key>/progress"): CHAIR,
    ("GET", "/rounds/<key>/progress/live"): CHAIR,
    ("GET", "/rounds/<key>/progress/experts/<username>/reminder"): CHAIR,
    ("GET", "/review/<key>/sensitivity"): CHAIR,
    ("GET", "/review/<key>/shortlist"): CHAIR,
    ("POST", "/review/<key>/shortlist"): CHAIR,
    ("POST", "/review/<key>/shortlist/entries/<int:entry_id>"): CHAIR,
    ("POST", "/review/<key>/signoff"): CHAIR,
    ("POST", "/review/<key>/reopen"): ADMIN,
    ("GET", "/review/<key>/works/<int:item_id>"): CHAIR,
    ("POST", "/review/<key>/works/<int:item_id>/ratings/<int:assignment_id>/allow-reopen"): CHAIR,
    ("GET", "/review/<key>/export.<any(csv, xlsx, pdf):fmt>"): CHAIR,
    # the JSON API
    ("GET", "/api/v1/openapi.json"): "all",
    ("POST", "/api/v1/tokens"): "all",
    ("DELETE", "/api/v1/tokens/current"): "login",
    ("GET", "/api/v1/me"): "login",
    ("GET", "/api/v1/rounds"): "login",
    ("GET", "/api/v1/assignments"): EXPERT,
    ("PUT", "/api/v1/assignments/<int:assignment_id>/scores"): "owner",
    ("POST", "/api/v1/assignments/<int:assignment_id>/submit"): "owner",
    ("POST", "/api/v1/assignments/<int:assignment_id>/recuse"): "owner",
    ("POST", "/api/v1/assignments/<int:assignment_id>/reopen"): "owner",
    ("POST", "/api/v1/assignments/<int:assignment_id>/allow-reopen"): CHAIR,
    ("POST", "/api/v1/assignments/<int:assignment_id>/explanation"): "owner",
    ("POST", "/api/v1/assignments/<int:assignment_id>/waiver"): CHAIR,
    ("GET", "/api/v1/rounds/<key>/abnormal"): CHAIR,
    ("GET", "/api/v1/rounds/<key>/announcement.<any(csv, xlsx, pdf):fmt>"): CHAIR,
    ("POST", "/api/v1/rounds/<key>/draws"): CHAIR,
    ("GET", "/api/v1/rounds/<key>/assignment-report"): CHAIR,
    ("GET", "/api/v1/assignments/<int:assignment_id>/replacements"): CHAIR,
    ("POST", "/api/v1/assignments/<int:assignment_id>/replacement"): CHAIR,
    ("GET", "/api/v1/rounds/<key>/rankings"): CHAIR,
    ("GET", "/api/v1/rounds/<key>/progress"): CHAIR,
    ("GET", "/api/v1/rounds/<key>/shortlist"): CHAIR,
    ("POST", "/api/v1/rounds/<key>/shortlist"): CHAIR,
    ("POST", "/api/v1/rounds/<key>/shortlist/entries/<int:entry_id>"): CHAIR,
    ("POST", "/api/v1/rounds/<key>/shortlist/signoff"): CHAIR | EXPERT,  # experts: members sign a sealed round
    ("POST", "/api/v1/rounds/<key>/reopen"): ADMIN,
    ("POST", "/api/v1/rounds/<key>/state"): ADMIN,
    ("GET", "/api/v1/rounds/<key>/shortlist.<any(csv, xlsx, pdf):fmt>"): CHAIR,
}

# Writes that change state: called after every read, so reads see the world as built.
# Logging out and revoking tokens come last of all.
ORDER = {"GET": 0, "DELETE": 2, "POST": 1, "PUT": 1}
LAST = {("POST", "/logout"): 3, ("DELETE", "/api/v1/tokens/current"): 3}


def routes(app) -> list[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            found.add((method, rule.rule))
    return sorted(found, key=lambda r: (LAST.get(r, ORDER[r[0]]), r[1], r[0]))


def test_every_route_has_an_entry(app):
    missing = [f"{m} {r}" for m, r in routes(app) if (m, r) not in TABLE]
    stale = [f"{m} {r}" for m, r in TABLE if (m, r) not in set(routes(app))]
    assert missing == [], "add these routes to the access table"
    assert stale == [], "these entries name routes that no longer exist"


def denied_status(entry, role: str, rule: str) -> int | None:
    """The status a caller must get, or None when the caller is allowed through."""
    api = rule.startswith("/api/")
    if isinstance(entry, tuple):
        api, entry = True, entry[1]
    if entry == "all":
        return None
    if role == "anonymous":
        return 401 if api else 302
    if entry == "login":
        return None
    if entry == "owner":
        return {"expert": None, "other_expert": 404}.get(role, 403)
    return None if role in entry else 403


@pytest.fixture
def world(app, session, make_user):
    app.config["WTF_CSRF_ENABLED"] = False
    return build_world(session, make_user)


@pytest.mark.slow
def test_access_table(app, session, world):
    callers = Callers(app)
    before = scores_of(session, world.assignment_id)
    wrong = []
    for method, rule in routes(app):
        entry = TABLE[(method, rule)]
        # the owner last: their writes (submit, recuse) must not hide what the others are refused
        for role in ("anonymous", "other_expert", "chair", "admin", "expert"):
            status = callers.call(role, method, rule, world)
            must = denied_status(entry, role, rule)
            if must is not None and status != must:
                wrong.append(f"{role:12} {method:6} {rule}: {status}, expected {must}")
            if must is None and status in (401, 403) and not (rule == "/login" or rule.endswith("/tokens")):
                wrong.append(f"{role:12} {method:6} {rule}: {status}, expected to be allowed")
            if role != "expert" and method in ("PUT", "POST") and "assignment_id" in rule:
                assert scores_of(session, world.assignment_id) == before, f"{role} changed a rating via {rule}"
    assert wrong == [], "\n".join(wrong)


def test_no_one_but_the_owner_reads_an_assignment(app, session, world):
    callers = Callers(app)
    mine = str(world.assignment_id)
    for role in ("other_expert", "chair", "admin"):
        listing = callers.call(role, "GET", "/api/v1/assignments", world)
        if listing == 200:
            client = app.test_client()
            body = client.get("/api/v1/assignments",
                              headers={"Authorization": f"Bearer {callers.tokens[role]}"}).get_json()
            assert all(str(a["id"]) != mine for a in body)
    assert callers.call("expert", "GET", "/api/v1/assignments", world) == 200
    assert ROLES[0] == "anonymous"
