"""Charts drawn on the server as SVG: no chart script, no other origin. Each
is a picture for sighted readers (role="img" with a name); the same figures
are in a table beside it for everyone else, and in the downloads."""

from __future__ import annotations

from markupsafe import Markup, escape

BAR = 22  # px per bar
LABEL = 230  # px for the labels on the left
WIDTH = 640


def bars(title: str, rows: list[tuple[str, int]]) -> Markup:
    """Horizontal bars, one per row, with the count at the end of each."""
    most = max((count for _label, count in rows), default=0) or 1
    span = WIDTH - LABEL - 50
    height = BAR * len(rows) + 10
    parts = [
        f'<svg class="mantra-chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">'
    ]
    for n, (label, count) in enumerate(rows):
        y = 5 + n * BAR
        length = round(span * count / most)
        parts.append(
            f'<text x="{LABEL - 8}" y="{y + 15}" text-anchor="end" class="mantra-chart__label">{escape(_short(label))}</text>'
            f'<rect x="{LABEL}" y="{y + 3}" width="{length}" height="{BAR - 6}" class="mantra-chart__bar"/>'
            f'<text x="{LABEL + length + 6}" y="{y + 15}" class="mantra-chart__value">{count}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text in it escaped above)


def columns(title: str, rows: list[tuple[str, str, int]]) -> Markup:
    """Vertical bars over time (months), each labelled beneath on two lines
    (the month; the year, where it changes), so the labels never run together."""
    most = max((count for _label, _under, count in rows), default=0) or 1
    width = max(len(rows), 1) * 50 + 20
    parts = [
        f'<svg class="mantra-chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} 240" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">'
    ]
    for n, (label, under, count) in enumerate(rows):
        x = 15 + n * 50
        tall = round(160 * count / most)
        parts.append(
            f'<rect x="{x}" y="{180 - tall}" width="36" height="{tall}" class="mantra-chart__bar"/>'
            f'<text x="{x + 18}" y="{174 - tall}" text-anchor="middle" class="mantra-chart__value">{count}</text>'
            f'<text x="{x + 18}" y="{202}" text-anchor="middle" class="mantra-chart__label">{escape(label)}</text>'
            f'<text x="{x + 18}" y="{226}" text-anchor="middle" class="mantra-chart__label">{escape(under)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text in it escaped above)


def _short(label: str, most: int = 34) -> str:
    return label if len(label) <= most else label[: most - 1] + "…"
