"""The columnar (pyarrow) reader of ``tuiyou analyze`` against the careful Python reader.

The fast path must be taken on clean files, give ``analyze`` the same output byte for byte,
and hand every file it cannot check completely to the Python reader, so that a bad file gets
the same message whichever reader saw it first.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from click.testing import CliRunner
from scoring_panels import biased_panel

import web.analysis.ratings_csv as ratings_csv
from scoring.panel import CodedLabels
from web.analysis.cli import analyze_command

CATEGORIES = ["网络剧", "网络电影", "网络纪录片", "网络综艺节目", "网络动画片", "短视频"]


def _generated_csv(path, *, n_works=600, n_raters=40, per_work=6, seed=0, line_end="\n"):
    """The file of benchmarks/bench_scoring_cli.py, smaller: rows grouped by work, ids of one width."""
    rng = np.random.default_rng(seed)
    work = np.repeat(np.arange(n_works), per_work)
    rater = ((rng.integers(0, n_raters, n_works)[:, None] + np.arange(per_work)[None, :] * 7) % n_raters).ravel()
    y = 6 + rng.normal(size=n_works)[work] + rng.normal(0, 0.8, n_raters)[rater] + rng.normal(0, 0.8, work.size)
    y = np.clip(np.round(y * 2) / 2, 0, 10)
    lines = ["work_id,rater_id,score,category"] + [
        f"W{w:06d},E{r:04d},{s:g},{CATEGORIES[w % 6]}" for w, r, s in zip(work.tolist(), rater.tolist(), y.tolist())]
    path.write_bytes((line_end.join(lines) + line_end).encode("utf-8"))
    return path


def _panel_csv(path, seed=1):
    """The ``panel_csv`` fixture of test_scoring_cli.py: ids of several widths, rows in panel order."""
    work, rater, score, category, *_ = biased_panel(seed=seed)
    lines = ["work_id,rater_id,score,category"] + [
        f"W{w},R{r},{s:.2f},{c}" for w, r, s, c in zip(work, rater, score, category)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _chinese_ids_csv(path, seed=2):
    """Chinese ids of several lengths, a confidence column, an unread column, rows shuffled, a BOM."""
    rng = np.random.default_rng(seed)
    lines = ["\ufeffwork_id,rater_id,score,category,confidence,note"]
    rows = []
    for w in range(80):
        for r in rng.choice(12, 3, replace=False):
            rows.append(f"作品{'甲乙丙'[w % 3] * (1 + w % 4)}{w},专家{r},{rng.integers(0, 101) / 10:g},"
                        f"{CATEGORIES[w % 4]},{rng.uniform(0.5, 2):.3f},备注 {w}")
    lines += [rows[i] for i in rng.permutation(len(rows))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class Spy:
    """Counts the columnar reader's answers: a table (fast path taken) or None (Python reader)."""

    def __init__(self, monkeypatch):
        self.tables, self.refusals = 0, 0
        read = ratings_csv._read_columnar

        def spy(*args, **kwargs):
            table = read(*args, **kwargs)
            if table is None:
                self.refusals += 1
            else:
                self.tables += 1
            return table

        monkeypatch.setattr(ratings_csv, "_read_columnar", spy)


def _analyze(monkeypatch, path, args, *, columnar: bool):
    monkeypatch.setattr(ratings_csv, "COLUMNAR_MIN_BYTES", 0 if columnar else 10**12)
    result = CliRunner().invoke(analyze_command, [str(path), *args])
    return result.exit_code, result.output


FILES = {"generated": _generated_csv, "generated, CRLF": lambda p: _generated_csv(p, line_end="\r\n", seed=3),
         "panel": _panel_csv, "chinese ids": _chinese_ids_csv}


@pytest.mark.parametrize("args", [[], ["--method", "additive"], ["--format", "json", "--seed", "3"]])
@pytest.mark.parametrize("name", sorted(FILES))
def test_fast_path_is_taken_and_gives_the_same_output_byte_for_byte(tmp_path, monkeypatch, name, args):
    path = FILES[name](tmp_path / "ratings.csv")
    careful = _analyze(monkeypatch, path, args, columnar=False)
    spy = Spy(monkeypatch)
    fast = _analyze(monkeypatch, path, args, columnar=True)
    assert (spy.tables, spy.refusals) == (1, 0)  # the fast path read the file
    assert careful[0] == 0, careful[1]
    assert fast == careful


def test_fast_path_in_pieces_gives_the_python_readers_table(tmp_path, monkeypatch):
    # many small pieces: cuts fall on every kind of line, the first piece may hold the header alone
    monkeypatch.setattr(ratings_csv, "MIN_PIECE_BYTES", 64)
    monkeypatch.setattr(ratings_csv, "_cpus", lambda: 7)
    pieces = []
    parts = ratings_csv._parts
    monkeypatch.setattr(ratings_csv, "_parts", lambda *a: pieces.append(parts(*a)) or pieces[-1])
    for path in (_generated_csv(tmp_path / "a.csv", n_works=40), _chinese_ids_csv(tmp_path / "b.csv"),
                 _generated_csv(tmp_path / "c.csv", n_works=30, line_end="\r\n")):
        fast = ratings_csv.read_ratings_csv(path, engine="columnar")
        careful = ratings_csv.read_ratings_csv(path, engine="python")
        assert isinstance(fast.work, CodedLabels) and len(pieces[-1]) == 7
        for field in ("work", "rater", "category"):
            assert np.asarray(getattr(fast, field)).tolist() == np.asarray(getattr(careful, field)).tolist()
        assert fast.score.tobytes() == careful.score.tobytes()
        if careful.confidence is not None:
            assert fast.confidence.tobytes() == careful.confidence.tobytes()


def test_pieces_are_whole_lines():
    raw = b"h1,h2\n" + b"".join(b"w%d,%d\n" % (i, i * 37) for i in range(50))
    end = len(raw) - 1
    for n in (1, 2, 3, 8, 200):
        pieces = ratings_csv._parts(raw, 0, end, n)
        assert len(pieces) <= n and pieces[0][0] == 0 and pieces[-1][1] == end
        assert all(b == a2 for (_, b), (a2, _) in zip(pieces, pieces[1:]))
        assert all(raw[b - 1:b] == b"\n" for _, b in pieces[:-1])


@pytest.mark.parametrize("values", [
    ["W000001", "W000002", "W000010"],            # one width
    ["a", "bb", "", "cccc"],                       # several widths, an empty one
    ["作品一", "网络剧", "短视频x", "é", "😀 ok", "a\u3000b"],  # 2-, 3- and 4-byte characters, inner white space
    [""],
])
def test_labels_are_the_decoded_values(values):
    labels = ratings_csv._labels(pa.array([v.encode() for v in values], pa.binary()), allow_empty=True)
    expected = np.array(values, dtype=np.str_)
    assert labels.dtype == expected.dtype and labels.tolist() == expected.tolist()


@pytest.mark.parametrize("value", [" a", "a ", "a\t", "\u3000作品", "作品\u3000", "a\x0cb", "a\u2028b", "a\x85b",
                                   "a\x1eb", ""])
def test_labels_refuse_what_the_python_reader_would_change(value):
    array = pa.array([b"ok", value.encode()], pa.binary())
    assert ratings_csv._labels(array, allow_empty=False) is None
    assert ratings_csv._labels(pa.array([b"ok", b"\xff"], pa.binary()), allow_empty=True) is None  # not UTF-8


# files the fast path once read differently from the Python reader: each now goes to it
BAD_FILES = {
    "form feed in an id": "work_id,rater_id,score\nw\x0c1,a,7\nw1,b,6\nw2,a,5\nw2,b,6\n",
    "line separator in an id": "work_id,rater_id,score\nw\u20281,a,7\nw1,b,6\nw2,a,5\nw2,b,6\n",
    "next line in a category": "work_id,rater_id,score,category\nw1,a,7,x\x85y\nw1,b,6,x\x85y\nw2,a,5,z\nw2,b,6,z\n",
    "NUL at the end of an id": "work_id,rater_id,score\nw1\x00,a,7\nw1,a,6\nw2,a,5\nw2,b,6\n",
}


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_malformed_files_get_the_python_readers_message(tmp_path, monkeypatch, kind):
    path = tmp_path / "bad.csv"
    path.write_text(BAD_FILES[kind], encoding="utf-8")
    careful = _analyze(monkeypatch, path, ["--method", "raw"], columnar=False)
    spy = Spy(monkeypatch)
    fast = _analyze(monkeypatch, path, ["--method", "raw"], columnar=True)
    assert spy.refusals == 1 and fast == careful


def test_an_unread_column_that_is_not_utf8_sends_the_file_to_the_python_reader(tmp_path, monkeypatch):
    # the Python reader takes a file that is not UTF-8 as GBK (here: not GBK either, an error)
    path = tmp_path / "mixed.csv"
    path.write_bytes("work_id,rater_id,score,category,note\nw1,a,7,网络剧,".encode() + "备注".encode("gbk")
                     + "\nw1,b,6,网络剧,x\nw2,a,5,网络剧,x\nw2,b,6,网络剧,x\n".encode())
    careful = _analyze(monkeypatch, path, ["--method", "raw"], columnar=False)
    spy = Spy(monkeypatch)
    fast = _analyze(monkeypatch, path, ["--method", "raw"], columnar=True)
    assert spy.refusals == 1 and fast == careful and careful[0] == 1


@pytest.mark.parametrize("kind", ["blank line", "short row", "bad score", "padded id", "empty id"])
def test_a_fault_at_a_cut_between_pieces_gets_the_python_readers_message(tmp_path, monkeypatch, kind):
    lines = [f"W{w:03d},E{r},{(w + r) % 11}" for w in range(60) for r in range(3)]
    k = 91  # in the middle of the file: where the cut of two pieces falls
    lines[k] = {"blank line": "", "short row": "W999,E1", "bad score": "W999,E1,x", "padded id": "W999, E1,5",
                "empty id": ",E1,5"}[kind]
    path = tmp_path / "bad.csv"
    path.write_text("work_id,rater_id,score\n" + "\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setattr(ratings_csv, "MIN_PIECE_BYTES", 64)
    monkeypatch.setattr(ratings_csv, "_cpus", lambda: 2)
    careful = _analyze(monkeypatch, path, ["--method", "raw"], columnar=False)
    spy = Spy(monkeypatch)
    fast = _analyze(monkeypatch, path, ["--method", "raw"], columnar=True)
    assert spy.refusals == 1 and fast == careful
    if kind == "padded id":  # the Python reader strips it: a valid file, read the slow way
        assert careful[0] == 0
    else:
        assert careful[0] == 1 and f"line {k + 2}" in careful[1]
