"""Reading a long-form ratings CSV (``work_id,rater_id,score`` and optional columns) into numpy columns.

Two readers give the same table. Large files (``COLUMNAR_MIN_BYTES`` and up) go through
pyarrow's CSV reader: the file is cut into one piece of whole lines per CPU, the pieces are
parsed side by side (pyarrow releases the GIL; its own threads would convert a dictionary
column one block at a time), and the parser dictionary-encodes the id and category columns
as bytes, so no Python string is made per row, only the distinct values are decoded (with
numpy, which also checks them), and they reach the panel as
:class:`scoring.panel.CodedLabels`, whose distinct ids alone are sorted (docs/benchmarks.md,
(f)). The columnar path only takes files it can check completely (UTF-8, no quotes, no NUL,
no blank lines, every row as wide as the header, finite numbers, non-empty ids without
surrounding spaces, positive confidences, no character besides LF and CR on which
``str.splitlines`` ends a line); anything else, and every error, falls back to the Python
reader, which splits the CSV in one pass (plain ``str.split`` when the file has no quotes,
the csv module otherwise) and reports every bad row by its data row and file line as a
``click.ClickException`` (exit code 1, no traceback). So error messages are the Python
reader's, whatever the file size, and a table the columnar path gives is the one the Python
reader would give. Loads neither Flask nor SQLAlchemy.
"""

from __future__ import annotations

import csv
import gc
import io
import math
import os
import re
import threading
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
#: the characters besides \n and \r on which ``str.splitlines`` (the Python reader) ends a line
LINE_BREAKS = np.array([0x0B, 0x0C, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029], dtype=np.uint32)
LINE_BREAK_BYTES = tuple(chr(c).encode("utf-8") for c in LINE_BREAKS.tolist())
#: pyarrow parses the file in blocks of this size (1, 4 and 16 MiB measured within the noise)
BLOCK_BYTES = 4 * 2**20
#: the file is parsed in pieces side by side, one per CPU, none smaller than this
MIN_PIECE_BYTES = 2**20


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


def _labels(dictionary, *, allow_empty: bool) -> np.ndarray | None:
    """The values of a pyarrow binary array as a numpy str array, or None when the Python reader would differ.

    None when a value is not UTF-8, starts or ends with white space (the Python reader strips
    it), holds a character on which ``str.splitlines`` ends a line (the Python reader splits
    the row there), or is empty (unless ``allow_empty``). Built from the array's buffers with
    a few numpy operations (its bytes decoded once, the code points laid into a fixed-width
    table) rather than one Python string per value: 100,000 work ids in a few milliseconds.
    The same array as ``np.array([v.decode() for v in values], dtype=np.str_)`` as long as no
    value holds a NUL, which numpy drops from the end of a string (the caller refuses files
    with one).
    """
    k = len(dictionary)
    if k == 0:
        return np.array([], dtype=np.str_)
    _, offsets_buffer, data_buffer = dictionary.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int32, count=k + 1, offset=dictionary.offset * 4)
    first, last = int(offsets[0]), int(offsets[-1])
    data = np.frombuffer(data_buffer, dtype=np.uint8)[first:last] if last > first else np.empty(0, np.uint8)
    try:
        text = data.tobytes().decode("utf-8")
    except UnicodeDecodeError:
        return None
    offsets = offsets - first
    if len(text) == data.size:  # ASCII: one character a byte
        chars = data
    else:
        # a character starts at every byte that is not a continuation byte (10xxxxxx)
        starts = np.zeros(data.size + 1, dtype=np.int64)
        np.cumsum((data & 0xC0) != 0x80, out=starts[1:])
        offsets = starts[offsets]
        chars = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    lengths = np.diff(offsets)
    if not allow_empty and (lengths == 0).any():
        return None
    # the line breaks are control characters or above U+0080: look closer only when there is one
    if ((chars < 0x20) | (chars >= 0x80)).any() and np.isin(chars, LINE_BREAKS).any():
        return None
    width = max(int(lengths.max()), 1)
    if lengths.min() == width:  # ids of one length (W000001, E0001): the table is the characters
        table = chars.astype(np.uint32).reshape(k, width)
    else:
        table = np.zeros((k, width), dtype=np.uint32)
        row = np.repeat(np.arange(k), lengths)
        table[row, np.arange(chars.size) - offsets[:-1][row]] = chars
    filled = lengths > 0
    ends = np.concatenate([table[filled, 0], table[filled, lengths[filled] - 1]])
    if np.char.isspace(ends.view("<U1")).any():
        return None
    return table.view(f"<U{width}").reshape(k)


def _coded(column, *, allow_empty: bool) -> CodedLabels | None:
    """A dictionary-encoded column (its chunks sharing one dictionary of bytes) as codes and labels.

    None when a label is not UTF-8, is one the Python reader would change by stripping it or
    split into two lines, or is an empty id.
    """
    if column.num_chunks == 0:
        return None
    labels = _labels(column.chunk(0).dictionary, allow_empty=allow_empty)
    if labels is None:
        return None
    # the indices of every chunk point into that one dictionary (Table.unify_dictionaries)
    codes = np.empty(len(column), dtype=np.intp)
    at = 0
    for chunk in column.chunks:
        codes[at:at + len(chunk)] = _arrow_numpy(chunk.indices, np.int32)
        at += len(chunk)
    return CodedLabels(codes, labels)


def _parts(raw: bytes, start: int, end: int, n: int) -> list[tuple[int, int]]:
    """``raw[start:end]`` cut into ``n`` or fewer pieces of about equal size, each of whole lines."""
    cuts = [start]
    for k in range(1, n):
        at = raw.find(b"\n", max(start + (end - start) * k // n, cuts[-1]), end)
        if at < 0:
            break
        cuts.append(at + 1)
    return [(a, b) for a, b in zip(cuts, [*cuts[1:], end]) if b > a]


def _parse(raw: bytes, start: int, end: int, names: list[str], types: dict):
    """The file's data rows parsed by pyarrow, one thread per piece of the file; None when pyarrow refuses one.

    pyarrow converts a dictionary-typed column one block after another even with its own
    threads, so the pieces are parsed side by side here instead (the GIL is released while
    pyarrow parses) and their dictionaries unified after.
    """
    import pyarrow as pa
    import pyarrow.csv as pcsv

    parse_options = pcsv.ParseOptions(delimiter=",", quote_char=False, newlines_in_values=False,
                                      ignore_empty_lines=False)
    convert_options = pcsv.ConvertOptions(column_types=types, include_columns=list(types), null_values=[],
                                          strings_can_be_null=False, true_values=[], false_values=[],
                                          check_utf8=True)
    pieces = _parts(raw, start, end, max(1, min(_cpus(), (end - start) // MIN_PIECE_BYTES)))
    tables: list = [None] * len(pieces)

    def parse(k: int) -> None:
        a, b = pieces[k]
        try:
            tables[k] = pcsv.read_csv(
                pa.py_buffer(memoryview(raw)[a:b]),
                # a blank line (or one of spaces and commas) is a row pyarrow refuses (too few fields, an
                # empty score) or whose id is blank, which the checks below refuse: the Python reader then
                # names its line
                read_options=pcsv.ReadOptions(skip_rows=1 if k == 0 else 0, column_names=names,
                                              block_size=BLOCK_BYTES, use_threads=False),
                parse_options=parse_options, convert_options=convert_options)
        except pa.ArrowException:  # a file pyarrow cannot take (in a worker thread too): the Python reader
            pass

    threads = [threading.Thread(target=parse, args=(k,)) for k in range(1, len(pieces))]
    for thread in threads:
        thread.start()
    parse(0)
    for thread in threads:
        thread.join()
    if any(t is None for t in tables):
        return None
    return pa.concat_tables(tables).unify_dictionaries()


def _cpus() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _plain_text(raw: bytes, start: int, end: int) -> bool:
    """Whether ``raw[start:end]`` is UTF-8 without a line break of ``str.splitlines`` beside \\n and \\r.

    For the columns the command does not read (those it reads are checked value by value):
    UTF-8 by pyarrow's validator over the bytes as one string (31 MiB in 15 ms), the line
    breaks by a scan for each.
    """
    import pyarrow as pa

    if any(raw.find(b, start, end) >= 0 for b in LINE_BREAK_BYTES):
        return False
    if not (np.frombuffer(raw, dtype=np.uint8, count=end - start, offset=start) & 0x80).any():
        return True  # ASCII
    offsets = pa.py_buffer(np.array([0, end - start], dtype=np.int64))
    text = pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(memoryview(raw)[start:end])])
    try:
        text.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _read_columnar(path: Path, required, optional) -> RatingsTable | None:
    """The table read by pyarrow, or None when the file needs the Python reader (see the module docstring)."""
    # the file is read (the GIL released) while pyarrow is imported
    file: list[bytes] = []

    def read() -> None:
        try:
            file.append(path.read_bytes())
        except OSError:
            pass

    reader = threading.Thread(target=read)
    reader.start()
    try:
        import pyarrow as pa
        import pyarrow.csv  # noqa: F401 - imported here, where a missing pyarrow means the Python reader
    except ImportError:  # pragma: no cover - pyarrow is a dependency; the Python reader still works
        return None
    finally:
        reader.join()
    if not file:  # the Python reader reports what went wrong
        return None
    raw = file[0]
    start = 3 if raw.startswith(b"\xef\xbb\xbf") else 0
    end = len(raw)
    while end > start and raw[end - 1] in b"\r\n":  # trailing line ends (blank lines at the end)
        end -= 1
    # quotes need the csv module; a NUL would be dropped from the end of a numpy string
    if raw.find(b'"', start, end) >= 0 or raw.find(b"\0", start, end) >= 0:
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
    # ids and categories arrive dictionary-encoded from the parser (no million Python strings; the
    # panel sorts only the distinct ids), as bytes: only the distinct values are decoded (and so
    # checked as UTF-8), not every cell
    coded = pa.dictionary(pa.int32(), pa.binary())
    types = {col[c]: (pa.float64() if c in numeric else pa.string() if c == "criterion" else coded) for c in wanted}
    # a column the command does not read must be UTF-8 too, or the Python reader would take the
    # file as GBK
    if len(types) < len(header) and not _plain_text(raw, start, end):
        return None
    table = _parse(raw, start, end, names, types)
    if table is None or table.num_rows == 0 or any(table[name].null_count for name in types):
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
            values = column.to_pylist()
            if any(len(v.splitlines()) > 1 for v in values):
                return None
            out[c] = [v.strip() for v in values]
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
