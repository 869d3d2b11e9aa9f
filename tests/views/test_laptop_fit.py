"""The window fits a laptop's screen: at 1024x640, 1366x768 and 1920x1080, on every tab, the detail pane has no
horizontal scroll bar and nothing past its right edge, every tab is in view, and the users table shows id, name
and streak without scrolling. A first launch sizes the window to its screen; a later one restores it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import QPoint, QSettings
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QAbstractScrollArea, QWidget
from pytestqt.qtbot import QtBot

from memgui.app import MainWindow
from memgui.models.users_model import COL_CURRENT, COL_ID, COL_NAME
from memgui.store import JsonMemoryStore
from memgui.views.activity_pane import ActivityPane

SIZES = ((1024, 640), (1366, 768), (1920, 1080))


def settle(qtbot: QtBot, window: MainWindow) -> None:
    """Wait until the shown tab has what it computes on screen and its layout is done."""
    page = window.tabs.currentWidget()
    if isinstance(page, ActivityPane):
        qtbot.waitUntil(lambda: not page.loader.busy, timeout=20_000)
    qtbot.waitUntil(lambda: not page.updatesEnabled() or page.isVisible(), timeout=5_000)
    for _ in range(3):
        QGuiApplication.sendPostedEvents()
        QGuiApplication.processEvents()


def overflowing(page: QWidget) -> list[str]:
    """What in ``page`` scrolls sideways or reaches past its right edge (the parts a scroll area clips are
    its own business: they are checked through the scroll bar)."""
    problems = []
    for area in page.findChildren(QAbstractScrollArea):
        if area.isVisible() and area.horizontalScrollBar().isVisible():
            problems.append(f"{type(area).__name__} {area.objectName()!r} scrolls sideways")
    right = page.width()
    for child in page.findChildren(QWidget):
        if not child.isVisible() or any(isinstance(p, QAbstractScrollArea) for p in _ancestors(child, page)):
            continue
        edge = child.mapTo(page, QPoint(child.width(), 0)).x()
        if edge > right + 1:
            problems.append(f"{type(child).__name__} {child.objectName()!r} ends at {edge} > {right}")
    return problems


def _ancestors(widget: QWidget, stop: QWidget) -> list[QWidget]:
    out, parent = [], widget.parentWidget()
    while parent is not None and parent is not stop:
        out.append(parent)
        parent = parent.parentWidget()
    return out


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_every_tab_fits_at_laptop_and_desktop_sizes(make_window: Callable[..., MainWindow], demo: JsonMemoryStore,
                                                    qtbot: QtBot, width: int, height: int) -> None:
    window = make_window(demo, select="alice.smith")
    window.resize(width, height)
    window.state.restore(window)  # the first-run splitter for this width (no saved state)
    window.resize(width, height)
    for index in range(window.tabs.count()):
        window.tabs.setCurrentIndex(index)
        settle(qtbot, window)
        page = window.tabs.currentWidget()
        assert overflowing(page) == [], f"{window.tabs.tabText(index)} at {width}x{height}"
        bar = window.tabs.tabBar()
        assert bar.tabRect(bar.count() - 1).right() <= bar.width(), "every tab in view, none behind arrows"
    assert overflowing(window.header) == []
    items = window.header.subtitle.text().split("  ·  ")
    assert len(items) == 5 and all(" " not in item for item in items), "wraps between items, not inside one"
    view = window.users_pane.view
    header = view.horizontalHeader()
    for column in (COL_ID, COL_NAME, COL_CURRENT):
        left = header.sectionViewportPosition(column)
        assert left >= 0 and left + header.sectionSize(column) <= view.viewport().width(), column
    assert header.sectionSize(COL_NAME) >= 100, "names readable, not squeezed to an ellipsis"


def test_first_launch_fits_the_screen_and_a_later_one_restores(make_window: Callable[..., MainWindow],
                                                               demo: JsonMemoryStore, settings: QSettings,
                                                               qtbot: QtBot) -> None:
    window = make_window(demo)
    area = window.screen().availableGeometry()
    assert window.width() <= area.width() and window.height() <= area.height()
    assert window.width() >= min(area.width(), 1024) * 0.99 or window.width() >= area.width() * 0.84
    assert window.frameGeometry().center().x() == pytest.approx(area.center().x(), abs=40)
    window.resize(790, 560)  # within the offscreen screen (800x800): a restore keeps a window on its screen
    window.splitter.setSizes([310, 470])
    sizes = window.splitter.sizes()
    window.close()  # saves the state
    again = make_window(demo)
    assert (again.width(), again.height()) == (790, 560)
    assert again.splitter.sizes() == sizes


def test_date_axes_name_the_month(make_window: Callable[..., MainWindow], demo: JsonMemoryStore) -> None:
    from datetime import date

    from memgui.views.chart_format import DAY, day_x

    window = make_window(demo, select="alice.smith", tab="metrics")
    axis = window.metrics_view.messages_chart.plot.getPlotItem().getAxis("bottom")
    days = [day_x(date(2026, 9, 4)), day_x(date(2026, 9, 14)), day_x(date(2026, 10, 1))]
    assert axis.tickStrings(days, 1.0, 5 * DAY) == ["Sep 4", "Sep 14", "Oct 1"]
    assert axis.tickStrings(days[2:], 1.0, 31 * DAY) == ["Oct 2026"]
    assert axis.tickStrings(days[2:], 1.0, 366 * DAY) == ["2026"]
