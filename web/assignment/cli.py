"""Command line of the assignment: ``tuiyou assign`` (the seeded draw, run as a draw job like the
round page's, so the page shows its progress and refuses a second draw meanwhile) and
``tuiyou experts`` (import the pool, set an expert's password, declare conflicts).

Exit codes: 0 on success; 1 when the draw is infeasible or refused, or the import has row
errors (nothing written); 2 for usage errors.
"""
from __future__ import annotations

import secrets
import sys
import time
from pathlib import Path

import click

from scoring.rules.config import load_rules

from ..accounts.operations import set_password
from ..accounts.queries import get_user_by_name
from ..core.cli_support import db_session, unit_of_work, with_app
from ..rounds.queries import get_round
from .jobs import run_job, start_job
from .operations import AssignmentRefused
from ..core.models import Work
from .pool import EXPERT_COLUMNS, declare_conflict, import_experts, set_availability

_STEPS = {"conflicts": "回避检查 conflicts", "quotas": "均衡配额 balancing loads", "category": "按类别抽取 drawing",
          "done": "完成 done"}


def _progress():
    started = time.perf_counter()

    def tell(step: str, done: int, total: int) -> None:
        if step == "category" and done >= total:
            return
        where = f" {done + 1}/{total}" if step == "category" else ""
        click.echo(f"[{time.perf_counter() - started:6.1f}s] {_STEPS.get(step, step)}{where}", err=True)
    return tell


@click.command("assign")
@click.option("--round", "round_key", required=True, help="Round key, e.g. 2025Q1.")
@click.option("--per-work", type=click.IntRange(min=1), default=None,
              help="Experts per work (default: config/stages.toml [assignment] per_work).")
@click.option("--seed", type=click.IntRange(min=0, max=2**63 - 1), default=None,
              help="Seed of the draw (default: a random one, printed so the draw can be re-run).")
@with_app
def assign_command(round_key, per_work, seed):
    """Draw experts for every open slot of a round (随机抽取); prints the report and the seed."""
    per_work = per_work or load_rules().assignment.per_work
    with db_session() as session:
        round_ = get_round(session=session, key=round_key.strip())
        if round_ is None:
            raise click.ClickException(f"轮次 {round_key} 不存在 / round {round_key} does not exist")
        if seed is None:
            seed = secrets.randbelow(2**63 - 1)
        click.echo(f"随机种子 seed {seed}（重新运行：tuiyou assign --round {round_.key} --per-work {per_work} "
                   f"--seed {seed}）", err=True)
        started = time.perf_counter()
        try:  # a job like the page's: the page follows it, and no second draw of the round can start
            job = start_job(session=session, round_=round_, per_work=per_work, seed=seed, actor="cli")
        except AssignmentRefused as exc:
            session.rollback()
            click.echo(f"未分配，未写入任何数据 / nothing assigned, nothing written: {exc}", err=True)
            raise click.exceptions.Exit(1) from None
        run_job(session.get_bind(), job.id, also=_progress())
        session.refresh(job)
        seconds = time.perf_counter() - started
    if job.state != "done":
        click.echo(f"{job.message_zh} / {job.message_en}", err=True)
        raise click.exceptions.Exit(1)
    result = job.result
    for line in result["lines_zh"] + result["lines_en"]:
        click.echo(line)
    click.echo(f"写入 {result['new']} 条新分配，保留 {result['kept']} 条（{seconds:.1f} 秒）/ wrote "
               f"{result['new']} new assignments, kept {result['kept']} ({seconds:.1f} s)")


@click.group("experts")
def experts_group():
    """Manage the expert pool."""


@experts_group.command("import")
@click.argument("path", type=click.Path(dir_okay=False))
@with_app
def experts_import_command(path):
    """Import or update experts from PATH (CSV or XLSX): all rows or none."""
    source = Path(path)
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise click.ClickException(f"无法读取文件 / cannot read {path}: {exc.strerror}") from None
    with db_session() as session, unit_of_work(session):
        report = import_experts(session=session, data=data, filename=source.name, actor="cli")
        if not report.ok:  # nothing was written; the unit of work rolls back on the exit below anyway
            for issue in report.issues:
                label = EXPERT_COLUMNS.get(issue.column, (issue.column,))[0]
                column = f" · {label} ({issue.column})" if issue.column else ""
                click.echo(f"第 {issue.row} 行 row {issue.row}{column}: {issue.zh} / {issue.en}", err=True)
            click.echo(f"未导入：{report.total_rows} 行中有 {len({i.row for i in report.issues})} 行有问题，全部未写入 / "
                       f"nothing imported", err=True)
            raise click.exceptions.Exit(1)
    click.echo(f"新增专家 {len(report.created)} 名，更新 {len(report.updated)} 名 / created {len(report.created)} "
               f"experts, updated {len(report.updated)} existing profiles")
    if report.created:
        click.echo("新专家需由管理员设置密码后方可登录（tuiyou experts set-password NAME --password-stdin）/ new experts "
                   "can log in once an admin sets their password")


@experts_group.command("set-password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_app
def experts_set_password_command(name, password_stdin):
    """Set the password of user NAME (read from standard input)."""
    if not password_stdin:
        raise click.UsageError("pass --password-stdin and send the password on standard input")
    password = sys.stdin.readline().rstrip("\r\n")
    with db_session() as session, unit_of_work(session):
        user = get_user_by_name(session=session, username=name.strip().lower())
        if user is None:
            raise click.ClickException(f"用户 {name} 不存在 / user {name} does not exist")
        try:
            set_password(session=session, user=user, password=password, actor="cli")
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"已设置 {user.username} 的密码 / password set for {user.username}")


def _expert_or_fail(session, name: str):
    user = get_user_by_name(session=session, username=name.strip().lower())
    if user is None:
        raise click.ClickException(f"用户 {name} 不存在 / user {name} does not exist")
    return user


@experts_group.command("availability")
@click.argument("name")
@click.option("--round", "round_key", required=True, help="Round key, e.g. 2025Q1.")
@click.option("--available/--unavailable", required=True, help="Whether the expert takes new works in the round.")
@click.option("--reason", default="", help="Why (kept in the audit log).")
@with_app
def experts_availability_command(name, round_key, available, reason):
    """Mark expert NAME available or not in a round (an unavailable expert gets no new works)."""
    with db_session() as session, unit_of_work(session):
        user = _expert_or_fail(session, name)
        round_ = get_round(session=session, key=round_key.strip())
        if round_ is None:
            raise click.ClickException(f"轮次 {round_key} 不存在 / round {round_key} does not exist")
        set_availability(session=session, round_=round_, expert=user, available=available, actor="cli",
                         reason=reason)
    state = ("可参评", "available") if available else ("不可参评", "unavailable")
    click.echo(f"{user.username} 在 {round_.key} {state[0]} / {user.username} is {state[1]} in {round_.key}")


@experts_group.command("declare")
@click.argument("name")
@click.option("--org", default="", help="An organisation the expert must not rate.")
@click.option("--person", default="", help="A person the expert must not rate.")
@click.option("--work", "work_id", type=int, default=None, help="A work (id) the expert must not rate.")
@click.option("--reason", default="", help="Why (e.g. 三年内任职).")
@with_app
def experts_declare_command(name, org, person, work_id, reason):
    """Record a conflict of interest of expert NAME: one organisation, person or work."""
    with db_session() as session, unit_of_work(session):
        user = _expert_or_fail(session, name)
        work = session.get(Work, work_id) if work_id is not None else None
        if work_id is not None and work is None:
            raise click.ClickException(f"作品 {work_id} 不存在 / work {work_id} does not exist")
        try:
            declare_conflict(session=session, expert=user, actor="cli", organisation=org, person=person, work=work,
                             reason=reason)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
    click.echo(f"已记录 {user.username} 的回避申报 / conflict recorded for {user.username}")
