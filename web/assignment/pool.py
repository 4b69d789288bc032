"""Writes of the expert pool: the import (``tuiyou experts import``, all rows or none), declared
conflicts (organisations, people, works — an expert declares a work on their page through
``declare_work_conflict``, which records it with the CLI's ``declare_conflict``), availability
per round, and an admin-set password.

Imported experts get an unusable password hash ("!" is never an argon2 hash, so login with
them fails like a wrong password) until an admin sets one. Re-importing updates the
profiles of existing experts rather than failing.
"""
from __future__ import annotations

import re

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from scoring.rules.config import load_rules
from scoring.rules.eligibility import Issue

from ..core.audit import record_event
from ..intake.files import read_table
from ..core.models import Assignment, AssignmentStatus, Conflict, ExpertAbsence, Role, Round, User, Work
from .operations import OPEN_STATES, AssignmentRefused

UNUSABLE_PASSWORD = "!"  # not an argon2 hash: verification always fails
# key -> (Chinese label, required)
EXPERT_COLUMNS = {"username": ("用户名", True), "name": ("姓名", True), "org": ("工作单位", False),
                  "province": ("所在省份", False), "categories": ("擅长类别", True),
                  "capacity": ("每轮最多评审数", False),
                  "avoid_orgs": ("回避单位", False), "avoid_people": ("回避人员", False),
                  "avoid_works": ("回避作品", False)}
_SEPARATORS = ("、", "，", ",", ";", "；")


@dataclass
class ExpertImportReport:
    """What an expert import found and (when nothing was wrong) did."""

    total_rows: int = 0
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.issues


def split_names(value: Any) -> list[str]:
    """A cell's list of names, separated by 、 or commas (full- or half-width) or semicolons."""
    text = "" if value is None else str(value)
    for sep in _SEPARATORS[1:]:
        text = text.replace(sep, "、")
    return [part.strip() for part in text.split("、") if part.strip()]


def _header_keys(headers: list[Any]) -> tuple[dict[int, str], list[Issue]]:
    by_label = {label: key for key, (label, _) in EXPERT_COLUMNS.items()}
    found, issues = {}, []
    for index, header in enumerate(headers):
        name = str(header or "").strip()
        key = name.lower() if name.lower() in EXPERT_COLUMNS else by_label.get(name)
        if key is None:
            if name:
                issues.append(Issue(0, name, f"未知列“{name}”", f"unknown column {name!r}"))
            continue
        found[index] = key
    for key, (label, required) in EXPERT_COLUMNS.items():
        if required and key not in found.values():
            issues.append(Issue(0, key, f"缺少必填列“{label}”（{key}）", f"missing required column {key} ({label})"))
    return found, issues


def _work_numbers(session: Session, names: list[str], problems: list) -> list[int]:
    """The registered works a row's 回避作品 cell names by number; a problem for each that is not one."""
    numbers = []
    for name in names:
        whole = re.fullmatch(r"(\d{1,10})(?:\.0+)?", name)  # an XLSX number cell reads as "12.0"
        number = int(whole.group(1)) if whole and int(whole.group(1)) < 2**31 else None
        if number is None or session.get(Work, number) is None:
            problems.append(("avoid_works", f"回避作品“{name}”不是已登记作品的编号",
                             f"avoid_works: {name!r} is not the number of a registered work"))
        else:
            numbers.append(number)
    return numbers


def import_experts(*, session: Session, data: bytes, filename: str, actor: str) -> ExpertImportReport:
    """Check every row, then create or update all experts, or none (raises IntakeError for an unreadable file)."""
    table = read_table(data, filename)
    columns, issues = _header_keys(table.headers)
    report = ExpertImportReport(total_rows=len(table.rows))
    if issues:
        report.issues = [Issue(table.header_row, i.column, i.zh, i.en) for i in issues]
        return report
    known = set(load_rules().category_names)
    seen: dict[str, int] = {}
    rows = []
    for number, values in table.rows:
        cell = {key: values[i] if i < len(values) else None for i, key in columns.items()}
        text = {k: ("" if v is None else str(v).strip()) for k, v in cell.items()}
        problems = []
        username = text.get("username", "").lower()
        if not username or len(username) > 100 or any(ch.isspace() for ch in username):
            problems.append(("username", "用户名为空或含空格（最多 100 个字符）", "user name empty, too long or with spaces"))
        elif username in seen:
            problems.append(("username", f"用户名与第 {seen[username]} 行重复", f"same user name as row {seen[username]}"))
        seen.setdefault(username, number)
        if not text.get("name"):
            problems.append(("name", "姓名为空", "name is empty"))
        categories = split_names(cell.get("categories"))
        unknown = [c for c in categories if c not in known]
        if not categories:
            problems.append(("categories", "擅长类别为空", "no category of expertise"))
        elif unknown:
            problems.append(("categories", f"未知类别“{unknown[0]}”", f"unknown category {unknown[0]!r}"))
        capacity = None
        raw = text.get("capacity", "")
        if raw:
            try:
                capacity = int(float(raw))
                if capacity < 1 or capacity != float(raw):
                    raise ValueError
            except ValueError:
                problems.append(("capacity", f"每轮最多评审数应为正整数（收到“{raw}”）",
                                 f"capacity must be a positive whole number (got {raw!r})"))
        avoid_works = _work_numbers(session, split_names(cell.get("avoid_works")), problems)
        existing = session.exec(select(User).where(User.username == username)).first() if username else None
        if existing is not None and existing.role != Role.expert:
            problems.append(("username", f"用户 {username} 已存在且不是评审专家", f"user {username} exists and is not an expert"))
        report.issues += [Issue(number, col, zh, en) for col, zh, en in problems]
        rows.append((username, text, categories, capacity, existing, cell, avoid_works))
    if report.issues:
        return report
    for username, text, categories, capacity, existing, cell, avoid_works in rows:
        user = existing or User(username=username, role=Role.expert, password_hash=UNUSABLE_PASSWORD)
        user.display_name, user.categories, user.capacity = text["name"], categories, capacity
        user.organisation, user.province = text.get("org", ""), text.get("province", "")
        session.add(user)
        session.flush()
        mine = list(session.exec(select(Conflict).where(Conflict.user_id == user.id)))
        declared = {(c.organisation, c.person) for c in mine if c.work_id is None}
        for work_id in sorted(set(avoid_works) - {c.work_id for c in mine}):
            session.add(Conflict(user_id=user.id, work_id=work_id, kind="declared", reason="导入 / imported"))
        for org in split_names(cell.get("avoid_orgs")):
            if (org, None) not in declared:
                session.add(Conflict(user_id=user.id, organisation=org, kind="declared", reason="导入 / imported"))
        for person in split_names(cell.get("avoid_people")):
            if (None, person) not in declared:
                session.add(Conflict(user_id=user.id, person=person, kind="declared", reason="导入 / imported"))
        (report.updated if existing else report.created).append(username)
    record_event(session, "experts.imported", actor=actor, subject=filename[:200],
                 detail={"created": len(report.created), "updated": len(report.updated)})
    session.flush()
    return report


def declare_conflict(*, session: Session, expert: User, actor: str, organisation: str = "", person: str = "",
                     work: Work | None = None, reason: str = "") -> Conflict:
    """Record a conflict the expert declares: an organisation, a person or a work."""
    organisation, person = organisation.strip()[:200], person.strip()[:100]
    if sum(bool(x) for x in (organisation, person, work)) != 1:
        raise AssignmentRefused("请只申报一项：一个单位、一个人员或一部作品",
                                "declare exactly one of: an organisation, a person, a work")
    row = Conflict(user_id=expert.id, organisation=organisation or None, person=person or None,
                   work_id=work.id if work else None, kind="declared", reason=reason.strip()[:1000])
    session.add(row)
    session.flush()
    record_event(session, "conflict.declared", actor=actor, subject=expert.username,
                 detail={"organisation": row.organisation, "person": row.person, "work_id": row.work_id})
    return row


def declare_work_conflict(*, session: Session, expert: User, work: Work | None, actor: str,
                          reason: str = "") -> Conflict:
    """The expert declares a conflict with one work of an open round (their 回避申报 page), with a reason.

    Refused (AssignmentRefused, nothing written) when the work is not in a round in intake or
    scoring or not of the expert's categories (what the expert could be assigned anyway: the
    declared list would otherwise show any work's title), the reason is empty, it is already
    declared, or the work is already assigned to the expert — then the expert recuses on the
    scoring form, which frees the slot for a replacement.
    """
    if work is None or work.category not in (expert.categories or []) or session.exec(
            select(Round.id).where(Round.id == work.round_id, Round.state.in_(OPEN_STATES))).first() is None:
        raise AssignmentRefused("作品不存在，或不是您擅长类别中征集或评审中的作品",
                                "no such work of your categories in a round in intake or scoring")
    if not (reason or "").strip():
        raise AssignmentRefused("请说明回避理由（如参与创作、亲属关系）", "give a reason (e.g. took part in it, a relative)")
    if session.exec(select(Conflict.id).where(Conflict.user_id == expert.id, Conflict.work_id == work.id)).first():
        raise AssignmentRefused(f"已申报回避作品 {work.id}", f"work {work.id} is already declared")
    if session.exec(select(Assignment.id).where(Assignment.expert_id == expert.id, Assignment.work_id == work.id,
                                                Assignment.status != AssignmentStatus.recused)).first():
        raise AssignmentRefused(f"作品 {work.id} 已分配给您：请在该作品的评分页面申请回避，组长会安排替补",
                                f"work {work.id} is already assigned to you: recuse on its scoring form and the "
                                "chair will find a replacement")
    return declare_conflict(session=session, expert=expert, actor=actor, work=work, reason=reason)


def withdraw_conflict(*, session: Session, conflict: Conflict, actor: str) -> None:
    """Withdraw a declared conflict (recusals made while scoring cannot be withdrawn)."""
    if conflict.kind == "recused":
        raise AssignmentRefused("评审时提出的回避不能撤回", "a recusal made while scoring cannot be withdrawn")
    record_event(session, "conflict.withdrawn", actor=actor, subject=str(conflict.user_id),
                 detail={"organisation": conflict.organisation, "person": conflict.person, "work_id": conflict.work_id})
    session.delete(conflict)
    session.flush()


def set_availability(*, session: Session, round_: Round, expert: User, available: bool, actor: str,
                     reason: str = "") -> None:
    """Mark an expert available or not in a round (an unavailable one gets no new assignments)."""
    row = session.exec(select(ExpertAbsence).where(ExpertAbsence.round_id == round_.id,
                                                   ExpertAbsence.user_id == expert.id)).first()
    if available and row is not None:
        session.delete(row)
    elif not available and row is None:
        session.add(ExpertAbsence(round_id=round_.id, user_id=expert.id, reason=reason.strip()[:1000]))
    record_event(session, "expert.availability", actor=actor, round_id=round_.id, subject=expert.username,
                 detail={"available": available, "reason": reason.strip()[:1000]})
    session.flush()


