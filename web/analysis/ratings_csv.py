"""Reading a long-form ratings CSV (``work_id,rater_id,score`` and optional columns) into numpy columns.

Two readers give the same table. Large files (``COLUMNAR_MIN_BYTES`` and up) go through
pyarrow's CSV reader, whose parser dictionary-encodes the id and category columns as it goes
(they arrive as :class:`scoring.panel.CodedLabels`, so no Python string is made per row and
the panel sorts only the distinct ids): a 1,000,000-row file takes 0.2-0.3 s of CPU in a
fresh process, pyarrow's import included, against about 2 s for the Python reader
(docs/benchmarks.md, (f)). The columnar path only takes files it can check completely (UTF-8,
no quotes, no blank lines, every row as wide as the header, finite numbers, non-empty ids
without surrounding spaces, positive confidences); anything else, and every error, falls
back to the Python reader, which splits the CSV in one pass (plain
``str.split`` when the file has no quotes, the csv module otherwise) and reports every bad
row by its data row and file line as a ``click.ClickException`` (exit code 1, no
traceback). So error messages are the Python reader's, whatever the file size. Loads
neither Flask nor SQLAlchemy.
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

from scoring.panel import CodedLabels

__all__ = ["RatingsTable", "read_ratings_csv", "encode_labels", "REQUIRED", "OPTIONAL", "COLUMNAR_MIN_BYTES"]

REQUIRED = ("work_id", "rater_id", "score")
OPTIONAL = ("category", "confidence", "criterion")
#: Files from this size on are read by pyarrow (importing it costs about 0.5 s, which a
#: small file does not repay; the Python reader takes about 3 s per million rows).
COLUMNAR_MIN_BYTES = 4 * 2**20
#: pyarrow parses the file in blocks of this size (1, 4 and 16 MiB measured within the noise)
BLOCK_BYTES = 4 * 2**20


@dataclass
class RatingsTable:
    """Columns of a ratings CSV as numpy arrays (ids and categories as strings)."""

    work: np.ndarray | CodedLabels
    rater: np.ndarray | CodedLabels
    score: np.ndarray
    category: np.ndarray | CodedLabels | None
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


def _arrow_numpy(array, dtype) -> np.ndarray:
    """The values of a pyarrow array without nulls as a numpy view (``to_numpy`` would import pandas)."""
    array = array.combine_chunks() if hasattr(array, "combine_chunks") else array
    itemsize = np.dtype(dtype).itemsize
    return np.frombuffer(array.buffers()[1], dtype=dtype, count=len(array), offset=array.offset * itemsize)


def _coded(column, *, allow_empty: bool) -> CodedLabels | None:
    """A dictionary-encoded column (its chunks sharing one dictionary) as codes and labels.

    None when a label is one the Python reader would change by stripping it, or an empty id.
    """
    labels = column.chunk(0).dictionary.to_pylist() if column.num_chunks else []
    if any(v != v.strip() for v in labels) or (not allow_empty and "" in labels):
        return None
    # the indices of every chunk point into that one dictionary (Table.unify_dictionaries)
    codes = np.concatenate([_arrow_numpy(chunk.indices, np.int32) for chunk in column.chunks])
    return CodedLabels(codes.astype(np.intp), np.array(labels, dtype=np.str_))


def _read_columnar(path: Path, required, optional) -> RatingsTable | None:
    """The table read by pyarrow, or None when the file needs the Python reader (see the module docstring)."""
    try:
        # not pyarrow.compute: its import compiles hundreds of wrappers (2.7 s measured)
        import pyarrow as pa
        import pyarrow.csv as pcsv
    except ImportError:  # pragma: no cover - pyarrow is a dependency; the Python reader still works
        return None
    raw = path.read_bytes()
    start = 3 if raw.startswith(b"\xef\xbb\xbf") else 0
    end = len(raw)
    while end > start and raw[end - 1] in b"\r\n":  # trailing line ends (blank lines at the end)
        end -= 1
    # a view, not a copy of the file: every scan below is a memchr over it
    body = memoryview(raw)[start:end]
    if raw.find(b'"', start, end) >= 0:
        return None
    # a lone carriage return ends a line for Python, not for pyarrow (rare: look only when there is one)
    if raw.find(b"\r", start, end) >= 0 and raw.count(b"\r", start, end) != raw.count(b"\r\n", start, end):
        return None
    header_end = raw.find(b"\n", start, end)
    if header_end < 0:
        return None
    try:
        header = [h.strip().lower() for h in raw[start:header_end].rstrip(b"\r").decode("utf-8").split(",")]
    except UnicodeDecodeError:
        return None
    if any(c not in header for c in required):
        return None
    wanted = [c for c in (*required, *optional) if c in header]
    names = [f"c{j}" for j in range(len(header))]
    col = {c: names[header.index(c)] for c in wanted}
    numeric = {"score", "confidence"}
    # ids and categories arrive dictionary-encoded from the parser: no million Python strings, and
    # the panel sorts only the distinct labels
    coded = pa.dictionary(pa.int32(), pa.string())
    types = {col[c]: (pa.float64() if c in numeric else pa.string() if c == "criterion" else coded) for c in wanted}
    try:
        table = pcsv.read_csv(
            pa.py_buffer(body),
            # a blank line (or one of spaces and commas) is a row pyarrow refuses (too few fields, an
            # empty score) or whose id is blank, which the checks below refuse: the Python reader then
            # names its line
            read_options=pcsv.ReadOptions(skip_rows=1, column_names=names, block_size=BLOCK_BYTES),
            parse_options=pcsv.ParseOptions(delimiter=",", quote_char=False, newlines_in_values=False,
                                            ignore_empty_lines=False),
            convert_options=pcsv.ConvertOptions(
                column_types=types, include_columns=list(types), null_values=[], strings_can_be_null=False,
                true_values=[], false_values=[], check_utf8=True),
        ).unify_dictionaries()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if table.num_rows == 0 or any(table[name].null_count for name in types):
        return None
    out: dict[str, object] = {}
    for c in wanted:
        column = table[col[c]]
        if c in numeric:
            values = _arrow_numpy(column, np.float64)
            if not np.isfinite(values).all() or (c == "confidence" and not (values > 0).all()):
                return None
            out[c] = values
        elif c == "criterion":
            out[c] = [v.strip() for v in column.to_pylist()]
        else:
            out[c] = _coded(column, allow_empty=c == "category")
            if out[c] is None:
                return None
    return RatingsTable(out["work_id"], out["rater_id"], out["score"], out.get("category"),
                        out.get("confidence"), out.get("criterion"))


def read_ratings_csv(path: Path, *, required=REQUIRED, optional=OPTIONAL, engine: str = "auto") -> RatingsTable:
    """Read a long-form ratings CSV (UTF-8 or GBK, header row) into encoded columns.

    ``engine`` is ``"auto"`` (pyarrow for files of ``COLUMNAR_MIN_BYTES`` and up),
    ``"columnar"`` (pyarrow whenever the file allows it) or ``"python"``. Every engine gives
    the same columns and, for a bad file, the Python reader's error.
    """
    if engine not in ("auto", "columnar", "python"):
        raise ValueError(f"engine must be 'auto', 'columnar' or 'python', got {engine!r}")
    if engine == "columnar" or (engine == "auto" and path.stat().st_size >= COLUMNAR_MIN_BYTES):
        table = _read_columnar(path, required, optional)
        if table is not None:
            return table
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
