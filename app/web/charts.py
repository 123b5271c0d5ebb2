"""Server-rendered SVG: the progress chart (mark and coverage over attempts) and the coverage meter."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

# Geometry of the chart's viewBox; the SVG scales to its container's width.
W, H = 760, 300
LEFT, RIGHT, TOP, BOTTOM = 48, 56, 40, 44
INSET = 36  # first and last points sit inside the axes, clear of the axis labels


@dataclass(frozen=True)
class Point:
    label: str  # "Draft 2"
    mark: int
    max_mark: int
    coverage: float  # 0-1


def _x(i: int, n: int) -> float:
    inner = W - LEFT - RIGHT - 2 * INSET
    return LEFT + INSET + (inner / 2 if n == 1 else inner * i / (n - 1))


def _mark_step(top: int) -> int:
    """A round tick step giving at most six intervals (25 -> 5, 40 -> 10, 3 -> 1)."""
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000):
        if top / step <= 6:
            return step
    return max(1, top // 5)


def _y(fraction: float) -> float:
    return TOP + (H - TOP - BOTTOM) * (1 - max(0.0, min(1.0, fraction)))


def _fmt(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def progress_chart(points: list[Point]) -> Markup:
    """Mark (left axis, solid line, circles) and coverage (right axis, dashed line, squares) per attempt."""
    n = len(points)
    step = _mark_step(max((p.max_mark for p in points), default=1) or 1)
    # the mark scale is rounded up to whole ticks; coverage shares the same grid lines
    top = step * -(-max((p.max_mark for p in points), default=1) // step) or 1
    intervals = top // step
    desc = "; ".join(f"{p.label}: mark {p.mark} out of {p.max_mark}, coverage {round(p.coverage * 100)}%" for p in points)
    parts: list[str] = [
        f'<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-labelledby="chart-title chart-desc" xmlns="http://www.w3.org/2000/svg">',
        '<title id="chart-title">Mark and coverage over your attempts</title>',
        f'<desc id="chart-desc">{Markup.escape(desc)}</desc>',
    ]
    for k in range(intervals + 1):  # one grid line per mark tick, labelled on both axes
        f = k / intervals
        y = _y(f)
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{W - RIGHT}" y1="{_fmt(y)}" y2="{_fmt(y)}"/>')
        parts.append(f'<text class="axis axis-mark" x="{LEFT - 8}" y="{_fmt(y + 4)}" text-anchor="end">{k * step}</text>')
        parts.append(f'<text class="axis axis-cov" x="{W - RIGHT + 8}" y="{_fmt(y + 4)}">{round(f * 100)}%</text>')
    parts.append(f'<text class="axis-title" x="{LEFT - 40}" y="{TOP - 16}">Mark</text>')
    parts.append(f'<text class="axis-title" x="{W - RIGHT + 56}" y="{TOP - 16}" text-anchor="end">Coverage</text>')
    mark_xy = [(_x(i, n), _y(p.mark / top)) for i, p in enumerate(points)]
    cov_xy = [(_x(i, n), _y(p.coverage)) for i, p in enumerate(points)]
    if n > 1:
        parts.append(f'<polyline class="line-cov" points="{" ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in cov_xy)}"/>')
        parts.append(f'<polyline class="line-mark" points="{" ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in mark_xy)}"/>')
    for i, p in enumerate(points):
        (mx, my), (cx, cy) = mark_xy[i], cov_xy[i]
        parts.append(f'<rect class="dot-cov" x="{_fmt(cx - 5)}" y="{_fmt(cy - 5)}" width="10" height="10"/>')
        parts.append(f'<circle class="dot-mark" cx="{_fmt(mx)}" cy="{_fmt(my)}" r="6"/>')
        parts.append(f'<text class="value" x="{_fmt(mx)}" y="{_fmt(my - 12)}" text-anchor="middle">{p.mark}</text>')
        parts.append(f'<text class="axis axis-x" x="{_fmt(mx)}" y="{H - BOTTOM + 22}" text-anchor="middle">{Markup.escape(p.label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def coverage_meter(coverage: float, label: str = "Concept coverage") -> Markup:
    """A horizontal bar from 0 to 100% with the share filled; the number is also printed beside it."""
    pct = round(max(0.0, min(1.0, coverage)) * 100)
    return Markup(
        '<svg class="meter" viewBox="0 0 100 8" preserveAspectRatio="none" role="img" aria-label="{label}: {pct}%" xmlns="http://www.w3.org/2000/svg">'
        '<rect class="meter-track" x="0" y="0" width="100" height="8" rx="4"/>'
        '<rect class="meter-fill" x="0" y="0" width="{pct}" height="8" rx="4"/>'
        "</svg>"
    ).format(label=label, pct=pct)


# -- class view ------------------------------------------------------------------
HW, HH = 760, 260
H_LEFT, H_RIGHT, H_TOP, H_BOTTOM = 44, 16, 24, 48


def _bins(low: int, high: int) -> list[tuple[int, int]]:
    """One bar per mark up to 30 marks; wider, equal bins above that (at most 25 bars)."""
    span = high - low + 1
    width = 1 if span <= 30 else -(-span // 25)
    bins = [(start, min(high, start + width - 1)) for start in range(low, high + 1, width)]
    if len(bins) > 1 and bins[-1][1] - bins[-1][0] + 1 < width:  # a short last band joins the one before (95-100)
        bins[-2:] = [(bins[-2][0], bins[-1][1])]
    return bins


def mark_distribution(marks: list[int], low: int, high: int) -> Markup:
    """Bars: how many students got each mark (or mark band), with the count above each bar."""
    bins = _bins(low, max(high, low))
    counts = [sum(1 for m in marks if a <= m <= b) for a, b in bins]
    top = max(counts, default=0)
    step = _mark_step(max(top, 1))
    ceiling = step * -(-max(top, 1) // step)
    inner_w, inner_h = HW - H_LEFT - H_RIGHT, HH - H_TOP - H_BOTTOM
    slot = inner_w / len(bins)
    bar = max(2.0, slot * 0.72)
    label_every = 1 if len(bins) <= 26 else 2
    desc = "; ".join(f"{a if a == b else f'{a}-{b}'}: {c}" for (a, b), c in zip(bins, counts) if c)
    parts = [
        f'<svg class="chart histogram" viewBox="0 0 {HW} {HH}" role="img" aria-labelledby="hist-title hist-desc" xmlns="http://www.w3.org/2000/svg">',
        '<title id="hist-title">How many students got each mark</title>',
        f'<desc id="hist-desc">{Markup.escape(desc or "No marks yet")}</desc>',
    ]
    for k in range(ceiling // step + 1):
        y = H_TOP + inner_h * (1 - k * step / ceiling)
        parts.append(f'<line class="grid" x1="{H_LEFT}" x2="{HW - H_RIGHT}" y1="{_fmt(y)}" y2="{_fmt(y)}"/>')
        parts.append(f'<text class="axis" x="{H_LEFT - 8}" y="{_fmt(y + 4)}" text-anchor="end">{k * step}</text>')
    for i, ((a, b), c) in enumerate(zip(bins, counts)):
        x = H_LEFT + slot * i + (slot - bar) / 2
        h = inner_h * c / ceiling
        y = H_TOP + inner_h - h
        label = str(a) if a == b else f"{a}–{b}"
        if c:
            parts.append(f'<rect class="bar" x="{_fmt(x)}" y="{_fmt(y)}" width="{_fmt(bar)}" height="{_fmt(h)}" rx="3"><title>{label}: {c} student{"s" if c != 1 else ""}</title></rect>')
            parts.append(f'<text class="value" x="{_fmt(x + bar / 2)}" y="{_fmt(y - 5)}" text-anchor="middle">{c}</text>')
        if i % label_every == 0:
            parts.append(f'<text class="axis" x="{_fmt(x + bar / 2)}" y="{HH - H_BOTTOM + 18}" text-anchor="middle">{label}</text>')
    parts.append(f'<text class="axis-title" x="{_fmt(H_LEFT + inner_w / 2)}" y="{HH - 8}" text-anchor="middle">Mark</text>')
    parts.append(f'<text class="axis-title" x="4" y="{H_TOP - 8}">Students</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
