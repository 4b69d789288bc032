"""What every import shares: the report, the checks of round, state, deadline and header row
(``prepare``), and writing one batch in a single transaction (``write_batch``).

The same file imported again into the same round is a no-op (its SHA-256 is recorded on the
ImportBatch).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from flask import current_app, has_app_context
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from scoring.rules.columns import Column, map_headers
from scoring.rules.config import Rules
from scoring.rules.eligibility import Issue
from scoring.rules.states import INTAKE_OPEN, state_label_zh

from ..core.audit import record_event
from ..core.models import ImportBatch, Round, RoundKind, utcnow
from ..rounds.keys import round_deadlines
from ..rounds.queries import get_round
from .files import IntakeError, Table, read_table


def today() -> dt.date:
    """Today's date: app config ``TODAY`` or ``$TUIYOU_TODAY`` (tests, rehearsals), else the real date."""
    value: Any = current_app.config.get("TODAY") if has_app_context() else None
    value = value or os.environ.get("TUIYOU_TODAY")
    if isinstance(value, dt.date):
        return value
    if value:
        return dt.date.fromisoformat(str(value))
    return dt.date.today()


@dataclass
class ImportReport:
    """What an import did: rows seen, imported, and every issue with its row and column."""

    round_key: str
    filename: str
    sha256: str
    kind: str = "works"
    total_rows: int = 0
    imported: int = 0
    issues: list[Issue] = field(default_factory=list)
    headers: list[Any] = field(default_factory=list)
    rows: list[tuple[int, list[Any]]] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)  # field key → header as the file spells it
    cells: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # row → field key → raw cell
    batch_id: int | None = None
    already_imported: bool = False
    previously_rejected: int = 0  # rows the earlier import of this same file left out
    late_reason: str | None = None

    @property
    def rejected_rows(self) -> list[int]:
        return sorted({issue.row for issue in self.issues})

    @property
    def complete(self) -> bool:
        """Every row of the file is in the database (the CLI exits 0 only then)."""
        if self.already_imported:
            return self.previously_rejected == 0
        return not self.issues and self.imported == self.total_rows

    def column_label(self, key: str) -> str:
        return self.labels.get(key, key)


# Where the late reason is given: the command line's flag, or the import page's field (zh, en).
LATE_REASON_FLAG = ("--late-reason", "--late-reason")
LATE_REASON_FIELD = ("“逾期理由”一栏", "the “Late reason” field")


def check_round_open(round_: Round | None, key: str, *, kind: str, on: dt.date,
                     late_reason: str | None, rules: Rules,
                     late_reason_where: tuple[str, str] = LATE_REASON_FLAG) -> None:
    """Refuse an import into a missing, closed or wrong-kind round, or after the deadline without a reason.

    ``late_reason_where`` names where the caller takes the late reason (flag or page field).
    """
    if round_ is None:
        raise IntakeError(f"轮次 {key} 不存在", f"round {key} does not exist")
    if kind == "works" and round_.kind == RoundKind.annual:
        raise IntakeError("年度推优从已签署的季度推优结果中产生，不需重新申报（请用 round create-annual）",
                          "the annual round is built from the signed quarterly selections, without "
                          "re-submission (use `round create-annual`)")
    if kind == "works" and round_.kind == RoundKind.dissemination:
        raise IntakeError(f"{key} 是优秀传播案例轮次，请用 import-cases 导入案例",
                          f"{key} is a dissemination-case round; use import-cases")
    if kind == "cases" and round_.kind != RoundKind.dissemination:
        raise IntakeError(f"优秀传播案例只能导入年度传播案例轮次（如 {round_.year}-cases），{key} 不是",
                          f"dissemination cases go into the year's case round (e.g. {round_.year}-cases), not {key}")
    if round_.state.value not in INTAKE_OPEN:
        raise IntakeError(f"轮次 {key} 处于“{state_label_zh(round_.state.value)}”状态，只有草稿或申报受理状态可以导入",
                          f"round {key} is {round_.state.value}; imports are allowed only in draft or intake")
    deadline = round_deadlines(round_, rules).forwarding
    if deadline is None:
        raise IntakeError(f"配置中没有 {round_.year} 年的日历", f"config has no calendar for {round_.year}")
    if on > deadline and not (late_reason and late_reason.strip()):
        zh_where, en_where = late_reason_where
        raise IntakeError(f"已过 {key} 的报送截止日期（{deadline}），管理员须填写逾期理由（{zh_where}）方可导入",
                          f"the forwarding deadline of {key} ({deadline}) has passed; an admin must give "
                          f"{en_where} to import")


def _find_batch(session: Session, round_id: int, sha256: str) -> ImportBatch | None:
    return session.exec(select(ImportBatch).where(ImportBatch.round_id == round_id,
                                                  ImportBatch.sha256 == sha256)).first()


def prepare(session: Session, *, round_key: str, data: bytes, filename: str, kind: str,
            columns: Sequence[Column], late_reason: str | None, on: dt.date, rules: Rules,
            extra_header_check: Callable[[set[str]], tuple[str, str] | None] | None = None,
            late_reason_where: tuple[str, str] = LATE_REASON_FLAG,
            ) -> tuple[Round, ImportReport, Table | None]:
    """Checks shared by every import: round, state, deadline, repeat, file and header row."""
    round_ = get_round(session=session, key=round_key.strip())
    check_round_open(round_, round_key, kind=kind, on=on, late_reason=late_reason, rules=rules,
                     late_reason_where=late_reason_where)
    digest = hashlib.sha256(data).hexdigest()
    report = ImportReport(round_key=round_.key, filename=os.path.basename(filename)[:400], sha256=digest,
                          kind=kind, late_reason=(late_reason or "").strip() or None)
    previous = _find_batch(session, round_.id, digest)
    if previous is not None:
        report.already_imported, report.batch_id = True, previous.id
        report.imported, report.total_rows = previous.rows_imported, previous.rows_imported
        report.previously_rejected = previous.rows_rejected
        return round_, report, None
    table = read_table(data, filename)
    header = map_headers(table.headers, columns)
    problem = None if header.ok else header.problem(columns)
    if problem is None and extra_header_check is not None:
        problem = extra_header_check(set(header.positions))
    if problem is not None:
        raise IntakeError(*problem)
    report.headers, report.rows, report.total_rows = table.headers, table.rows, len(table.rows)
    report.labels = dict(header.shown)
    width = len(table.headers)
    cells_by_row = []
    for number, values in table.rows:
        if len(values) > width and any(v not in (None, "") for v in values[width:]):
            report.issues.append(Issue(number, "", f"第 {number} 行的单元格比表头多",
                                       f"row {number} has more cells than the header row"))
        cells_by_row.append((number, {key: values[pos] if pos < len(values) else None
                                      for key, pos in header.positions.items()}))
    report.cells = cells_by_row
    return round_, report, table


def write_batch(session: Session, *, round_: Round, report: ImportReport, actor: str,
                table: Any, rows: list[dict[str, Any]]) -> None:
    """Write the batch, its rows and the audit event, and commit; roll back on any failure."""
    try:
        batch = ImportBatch(round_id=round_.id, filename=report.filename, sha256=report.sha256,
                            rows_imported=len(rows), rows_rejected=len(report.rejected_rows),
                            late_reason=report.late_reason, actor=actor[:100], kind=report.kind)
        session.add(batch)
        session.flush()
        now = utcnow()
        for row in rows:
            row.update(round_id=round_.id, import_batch_id=batch.id, created_at=now)
        for start in range(0, len(rows), 1000):
            session.execute(insert(table), rows[start:start + 1000])
        record_event(session, f"import.{report.kind}", actor=actor, round_id=round_.id,
                     subject=report.filename,
                     detail={"batch": batch.id, "sha256": report.sha256, "imported": len(rows),
                             "rejected_rows": report.rejected_rows[:1000],
                             "late_reason": report.late_reason})
        session.commit()
    except IntegrityError:
        # Another import of the same file into this round won the race (unique round + sha256).
        session.rollback()
        raise IntakeError("同一文件正在或已经导入该轮次", "this file is being or has been imported "
                          "into this round") from None
    except BaseException:
        session.rollback()
        raise
    report.batch_id, report.imported = batch.id, len(rows)
