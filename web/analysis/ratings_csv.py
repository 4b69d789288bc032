"""Reading a long-form ratings CSV (``work_id,rater_id,score`` and optional columns) into numpy columns.

The CSV is split in one pass (plain ``str.split`` when the file has no quotes, the csv
module otherwise); every bad row is reported by its data row and file line as a
``click.ClickException`` (exit code 1, no traceback). Loads neither Flask nor SQLAlchemy.
"""

from __future__ import annotations

import csv
import gc
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path

import click
import numpy as np

__all__ = ["RatingsTable", "read_ratings_csv", "encode_labels", "REQUIRED", "OPTIONAL"]

REQUIRED = ("work_id", "rater_id", "score")
OPTIONAL = ("category", "confidence", "criterion")


@dataclass
class RatingsTable:
    """Columns of a ratings CSV as numpy arrays (ids and categories as strings)."""

    work: np.ndarray
    rater: np.ndarray
    score: np.ndarray
    category: np.ndarray | None
    confidence: np.ndarray | None
    criterion: list[str] | None


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return raw.decode("gbk")
        except UnicodeDecodeError:
            raise click.ClickException(f"{path}: not UTF-8 or GBK text") from None


def encode_labels(values: list[str]) -> tuple[np.ndarray, list[str]]:
    codes: dict[str, int] = {}
    arr = np.fromiter((codes.setdefault(v, len(codes)) for v in values), dtype=np.int64, count=len(values))
    return arr, list(codes)


def _numbers(values, column: str, path: Path) -> np.ndarray:
    try:
        out = np.fromiter(map(float, values), dtype=float, count=len(values))
    except ValueError:
        out = None
    if out is None or not np.isfinite(out).all():
        for i, v in enumerate(values):
            try:
                ok = math.isfinite(float(v))
            except ValueError:
                ok = False
            if not ok:
                raise click.ClickException(
                    f"{path}: data row {i + 1} (line {i + 2}), column {column!r}: {v!r} is not a finite number"
                )
    return out


def _split_rows(text: str, path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and data rows; a fast split for files without quotes, the csv module otherwise.

    Trailing blank lines are dropped; a blank line between data rows is an error, so that
    data row N is always line N + 1 of the file.
    """
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise click.ClickException(f"{path}: the file is empty")
    blank = re.search(r"\n[ \t,]*\n", "\n".join(lines) + "\n")
    if blank:
        line = "\n".join(lines)[: blank.start() + 1].count("\n") + 1
        raise click.ClickException(f"{path}: line {line} is blank")
    # a million small lists would trigger the cyclic garbage collector over and over
    # (5x slower); they hold only strings, so collection can wait until they are built
    gc.disable()
    try:
        if '"' in text:
            records = list(csv.reader(io.StringIO("\n".join(lines), newline="")))
        else:
            records = [line.split(",") for line in lines]
    finally:
        gc.enable()
    return records[0], records[1:]


def read_ratings_csv(path: Path, *, required=REQUIRED, optional=OPTIONAL) -> RatingsTable:
    """Read a long-form ratings CSV (UTF-8 or GBK, header row) into encoded columns."""
    header, rows = _split_rows(_read_text(path), path)
    header = [h.strip().lower() for h in header]
    missing = [c for c in required if c not in header]
    if missing:
        raise click.ClickException(f"{path}: missing column {missing[0]!r} (header: {', '.join(header)})")
    wanted = [c for c in (*required, *optional) if c in header]
    width = len(header)
    widths = set(map(len, rows))
    if widths - {width}:
        i = next(i for i, r in enumerate(rows) if len(r) != width)
        raise click.ClickException(f"{path}: line {i + 2} has {len(rows[i])} fields, the header has {width}")
    data = {c: [r[j] for r in rows] for c, j in ((c, header.index(c)) for c in wanted)}
    del rows
    n = len(data["work_id"])
    if n == 0:
        raise click.ClickException(f"{path}: no data rows")
    for column in ("work_id", "rater_id"):
        values = data[column] = [v.strip() for v in data[column]]
        if "" in values:
            i = values.index("")
            raise click.ClickException(f"{path}: data row {i + 1} (line {i + 2}), column {column!r} is empty")
    work = np.array(data["work_id"], dtype=np.str_)
    rater = np.array(data["rater_id"], dtype=np.str_)
    score = _numbers(data["score"], "score", path)
    category = None
    if "category" in data:
        category = np.array([c.strip() for c in data["category"]], dtype=np.str_)
    confidence = None
    if "confidence" in data:
        confidence = _numbers(data["confidence"], "confidence", path)
        bad = np.flatnonzero(confidence <= 0)
        if bad.size:
            i = int(bad[0])
            raise click.ClickException(
                f"{path}: data row {i + 1} (line {i + 2}), column 'confidence': {data['confidence'][i]!r} must be > 0"
            )
    criterion = [c.strip() for c in data["criterion"]] if "criterion" in data else None
    return RatingsTable(work, rater, score, category, confidence, criterion)
