"""The chart widgets of the metrics and overview panes: the only module that imports the chart library.

pyqtgraph, not QtCharts: QtCharts is deprecated since Qt 6.10 and not part of PySide6-Essentials, which the
project installs; pyqtgraph is maintained and already a dependency. Every chart is a ``ChartPanel``: a title,
a plot styled from the widget palette (``ChartTheme``), a tooltip for the data point under the mouse, and
"Export as PNG…" from its button or context menu. Data arrive already binned (one value per day or bin).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal, Slot
from PySide6.QtGui import QAction, QColor, QCursor, QFontMetrics, QPen, QPixmap, QShowEvent, QWheelEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QToolButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from memgui.views.chart_format import (
    DAY,
    Series,
    count_step,
    day_x,
    describe,
    elide,
    span_text,
    swatches,
    x_day,
)
from memgui.views.chart_theme import ChartTheme


class _PlotWidget(pg.PlotWidget):  # type: ignore[misc]
    """A plot that leaves the plain mouse wheel to the page it sits in; Ctrl+wheel zooms the chart."""

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            QGraphicsView.wheelEvent(self, event)  # to the scene: the plot zooms, the page stays
            event.accept()
        else:
            event.ignore()  # Qt hands it to the parents: the scroll area scrolls


class _CountAxis(pg.AxisItem):  # type: ignore[misc]
    """Tick labels as whole numbers with thousands separators (200,000 rather than 200000 or 2e5)."""

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return [f"{value * scale:,.0f}" for value in values]


class _CategoryAxis(_CountAxis):
    """A bottom axis naming one category under each bar. Labels too wide for a bar's share of the axis ("7–13",
    "14–29" under a narrow streak histogram ran into each other) go on two staggered lines, every other one a
    line lower; worked out again whenever the axis is resized."""

    GAP = 6  # pixels kept free between two neighbouring labels
    textHeight: float  # pyqtgraph's: the room it keeps for a line of tick labels (it only ever grows)

    def __init__(self) -> None:
        super().__init__("bottom")
        self.categories: list[tuple[float, str]] = []
        self.staggered = False

    def set_categories(self, ticks: list[tuple[float, str]]) -> None:
        self.categories = ticks
        self._fit()

    def resizeEvent(self, event: object = None) -> None:
        super().resizeEvent(event)
        if hasattr(self, "categories"):  # pyqtgraph resizes the axis while it is being made
            self._fit()

    def _fit(self) -> None:
        width = self.geometry().width()
        metrics = QFontMetrics(self.style.get("tickFont") or self.font())
        widest = max((metrics.horizontalAdvance(text) for _x, text in self.categories), default=0)
        staggered = bool(self.categories) and width > 0 and widest + self.GAP > width / len(self.categories)
        if staggered != self.staggered:
            self.staggered = staggered
            if staggered:  # two lines of labels under the ticks (not from pyqtgraph's height: 0 while empty)
                self.setHeight(max(0, self.style["tickLength"]) + self.style["tickTextOffset"][1]
                               + 2 * metrics.height())
            else:  # pyqtgraph's own height again; its room for labels only ever grows: back to one line's
                self.textHeight = metrics.height()
                self.setHeight(None)
        self.setTicks([[(x, f"\n{text}" if staggered and i % 2 else text)
                        for i, (x, text) in enumerate(self.categories)]])


class _DayAxis(pg.DateAxisItem):  # type: ignore[misc]
    """Dates that name their month: "Sep 14" a few days apart, "Sep 2026" months apart, "2026" years apart.
    The points are the user's local days (``chart_format.day_x``), so the labels are days in the user's zone."""

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[tuple[float, list[float]]]:
        """Only the finest level of ticks: pyqtgraph also draws the coarser one on the same line, and "Nov 2026"
        landed on top of "Oct 29" and "Nov 3"; the finest labels name their month (or year) themselves."""
        levels: list[tuple[float, list[float]]] = super().tickValues(minVal, maxVal, size)
        shown = [level for level in levels if level[1]]
        return shown[-1:]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        if spacing >= 300 * DAY:
            pattern = "%Y"
        elif spacing >= 25 * DAY:
            pattern = "%b %Y"
        else:
            pattern = "%b %d"
        out = []
        for value in values:
            try:
                out.append(x_day(value).strftime(pattern).replace(" 0", " "))
            except (OverflowError, ValueError, OSError):
                out.append("")
        return out


class ChartPanel(QFrame):
    """A titled chart with tooltips and PNG export; subclasses plot and describe their data points."""

    exported = Signal(str)
    empty_text = "No data"

    def __init__(self, title: str, parent: QWidget | None = None, *, date_axis: bool = False) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self._title = QLabel(title, self)
        self._title.setTextFormat(Qt.TextFormat.PlainText)
        font = self._title.font()
        font.setBold(True)
        self._title.setFont(font)
        self.legend = QLabel(self)
        self.legend.setTextFormat(Qt.TextFormat.RichText)  # our series names and colors only, no user text
        self.legend.hide()
        self.header = QHBoxLayout()
        self.header.addWidget(self._title)
        self.header.addSpacing(16)
        self.header.addWidget(self.legend)
        self.header.addStretch(1)
        self._export_button = QToolButton(self)
        self._export_button.setText("Export PNG…")
        self._export_button.setToolTip(f"Save the chart “{title}” as a PNG image")
        self._export_button.setAutoRaise(True)
        self._export_button.clicked.connect(self._on_export)
        self.header.addWidget(self._export_button)
        self._date_axis = date_axis
        self._plot: _PlotWidget | None = None  # made when first needed (see ``plot``)
        self._plot_shown = True
        self._plot_heights: tuple[int, int | None] = (170, None)  # minimum, maximum (None: no maximum)
        self._empty = QLabel(self.empty_text, self)
        self._empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._empty.setTextFormat(Qt.TextFormat.PlainText)
        self._empty.hide()
        self._export_action = QAction("Export as PNG…", self)
        self._export_action.triggered.connect(self._on_export)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.addAction(self._export_action)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 8)
        layout.addLayout(self.header)
        layout.addWidget(self._empty, 1)
        self.last_tooltip: str | None = None
        self.theme = ChartTheme.from_palette(self.palette())

    @property
    def plot(self) -> _PlotWidget:
        """The chart itself, made on first use: a pyqtgraph plot costs 12 ms to build, and the window's eight
        charts sit in tabs that are not shown at start (0.1 s of the users list's first paint)."""
        if self._plot is None:
            plot = self._plot = _PlotWidget(self, axisItems={"left": _CountAxis("left"), "bottom": self._bottom_axis()})
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.setMouseEnabled(x=False, y=False)
            self._apply_heights()
            # A fixed width: charts stacked in a column line up, and labels fit before the first repaint.
            plot.getPlotItem().getAxis("left").setWidth(56)
            plot.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
            plot.addAction(self._export_action)
            self.layout().insertWidget(1, plot, 1)  # type: ignore[union-attr]
            plot.setVisible(self._plot_shown)
            plot.scene().sigMouseMoved.connect(self._on_mouse_moved)
            self._apply_theme()
            self.configure_plot(plot)
        return self._plot

    def configure_plot(self, plot: _PlotWidget) -> None:
        """What a kind of chart sets on its plot once it is made."""

    def _bottom_axis(self) -> pg.AxisItem:
        return _DayAxis(orientation="bottom", utcOffset=0) if self._date_axis else _CountAxis("bottom")

    def set_plot_heights(self, minimum: int, maximum: int | None = None) -> None:
        self._plot_heights = (minimum, maximum)
        self._apply_heights()

    def _apply_heights(self) -> None:
        if self._plot is not None:
            minimum, maximum = self._plot_heights
            self._plot.setMinimumHeight(minimum)
            if maximum is not None:
                self._plot.setMaximumHeight(maximum)

    def showEvent(self, event: QShowEvent) -> None:
        self.plot  # noqa: B018  (made now, in its place, before it is painted)
        super().showEvent(event)

    # -- data and look -----------------------------------------------------------------------------
    @property
    def title(self) -> str:
        return self._title.text()

    def set_empty(self, empty: bool, text: str | None = None) -> None:
        """Show ``text`` (or ``empty_text``) instead of the plot."""
        self._empty.setText(text or self.empty_text)
        self._empty.setVisible(empty)
        self._plot_shown = not empty
        if self._plot is not None:
            self._plot.setVisible(not empty)

    @property
    def is_empty(self) -> bool:
        return self._empty.isVisibleTo(self) or not self._plot_shown

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.theme = ChartTheme.from_palette(self.palette())
            if self._plot is not None:  # a plot made later takes the new theme then
                self._apply_theme()
                self.redraw()

    def _apply_theme(self) -> None:
        theme = self.theme
        self.plot.setBackground(theme.background)
        item = self.plot.getPlotItem()
        for name in ("left", "bottom"):
            axis = item.getAxis(name)
            axis.setPen(pg.mkPen(theme.muted))
            axis.setTextPen(pg.mkPen(theme.foreground))
            axis.setStyle(hideOverlappingLabels=True)
        item.showGrid(x=False, y=True, alpha=0.25)

    def redraw(self) -> None:
        """Plot the current data again (after a palette change)."""

    def pen(self, role: str, width: float = 2.0) -> QPen:
        pen: QPen = pg.mkPen(self.color(role), width=width)
        return pen

    def color(self, role: str) -> QColor:
        return QColor(getattr(self.theme, role))

    def show_legend(self, series: Sequence[Series]) -> None:
        """Colored names of the series in the header (outside the plot, where they hide no data); none for
        a single series, which the title names."""
        self.legend.setText(swatches([(name, self.color(role)) for name, _v, role in series]))
        self.legend.setVisible(len(series) > 1)

    def count_axis(self, name: str, top: float) -> None:
        """Whole-number ticks on the axis ``name`` for counts up to ``top``."""
        step = count_step(top)
        self.plot.getPlotItem().getAxis(name).setTickSpacing(major=step, minor=step)

    # -- tooltips -------------------------------------------------------------------------------------
    def tooltip_at(self, x: float, y: float) -> str | None:
        """The tooltip of the data point at plot coordinates (x, y), or None."""
        return None

    @Slot(object)
    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        box = self.plot.getPlotItem().getViewBox()
        text = None
        if box.sceneBoundingRect().contains(scene_pos):
            point = box.mapSceneToView(scene_pos)
            text = self.tooltip_at(point.x(), point.y())
        self.last_tooltip = text
        # The plot area's tooltip is shown by Qt when the mouse rests; one already on screen follows.
        box.setToolTip(text or "")
        if QToolTip.isVisible():
            if text:
                QToolTip.showText(QCursor.pos(), text, self.plot)
            else:
                QToolTip.hideText()

    # -- export ----------------------------------------------------------------------------------------
    @classmethod
    def ask_export_path(cls, parent: QWidget, suggested: str) -> str:
        """The PNG file to write, or "" when the user cancels (tests patch this classmethod)."""
        path, _filter = QFileDialog.getSaveFileName(parent, "Export chart as PNG", suggested, "PNG images (*.png)")
        return path

    def render_pixmap(self) -> QPixmap:
        """The chart as shown, title included, without the export button."""
        self.plot  # noqa: B018  (a chart never shown is made before it is drawn)
        self._export_button.setVisible(False)
        try:
            return self.grab()
        finally:
            self._export_button.setVisible(True)

    def export_png(self, path: str | None = None) -> str | None:
        """Write the chart to ``path`` (asked for when None); the path written, or None if cancelled."""
        if path is None:
            slug = "".join(c if c.isalnum() else "-" for c in self.title.lower()).strip("-") or "chart"
            path = type(self).ask_export_path(self, f"{slug}.png")
            if not path:
                return None
        if not path.lower().endswith(".png"):
            path += ".png"
        if not self.render_pixmap().save(path, "PNG"):
            raise OSError(f"could not write {path}")
        self.exported.emit(str(Path(path)))
        return path

    @Slot()
    def _on_export(self) -> None:
        try:
            self.export_png()
        except OSError as exc:
            QToolTip.showText(QCursor.pos(), str(exc), self)


class DailyChart(ChartPanel):
    """Values per day for one or two series (lines over a date axis, x zoom and pan)."""

    empty_text = "No messages yet"

    def __init__(self, title: str, unit: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent, date_axis=True)
        self.unit = unit
        self._title.setToolTip("Drag to move through time, Ctrl+wheel to zoom; “Show all days” in the context menu")
        self._show_all = QAction("Show all days", self)
        self._show_all.triggered.connect(self.show_all_days)
        self.days: tuple[date, ...] = ()
        self.series: list[Series] = []
        self.curves: dict[str, pg.PlotDataItem] = {}

    def configure_plot(self, plot: _PlotWidget) -> None:
        plot.setMouseEnabled(x=True, y=False)
        plot.addAction(self._show_all)

    def set_data(self, days: Sequence[date], series: Sequence[Series]) -> None:
        self.days, self.series = tuple(days), list(series)
        self.redraw()

    def redraw(self) -> None:
        item = self.plot.getPlotItem()
        item.clear()
        self.curves = {}
        self.set_empty(not self.days)
        self.show_legend(self.series if self.days else ())
        if not self.days:
            return
        xs = [day_x(d) for d in self.days]
        edges = [x - DAY / 2 for x in xs] + [xs[-1] + DAY / 2]
        for name, values, role in self.series:
            fill = QColor(self.color(role))
            fill.setAlphaF(0.22)
            # One flat step per day: a lone busy day reads as a bar, not as a spike between two zeros.
            curve = self.plot.plot(edges, list(values), name=name, pen=self.pen(role, 1.6), stepMode="center",
                                   fillLevel=0 if role == "primary" else None, brush=fill)
            self.curves[name] = curve
        pad = DAY * max(1, len(xs) // 50)
        item.getViewBox().setLimits(xMin=xs[0] - pad, xMax=xs[-1] + pad, yMin=0, minXRange=DAY * 7)
        self.show_all_days()
        top = max((max(v, default=0) for _n, v, _r in self.series), default=0) or 1
        item.getViewBox().setLimits(yMin=0, yMax=top * 1.15)
        item.setYRange(0, top * 1.15, padding=0)  # from zero, with room above the busiest day
        self.count_axis("left", top)

    @Slot()
    def show_all_days(self) -> None:
        """Zoom back out to the whole period."""
        if self.days:
            pad = DAY * max(1, len(self.days) // 50)
            self.plot.getPlotItem().setXRange(day_x(self.days[0]) - pad, day_x(self.days[-1]) + pad, padding=0)

    def points(self, name: str) -> list[tuple[date, float]]:
        """The points the named curve holds, as (day, value)."""
        edges, ys = self.curves[name].getData()  # step mode: day edges, one more than the values
        return [(x_day(float(x) + DAY / 2), float(y)) for x, y in zip(edges[:-1], ys, strict=True)]

    def tooltip_at(self, x: float, y: float) -> str | None:
        if not self.days:
            return None
        day = x_day(x)
        if day < self.days[0] or day > self.days[-1]:
            return None
        i = (day - self.days[0]).days
        if not 0 <= i < len(self.days) or self.days[i] != day:
            try:
                i = self.days.index(day)
            except ValueError:
                return None
        return describe(day.strftime("%a %d %b %Y"), self.series, i, self.unit)


class BarChart(ChartPanel):
    """Counts per category for one or two series, vertical or horizontal (categories on the left)."""

    def __init__(self, title: str, unit: str, parent: QWidget | None = None, *, horizontal: bool = False,
                 empty_text: str = "No data") -> None:
        super().__init__(title, parent)
        self.unit, self.horizontal, self.empty_text = unit, horizontal, empty_text
        self.labels: tuple[str, ...] = ()
        self.series: list[Series] = []
        self.bars: dict[str, pg.BarGraphItem] = {}

    def configure_plot(self, plot: _PlotWidget) -> None:
        plot.getPlotItem().showGrid(x=self.horizontal, y=not self.horizontal, alpha=0.25)

    def _bottom_axis(self) -> pg.AxisItem:
        return _CountAxis("bottom") if self.horizontal else _CategoryAxis()

    def set_data(self, labels: Sequence[str], series: Sequence[Series]) -> None:
        self.labels, self.series = tuple(labels), list(series)
        self.redraw()

    def _position(self, index: int) -> float:
        return float(len(self.labels) - 1 - index) if self.horizontal else float(index)

    def redraw(self) -> None:
        item = self.plot.getPlotItem()
        item.clear()
        self.bars = {}
        empty = not self.labels or not any(any(v) for _n, v, _r in self.series)
        self.set_empty(empty)
        self.show_legend(() if empty else self.series)
        if empty:
            return
        width = 0.8 / len(self.series)
        positions = [self._position(i) for i in range(len(self.labels))]
        for k, (name, values, role) in enumerate(self.series):
            offset = (k - (len(self.series) - 1) / 2) * width
            centers = [p + offset for p in positions]
            color = self.color(role)
            if self.horizontal:
                bar = pg.BarGraphItem(x0=0, y=centers, height=width * 0.95, width=list(values), brush=color, pen=None)
            else:
                bar = pg.BarGraphItem(x=centers, height=list(values), width=width * 0.95, brush=color, pen=None)
            item.addItem(bar)
            self.bars[name] = bar
        ticks = [(self._position(i), elide(label)) for i, label in enumerate(self.labels)]
        axis = item.getAxis("left" if self.horizontal else "bottom")
        if isinstance(axis, _CategoryAxis):
            axis.set_categories(ticks)
        else:
            axis.setTicks([ticks])
        top = max(max(v) for _n, v, _r in self.series if len(v))
        if self.horizontal:
            metrics = QFontMetrics(axis.font() if hasattr(axis, "font") else self.font())
            axis.setWidth(max(metrics.horizontalAdvance(t) for _p, t in ticks) + 14)
            item.setYRange(-0.6, len(self.labels) - 0.4, padding=0)
            item.setXRange(0, top * 1.1, padding=0)
            self.count_axis("bottom", top)
        else:
            item.setXRange(-0.6, len(self.labels) - 0.4, padding=0)
            item.setYRange(0, top * 1.15, padding=0)
            self.count_axis("left", top)

    def points(self, name: str) -> list[tuple[str, float]]:
        """(category, value) of every bar of the named series, as plotted."""
        opts = self.bars[name].opts
        values = opts["width"] if self.horizontal else opts["height"]
        return [(label, float(v)) for label, v in zip(self.labels, values, strict=True)]

    def tooltip_at(self, x: float, y: float) -> str | None:
        coordinate = y if self.horizontal else x
        index = round(len(self.labels) - 1 - coordinate) if self.horizontal else round(coordinate)
        if not self.labels or not 0 <= index < len(self.labels) or abs(coordinate - round(coordinate)) > 0.45:
            return None
        return describe(self.labels[index], self.series, index, self.unit)


class CalendarHeatmap(ChartPanel):
    """A year of days as squares (weeks left to right, Monday on top), shaded by activity, with the
    current and the longest streak outlined."""

    empty_text = "No active days in this period"

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.cells: list[tuple[date, int, bool]] = []
        self.current: tuple[date, date] | None = None
        self.longest: tuple[date, date] | None = None
        self.spots = pg.ScatterPlotItem(pxMode=False, symbol="s", size=0.82)
        self.set_plot_heights(150, 190)
        self.caption = QLabel(self)
        self.caption.setTextFormat(Qt.TextFormat.RichText)  # our own numbers and dates, no user text
        self.caption.setWordWrap(True)  # wraps between its items in a narrow pane (non-breaking inside each)
        self.layout().addWidget(self.caption)  # type: ignore[union-attr]

    def configure_plot(self, plot: _PlotWidget) -> None:
        item = plot.getPlotItem()
        item.showGrid(x=False, y=False)
        item.getAxis("left").setTicks([[(6.0, "Mon"), (4.0, "Wed"), (2.0, "Fri")]])
        item.getViewBox().setAspectLocked(True)

    def set_data(self, cells: Sequence[tuple[date, int, bool]], current: tuple[date, date] | None,
                 longest: tuple[date, date] | None) -> None:
        self.cells, self.current, self.longest = list(cells), current, longest
        self.redraw()

    def _place(self, day: date) -> tuple[float, float]:
        first = self.cells[0][0]
        return float((day - first).days // 7), float(6 - day.weekday())

    def redraw(self) -> None:
        item = self.plot.getPlotItem()
        item.clear()
        empty = not any(active for _d, _n, active in self.cells)
        self.set_empty(empty)
        self.caption.setVisible(bool(self.cells))
        if not self.cells:
            return
        busiest = max((n for _d, n, _a in self.cells), default=0) or 1
        theme = self.theme
        spots = []
        for day, count, active in self.cells:
            x, y = self._place(day)
            fraction = max(count / busiest, 0.15) if active else 0.0
            pen = None
            if self.longest and self.longest[0] <= day <= self.longest[1]:
                pen = pg.mkPen(theme.longest_streak, width=2)
            if self.current and self.current[0] <= day <= self.current[1]:
                pen = pg.mkPen(theme.current_streak, width=2)
            spots.append({"pos": (x, y), "brush": pg.mkBrush(theme.level(fraction)),
                          "pen": pen if pen is not None else pg.mkPen(None), "data": (day, count, active)})
        self.spots = pg.ScatterPlotItem(pxMode=False, symbol="s", size=0.82)
        self.spots.addPoints(spots)
        item.addItem(self.spots)
        months = [(self._place(d)[0], d.strftime("%b")) for d, _n, _a in self.cells if d.day == 1]
        item.getAxis("bottom").setTicks([months])
        weeks = self._place(self.cells[-1][0])[0] + 1
        item.getViewBox().setRange(QRectF(-0.6, -0.6, weeks + 0.2, 7.2), padding=0)
        self.caption.setText(self._caption())

    def _caption(self) -> str:
        return swatches([(span_text("current streak", self.current), self.theme.current_streak),
                         (span_text("longest streak", self.longest), self.theme.longest_streak)])

    def cell_at(self, x: float, y: float) -> tuple[date, int, bool] | None:
        if not self.cells:
            return None
        week, row = round(x), round(y)
        if abs(x - week) > 0.45 or abs(y - row) > 0.45 or not 0 <= row <= 6:
            return None
        day = self.cells[0][0] + timedelta(days=week * 7 + 6 - row)
        index = (day - self.cells[0][0]).days
        return self.cells[index] if 0 <= index < len(self.cells) else None

    def tooltip_at(self, x: float, y: float) -> str | None:
        cell = self.cell_at(x, y)
        if cell is None:
            return None
        day, count, active = cell
        text = f"{day:%a %d %b %Y}\n{count:,} message{'s' if count != 1 else ''} from the user"
        if active and not count:
            text += " (active day recorded in the metrics)"
        if self.current and self.current[0] <= day <= self.current[1]:
            text += "\nin the current streak"
        if self.longest and self.longest[0] <= day <= self.longest[1]:
            text += "\nin the longest streak"
        return text
