"""Charts drawn on the server as plain SVG (no script, no inline style: classes from review.css).

Hand-built rather than matplotlib: three small chart kinds, text stays text (Chinese titles
are searchable and crisp), nothing to import at start-up, and the output is a few KB.
"""
from __future__ import annotations

import math

from flask_babel import gettext as _
from markupsafe import Markup, escape

WIDTH = 640


def _svg(height: float, body: list[str], label: str) -> Markup:
    return Markup(f'<svg class="chart" viewBox="0 0 {WIDTH} {height:.0f}" role="img" '
                  f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">'
                  f'<title>{escape(label)}</title>{"".join(body)}</svg>')


def _scale(lo: float, hi: float, left: float, right: float):
    span = (hi - lo) or 1.0
    return lambda v: left + (v - lo) / span * (right - left)


def _ticks(lo: float, hi: float, x, top: float, bottom: float, fmt="{:g}") -> list[str]:
    step = 10 ** math.floor(math.log10(max(hi - lo, 1e-9)))
    if (hi - lo) / step < 4:
        step /= 2
    out, v = [], math.ceil(lo / step) * step
    while v <= hi + 1e-9:
        out.append(f'<line class="grid" x1="{x(v):.1f}" x2="{x(v):.1f}" y1="{top}" y2="{bottom}"/>'
                   f'<text class="tick" x="{x(v):.1f}" y="{bottom + 13}" text-anchor="middle">{fmt.format(round(v, 3))}</text>')
        v += step
    return out


def score_distribution(groups: list[tuple[str, list[float]]], *, threshold: float | None, label: str) -> Markup:
    """One strip of dots per category (a dot per work's score) with the threshold line."""
    values = [v for _, vs in groups for v in vs]
    if not values:
        return Markup("")
    lo, hi = math.floor(min(values + ([threshold] if threshold else []))), \
        math.ceil(max(values + ([threshold] if threshold else [])))
    row, top, left = 26, 8, 120
    height = top + row * len(groups) + 24
    x = _scale(lo, hi, left, WIDTH - 16)
    body = _ticks(lo, hi, x, top, height - 22)
    for i, (name, scores) in enumerate(groups):
        y = top + row * i + row / 2
        body.append(f'<text class="axis" x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{escape(name)}</text>')
        body.extend(f'<circle class="dot" cx="{x(v):.1f}" cy="{y:.1f}" r="3.5"/>' for v in scores)
    if threshold is not None:
        body.append(f'<line class="cut" x1="{x(threshold):.1f}" x2="{x(threshold):.1f}" y1="{top}" '
                    f'y2="{height - 22}"/>')
    return _svg(height, body, label)


def rater_effects(raters: list[dict], names: dict[int, str], *, label: str) -> Markup:
    """Each rater's bias with its interval (left panel) and scale with its interval (right panel)."""
    if not raters:
        return Markup("")
    row, top = 20, 22
    height = top + row * len(raters) + 24
    biases = [v for r in raters for v in (r["bias_low"], r["bias_high"]) if v is not None] or [0.0]
    scales = [v for r in raters for v in (r["scale_low"], r["scale_high"]) if v is not None] or [1.0]
    b_lo, b_hi = min(min(biases), -0.5), max(max(biases), 0.5)
    s_lo, s_hi = min(min(scales), 0.8), max(max(scales), 1.2)
    xb = _scale(b_lo, b_hi, 130, 370)
    xs = _scale(s_lo, s_hi, 400, WIDTH - 16)
    body = _ticks(b_lo, b_hi, xb, top, height - 22, "{:+g}") + _ticks(s_lo, s_hi, xs, top, height - 22)
    bias, scale = escape(_("偏差")), escape(_("尺度"))   # the chart's words in the page's language
    body.append(f'<text class="axis" x="250" y="14" text-anchor="middle">{bias}</text>'
                f'<text class="axis" x="{(400 + WIDTH - 16) / 2:.0f}" y="14" text-anchor="middle">{scale}</text>'
                f'<line class="ref" x1="{xb(0):.1f}" x2="{xb(0):.1f}" y1="{top}" y2="{height - 22}"/>'
                f'<line class="ref" x1="{xs(1):.1f}" x2="{xs(1):.1f}" y1="{top}" y2="{height - 22}"/>')
    for i, r in enumerate(raters):
        y = top + row * i + row / 2
        body.append(f'<text class="axis" x="122" y="{y + 4:.1f}" text-anchor="end">'
                    f'{escape(names.get(r["expert_id"], str(r["expert_id"])))}</text>')
        for lo, mid, hi, x in ((r["bias_low"], r["bias"], r["bias_high"], xb),
                               (r["scale_low"], r["scale"], r["scale_high"], xs)):
            if lo is not None and hi is not None:
                body.append(f'<line class="band" x1="{x(lo):.1f}" x2="{x(hi):.1f}" y1="{y:.1f}" y2="{y:.1f}"/>')
            if mid is not None:
                body.append(f'<circle class="dot" cx="{x(mid):.1f}" cy="{y:.1f}" r="3.5"/>')
    return _svg(height, body, label)


def rank_bands(rows: list[dict], *, cut: int, label: str, limit: int = 30) -> Markup:
    """Each work's rank band (rank_low…rank_high, dot at its rank) with the cut after ``cut``."""
    rows = [r for r in rows if r["rank"] <= max(cut * 2, 10)][:limit]
    if not rows:
        return Markup("")
    row, top, left = 18, 8, 200
    height = top + row * len(rows) + 24
    hi = max(max(r["rank_high"] for r in rows), cut + 1)
    x = _scale(0.5, hi + 0.5, left, WIDTH - 16)
    body = _ticks(1, hi, x, top, height - 22)
    for i, r in enumerate(rows):
        y = top + row * i + row / 2
        title = r["title"] if len(r["title"]) <= 14 else r["title"][:13] + "…"
        kind = "in" if r.get("included", r["rank"] <= cut) else "out"
        body.append(f'<text class="axis" x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{escape(title)}</text>'
                    f'<line class="band {kind}" x1="{x(r["rank_low"]):.1f}" x2="{x(r["rank_high"]):.1f}" '
                    f'y1="{y:.1f}" y2="{y:.1f}"/><circle class="dot {kind}" cx="{x(r["rank"]):.1f}" '
                    f'cy="{y:.1f}" r="4"/>')
    if cut > 0:
        body.append(f'<line class="cut" x1="{x(cut + 0.5):.1f}" x2="{x(cut + 0.5):.1f}" y1="{top}" '
                    f'y2="{height - 22}"/>')
    return _svg(height, body, label)
