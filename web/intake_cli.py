"""Command line for intake and rounds: ``import-works``, ``import-cases``, ``import-template``
and ``round set-state | create-annual | recommend | list``.

Reports are bilingual (Chinese / English), one line per problem with its row and column.
Exit codes: 0 only when everything was imported (or the command did what it said); 1 when
rows were rejected or the command was refused; 2 for usage errors.
"""
from __future__ import annotations

import functools
from pathlib import Path

import click

from scoring.rules.columns import CASE_COLUMNS, WORK_COLUMNS
from scoring.rules.config import load_rules
from scoring.rules.states import STATES, TransitionError

from .intake import ImportReport, import_works
from .intake_cases import import_cases
from .intake_files import IntakeError, rejected_path, template_xlsx, write_rejected
from .queries import get_round, list_rounds, work_counts
from .rounds import round_deadlines

WORK_EXAMPLE = ("山河人间", "网络剧", "山河文化传媒有限公司", "机构", "浙江省广播电视局", "省级", "优酷",
                "2025-01-05", "2025-02-20", "（浙）网剧审字（2024）第012号", "山河文化传媒有限公司",
                "否", "否", "否", 24, 45, "一部关于……的网络剧", "https://example.org/works/1")
CASE_EXAMPLE = ("非遗春节主题传播活动", "中央广播电视总台", "2025-01-20 至 2025-02-15", "", "",
                "围绕首个非遗春节开展的……", "抖音、微博、央视频", "累计播放 3.2 亿次", "https://example.org/cases/1")


def _in_app(function):
    """Run ``function`` in an app context (web.cli imports this module, so import it lazily)."""
    @functools.wraps(function)
    def wrapped(*args, **kwargs):
        from .cli import with_app

        return with_app(function)(*args, **kwargs)

    return wrapped


def _session():
    from .cli import db_session

    return db_session()


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
    with _session() as session:
        try:
            report = function(session, round_key=round_key, data=data, filename=source.name,
                              accept_valid=accept_valid, late_reason=late_reason, actor="cli")
        except IntakeError as exc:
            raise click.ClickException(f"{exc.zh} / {exc.en}") from None
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
    _in_app(_run_import)(import_works, path, round_key, accept_valid, late_reason, ("部作品", "works"))


@click.command("import-cases")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--round", "round_key", required=True, help="The year's case round, e.g. 2025-cases.")
@click.option("--accept-valid", is_flag=True, help="Import the valid rows; write the others to FILE.rejected.csv.")
@click.option("--late-reason", default=None, help="Admin override after the Q4 forwarding deadline (audit-logged).")
def import_cases_command(path, round_key, accept_valid, late_reason):
    """Check and import dissemination cases (优秀传播案例) in PATH: all rows or none."""
    _in_app(_run_import)(import_cases, path, round_key, accept_valid, late_reason, ("个案例", "cases"))


@click.command("import-template")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--cases", is_flag=True, help="The dissemination-case template instead of the works template.")
def import_template_command(path, cases):
    """Write the XLSX import template (Chinese headers, one example row) to PATH."""
    columns, example, title = (CASE_COLUMNS, CASE_EXAMPLE, "优秀传播案例") if cases else \
        (WORK_COLUMNS, WORK_EXAMPLE, "申报作品")
    Path(path).write_bytes(template_xlsx(columns, sheet_title=title, example=example))
    click.echo(f"template written: {path}")


@click.command("set-state")
@click.argument("key")
@click.argument("state", type=click.Choice(STATES))
@click.option("--reason", default=None, help="Why (required when stepping back).")
def round_set_state_command(key, state, reason):
    """Move round KEY to STATE (draft → intake → scoring → review → signed)."""
    from .round_admin import set_state

    @_in_app
    def run():
        with _session() as session:
            round_ = get_round(session=session, key=key.strip())
            if round_ is None:
                raise click.ClickException(f"轮次 {key} 不存在 / round {key} does not exist")
            previous = round_.state.value
            try:
                set_state(session=session, round_=round_, state=state, actor="cli", reason=reason)
            except TransitionError as exc:
                raise click.ClickException(f"{exc.zh} / {exc.en}") from None
            session.commit()
        click.echo(f"{key}: {previous} → {state}")

    run()


@click.command("create-annual")
@click.argument("year", type=int)
def round_create_annual_command(year):
    """Build round YEAR from the works on the year's signed quarterly shortlists (no re-submission)."""
    from .round_admin import create_annual

    @_in_app
    def run():
        with _session() as session:
            try:
                build = create_annual(session=session, year=year, actor="cli")
            except ValueError as exc:
                raise click.ClickException(str(exc)) from None
            session.commit()
        click.echo(f"annual round {build.round.key}: {build.added} works added from "
                   f"{', '.join(build.quarters_used)}" + (f", {build.already_there} already there"
                                                        if build.already_there else ""))
        if build.quarters_unsigned:
            click.echo(f"not yet signed (not included): {', '.join(build.quarters_unsigned)}")

    run()


@click.command("recommend")
@click.argument("key")
@click.argument("work_ids", nargs=-1, type=int)
@click.option("--reason", default=None, help="Written reason, needed to go over the provincial cap.")
def round_recommend_command(key, work_ids, reason):
    """Record the entries provincial round KEY forwards (work ids; replaces an earlier choice)."""
    from .round_admin import recommend

    @_in_app
    def run():
        with _session() as session:
            round_ = get_round(session=session, key=key.strip())
            if round_ is None:
                raise click.ClickException(f"轮次 {key} 不存在 / round {key} does not exist")
            try:
                decision = recommend(session=session, round_=round_, work_ids=list(work_ids), reason=reason,
                                     actor="cli")
            except ValueError as exc:
                raise click.ClickException(str(exc)) from None
            session.commit()
        click.echo(f"{decision.zh} / {decision.en}")

    run()


@click.command("list")
def round_list_command():
    """Rounds with state, entries and the calendar's window and deadlines."""
    @_in_app
    def run():
        rules = load_rules()
        with _session() as session:
            counts = work_counts(session=session)
            for round_ in list_rounds(session=session):
                deadlines = round_deadlines(round_, rules)
                window = f"{deadlines.window[0]}..{deadlines.window[1]}" if deadlines.window else "-"
                click.echo(f"{round_.key}\t{round_.kind.value}\t{round_.stage.value}\t{round_.state.value}\t"
                           f"{counts.get(round_.id, 0)}\twindow {window}\tsubmit by {deadlines.submission or '-'}"
                           f"\tforward by {deadlines.forwarding or '-'}")

    run()


ROUND_COMMANDS = (round_set_state_command, round_create_annual_command, round_recommend_command,
                  round_list_command)
TOP_COMMANDS = (import_works_command, import_cases_command, import_template_command)
