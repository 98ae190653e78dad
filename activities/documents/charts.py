"""The benchmarking report's charts as inline SVG: a radar of the areas, a strip per indicator.

Plain SVG text, so that the page and the PDF (WeasyPrint) draw the same picture and nothing is fetched.
Every value that reaches the markup is a number or escaped text.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from html import escape

CLUSTER = "#1f5f8b"  # the cluster's own scores
PEERS = "#c77d1a"  # the peers' median and quartiles
GRID = "#c9d2da"


def radar(areas: Sequence[tuple[str, int, float | None]], width: int = 480, height: int = 320) -> str:
    """Each area's score (percent of its maximum) on its own axis, the peers' medians as a dashed outline."""
    centre_x, centre_y, radius = width / 2, height / 2, min(width, height) / 2 - 48
    count = max(len(areas), 3)

    def point(index: int, percent: float) -> tuple[float, float]:
        angle = -math.pi / 2 + 2 * math.pi * index / count
        reach = radius * max(0.0, percent) / 100
        return centre_x + reach * math.cos(angle), centre_y + reach * math.sin(angle)

    def outline(values: Sequence[float]) -> str:
        points = (point(i, min(v, 100.0)) for i, v in enumerate(values))
        return " ".join(f"{x:.1f},{y:.1f}" for x, y in points)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="radar" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">'
    ]
    for ring in (25, 50, 75, 100):
        parts.append(f'<polygon points="{outline([ring] * count)}" fill="none" stroke="{GRID}" stroke-width="0.8"/>')
    for index, (name, _, _) in enumerate(areas):
        x, y = point(index, 100)
        parts.append(
            f'<line x1="{centre_x}" y1="{centre_y}" x2="{x:.1f}" y2="{y:.1f}" stroke="{GRID}" stroke-width="0.8"/>'
        )
        parts.append(_axis_label(name, *point(index, 112), centre_x))
    medians = [median for _, _, median in areas]
    if areas and all(median is not None for median in medians):
        peer_outline = outline([float(m) for m in medians if m is not None])
        parts.append(
            f'<polygon points="{peer_outline}" fill="none" stroke="{PEERS}" stroke-width="1.5" stroke-dasharray="4 3"/>'
        )
    if areas:
        own = outline([score for _, score, _ in areas])
        parts.append(
            f'<polygon points="{own}" fill="{CLUSTER}" fill-opacity="0.25" stroke="{CLUSTER}" stroke-width="2"/>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _axis_label(name: str, x: float, y: float, centre_x: float) -> str:
    """An axis's name in up to three lines, set away from the chart on its side."""
    anchor = "middle" if abs(x - centre_x) < 8 else ("start" if x > centre_x else "end")
    lines = textwrap.wrap(name, 18)[:3]
    top = y - 5 * (len(lines) - 1) + 3
    spans = "".join(
        f'<tspan x="{x:.1f}" y="{top + 11 * number:.1f}">{escape(line)}</tspan>' for number, line in enumerate(lines)
    )
    return f'<text font-size="9.5" text-anchor="{anchor}" fill="#1d2733">{spans}</text>'


def strip(
    score: int, max_score: int, q1: float | None, median: float | None, q3: float | None, width: int = 180
) -> str:
    """The scale of one indicator: the peers' middle half as a band, their median as a tick, the cluster's
    score as a dot."""
    height, pad = 16, 6
    span = width - 2 * pad

    def x(value: float) -> float:
        return pad + span * max(0.0, min(value, max_score)) / max(max_score, 1)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="strip" width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f'<line x1="{pad}" y1="8" x2="{width - pad}" y2="8" stroke="{GRID}" stroke-width="2"/>',
    ]
    if q1 is not None and q3 is not None:
        parts.append(
            f'<rect x="{x(q1):.1f}" y="3" width="{max(x(q3) - x(q1), 1.5):.1f}" height="10" fill="{PEERS}" fill-opacity="0.35"/>'
        )
    if median is not None:
        parts.append(
            f'<line x1="{x(median):.1f}" y1="1" x2="{x(median):.1f}" y2="15" stroke="{PEERS}" stroke-width="2"/>'
        )
    parts.append(f'<circle cx="{x(score):.1f}" cy="8" r="4.5" fill="{CLUSTER}"/>')
    parts.append("</svg>")
    return "".join(parts)
