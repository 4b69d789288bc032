"""Command line for intake: ``import-works``, ``import-cases``, ``import-template`` and
``round recommend`` (a provincial round's recommendation onward).

Reports are bilingual (Chinese / English), one line per problem with its row and column.
Exit codes: 0 only when everything was imported (or the command did what it said); 1 when
rows were rejected or the command was refused; 2 for usage errors.
"""
from __future__ import annotations

from pathlib import Path

import click

from scoring.rules.columns import CASE_COLUMNS, WORK_COLUMNS

from ..core.cli_support import db_session, unit_of_work, with_app
from ..rounds.queries import get_round
from .batches import ImportReport
from ..exports.import_files import template_xlsx, write_rejected
from .files import CASE_EXAMPLE, WORK_EXAMPLE, rejected_path
from .operations import import_cases, import_works, recommend

def print_report(report: ImportReport) -> None:
    """The import report: every issue with row and column, then a summary line."""
    for issue in report.issues:
        column = ""
        if issue.column:
            shown = report.column_label(issue.column)
            column = f" · {shown}" + (f" ({issue.column})" if shown != issue.column else "")
        click.echo(f"第 {issue.row} 行 row {issue.row}{column}: {issue.zh} / {issue.en}")


def _run_import(function, path: str, round_key: str, accept_valid: bool, late_reason: str | None,
                noun: tuple[str, str]) -> None:
    source = Path(path)
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise click.ClickException(f"无法读取文件 / cannot read {path}: {exc.strerror}") from None
    with db_session() as session, unit_of_work(session):  # the import commits its batch itself
        report = function(session, round_key=round_key, data=data, filename=source.name,
                          accept_valid=accept_valid, late_reason=late_reason, actor="cli")
    zh_noun, en_noun = noun
    if report.already_imported:
        click.echo(f"该文件已导入过该轮次（批次 {report.batch_id}，{report.imported} {zh_noun}），未重复导入 / "
                   f"this file was already imported into {report.round_key} (batch {report.batch_id}, "
                   f"{report.imported} {en_noun}); nothing changed")
        if not report.complete:
            raise click.exceptions.Exit(1)
        return
    print_report(report)
    failed = len(report.rejected_rows)
    if report.imported and failed:
        target = rejected_path(source)
        write_rejected(target, report.headers, report.rows, report.issues, report.labels)
        click.echo(f"已导入 {report.imported} {zh_noun}，拒绝 {failed} 行（原因见 {target}） / imported "
                   f"{report.imported} {en_noun}, rejected {failed} rows (reasons in {target})")
        raise click.exceptions.Exit(1)
    if failed:
        if accept_valid:
            target = rejected_path(source)
            write_rejected(target, report.headers, report.rows, report.issues, report.labels)
        click.echo(f"未导入：{report.total_rows} 行中 {failed} 行有问题，全部未写入 / nothing imported: "
                   f"{failed} of {report.total_rows} rows have problems", err=True)
        raise click.exceptions.Exit(1)
    late = f"（逾期导入，理由：{report.late_reason}）" if report.late_reason else ""
    click.echo(f"已导入 {report.imported} {zh_noun}到 {report.round_key}{late} / imported {report.imported} "
               f"{en_noun} into {report.round_key} (batch {report.batch_id})")


@click.command("import-works")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--round", "round_key", required=True, help="Round key, e.g. 2025Q1 or 2025Q1-浙江.")
@click.option("--accept-valid", is_flag=True, help="Import the valid rows; write the others to FILE.rejected.csv.")
@click.option("--late-reason", default=None, help="Admin override after the forwarding deadline (audit-logged).")
def import_works_command(path, round_key, accept_valid, late_reason):
    """Check and import the works in PATH (CSV or XLSX) into a round: all rows or none."""
    with_app(_run_import)(import_works, path, round_key, accept_valid, late_reason, ("部作品", "works"))


@click.command("import-cases")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--round", "round_key", required=True, help="The year's case round, e.g. 2025-cases.")
@click.option("--accept-valid", is_flag=True, help="Import the valid rows; write the others to FILE.rejected.csv.")
@click.option("--late-reason", default=None, help="Admin override after the Q4 forwarding deadline (audit-logged).")
def import_cases_command(path, round_key, accept_valid, late_reason):
    """Check and import dissemination cases (优秀传播案例) in PATH: all rows or none."""
    with_app(_run_import)(import_cases, path, round_key, accept_valid, late_reason, ("个案例", "cases"))


@click.command("import-template")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--cases", is_flag=True, help="The dissemination-case template instead of the works template.")
def import_template_command(path, cases):
    """Write the XLSX import template (Chinese headers, one example row) to PATH."""
    columns, example, title = (CASE_COLUMNS, CASE_EXAMPLE, "优秀传播案例") if cases else \
        (WORK_COLUMNS, WORK_EXAMPLE, "申报作品")
    Path(path).write_bytes(template_xlsx(columns, sheet_title=title, example=example))
    click.echo(f"template written: {path}")


@click.command("recommend")
@click.argument("key")
@click.argument("work_ids", nargs=-1, type=int)
@click.option("--reason", default=None, help="Written reason, needed to go over the provincial cap.")
@with_app
def round_recommend_command(key, work_ids, reason):
    """Record the entries provincial round KEY forwards (work ids; replaces an earlier choice)."""
    with db_session() as session, unit_of_work(session):
        round_ = get_round(session=session, key=key.strip())
        if round_ is None:
            raise click.ClickException(f"轮次 {key} 不存在 / round {key} does not exist")
        try:
            decision = recommend(session=session, round_=round_, work_ids=list(work_ids), reason=reason,
                                 actor="cli")
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"{decision.zh} / {decision.en}")
