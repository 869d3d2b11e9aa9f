"""Text and coordinates for the charts, without the chart library: day positions on a date axis, whole-number
tick steps, tooltips, elided labels and the colored swatches of legends and captions."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import date, timedelta

from PySide6.QtGui import QColor

EPOCH = date(1970, 1, 1)
DAY = 86400.0
Series = tuple[str, Sequence[float], str]  # (name, one value per x, "primary" | "secondary")


def day_x(day: date) -> float:
    """A day's x coordinate: seconds since the epoch at its midnight, for a UTC date axis."""
    return (day - EPOCH).days * DAY


def x_day(x: float) -> date:
    return EPOCH + timedelta(days=round(x / DAY))


def count_step(top: float, ticks: int = 5) -> int:
    """A whole-number tick step (1, 2, 5, 10, 20, 50, ...) giving about ``ticks`` ticks up to ``top``."""
    step = 1
    while step * ticks < top:
        for factor in (2, 2.5, 2):
            step = int(step * factor)
            if step * ticks >= top:
                break
    return step


def describe(heading: str, series: Sequence[Series], index: int, unit: str) -> str:
    """A tooltip: the point's heading, then its value (one series) or each series' value."""
    if len(series) == 1:
        return f"{heading}\n{int(series[0][1][index]):,} {unit}"
    rows = [f"{name}: {int(values[index]):,}" for name, values, _role in series]
    return "\n".join([f"{heading} ({unit})", *rows])


def elide(text: str, width: int = 22) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def span_text(label: str, span: tuple[date, date] | None) -> str:
    """"current streak: 3 days (01 Mar 2025 – 03 Mar 2025)", or ": none"."""
    if span is None:
        return f"{label}: none"
    days = (span[1] - span[0]).days + 1
    return f"{label}: {days:,} day{'s' if days != 1 else ''} ({span[0]:%d %b %Y} – {span[1]:%d %b %Y})"


def swatches(items: Sequence[tuple[str, QColor]]) -> str:
    """Rich text: a colored square before each (escaped) text, for a legend or a caption."""
    # Non-breaking inside an item, a breaking space between items: a narrow pane wraps between them.
    parts = [f'<span style="color:{color.name()}">■</span>&nbsp;{html.escape(text).replace(" ", "&nbsp;")}'
             for text, color in items]
    return "&nbsp;&nbsp; ".join(parts)
