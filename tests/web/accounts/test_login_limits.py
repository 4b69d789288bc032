"""Login limits that protect without locking a room out (issue 19 item 5): one failure counter per
account across the login form, the API and the password page; a per-address ceiling far above
what a room of tablets behind one address does by mistyping, which still stops one address
spraying guesses over many accounts."""
from __future__ import annotations

import pytest

from testkit import PASSWORD, csrf_token

WRONG = "not the password"


def form_login(client, username, password):
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf_token(client)}).status_code


def api_login(client, username, password):
    return client.post("/api/v1/tokens", json={"username": username, "password": password}).status_code


def test_the_defaults(app):
    assert app.config["LOGIN_LIMIT_PER_ACCOUNT"] == "5 per 15 minutes"
    assert app.config["LOGIN_LIMIT_PER_ADDRESS"] == "100 per 15 minutes"


@pytest.mark.parametrize("right_way", [form_login, api_login])
def test_the_form_and_the_api_share_one_counter_per_account(client, make_user, right_way):
    make_user("ann")
    assert [form_login(client, "ann", WRONG) for _ in range(3)] == [401] * 3
    assert [api_login(client, "ANN ", WRONG) for _ in range(2)] == [401] * 2  # the same account, however spelt
    assert right_way(client, "ann", PASSWORD) == 429, "five guesses in all, not five on each door"


def test_a_room_of_tablets_behind_one_address_is_not_locked_out(app, client, make_user):
    """50 experts on one address; 30 of them mistype twice (60 failures, three times the old ceiling):
    every one of the 50 still gets in with the right password, on the form or the API."""
    experts = [make_user(f"expert{n:02d}") for n in range(50)]
    for expert in experts[:30]:
        assert form_login(client, expert.username, WRONG) == 401
        assert api_login(client, expert.username, WRONG) == 401
    for n, expert in enumerate(experts):
        tablet = app.test_client()  # the same address (the test client's), a device of its own
        status = form_login(tablet, expert.username, PASSWORD) if n % 2 else api_login(tablet, expert.username, PASSWORD)
        assert status in (201, 302), f"{expert.username}: {status}"


def test_one_expert_mistyping_locks_only_their_own_account(app, client, make_user):
    make_user("zhang")
    make_user("li")
    statuses = [form_login(client, "zhang", WRONG) for _ in range(30)]
    assert statuses == [401] * 5 + [429] * 25
    assert form_login(client, "zhang", PASSWORD) == 429
    assert form_login(app.test_client(), "li", PASSWORD) == 302  # the refused tries were not counted again


def test_the_address_ceiling_stops_one_address_spraying_many_accounts(app, client, make_user):
    make_user("ann")
    for n in range(100):  # one guess at each of 100 accounts, half on each door
        assert (form_login if n % 2 else api_login)(client, f"guess{n}", WRONG) == 401, n
    assert api_login(client, "someone-else", WRONG) == 429
    assert api_login(client, "ann", PASSWORD) == 429, "past the ceiling the address is stopped"


def test_a_wrong_current_password_on_the_password_page_counts_for_the_account(app, client, make_user):
    make_user("ann")
    client.post("/login", data={"username": "ann", "password": PASSWORD, "csrf_token": csrf_token(client)})
    form = {"current": WRONG, "new": "a brand new phrase", "repeat": "a brand new phrase"}
    statuses = [client.post("/account/password", data={**form, "csrf_token": csrf_token(client, "/account/password")})
                .status_code for _ in range(5)]
    assert statuses == [422] * 5
    right = {**form, "current": PASSWORD, "csrf_token": csrf_token(client, "/account/password")}
    assert client.post("/account/password", data=right).status_code == 429
    assert api_login(app.test_client(), "ann", PASSWORD) == 429
    # a refused new password (not a wrong current one) does not count
    make_user("bob")
    other = app.test_client()
    other.post("/login", data={"username": "bob", "password": PASSWORD, "csrf_token": csrf_token(other)})
    short = {"current": PASSWORD, "new": "short", "repeat": "short"}
    for _ in range(6):
        assert other.post("/account/password", data={**short, "csrf_token": csrf_token(other, "/account/password")}
                          ).status_code == 422
