"""``tuiyou recompute``: run the due recompute jobs now, or keep a worker running."""
from __future__ import annotations

import click

from ..core.cli_support import with_app


@click.group("recompute")
def recompute_group() -> None:
    """The chair's rankings recomputed after ratings change (the shared job table)."""


@recompute_group.command("run-pending")
@click.option("--include-not-due", is_flag=True, help="Also run jobs still inside their debounce delay.")
@with_app
def run_pending_command(include_not_due: bool) -> None:
    """Run every due job once, then exit; prints how many ran."""
    import datetime as dt

    from ..core.models import utcnow
    from .runner import run_pending
    now = utcnow() + (dt.timedelta(days=1) if include_not_due else dt.timedelta(0))
    from flask import current_app
    ran = run_pending(current_app.extensions["tuiyou.engine"], now=now)
    click.echo(f"ran {ran} recompute job(s)")


@recompute_group.command("worker")
@with_app
def worker_command() -> None:
    """Run due jobs as they come, until interrupted (beside servers started with TUIYOU_RECOMPUTE_WORKER=0)."""
    from flask import current_app

    from ..core.heap import settle
    from .worker import work_forever
    settle()  # a long-lived process: start-up's heap out of the collector's walks, as a server's
    click.echo("recompute worker: running due jobs (Ctrl-C to stop)")
    try:
        work_forever(current_app.extensions["tuiyou.engine"])
    except KeyboardInterrupt:
        pass
