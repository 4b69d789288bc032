"""The conduct page's chart, drawn on the server as plain SVG (no script, no inline style; the
classes come from review.css and conduct.css), like web/review/charts.py."""
from __future__ import annotations

import math

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 290
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 44


def _ticks(lo: float, hi: float) -> list[float]:
    step = 10 ** math.floor(math.log10(max(hi - lo, 1e-9)))
    if (hi - lo) / step < 4:
        step /= 2
    out, v = [], math.ceil(lo / step) * step
    while v <= hi + 1e-9:
        out.append(round(v, 6))
        v += step
    return out


def _place(text: str, cx: float, cy: float, placed: list[tuple[float, float, float, float]]):
    """A spot for a dot's label that overlaps no label placed before (None: the tooltip must do)."""
    width, height = 10.5 * len(text), 11.0
    for dx, dy, anchor in ((6, -5, "start"), (6, 13, "start"), (-6, -5, "end"), (-6, 13, "end")):
        x0 = cx + dx if anchor == "start" else cx + dx - width
        box = (x0, cy + dy - height + 2, x0 + width, cy + dy + 2)
        if box[0] < LEFT or box[2] > WIDTH or box[1] < 0 or box[3] > HEIGHT - BOTTOM:
            continue
        if all(box[2] < b[0] or box[0] > b[2] or box[3] < b[1] or box[1] > b[3] for b in placed):
            placed.append(box)
            return cx + dx, cy + dy, anchor
    return None


def bias_agreement(points: list[tuple[str, float, float, bool]], *, label: str, x_label: str,
                   y_label: str) -> Markup:
    """One dot per expert: bias (x) against agreement with the consensus (y, −1…1).

    ``points`` are (name, bias, agreement, has an unexplained abnormal rating); the latter are
    drawn as warnings. Experts without both figures are left out by the caller.
    """
    if not points:
        return Markup("")
    biases = [b for _, b, _, _ in points]
    b_lo, b_hi = min(min(biases), -0.5), max(max(biases), 0.5)
    pad = (b_hi - b_lo) * 0.05
    b_lo, b_hi = b_lo - pad, b_hi + pad
    # the agreement axis runs from a little below the lowest expert to 1 (never below −1)
    a_lo, a_hi = max(-1.0, math.floor(min(a for _, _, a, _ in points) * 10 - 0.5) / 10), 1.0

    def x(v: float) -> float:
        return LEFT + (v - b_lo) / (b_hi - b_lo) * (WIDTH - LEFT - RIGHT)

    def y(v: float) -> float:
        return TOP + (a_hi - v) / ((a_hi - a_lo) or 1.0) * (HEIGHT - TOP - BOTTOM)

    bottom = HEIGHT - BOTTOM
    body = []
    for v in _ticks(b_lo, b_hi):
        body.append(f'<line class="grid" x1="{x(v):.1f}" x2="{x(v):.1f}" y1="{TOP}" y2="{bottom}"/>'
                    f'<text class="tick" x="{x(v):.1f}" y="{bottom + 13}" text-anchor="middle">{v:+g}</text>')
    for v in _ticks(a_lo, a_hi):
        body.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(v):.1f}" y2="{y(v):.1f}"/>'
                    f'<text class="tick" x="{LEFT - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v:g}</text>')
    body.append(f'<line class="ref" x1="{x(0):.1f}" x2="{x(0):.1f}" y1="{TOP}" y2="{bottom}"/>'
                f'<text class="axis" x="{(LEFT + WIDTH - RIGHT) / 2:.0f}" y="{HEIGHT - 8}" '
                f'text-anchor="middle">{escape(x_label)}</text>'
                f'<text class="axis" x="12" y="{(TOP + bottom) / 2:.0f}" text-anchor="middle" '
                f'transform="rotate(-90 12 {(TOP + bottom) / 2:.0f})">{escape(y_label)}</text>')
    placed = [(x(b) - 4, y(a) - 4, x(b) + 4, y(a) + 4) for _, b, a, _ in points]  # labels avoid the dots
    for name, bias, agreement, warn in sorted(points, key=lambda p: (p[1], p[2])):
        cx, cy = x(bias), y(agreement)
        kind = "dot warn" if warn else "dot"
        body.append(f'<g class="expert-point"><title>{escape(name)}: {bias:+.2f} / {agreement:.2f}</title>'
                    f'<circle class="{kind}" cx="{cx:.1f}" cy="{cy:.1f}" r="4"/>')
        label = _place(name[:6], cx, cy, placed)
        if label:
            tx, ty, anchor = label
            body.append(f'<text class="point-label" x="{tx:.1f}" y="{ty:.1f}" text-anchor="{anchor}">'
                        f'{escape(name[:6])}</text>')
        body.append("</g>")
    return Markup(f'<svg class="chart conduct-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(label)}" '
                  f'xmlns="http://www.w3.org/2000/svg"><title>{escape(label)}</title>{"".join(body)}</svg>')
