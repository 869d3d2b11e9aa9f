"""OverviewView: the whole store — who breaks a streak today in their own zone, the distribution of current
streaks, active users per day, top users — computed off the GUI thread, in light and dark palettes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QPalette, QShowEvent
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from memgui.store import JsonMemoryStore, build_config
from memgui.views.chart_format import day_x
from memgui.views.chart_theme import contrast
from memgui.views.overview_view import OverviewView, duration_text, time_left

NOW = datetime(2025, 6, 15, 12, 0, tzinfo=timezone.utc)
D = date.fromisoformat
USERS = {
    # user: (zone, UTC timestamps of their messages)
    "tokyo": ("Asia/Tokyo", ["2025-06-13T03:00:00+00:00", "2025-06-14T03:00:00+00:00"]),  # 21:00 there now
    "newyork": ("America/New_York", ["2025-06-15T02:00:00+00:00"]),  # the 14th there (the 15th in UTC)
    "kolkata": ("+05:30", ["2025-06-14T12:00:00+00:00", "2025-06-14T19:00:00+00:00"]),  # wrote on their 15th
    "paris": ("Europe/Paris", ["2025-06-12T10:00:00+00:00"]),  # three days ago: no streak left
    "kiritimati": ("Pacific/Kiritimati", ["2025-06-15T05:00:00+00:00"]),  # the 15th there; the 16th now
    "minus5": ("UTC-5", ["2025-06-14T04:00:00+00:00", "2025-06-14T06:00:00+00:00"]),  # 13th and 14th there
}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[JsonMemoryStore]:
    s = JsonMemoryStore(build_config({"DATA_DIR": tmp_path / "data", "DEFAULT_TIMEZONE": "UTC"}, environ={}))
    for uid, (zone, stamps) in USERS.items():
        s.create_user(uid, {"name": uid.title(), "timezone": zone})
        for stamp in stamps:
            s.add_message(uid, "user", "hello <b>there</b>", timestamp=stamp)
    for hour in range(5):
        s.add_message("chatty", "assistant", "a b c", timestamp=f"2025-06-15T0{hour}:00:00+00:00")
    yield s
    s.close()


def make_view(qtbot: QtBot, store: JsonMemoryStore, monkeypatch: pytest.MonkeyPatch) -> OverviewView:
    monkeypatch.setattr(OverviewView, "clock", staticmethod(lambda: NOW))
    view = OverviewView(store)
    qtbot.addWidget(view)
    view.resize(1000, 900)
    return view


def refreshed(qtbot: QtBot, view: OverviewView) -> OverviewView:
    with qtbot.waitSignal(view.updated, timeout=15_000):
        view.refresh()
    return view


def test_computed_on_first_show_only(qtbot: QtBot, store: JsonMemoryStore, monkeypatch: pytest.MonkeyPatch) -> None:
    view = make_view(qtbot, store, monkeypatch)
    assert not view.loader.busy and view.overview is None
    with qtbot.waitSignal(view.updated, timeout=15_000):
        QApplication.sendEvent(view, QShowEvent())
    ticket = view.loader.ticket
    QApplication.sendEvent(view, QShowEvent())  # shown again: nothing changed, nothing computed
    assert view.loader.ticket == ticket and view.overview is not None


def test_breaks_today_in_each_users_zone(qtbot: QtBot, store: JsonMemoryStore,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    view = refreshed(qtbot, make_view(qtbot, store, monkeypatch))
    assert view.objectName() == "overviewView"
    assert view.breaking_user_ids() == ["minus5", "tokyo", "kiritimati", "newyork"]  # longest streak first
    assert view.breaking_user_ids() == [u for u in ["minus5", "tokyo", "kiritimati", "newyork"]
                                        if store.get_streak(u, NOW).breaks_today]
    table = view.breaking
    row = [table.item(1, c).text() for c in range(table.columnCount())]  # type: ignore[union-attr]
    assert row == ["tokyo", "Tokyo", "2 days", "Asia/Tokyo", "Sun 21:00", "3 h 00 min"]
    assert table.item(2, 4).text() == "Mon 02:00"  # type: ignore[union-attr]  # kiritimati, UTC+14
    assert table.item(2, 5).text() == "22 h 00 min"  # type: ignore[union-attr]
    assert view.subheading.text().startswith("7 users · 1 active today")  # kolkata, on their 15th


def test_charts_hold_the_expected_points(qtbot: QtBot, store: JsonMemoryStore,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    view = refreshed(qtbot, make_view(qtbot, store, monkeypatch))
    # current streaks: tokyo 2, newyork 1, kolkata 2, paris 0, kiritimati 1, minus5 2, chatty 0
    assert view.streaks_chart.points("Users")[:4] == [("0", 2), ("1", 2), ("2", 3), ("3–6", 0)]
    assert view.active_chart.points("Active users") == [
        (D("2025-06-12"), 1), (D("2025-06-13"), 2), (D("2025-06-14"), 4), (D("2025-06-15"), 2)]
    assert view.top_chart.points("Messages")[0] == ("chatty", 5)
    assert [label for label, _v in view.top_chart.points("Messages")][1:3] == ["kolkata", "minus5"]
    assert view.active_chart.tooltip_at(day_x(D("2025-06-14")) - 40_000, 1) == "Sat 14 Jun 2025\n4 users"
    assert not view.grab().isNull()


def test_an_empty_store(qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = JsonMemoryStore(build_config({"DATA_DIR": tmp_path / "none", "DEFAULT_TIMEZONE": "UTC"}, environ={}))
    try:
        view = refreshed(qtbot, make_view(qtbot, empty, monkeypatch))
        assert view.breaking_user_ids() == [] and "No streak breaks today" in view.breaking_caption.text()
        assert all(chart.is_empty for chart in view.charts.values())
        assert view.subheading.text().startswith("0 users")
        assert not view.grab().isNull()
    finally:
        empty.close()


def test_refresh_sees_new_activity(qtbot: QtBot, store: JsonMemoryStore, monkeypatch: pytest.MonkeyPatch) -> None:
    view = refreshed(qtbot, make_view(qtbot, store, monkeypatch))
    store.add_message("tokyo", "user", "back again", timestamp="2025-06-15T11:00:00+00:00")
    refreshed(qtbot, view)
    assert "tokyo" not in view.breaking_user_ids() and len(view.breaking_user_ids()) == 3


def test_time_left_until_the_users_midnight() -> None:
    from memgui.store.read.activity import UserStanding

    local = datetime(2025, 11, 1, 22, 15, tzinfo=timezone(timedelta(hours=-4)))
    user = UserStanding("u", "u", "x", local, 1, 1, None, False, True, 0, 0, ())
    assert time_left(user) == timedelta(hours=1, minutes=45)
    assert duration_text(timedelta(hours=1, minutes=45, seconds=30)) == "1 h 45 min"


@pytest.mark.parametrize("colors", [("#ffffff", "#000000"), ("#121212", "#f0f0f0")], ids=["light", "dark"])
def test_palettes(qtbot: QtBot, store: JsonMemoryStore, monkeypatch: pytest.MonkeyPatch,
                  colors: tuple[str, str]) -> None:
    view = make_view(qtbot, store, monkeypatch)
    palette = view.palette()
    palette.setColor(QPalette.ColorRole.Base, QColor(colors[0]))
    palette.setColor(QPalette.ColorRole.Text, QColor(colors[1]))
    view.setPalette(palette)
    refreshed(qtbot, view)
    for chart in view.charts.values():
        assert chart.plot.backgroundBrush().color() == QColor(colors[0])
        assert chart.plot.getPlotItem().getAxis("bottom").textPen().color() == QColor(colors[1])
        assert contrast(chart.theme.primary, QColor(colors[0])) >= 3.0
    bars = view.top_chart.bars["Messages"]
    assert QColor(bars.opts["brush"]) == view.top_chart.theme.primary


def test_computed_when_shown_and_for_another_store(qtbot: QtBot, store: JsonMemoryStore, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    view = refreshed(qtbot, make_view(qtbot, store, monkeypatch))
    other = JsonMemoryStore(build_config({"DATA_DIR": tmp_path / "other", "DEFAULT_TIMEZONE": "UTC"}, environ={}))
    try:
        other.add_message("solo", "user", "hi", timestamp="2025-06-14T10:00:00+00:00")
        view.store = other  # hidden: computed when next shown
        assert not view.loader.busy
        with qtbot.waitSignal(view.updated, timeout=15_000):
            QApplication.sendEvent(view, QShowEvent())
        assert view.breaking_user_ids() == ["solo"] and view.subheading.text().startswith("1 user ·")
    finally:
        view.loader.wait(5_000)
        other.close()


def test_a_narrow_pane_stacks_the_charts_side_by_side(qtbot: QtBot, store: JsonMemoryStore,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A pane too narrow for two charts side by side stacks them (no sideways scrolling); wide again, they
    are side by side again."""
    view = refreshed(qtbot, make_view(qtbot, store, monkeypatch))
    window = QWidget()  # a shown parent without a layout: resizing the pane changes no window's size hints
    qtbot.addWidget(window)
    window.resize(1100, 1000)
    view.setParent(window)
    window.show()
    qtbot.waitExposed(window)

    def rows() -> tuple[int, int]:
        grid = view.grid
        return (grid.getItemPosition(grid.indexOf(view.streaks_chart))[0],
                grid.getItemPosition(grid.indexOf(view.top_chart))[0])

    assert rows()[0] == rows()[1] and not view.is_narrow()
    narrow = view.streaks_chart.minimumSizeHint().width() + view.top_chart.minimumSizeHint().width()
    view.resize(narrow, 900)
    qtbot.waitUntil(lambda: rows()[1] == rows()[0] + 1)
    assert view.is_narrow()
    view.resize(1000, 900)
    qtbot.waitUntil(lambda: rows()[0] == rows()[1])
