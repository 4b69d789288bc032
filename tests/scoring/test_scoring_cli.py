"""``analyze`` and ``reliability`` commands, invoked directly with CliRunner."""

from __future__ import annotations

import csv
import io
import json
from types import SimpleNamespace

import krippendorff
import numpy as np
import pytest
from click.testing import CliRunner
from scoring_panels import biased_panel

import web.analysis.cli as cli
from scoring.reliability import icc
from web.analysis.cli import analyze_command, reliability_command

HEADER = "work_id,category,score,se,rank,rank_low,rank_high,n_ratings"


def write(tmp_path, text, name="scores.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.fixture
def panel_csv(tmp_path):
    work, rater, score, category, *_ = biased_panel(seed=1)
    lines = ["work_id,rater_id,score,category"] + [
        f"W{w},R{r},{s:.2f},{c}" for w, r, s, c in zip(work, rater, score, category)]
    return write(tmp_path, "\n".join(lines) + "\n")


def run(command, args):
    return CliRunner().invoke(command, args, catch_exceptions=False)


def test_command_objects():
    assert analyze_command.name == "analyze" and reliability_command.name == "reliability"


@pytest.mark.parametrize("method", ["raw", "trimmed", "zscore", "additive", "affine"])
def test_analyze_csv_contract(panel_csv, method):
    result = run(analyze_command, [panel_csv, "--method", method])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert result.output.splitlines()[0] == HEADER
    assert len(rows) == 120
    for cat in {"0", "1", "2"}:
        ranked = [r for r in rows if r["category"] == cat]
        ranks = sorted(int(r["rank"]) for r in ranked)
        assert ranks[0] == 1 and ranks[-1] <= len(ranked)
        # higher score, better (smaller) rank
        by_score = sorted(ranked, key=lambda r: -float(r["score"]))
        assert [int(r["rank"]) for r in by_score] == sorted(int(r["rank"]) for r in by_score)
        assert all(int(r["rank_low"]) <= int(r["rank"]) <= int(r["rank_high"]) for r in ranked)
    assert all(int(r["n_ratings"]) == 4 for r in rows)


def test_analyze_ties_share_lower_rank(tmp_path):
    path = write(tmp_path, "work_id,rater_id,score\nw1,a,7\nw1,b,7\nw2,a,7\nw2,b,7\nw3,a,5\nw3,b,5\n")
    rows = list(csv.DictReader(io.StringIO(run(analyze_command, [path, "--method", "raw"]).output)))
    assert {r["work_id"]: int(r["rank"]) for r in rows} == {"w1": 1, "w2": 1, "w3": 3}


def test_analyze_additive_ranks_ignore_a_constant_added_to_one_rater(tmp_path):
    # the acceptance property through the command-line contract, with every default
    work, rater, score, category, *_ = biased_panel(seed=4)
    ranks = []
    for shift in (0.0, 2.5):
        moved = np.round(score, 2) + np.where(rater == 3, shift, 0.0)
        lines = ["work_id,rater_id,score,category"] + [
            f"W{w},R{r},{s:.2f},{c}" for w, r, s, c in zip(work, rater, moved, category)]
        path = write(tmp_path, "\n".join(lines) + "\n", name=f"shift{shift}.csv")
        rows = list(csv.DictReader(io.StringIO(run(analyze_command, [path, "--method", "additive"]).output)))
        ranks.append({r["work_id"]: (r["category"], int(r["rank"])) for r in rows})
    assert ranks[0] == ranks[1]


def test_analyze_json_and_out_file(panel_csv, tmp_path):
    out = tmp_path / "result.json"
    result = run(analyze_command, [panel_csv, "--format", "json", "--out", str(out), "--seed", "7", "--top-k", "3"])
    assert result.exit_code == 0 and result.output == ""
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["method"] == "affine" and doc["connected"] is True
    assert {"work_id", "category", "score", "se", "rank", "rank_low", "rank_high", "n_ratings"} <= set(doc["works"][0])
    assert {"rater_id", "bias", "scale", "n"} <= set(doc["raters"][0])
    assert len(doc["raters"]) == 24 and doc["works"][0]["top_k"] == 3
    again = json.loads(run(analyze_command, [panel_csv, "--format", "json", "--seed", "7", "--top-k", "3"]).output)
    assert again["works"] == doc["works"]  # same seed, same bands


def test_analyze_disconnected_and_flags(tmp_path):
    text = "work_id,rater_id,score\n" + "".join(
        f"{w},{r},{s}\n" for w, r, s in [("w1", "a", 8), ("w1", "b", 9), ("w1", "c", 0), ("w2", "a", 6),
                                          ("w2", "b", 7), ("w2", "c", 6), ("w3", "a", 7), ("w3", "b", 8),
                                          ("w3", "c", 7), ("w4", "d", 5), ("w4", "e", 6), ("w5", "d", 4),
                                          ("w5", "e", 5)])
    doc = json.loads(run(analyze_command, [write(tmp_path, text), "--format", "json", "--method", "additive"]).output)
    assert doc["connected"] is False and doc["n_components"] == 2
    assert "not comparable" in doc["message"]
    assert {"work_id": "w1", "rater_id": "c", "score": 0.0, "direction": "畸低"} in doc["flags"]["deviations"]


def test_analyze_json_lists_rejected_wild_ratings(tmp_path):
    work, rater, score, category, *_ = biased_panel(seed=1)
    score = score.copy()
    wild = [3, 40, 77]  # a careless 0 and two hostile 10s
    score[wild] = [0.0, 10.0, 0.0]
    lines = ["work_id,rater_id,score,category"] + [
        f"W{w},R{r},{s:.2f},{c}" for w, r, s, c in zip(work, rater, score, category)]
    doc = json.loads(run(analyze_command, [write(tmp_path, "\n".join(lines) + "\n"), "--format", "json"]).output)
    rejected = {(f["work_id"], f["rater_id"]): f for f in doc["flags"]["rejected"]}
    for i in wild:
        f = rejected[(f"W{work[i]}", f"R{rater[i]}")]
        assert f["score"] == score[i] and 0 <= f["weight"] < 0.5
    # the wild ones, not the panel: at most a couple of genuine ratings set aside besides them
    assert len(rejected) <= len(wild) + 2
    # additive (Huber only) rejects nothing, and says so with an empty list
    doc = json.loads(run(analyze_command, [write(tmp_path, "\n".join(lines) + "\n"), "--format", "json",
                                           "--method", "additive"]).output)
    assert doc["flags"]["rejected"] == []


def test_analyze_long_form_uses_configured_weights(tmp_path, monkeypatch):
    crit = [SimpleNamespace(key="idea", label="Idea", min=0, max=10, step=0.5, weight=3),
            SimpleNamespace(key="craft", label="Craft", min=0, max=10, step=0.5, weight=1)]
    rules = SimpleNamespace(criteria_sets={"works": SimpleNamespace(criteria=tuple(crit))})
    monkeypatch.setattr(cli, "_configured_scales",
                        lambda: [cli.CriterionScale(c.key, c.min, c.max, c.step, c.weight) for c in rules.criteria_sets["works"].criteria])
    text = ("work_id,rater_id,criterion,score\n"
            "w1,a,idea,8\nw1,a,craft,4\nw1,b,idea,6\nw1,b,craft,10\n"
            "w2,a,idea,5\nw2,a,craft,5\nw2,b,idea,9\nw2,b,craft,1\n")
    rows = list(csv.DictReader(io.StringIO(run(analyze_command, [write(tmp_path, text), "--method", "raw"]).output)))
    # w1: (0.75*8+0.25*4 + 0.75*6+0.25*10)/2 = 7.0; w2: (5 + 7)/2 = 6.0
    assert {r["work_id"]: float(r["score"]) for r in rows} == {"w1": 7.0, "w2": 6.0}
    bad = text.replace("w2,b,craft,1", "w2,b,craft,10.3")
    result = CliRunner().invoke(analyze_command, [write(tmp_path, bad, "bad.csv")])
    assert result.exit_code != 0
    assert "data row 8 (line 9)" in result.output and "10.3" in result.output and "Traceback" not in result.output


def test_analyze_long_form_with_real_config(tmp_path):
    pytest.importorskip("scoring.rules.config")
    scales = cli._configured_scales()
    lines = ["work_id,rater_id,criterion,score"]
    for w in ("w1", "w2"):
        for r in ("a", "b"):
            lines += [f"{w},{r},{s.key},{s.max if w == 'w1' else s.min}" for s in scales]
    rows = list(csv.DictReader(io.StringIO(run(analyze_command, [write(tmp_path, "\n".join(lines)), "--method", "raw"]).output)))
    assert [r["work_id"] for r in rows if r["rank"] == "1"] == ["w1"]


@pytest.mark.parametrize("text, message", [
    ("work_id,rater_id,score\nw1,a,7\nw1,b,x\n", "data row 2 (line 3), column 'score': 'x' is not a finite number"),
    ("work_id,rater,score\nw1,a,7\n", "missing column 'rater_id'"),
    ("work_id,rater_id,score\nw1,a,7\nw1,b\n", "line 3 has 2 fields, the header has 3"),
    ("work_id,rater_id,score\nw1,a,7\n,b,6\n", "data row 2 (line 3), column 'work_id' is empty"),
    ("work_id,rater_id,score\nw1,a,7\nw1,b,6\nw1,a,6\n", "data row 3 (line 4) duplicates data row 1 (line 2): rater 'a' rated work 'w1' twice"),
    ("work_id,rater_id,score,category\nw1,a,7,x\nw1,b,6,y\n", "data row 2 (line 3): work 'w1' has category 'y'"),
    ("work_id,rater_id,score,confidence\nw1,a,7,1\nw1,b,6,-2\n", "data row 2 (line 3), column 'confidence'"),
    ("", "empty"),
    ("work_id,rater_id,score\nw1,a,7\n\nw1,b,6\n", "line 3 is blank"),
    ('work_id,rater_id,score\n"w,1",a,7\n"w,1",b,x\n', "data row 2 (line 3), column 'score': 'x'"),
    ("work_id,rater_id,score\n", "no data rows"),
])
def test_analyze_bad_input_is_a_clear_error(tmp_path, text, message):
    result = CliRunner().invoke(analyze_command, [write(tmp_path, text)])
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)


def test_analyze_output_rows_are_the_fit_and_ranking_cell_for_cell(tmp_path):
    # labels that need quoting, and a category of one rater (raw mean, no standard error: empty cell, null)
    lines = ["work_id,rater_id,score,category"]
    rng = np.random.default_rng(2)
    for w in range(30):
        lines += [f'"Film, {w}",E{r},{rng.integers(0, 21) / 2:g},"cat ""{w % 2}"""'
                  for r in rng.choice(8, 3, replace=False)]
    lines += ['"solo, a",S,7,solo', '"solo, b",S,5,solo']
    path = write(tmp_path, "\n".join(lines) + "\n")
    from scoring.normalize import normalize
    from scoring.ranking import rank_within_category

    rows = list(csv.reader(io.StringIO("\n".join(lines))))[1:]
    res = normalize([r[0] for r in rows], [r[1] for r in rows], [float(r[2]) for r in rows],
                    categories=[r[3] for r in rows])
    rank = rank_within_category(res.unshrunk_score, res.unshrunk_se, res.category, rng=np.random.default_rng(5),
                                rank_score=res.score)
    score, se = np.clip(res.score, 0, 10), np.minimum(res.se, 10)
    expected = sorted(
        (str(res.category[i]), int(rank.rank[i]), str(res.work_id[i]), f"{score[i]:.6f}",
         "" if np.isnan(se[i]) else f"{se[i]:.6f}", int(rank.rank_low[i]), int(rank.rank_high[i]),
         int(res.n_ratings[i]), float(rank.p_top_k[i]))
        for i in range(len(res.work_id)))
    out = run(analyze_command, [path, "--seed", "5"]).output
    got = [(r["category"], int(r["rank"]), r["work_id"], r["score"], r["se"], int(r["rank_low"]),
            int(r["rank_high"]), int(r["n_ratings"])) for r in csv.DictReader(io.StringIO(out))]
    assert got == [e[:8] for e in expected]
    assert any(e[4] == "" for e in expected) and any('"' in e[0] for e in expected)
    works = json.loads(run(analyze_command, [path, "--seed", "5", "--format", "json"]).output)["works"]
    assert [(w["category"], w["rank"], w["work_id"], w["score"], w["se"], w["rank_low"], w["rank_high"],
             w["n_ratings"], w["p_top_k"]) for w in works] == [
        (c, k, w, round(float(s), 6), None if e == "" else round(float(e), 6), lo, hi, n,
         None if np.isnan(p) else round(p, 4)) for c, k, w, s, e, lo, hi, n, p in expected]


def test_analyze_quoted_fields_and_trailing_blank_lines(tmp_path):
    path = write(tmp_path, 'work_id,rater_id,score\n"Film, part 1",a,7\n"Film, part 1",b,8\nw2,a,5\nw2,b,6\n\n\n')
    rows = list(csv.DictReader(io.StringIO(run(analyze_command, [path, "--method", "raw"]).output)))
    assert [(r["work_id"], r["score"]) for r in rows] == [("Film, part 1", "7.500000"), ("w2", "5.500000")]


def test_analyze_gbk_file(tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes("work_id,rater_id,score,category\n作品一,甲,7,网络剧\n作品一,乙,8,网络剧\n作品二,甲,6,网络剧\n作品二,乙,5,网络剧\n".encode("gbk"))
    doc = json.loads(run(analyze_command, [str(path), "--format", "json", "--method", "raw"]).output)
    assert [w["work_id"] for w in doc["works"]] == ["作品一", "作品二"] and doc["works"][0]["category"] == "网络剧"


def _long_csv(matrix):
    lines = ["work_id,rater_id,score"]
    for u, row in enumerate(matrix):
        lines += [f"u{u},r{j},{v:g}" for j, v in enumerate(row) if not np.isnan(v)]
    return "\n".join(lines) + "\n"


def test_reliability_icc_and_alpha(tmp_path):
    table2 = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]], float)
    path = write(tmp_path, _long_csv(table2))
    doc = json.loads(run(reliability_command, [path, "--stat", "icc", "--format", "json"]).output)
    expected = icc(table2)
    for form in ("ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"):
        assert doc[form] == pytest.approx(expected[form]) and len(doc[f"{form}_ci95"]) == 2
    rng = np.random.default_rng(0)
    m = np.round(rng.normal(size=(40, 1)) + rng.normal(size=(40, 5)) + 5)
    m[rng.random(m.shape) < 0.4] = np.nan
    path = write(tmp_path, _long_csv(m), "alpha.csv")
    for level in ("nominal", "ordinal", "interval", "ratio"):
        doc = json.loads(run(reliability_command, [path, "--stat", "alpha", "--level", level, "--format", "json"]).output)
        assert doc["alpha"] == pytest.approx(krippendorff.alpha(m.T, level_of_measurement=level), abs=1e-9)


def test_reliability_errors(tmp_path):
    dup = write(tmp_path, "work_id,rater_id,score\nw1,a,1\nw1,a,2\n")
    result = CliRunner().invoke(reliability_command, [dup, "--stat", "icc"])
    assert result.exit_code != 0 and "repeats data row 1" in result.output
    one = write(tmp_path, "work_id,rater_id,score\nw1,a,1\nw2,a,2\n", "one.csv")
    result = CliRunner().invoke(reliability_command, [one, "--stat", "icc"])
    assert result.exit_code != 0 and "two raters" in result.output
    result = CliRunner().invoke(reliability_command, [one])
    assert result.exit_code == 2 and "--stat" in result.output


def test_analyze_finds_taps_at_the_scales_ends_without_being_told_the_scale(tmp_path):
    # whole tenths on 0-10, as a configured scale gives them; 5% of ratings replaced by 0 or 10
    from dataclasses import replace

    from scoring.affine import fit_affine
    from scoring.simulate import SCENARIOS, simulate_panel

    sc = replace(SCENARIOS["5% wild scores (0 or 10)"], n_works=240, n_categories=4, n_raters=24)
    p = simulate_panel(sc, rng=np.random.default_rng(5))
    score = np.where(p.wild, p.score, np.clip(np.round(p.clean_score, 1), 0.1, 9.9))
    lines = ["work_id,rater_id,score,category"] + [
        f"W{w},R{r},{s:.1f},{c}" for w, r, s, c in zip(p.work_id, p.rater_id, score, p.category)]
    doc = json.loads(run(analyze_command, [write(tmp_path, "\n".join(lines) + "\n"), "--format", "json"]).output)
    flagged = {(f["work_id"], f["rater_id"]) for f in doc["flags"]["rejected"]}
    wild = {(f"W{w}", f"R{r}") for w, r in zip(p.work_id[p.wild], p.rater_id[p.wild])}
    uniform = fit_affine(p.work_id, p.rater_id, score, categories=p.category, wild_ends=False)
    found_uniform = int((uniform.diagnostics.rejected & p.wild).sum())
    # the scores' own ends (0 and 10, each with many ratings) are taken as the scale's ends
    assert len(flagged & wild) > found_uniform
    assert len(flagged & wild) >= 0.85 * len(wild)
    assert len(flagged - wild) <= 0.01 * len(score)
