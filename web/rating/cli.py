"""``tuiyou rating …``: the secretariat's and chair's side of scoring from the command line —
progress per expert, and letting an expert reopen a submitted form."""
from __future__ import annotations

import click

from ..accounts.queries import get_user_by_name
from ..core.cli_support import db_session, unit_of_work, with_app
from ..core.models import Role
from .operations import allow_reopen
from .queries import assignment_in_round, expert_assignments, progress


@click.group("rating")
def rating_group():
    """Scoring progress and reopening submitted forms."""


@rating_group.command("allow-reopen")
@click.argument("assignment_id", type=int)
@click.option("--by", "chair_name", required=True, help="User name of the chair (or admin) allowing it.")
@with_app
def allow_reopen_command(assignment_id, chair_name):
    """Let the expert reopen submitted assignment ASSIGNMENT_ID once (round in scoring)."""
    with db_session() as session:
        chair = get_user_by_name(session=session, username=chair_name)
        if chair is None or chair.role not in (Role.chair, Role.admin):
            raise click.ClickException(f"{chair_name!r} is not a chair or admin.")
        found = assignment_in_round(session=session, assignment_id=assignment_id)
        if found is None:
            raise click.ClickException(f"no assignment {assignment_id}")
        with unit_of_work(session):
            allow_reopen(session=session, chair=chair, assignment=found[0], round_=found[1])
        click.echo(f"assignment {assignment_id} may be reopened once by its expert")


@rating_group.command("progress")
@click.argument("username")
@with_app
def progress_command(username):
    """How far expert USERNAME is: submitted of assigned (recused not counted), per status."""
    with db_session() as session:
        expert = get_user_by_name(session=session, username=username)
        if expert is None or expert.role != Role.expert:
            raise click.ClickException(f"{username!r} is not an expert.")
        rows = expert_assignments(session=session, expert=expert)
        done = progress(rows)
        counts: dict[str, int] = {}
        for row in rows:
            counts[row.assignment.status.value] = counts.get(row.assignment.status.value, 0) + 1
        click.echo(f"{username}: {done.done} / {done.total} submitted  "
                   + "  ".join(f"{status}={n}" for status, n in sorted(counts.items())))
