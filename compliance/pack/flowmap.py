"""The data-flow map as an inline SVG: who -> the portal -> each subprocessor (region, transfer, categories).

Plain SVG text (no script, no external font or image), so the HTML stays self-contained and prints sharply.
"""

from __future__ import annotations

import textwrap
from html import escape

from compliance.pack.evidence import Flow
from compliance.pack.words import word
from compliance.render import label

WIDTH = 1100
BOX_H = 92
GAP = 18


def _text(
    x: float, y: float, content: str, *, size: int = 12, weight: str = "normal", anchor: str = "start"
) -> str:
    return (
        f'<text x="{x:.0f}" y="{y:.0f}" font-size="{size}" font-weight="{weight}" text-anchor="{anchor}">'
        f"{escape(content)}</text>"
    )


def _box(x: float, y: float, w: float, h: float, fill: str) -> str:
    return f'<rect x="{x:.0f}" y="{y:.0f}" width="{w:.0f}" height="{h:.0f}" rx="8" fill="{fill}" stroke="#334155"/>'


def _colon(lang: str) -> str:
    """French sets a (narrow) space before the colon."""
    return "\u00a0: " if lang == "fr" else ": "


def flow_map(flows: list[Flow], lang: str, *, titled: bool = True) -> str:
    """`titled`: with an SVG <title> for screen readers (the HTML); fpdf2 does not draw it (the PDF)."""
    subjects = sorted({s for f in flows for s in f.data_subjects})
    rows = max(len(flows), len(subjects), 1)
    height = rows * (BOX_H + GAP) + GAP
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" font-family="Helvetica, Arial, sans-serif" aria-labelledby="flowmap-title">',
    ]
    if titled:
        parts.append(f'<title id="flowmap-title">{escape(word("flows", lang))}</title>')
    c = _colon(lang)
    # Left: who; middle: the portal; right: one box per subprocessor.
    left_x, left_w = 10, 200
    mid_x, mid_w = 290, 150
    right_x, right_w = 520, WIDTH - 530
    mid_y = height / 2 - 30
    for i, subject in enumerate(subjects):
        y = GAP + i * (BOX_H + GAP) + (height - GAP - len(subjects) * (BOX_H + GAP)) / 2
        parts.append(
            f'<line x1="{left_x + left_w}" y1="{y + BOX_H / 2:.0f}" x2="{mid_x}" y2="{mid_y + 30:.0f}" stroke="#64748b" stroke-width="2"/>'
        )
        parts.append(_box(left_x, y, left_w, BOX_H, "#e0f2fe"))
        words = label("data_subjects", subject, lang)
        head, _, rest = words.partition(" (")
        parts.append(_text(left_x + 10, y + 22, word("who", lang), size=11))
        # SVG text does not wrap: long names are broken at words to stay inside the box.
        lines = [(line, 13, "bold") for line in textwrap.wrap(head, 24)]
        lines += [(line, 11, "normal") for line in textwrap.wrap("(" + rest, 30)] if rest else []
        for n, (line, size, weight) in enumerate(lines[:4]):
            parts.append(_text(left_x + 10, y + 40 + n * 16, line, size=size, weight=weight))
    parts.append(_box(mid_x, mid_y, mid_w, 60, "#ede9fe"))
    parts.append(
        _text(mid_x + mid_w / 2, mid_y + 35, word("portal", lang), size=14, weight="bold", anchor="middle")
    )
    for i, flow in enumerate(flows):
        y = GAP + i * (BOX_H + GAP)
        transfer = word("within_eea", lang) if flow.transfer_mechanism == "none" else flow.transfer_mechanism
        parts.append(
            f'<line x1="{mid_x + mid_w}" y1="{mid_y + 30:.0f}" x2="{right_x}" y2="{y + BOX_H / 2:.0f}" stroke="#64748b" stroke-width="2"/>'
        )
        fill = "#dcfce7" if flow.transfer_mechanism == "none" else "#fef9c3"
        parts.append(_box(right_x, y, right_w, BOX_H, fill))
        regions = ", ".join(flow.hosting_region)
        places = ", ".join(sorted({label("regions", r, lang) for r in flow.hosting_region}))
        deployed = ", ".join(flow.deployed_regions) or word("no_region_setting", lang)
        parts.append(
            _text(
                right_x + 10,
                y + 20,
                f"{flow.entity} ({flow.subprocessor}, {label('countries', flow.country, lang)})",
                size=13,
                weight="bold",
            )
        )
        parts.append(
            _text(
                right_x + 10,
                y + 38,
                f"{word('region', lang)}{c}{regions} ({places}); {word('deployed', lang)}{c}{deployed}",
                size=11,
            )
        )
        parts.append(_text(right_x + 10, y + 55, f"{word('transfer', lang)}{c}{transfer}", size=11))
        categories = ", ".join(c.removeprefix("user.") for c in flow.data_categories)
        if len(categories) > 70:
            categories = categories[:67].rsplit(",", 1)[0] + ", ..."
        parts.append(
            _text(
                right_x + 10,
                y + 72,
                f"{word('categories', lang)} ({len(flow.data_categories)}){c}{categories}",
                size=10,
            )
        )
    parts.append("</svg>")
    return "\n".join(parts)
