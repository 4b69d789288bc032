"""``tuiyou user add``: accounts from the command line."""
from __future__ import annotations

import sys

import click

from scoring.rules.config import load_rules

from ..core.audit import record_event
from ..core.cli_support import db_session, unit_of_work, with_app
from .operations import create_user


@click.group("user")
def user_group():
    """Manage accounts."""


@user_group.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["expert", "chair", "admin"]), required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--display-name", default="", help="Name shown in the UI (default: NAME).")
@click.option("--org", default="", help="Expert's organisation (for conflict checks).")
@click.option("--province", default="", help="Expert's province.")
@click.option("--categories", default="", help="Categories of expertise, comma-separated.")
@with_app
def user_add_command(name, role, password_stdin, display_name, org, province, categories):
    """Add a user NAME with a role; the password comes from standard input."""
    if not password_stdin:
        raise click.UsageError("pass --password-stdin and send the password on standard input")
    password = sys.stdin.readline().rstrip("\r\n")
    wanted = [c.strip() for c in categories.replace("，", ",").split(",") if c.strip()]
    rules = load_rules()
    unknown = [c for c in wanted if c not in rules.category_names]
    if unknown:
        raise click.BadParameter(f"unknown category {unknown[0]!r}; known: "
                                 + ", ".join(rules.category_names), param_hint="--categories")
    with db_session() as session, unit_of_work(session):
        try:
            user = create_user(session=session, username=name, password=password, role=role,
                               display_name=display_name, organisation=org, province=province,
                               categories=wanted)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        record_event(session, "user.added", actor="cli", subject=user.username,
                     detail={"role": role})
    click.echo(f"added {role} {user.username}")
