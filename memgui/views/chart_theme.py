"""``ChartTheme``: the colors of the charts, taken from a widget's palette so they read in light and dark.

The first series uses the palette's highlight; the second the opposite hue (blue and orange with the
default highlight, a pair that color-blind readers tell apart too). Both are lightened on a dark background
and darkened on a light one until they stand out from it. No chart library here: plain ``QColor``.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtGui import QColor, QPalette

_FALLBACK_HUE = 210  # blue, for a palette whose highlight is grey


def blend(a: QColor, b: QColor, amount: float) -> QColor:
    """``a`` moved ``amount`` (0..1) of the way to ``b``."""
    return QColor.fromRgbF(
        a.redF() + (b.redF() - a.redF()) * amount,
        a.greenF() + (b.greenF() - a.greenF()) * amount,
        a.blueF() + (b.blueF() - a.blueF()) * amount,
    )


def luminance(color: QColor) -> float:
    """Relative luminance (WCAG), 0 for black to 1 for white."""

    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(color.redF()) + 0.7152 * channel(color.greenF()) + 0.0722 * channel(color.blueF())


def contrast(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio between two colors (1 to 21)."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _readable(hue: int, saturation: int, background: QColor, minimum: float = 3.0) -> QColor:
    """A color of ``hue`` that reaches ``minimum`` contrast against ``background`` (WCAG for graphics)."""
    dark = luminance(background) < 0.4
    lightness = 165 if dark else 110
    color = QColor.fromHsl(hue, saturation, lightness)
    while contrast(color, background) < minimum and 20 < lightness < 235:
        lightness += 8 if dark else -8
        color = QColor.fromHsl(hue, saturation, lightness)
    return color


@dataclasses.dataclass(frozen=True)
class ChartTheme:
    """Colors of one palette: background, text, grid, two series, the calendar's levels and markers."""

    background: QColor
    foreground: QColor
    muted: QColor
    grid: QColor
    primary: QColor  # the user's series
    secondary: QColor  # the assistant's series
    empty_cell: QColor
    current_streak: QColor
    longest_streak: QColor

    @property
    def dark(self) -> bool:
        return luminance(self.background) < 0.4

    def level(self, fraction: float) -> QColor:
        """A calendar cell's fill for activity ``fraction`` (0: none, 1: the busiest day)."""
        if fraction <= 0:
            return self.empty_cell
        return blend(self.empty_cell, self.primary, 0.3 + 0.7 * min(1.0, fraction))

    @classmethod
    def from_palette(cls, palette: QPalette) -> ChartTheme:
        background = palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.Base)
        foreground = palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.Text)
        highlight = palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.Highlight)
        hue = highlight.hslHue() if highlight.hslSaturation() > 40 and highlight.hslHue() >= 0 else _FALLBACK_HUE
        primary = _readable(hue, 170, background)
        secondary = _readable((hue + 180) % 360, 190, background)
        return cls(
            background=background,
            foreground=foreground,
            muted=blend(foreground, background, 0.35),
            grid=blend(foreground, background, 0.8),
            primary=primary,
            secondary=secondary,
            empty_cell=blend(foreground, background, 0.9),
            current_streak=foreground,
            longest_streak=secondary,
        )
