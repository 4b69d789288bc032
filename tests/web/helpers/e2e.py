"""Drive a round end to end through the contracts, as a secretariat, its experts and the chair
would: the ``tuiyou`` commands (DESIGN.md) and the ``/api/v1`` JSON API. No model is written
directly, so a test built on these helpers checks the whole flow."""
from __future__ import annotations

import datetime as dt

from testkit import PASSWORD
from helpers.api import bearer


def cli(app, runner, *args, input: str | None = None):
    """Run ``tuiyou ARGS`` against the test app (same command table as the console script)."""
    with app.app_context():
        return runner.invoke(args=[str(a) for a in args], input=input)


def ok(result):
    """The CLI result, after checking it exited 0 (its output in the failure message)."""
    assert result.exit_code == 0, result.output
    return result


def add_user(app, runner, name: str, role: str, *, categories: str = "", org: str = "") -> None:
    """``tuiyou user add NAME --role ROLE --password-stdin`` with the tests' password."""
    args = ["user", "add", name, "--role", role, "--password-stdin"]
    if categories:
        args += ["--categories", categories]
    if org:
        args += ["--org", org]
    ok(cli(app, runner, *args, input=PASSWORD + "\n"))


def set_state(app, runner, key: str, *states: str) -> None:
    """``tuiyou round set-state KEY STATE`` for each state in turn."""
    for state in states:
        ok(cli(app, runner, "round", "set-state", key, state))


def import_works(app, runner, tmp_path, key: str, data: bytes, today: dt.date):
    """``tuiyou import-works FILE --round KEY`` on ``today`` (the calendar's deadlines apply)."""
    path = tmp_path / f"works-{key}.csv"
    path.write_bytes(data)
    app.config["TODAY"] = today
    return cli(app, runner, "import-works", path, "--round", key)


def score_round(client, experts: list[str], key: str, value_of) -> int:
    """Every expert scores and submits each of their assignments of round ``key`` through the API.

    ``value_of(expert, title, criterion)`` gives the value of one criterion. Returns how many
    ratings were submitted.
    """
    submitted = 0
    for expert in experts:
        headers = bearer(client, expert)
        mine = [a for a in client.get("/api/v1/assignments", headers=headers).get_json() if a["round"] == key]
        for assignment in mine:
            scores = {c["key"]: value_of(expert, assignment["work"]["title"], c["key"])
                      for c in assignment["criteria"]}
            saved = client.put(f"/api/v1/assignments/{assignment['id']}/scores", headers=headers,
                               json={"scores": scores, "version": assignment["version"]})
            assert saved.status_code == 200, saved.get_json()
            done = client.post(f"/api/v1/assignments/{assignment['id']}/submit", headers=headers)
            assert done.status_code == 200, done.get_json()
            submitted += 1
    return submitted


def steps(value: float, step: float = 0.5, low: float = 0.0, high: float = 10.0) -> float:
    """``value`` on the criterion's scale: rounded to its step and kept within its bounds."""
    return min(high, max(low, round(value / step) * step))
