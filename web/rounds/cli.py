"""``tuiyou round …``: create rounds, move them through their states, build the annual round,
list them. ``round recommend`` belongs to intake and is loaded from there on use."""
from __future__ import annotations

import click

from scoring.rules.config import load_rules
from scoring.rules.states import STATES

from ..core.cli_support import db_session, unit_of_work, with_app
from ..core.lazy_group import LazyGroup
from .keys import round_deadlines
from .operations import create_annual, create_round, set_state
from .queries import get_round, list_rounds, work_counts


@click.group("round", cls=LazyGroup, lazy_subcommands={
    "recommend": ("web.intake.cli:round_recommend_command",
                  "Record the entries a provincial round forwards (at most 50% without a reason)."),
})
def round_group():
    """Create rounds and move them through their states."""


@round_group.command("create")
@click.argument("key")
@click.option("--stage", type=click.Choice(["national", "provincial"]), default="national")
@click.option("--unit", default=None, help="Provincial bureau running a provincial round.")
@with_app
def round_create_command(key, stage, unit):
    """Create round KEY (2025Q1, 2025, 2025-cases, 2025Q1-浙江)."""
    with db_session() as session, unit_of_work(session):
        try:
            round_ = create_round(session=session, key=key, stage=stage, unit=unit, actor="cli")
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"created round {round_.key} ({round_.kind.value}, {round_.stage.value})")


@round_group.command("set-state")
@click.argument("key")
@click.argument("state", type=click.Choice(STATES))
@click.option("--reason", default=None, help="Why (required when stepping back).")
@with_app
def round_set_state_command(key, state, reason):
    """Move round KEY to STATE (draft → intake → scoring → review → signed)."""
    with db_session() as session, unit_of_work(session):
        round_ = get_round(session=session, key=key.strip())
        if round_ is None:
            raise click.ClickException(f"轮次 {key} 不存在 / round {key} does not exist")
        previous = round_.state.value
        set_state(session=session, round_=round_, state=state, actor="cli", reason=reason)
    click.echo(f"{key}: {previous} → {state}")


@round_group.command("create-annual")
@click.argument("year", type=int)
@with_app
def round_create_annual_command(year):
    """Build round YEAR from the works on the year's signed quarterly shortlists (no re-submission)."""
    with db_session() as session, unit_of_work(session):
        try:
            build = create_annual(session=session, year=year, actor="cli")
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"annual round {build.round.key}: {build.added} works added from "
               f"{', '.join(build.quarters_used)}" + (f", {build.already_there} already there"
                                                    if build.already_there else ""))
    if build.quarters_unsigned:
        click.echo(f"not yet signed (not included): {', '.join(build.quarters_unsigned)}")


@round_group.command("list")
@with_app
def round_list_command():
    """Rounds with state, entries and the calendar's window and deadlines."""
    rules = load_rules()
    with db_session() as session:
        counts = work_counts(session=session)
        for round_ in list_rounds(session=session):
            deadlines = round_deadlines(round_, rules)
            window = f"{deadlines.window[0]}..{deadlines.window[1]}" if deadlines.window else "-"
            click.echo(f"{round_.key}\t{round_.kind.value}\t{round_.stage.value}\t{round_.state.value}\t"
                       f"{counts.get(round_.id, 0)}\twindow {window}\tsubmit by {deadlines.submission or '-'}"
                       f"\tforward by {deadlines.forwarding or '-'}")
