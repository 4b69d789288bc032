"""``tuiyou analyze`` and ``tuiyou reliability``: the numeric core on a CSV of ratings.

Both commands are plain :class:`click.Command` objects that ``web.cli`` loads lazily; the
CSV reader is ``ratings_csv``. Every bad row is reported by its data row and file line as a
``click.ClickException`` (exit code 1, no traceback).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import re
from pathlib import Path

import click
import numpy as np

from scoring.normalize import DEFAULT_METHOD, METHODS, normalize
from scoring.ranking import rank_within_category
from scoring.reliability import LEVELS, icc, krippendorff_alpha
from scoring.report import on_scale, spread_on_scale
from scoring.totals import CriterionScale, weighted_totals

from .ratings_csv import encode_labels, read_ratings_csv



def _one_blas_thread(n_ratings: int):
    """One BLAS thread for large fits (threads busy-wait on shared cores); nothing for small ones."""
    if n_ratings < 50_000:  # not worth threadpoolctl's import
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a declared dependency; run with the BLAS default
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")

__all__ = ["analyze_command", "reliability_command"]

OUTPUT_COLUMNS = ("work_id", "category", "score", "se", "rank", "rank_low", "rank_high", "n_ratings")


def _configured_scales() -> list[CriterionScale]:
    from scoring.rules.config import load_rules

    criteria = load_rules().criteria_sets["works"].criteria
    return [CriterionScale(c.key, c.min, c.max, c.step, c.weight) for c in criteria]


def _with_lines(message: str, row_of: np.ndarray | None = None) -> str:
    """Add the file line to every 'data row N' (N counts ratings when ``row_of`` maps them to CSV rows)."""
    def repl(m: re.Match) -> str:
        k = int(m.group(1))
        row = k if row_of is None else int(row_of[k - 1]) + 1
        return f"data row {row} (line {row + 1})"
    return re.sub(r"data row (\d+)", repl, message)


def _num(x: float, digits: int = 6):
    return None if not math.isfinite(x) else round(float(x), digits)


@click.command("analyze")
@click.argument("scores_csv", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--method", type=click.Choice(list(METHODS)), default=DEFAULT_METHOD, show_default=True,
              help="Rater-bias normalization method.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, writable=True, path_type=Path), default=None,
              help="Write here instead of standard output.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the rank-band bootstrap.")
@click.option("--band", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.9, show_default=True,
              help="Coverage of the rank band.")
@click.option("--top-k", type=click.IntRange(min=1), default=None,
              help="Cut-off for the top-k probability (default: 10% of each category).")
def analyze_command(scores_csv: Path, method: str, fmt: str, out: Path | None, seed: int, band: float,
                    top_k: int | None) -> None:
    """Normalize rater bias and rank works within category from SCORES_CSV.

    Columns: work_id, rater_id, score; optional category, confidence, criterion (one row
    per criterion; totals use the configured criterion weights). A category whose ratings
    cannot support the method is fitted by the next one of its fall-back order (the JSON
    output's "categories" says which and why).
    """
    table = read_ratings_csv(scores_csv)
    work, rater, score = table.work, table.rater, table.score
    category, confidence = table.category, table.confidence
    row_of = None
    scale_ends = None  # wide form: the scale is not known, the fit takes the scores' own ends
    if table.criterion is not None:
        # long form is a panel-sized file: plain arrays for the totals (CodedLabels only from the fast reader)
        work, rater = np.asarray(work), np.asarray(rater)
        category = None if category is None else np.asarray(category)
        try:
            scales = _configured_scales()
        except ImportError as exc:
            raise click.ClickException(f"criterion column given but the criteria configuration is unavailable: {exc}") from None
        try:
            totals = weighted_totals(work, rater, table.criterion, score, scales=scales)
        except ValueError as exc:
            raise click.ClickException(f"{scores_csv}: {_with_lines(str(exc))}") from None
        row_of = totals.first_row
        scale_ends = (totals.scale_min, totals.scale_max)
        work, rater, score = totals.work_id, totals.rater_id, totals.total
        category = None if category is None else category[row_of]
        confidence = None if confidence is None else confidence[row_of]
    try:
        # one BLAS thread: the fits factor many small-to-medium matrices, and OpenBLAS threads that
        # busy-wait on a shared machine made a million-rating affine fit 2.7x slower (docs/benchmarks.md)
        with _one_blas_thread(len(score)):
            result = normalize(work, rater, score, method=method, confidence=confidence, categories=category,
                               scale_ends=scale_ends)
        if result.unshrunk_score is not None:
            # ranks follow the posterior means; bands are drawn around the unshrunk estimates
            ranking = rank_within_category(result.unshrunk_score, result.unshrunk_se, result.category, band=band,
                                           top_k=top_k, rng=np.random.default_rng(seed), rank_score=result.score)
        else:
            ranking = rank_within_category(result.score, result.se, result.category, band=band, top_k=top_k,
                                           rng=np.random.default_rng(seed))
    except ValueError as exc:
        raise click.ClickException(f"{scores_csv}: {_with_lines(str(exc), row_of)}") from None
    # what the scale allows: the criteria's scale for long form; for wide form, whose scale is not
    # known, the range of the scores given
    scale = scale_ends if scale_ends is not None else (float(np.min(score)), float(np.max(score)))

    work_labels = result.work_id.astype(str)
    cat_labels = result.category.astype(str)
    order = np.lexsort((work_labels, ranking.rank, cat_labels))
    text = (_csv_output if fmt == "csv" else _json_output)(
        result, ranking, work_labels, cat_labels, order, work, rater, score, method, scale)
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")


def _reported(result, scale):
    """Scores on the scale, standard errors at most its width (nan where not estimable)."""
    return on_scale(result.score, *scale), spread_on_scale(result.se, *scale)


def _in_order(order: np.ndarray, *columns) -> list[list]:
    """Each column in output order as a Python list: one conversion per column, not a numpy scalar per cell."""
    return [np.asarray(c)[order].tolist() for c in columns]


def _num6(values: list[float]) -> list:
    """``_num`` of each value (6 digits), ``None`` where not finite."""
    return [round(v, 6) if math.isfinite(v) else None for v in values]


def _csv_output(result, ranking, work_labels, cat_labels, order, work, rater, score_in, method, scale):
    score, se = _reported(result, scale)
    works, cats, score, se, rank, low, high, n = _in_order(
        order, work_labels, cat_labels, score, se, ranking.rank, ranking.rank_low, ranking.rank_high,
        result.n_ratings)
    six = "{:.6f}".format
    score = list(map(six, score))
    se = ["" if not math.isfinite(v) else six(v) for v in se]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(OUTPUT_COLUMNS)
    w.writerows(zip(works, cats, score, se, rank, low, high, n))
    return buf.getvalue()


def _json_output(result, ranking, work_labels, cat_labels, order, work, rater, score, method, scale):
    rater_labels = result.raters.rater_id.astype(str)
    d = result.diagnostics
    shown, shown_se = _reported(result, scale)
    columns = _in_order(order, work_labels, cat_labels, shown, shown_se, ranking.rank, ranking.rank_low,
                        ranking.rank_high, result.n_ratings, ranking.p_top_k, ranking.top_k,
                        result.connectivity.work_component, d.disagreement)
    columns[2], columns[3] = _num6(columns[2]), _num6(columns[3])
    columns[8] = [round(v, 4) if math.isfinite(v) else None for v in columns[8]]
    keys = ("work_id", "category", "score", "se", "rank", "rank_low", "rank_high", "n_ratings", "p_top_k", "top_k",
            "component", "disagreement")
    works = [dict(zip(keys, row)) for row in zip(*columns)]
    r = result.raters
    width = scale[1] - scale[0]
    # a bias the ratings cannot estimate (a fixed effect from one rating) is null, as is its se
    bias = np.where(np.isfinite(r.bias_se), np.clip(r.bias, -width, width), np.nan)
    raters = [{"rater_id": rater_labels[j], "bias": _num(bias[j]), "scale": _num(r.scale[j]), "n": int(r.n[j]),
               "residual_sd": _num(r.residual_sd[j]), "bias_se": _num(min(r.bias_se[j], width)),
               "scale_se": _num(r.scale_se[j]), "method_used": r.method[j]} for j in range(len(rater_labels))]
    def rating(i):
        return {"work_id": str(work[i]), "rater_id": str(rater[i]), "score": _num(score[i])}

    flags = {
        "outliers": [{**rating(i), "standardized": _num(d.standardized[i], 3)} for i in np.flatnonzero(d.outlier)],
        "deviations": [{**rating(i), "direction": "畸高" if d.deviation[i] > 0 else "畸低"}
                       for i in np.flatnonzero(d.deviation)],
        "disagreements": [work_labels[i] for i in np.flatnonzero(d.disagreement)],
        # wild ratings the method set aside (weight ~0): they do not move their work's score
        "rejected": [{**rating(i), "weight": _num(d.robust_weight[i], 4)}
                     for i in (np.flatnonzero(d.rejected) if d.rejected is not None else [])],
    }
    categories = [c.as_dict() for c in result.categories]
    doc = {"method": method, "categories": categories, "scale": list(scale),
           "connected": result.connectivity.connected,
           "n_components": result.connectivity.n_components, "message": result.connectivity.message,
           "band": ranking.band, "n_draws": ranking.n_draws, "sigma": _num(result.sigma),
           "converged": result.converged, "notes": result.notes,
           "works": works, "raters": raters, "flags": flags}
    return json.dumps(doc, ensure_ascii=False) + "\n"


@click.command("reliability")
@click.argument("scores_csv", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--stat", type=click.Choice(["icc", "alpha"]), required=True, help="Statistic to compute.")
@click.option("--level", type=click.Choice(list(LEVELS)), default="interval", show_default=True,
              help="Level of measurement for Krippendorff's alpha.")
@click.option("--format", "fmt", type=click.Choice(["json"]), default="json", show_default=True)
def reliability_command(scores_csv: Path, stat: str, level: str, fmt: str) -> None:
    """Inter-rater reliability (ICC or Krippendorff's alpha) of SCORES_CSV (work_id, rater_id, score)."""
    table = read_ratings_csv(scores_csv, optional=())
    work, work_labels = encode_labels(table.work.tolist())
    rater, rater_labels = encode_labels(table.rater.tolist())
    key = work * len(rater_labels) + rater
    order = np.argsort(key, kind="stable")
    dup = np.flatnonzero(key[order][1:] == key[order][:-1])
    if dup.size:
        a, b = sorted((int(order[dup[0]]), int(order[dup[0] + 1])))
        raise click.ClickException(
            f"{scores_csv}: data row {b + 1} (line {b + 2}) repeats data row {a + 1}: rater "
            f"{rater_labels[rater[b]]!r} rated work {work_labels[work[b]]!r} twice"
        )
    matrix = np.full((len(work_labels), len(rater_labels)), np.nan)
    matrix[work, rater] = table.score
    try:
        if stat == "icc":
            res = icc(matrix)
            doc = res.as_dict()
            doc["notes"] = res.notes
        else:
            doc = {"alpha": krippendorff_alpha(matrix, level=level), "level": level,
                   "n_units": int(matrix.shape[0]), "n_raters": int(matrix.shape[1])}
    except ValueError as exc:
        raise click.ClickException(f"{scores_csv}: {exc}") from None
    click.echo(json.dumps(doc, ensure_ascii=False))
