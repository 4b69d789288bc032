"""The round's ratings for a ranking, read column-wise and incrementally.

A submitted form's values never change while it stays submitted: a save bumps the form's
version and writes the whole set of values as that version, in the same transaction, and rating
rows are never updated or deleted. So the values of a form are a function of (form id,
version, created at, submitted at) — the creation time tells a form apart from a later one
that reuses a deleted form's id, as SQLite may. Each process keeps the values of the forms it has read per round; a
read asks the database for the round's submitted forms (one row each: 25,000 for a 5,000-work
round, not the 100,000 values) and fetches values only for the forms it has not seen at that
version. A recompute after one resubmitted form reads one form's values.

What a read returns is the submitted forms as the forms' statement saw them, each with the
values of exactly the version it saw (fetched by (form, version), so a form reopened and
submitted again between the two statements cannot mix versions), ordered by form then
criterion as the database orders them — the same columns :func:`rating_input` always gave.
"""
from __future__ import annotations

import threading
from itertools import chain
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlmodel import Session

from ..core.models import Assignment, AssignmentStatus, Rating, Round, RoundKind
from .rankings import RatingInput

#: Rounds whose form values a process keeps (least recently read dropped first).
KEPT_ROUNDS = 8
#: Above this many unseen forms the values are read in one joined statement, not by pairs.
BULK_FROM = 500
#: Form ids per IN list (SQLite's bound-parameter limit is far above; PostgreSQL's too).
CHUNK = 400


@dataclass(frozen=True)
class ReadStats:
    """What the last read of this process did (tests and benchmarks look)."""

    forms: int
    fetched_forms: int
    fetched_values: int


_values: OrderedDict[tuple[str, int], dict[int, tuple[tuple, tuple[str, ...], tuple[float, ...]]]] = OrderedDict()
_lock = threading.Lock()
last_read = ReadStats(0, 0, 0)


def forget() -> None:
    """Drop every kept value (tests; a process that restores a database under itself)."""
    with _lock:
        _values.clear()


def _tuples(connection, statement, parameters=None) -> list[tuple]:
    """Every row of a Core select as the driver's plain tuples (no SQLAlchemy Row per row)."""
    result = connection.execute(statement, parameters or {})
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


def rating_input(*, session: Session, round_: Round) -> RatingInput:
    """The current criterion values of every submitted form of the round (long form, by form
    then criterion), reading from the database only the forms not seen at their version."""
    global last_read
    forms_t, ratings_t = Assignment.__table__, Rating.__table__
    a, r = forms_t.c, ratings_t.c
    item = a.case_id if round_.kind == RoundKind.dissemination else a.work_id
    connection = session.connection()
    forms = _tuples(connection, select(a.id, a.version, a.created_at, a.submitted_at, a.expert_id, item, a.confidence)
                    .where(a.round_id == round_.id, a.status == AssignmentStatus.submitted, item.is_not(None))
                    .order_by(a.id))
    key = (connection.engine.url.render_as_string(hide_password=True), round_.id)
    with _lock:
        known = _values.get(key, {})
    wanted = {form: (version, created, submitted) for form, version, created, submitted, *_ in forms
              if (entry := known.get(form)) is None or entry[0] != (version, created, submitted)}
    fetched: dict[int, tuple[list[str], list[float]]] = {}
    if len(wanted) > BULK_FROM:
        # most forms unseen (a process's first read): the values of the forms' current versions
        # in one statement, in the database's (form, criterion) order
        rows = _tuples(connection, select(a.id, a.version, r.criterion, r.value)
                       .join_from(forms_t, ratings_t, (r.assignment_id == a.id) & (r.version == a.version))
                       .where(a.round_id == round_.id, a.status == AssignmentStatus.submitted, item.is_not(None))
                       .order_by(a.id, r.criterion))
        _collect(rows, wanted, fetched)
    missing = [form for form in wanted if form not in fetched]  # few, or a form resubmitted in between
    for start in range(0, len(missing), CHUNK):
        chunk = missing[start:start + CHUNK]
        # by form only (the index's leading column); the other versions' rows are dropped below
        rows = _tuples(connection, select(r.assignment_id, r.version, r.criterion, r.value)
                       .where(r.assignment_id.in_(chunk)).order_by(r.assignment_id, r.criterion))
        _collect(rows, wanted, fetched)
    current: dict[int, tuple[tuple, tuple[str, ...], tuple[float, ...]]] = {}
    for form, version, created, submitted, *_ in forms:
        if form in wanted:
            names, values = fetched.get(form, ((), ()))
            current[form] = ((version, created, submitted), tuple(names), tuple(values))
        else:
            current[form] = known[form]
    with _lock:
        _values[key] = current
        _values.move_to_end(key)
        while len(_values) > KEPT_ROUNDS:
            _values.popitem(last=False)
    last_read = ReadStats(len(forms), len(fetched), sum(len(v[0]) for v in fetched.values()))
    return _columns(forms, current)


def _columns(forms: list[tuple], current: dict) -> RatingInput:
    """The long form: each form's values in its order, the form's columns repeated per value."""
    entries = [current[row[0]] for row in forms]
    counts = np.fromiter((len(e[1]) for e in entries), dtype=np.int64, count=len(entries))
    total = int(counts.sum())
    if not total:
        return RatingInput([], [], [], [], [], {})
    form_id, _version, _created, _submitted, expert_id, item_id, confidence = zip(*forms)
    return RatingInput(np.repeat(np.array(form_id, dtype=np.int64), counts),
                       np.repeat(np.array(expert_id, dtype=np.int64), counts),
                       np.repeat(np.array(item_id, dtype=np.int64), counts),
                       list(chain.from_iterable(e[1] for e in entries)),
                       np.fromiter(chain.from_iterable(e[2] for e in entries), dtype=float, count=total),
                       # as the joined read gave it: the forms with values and a confidence
                       {f: c for f, c, n in zip(form_id, confidence, counts.tolist()) if c is not None and n})


def _collect(rows, wanted: dict[int, tuple], fetched: dict[int, tuple[list[str], list[float]]]) -> None:
    """Keep the rows of the wanted (form, version) pairs, per form in the rows' order."""
    for form, version, name, value in rows:
        if form in wanted and wanted[form][0] == version:
            names, values = fetched.setdefault(form, ([], []))
            names.append(name)
            values.append(value)
