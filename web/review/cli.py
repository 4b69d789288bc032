"""``tuiyou result verify KEY [--version N]``: re-derive a signed result from the ratings stored in
the database and say whether it reproduces the snapshot (see ``web.review.verify``).

Exit codes: 0 when the version reproduces (bit for bit, or within the stated tolerance); 1 when
it does not (the works that differ are named) or there is nothing to verify; 2 for usage errors.
"""
from __future__ import annotations

import click

from ..core.cli_support import db_session, with_app
from ..rounds.queries import get_round
from .verify import SCORE_TOLERANCE, VerifyError, lines, verify_result


@click.group("result")
def result_group():
    """Signed results: re-derive them from the stored ratings."""


@result_group.command("verify")
@click.argument("key")
@click.option("--version", "number", type=click.IntRange(min=1), default=None,
              help="The signed version to check (default: the latest).")
@with_app
def verify_command(key, number):
    """Recompute signed version N of round KEY from its stored ratings; exit 0 only when it reproduces."""
    with db_session() as session:
        round_ = get_round(session=session, key=key.strip())
        if round_ is None:
            raise click.ClickException(f"轮次 {key} 不存在 / round {key} does not exist")
        try:
            report = verify_result(session=session, round_=round_, version=number)
        except VerifyError as exc:
            raise click.ClickException(str(exc)) from None
    head = f"{report.round_key} 第 {report.version} 版 / version {report.version}: signed SHA-256 {report.stored_sha256}"
    click.echo(head)
    click.echo(f"重算 recomputed SHA-256 {report.recomputed_sha256}")
    for zh, en in zip(lines(report, "zh"), lines(report, "en")):
        click.echo(zh)
        click.echo(en)
    if report.reproduced and report.bit_for_bit:
        click.echo("复现一致：SHA-256 逐位相同 / reproduced bit for bit")
        return
    if report.reproduced:
        click.echo(f"复现一致（容差 {SCORE_TOLERANCE:g} 内）/ reproduced within tolerance")
        return
    changed = sorted({f.item_id for f in report.findings if f.kind == "rating" and f.item_id is not None})
    moved = sorted({f.item_id for f in report.findings if f.kind == "result" and f.item_id is not None})
    click.echo(f"未能复现：评分行被改动的作品 {'、'.join(map(str, changed)) or '无'}；重算结果不同的作品 {len(moved)} 部 / "
               f"does NOT reproduce: rating rows differ for works {', '.join(map(str, changed)) or 'none'}; "
               f"{len(moved)} works' recomputed results differ", err=True)
    raise click.exceptions.Exit(1)
