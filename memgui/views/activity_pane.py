"""``ActivityPane``: what the metrics and overview panes share — an ``ActivityLoader`` that computes off the
GUI thread (the newest request wins), and a scrolling body that opens with a heading, a thin progress bar
shown while a computation runs, and an error line."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QEvent, QObject, Signal, Slot
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QGridLayout, QProgressBar, QScrollArea, QVBoxLayout, QWidget

from memgui.models.activity_worker import ActivityLoader
from memgui.store.timeutil import now_utc
from memgui.views.labels import plain_label


class ActivityPane(QWidget):
    """Base of a pane of charts computed by a loader. Subclasses connect ``loader.ready``/``loader.failed``."""

    updated = Signal()  # a result is on screen
    clock: Callable[[], datetime] = staticmethod(now_utc)  # patched in tests

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loader = ActivityLoader(self)
        self.loader.progressChanged.connect(self._on_progress)
        self.loader.busyChanged.connect(self._on_busy)
        self.scroll_area = QScrollArea(self)
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QScrollArea.Shape.NoFrame)
        self.body = QWidget(self.scroll_area)
        self.scroll_area.setWidget(self.body)
        self.body_layout = QVBoxLayout(self.body)
        self.heading = plain_label("", self.body)
        font = self.heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.heading.setFont(font)
        self.body_layout.addWidget(self.heading)
        self.subheading = plain_label("", self.body)
        self.subheading.hide()
        self.body_layout.addWidget(self.subheading)
        self.progress = QProgressBar(self.body)
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(6)
        self.progress.hide()
        self.body_layout.addWidget(self.progress)
        self.error = plain_label("", self.body)
        self.error.setWordWrap(True)
        self.error.hide()
        self.body_layout.addWidget(self.error)
        self.grid = QGridLayout()
        self._rows: list[tuple[QWidget, ...]] = []
        self._narrow: bool | None = None
        self.body.installEventFilter(self)  # a chart's minimum width grows with its data: look again then

    def set_rows(self, rows: list[tuple[QWidget, ...]]) -> None:
        """Lay the charts out in ``rows`` of one widget (full width) or two side by side; when the pane is
        too narrow for a pair, its two widgets are stacked instead (no sideways scrolling)."""
        self._rows = rows
        self._narrow = None
        self._arrange()

    def is_narrow(self) -> bool:
        """Whether some pair of charts does not fit side by side in the pane's width."""
        spare = self.grid.horizontalSpacing() + 48  # the body's margins and the vertical scroll bar
        return any(len(row) == 2 and sum(w.minimumSizeHint().width() for w in row) + spare > self.width()
                   for row in self._rows)

    def _arrange(self) -> None:
        narrow = self.is_narrow()
        if narrow == self._narrow:
            return
        self._narrow = narrow
        for row in self._rows:
            for widget in row:
                self.grid.removeWidget(widget)
        line = 0
        for row in self._rows:
            if len(row) == 2 and not narrow:
                self.grid.addWidget(row[0], line, 0)
                self.grid.addWidget(row[1], line, 1)
                line += 1
                continue
            for widget in row:
                self.grid.addWidget(widget, line, 0, 1, 2)
                line += 1

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._arrange()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # getattr: a window dropped without being deleted is torn down by the garbage collector, which may clear
        # this wrapper's attributes while the C++ pane still receives its body's last events
        if watched is getattr(self, "body", None) and event.type() == QEvent.Type.LayoutRequest:
            self._arrange()
        return False

    def progress_wanted(self) -> bool:
        """Whether a running computation should show the progress bar (a subclass may say no)."""
        return True

    @Slot(float)
    def _on_progress(self, fraction: float) -> None:
        self.progress.setValue(round(fraction * 1000))

    @Slot(bool)
    def _on_busy(self, busy: bool) -> None:
        self.progress.setValue(0)
        self.progress.setVisible(busy and self.progress_wanted())
