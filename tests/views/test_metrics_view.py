"""MetricsView: the charts of one user follow the selection, hold the binned points, drop stale results,
export PNGs and read in light and dark palettes. Widgets stay hidden (grab() renders them): showing a
top-level window makes the offscreen platform warn about size hints."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication, QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QFontMetrics, QImage, QPalette, QWheelEvent
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

import memgui.views.metrics_view as metrics_module
from memgui.store import JsonMemoryStore, build_config
from memgui.store.read.activity import Cancelled, ProgressFn, UserActivity
from memgui.views.chart_format import day_x
from memgui.views.chart_theme import contrast
from memgui.views.charts import ChartPanel
from memgui.views.metrics_view import MetricsView

NOW = datetime(2025, 3, 12, 15, 0, tzinfo=timezone.utc)
D = date.fromisoformat


@pytest.fixture
def store(tmp_path: Path) -> Iterator[JsonMemoryStore]:
    s = JsonMemoryStore(build_config({"DATA_DIR": tmp_path / "data", "DEFAULT_TIMEZONE": "UTC",
                                      "MAX_MESSAGES": 4}, environ={}))
    s.create_user("ana", {"name": "Ana", "timezone": "UTC-5"})
    rows = [
        ("2025-03-09T04:30:00+00:00", "user", "late on the eighth"),  # 8 March, 23:30 in UTC-5
        ("2025-03-10T14:00:00+00:00", "user", "hello there"),
        ("2025-03-10T14:01:00+00:00", "assistant", "hi how are you"),
        ("2025-03-11T14:00:00+00:00", "user", "one"),
        ("2025-03-11T14:00:30+00:00", "user", "two words"),
        ("2025-03-11T14:01:00+00:00", "assistant", "a b c d e f"),
    ]
    s.add_messages("ana", [{"timestamp": t, "role": r, "content": c} for t, r, c in rows])
    s.add_user_fact("ana", "Lives in Lima", "location")
    s.add_user_fact("ana", "Has a dog", "pets")
    s.add_user_fact("ana", "Has a cat", "pets")
    s.create_user("bo", {"timezone": "Asia/Tokyo"})
    s.add_message("bo", "user", "konnichiwa", timestamp="2025-03-12T01:00:00+00:00")
    s.create_user("empty")
    yield s
    s.close()


@pytest.fixture
def view(qtbot: QtBot, store: JsonMemoryStore, monkeypatch: pytest.MonkeyPatch) -> MetricsView:
    monkeypatch.setattr(MetricsView, "clock", staticmethod(lambda: NOW))
    widget = MetricsView(store)
    qtbot.addWidget(widget)
    widget.resize(1000, 1300)
    return widget


def placeholder_shown(view: MetricsView) -> bool:
    return view.showing_placeholder  # read through a call: mypy would keep an earlier assert's narrowing


def last_tooltip(chart: ChartPanel) -> str | None:
    return chart.last_tooltip


def shown_activity(view: MetricsView) -> UserActivity | None:
    return view.activity


def show_user(qtbot: QtBot, view: MetricsView, user_id: str) -> UserActivity:
    with qtbot.waitSignal(view.updated, timeout=15_000):
        view.set_user(user_id)
    assert view.activity is not None and view.activity.user_id == user_id
    return view.activity


def test_empty_state_then_a_users_charts(qtbot: QtBot, view: MetricsView) -> None:
    assert view.objectName() == "metricsView"
    view.set_user(None)
    assert placeholder_shown(view) and not view.grab().isNull()
    show_user(qtbot, view, "ana")
    assert not placeholder_shown(view)
    assert view.heading.text() == "Ana (ana)"
    assert view.summary["messages"].text() == "6" and view.summary["words"].text() == "19"
    assert view.summary["current"].text().startswith("2 days (since 10 Mar 2025) — ends tonight")
    assert "today is Wed 12 Mar 2025" in view.summary["zone"].text()
    # Days in UTC-5, every day from the first to the last (zeros between), user and assistant apart.
    assert view.messages_chart.points("User") == [(D("2025-03-08"), 1), (D("2025-03-09"), 0),
                                                  (D("2025-03-10"), 1), (D("2025-03-11"), 2)]
    assert view.messages_chart.points("Assistant") == [(D("2025-03-08"), 0), (D("2025-03-09"), 0),
                                                       (D("2025-03-10"), 1), (D("2025-03-11"), 1)]
    assert view.words_chart.points("User")[-1] == (D("2025-03-11"), 3)
    assert view.words_chart.points("Assistant")[-1] == (D("2025-03-11"), 6)
    assert view.facts_chart.points("Facts") == [("pets", 2), ("location", 1)]
    assert dict(view.lengths_chart.points("User"))["3–4"] == 1
    assert sum(v for _l, v in view.lengths_chart.points("Assistant")) == 2
    for chart in view.charts.values():
        assert not chart.is_empty, chart.title
    assert not view.grab().isNull()


def test_calendar_marks_the_streak(qtbot: QtBot, view: MetricsView) -> None:
    show_user(qtbot, view, "ana")
    calendar = view.calendar
    spots = calendar.spots.points()
    assert len(spots) == len(calendar.cells) and calendar.cells[-1][0] == D("2025-03-12")
    active = sorted(s.data()[0] for s in spots if s.data()[2])
    assert active == [D("2025-03-08"), D("2025-03-10"), D("2025-03-11")]
    assert view.activity is not None and view.activity.streak.current == 2  # 10-11 March; the 9th is empty
    assert calendar.current == (D("2025-03-10"), D("2025-03-11"))
    by_day = {s.data()[0]: s for s in spots}
    assert by_day[D("2025-03-11")].pen().color() == calendar.theme.current_streak
    assert by_day[D("2025-03-08")].pen().style() == Qt.PenStyle.NoPen  # no outline outside the streaks
    assert "current streak: 2 days" in calendar.caption.text().replace("&nbsp;", " ")
    x, y = calendar._place(D("2025-03-11"))
    assert calendar.tooltip_at(x, y) == ("Tue 11 Mar 2025\n2 messages from the user\nin the current streak\n"
                                         "in the longest streak")


def test_tooltips_follow_the_mouse(qtbot: QtBot, view: MetricsView) -> None:
    show_user(qtbot, view, "ana")
    chart = view.messages_chart
    assert chart.tooltip_at(day_x(D("2025-03-10")) + 3000, 0.5) == "Mon 10 Mar 2025 (messages)\nUser: 1\nAssistant: 1"
    assert chart.tooltip_at(day_x(D("2025-02-01")), 0.5) is None
    view.grab()  # lays the plots out
    box = chart.plot.getPlotItem().getViewBox()
    scene_point = box.mapViewToScene(QPointF(day_x(D("2025-03-11")), 1.0))
    chart.plot.scene().sigMouseMoved.emit(scene_point)
    assert chart.last_tooltip is not None and chart.last_tooltip.startswith("Tue 11 Mar 2025 (messages)\nUser: 2\n")
    assert box.toolTip() == chart.last_tooltip  # what Qt shows when the mouse rests there
    chart.plot.scene().sigMouseMoved.emit(QPointF(-50, -50))
    assert last_tooltip(chart) is None and box.toolTip() == ""
    facts = view.facts_chart
    assert facts.tooltip_at(1.0, 1.0) == "pets\n2 facts"  # the first category is drawn on top
    assert facts.tooltip_at(1.0, 0.0) == "location\n1 facts"


def test_selection_changes_and_stale_results_are_dropped(qtbot: QtBot, view: MetricsView,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    started, release, cancelled = threading.Event(), threading.Event(), threading.Event()
    real = metrics_module.compute_user

    def slow_for_ana(store: Any, user_id: str, now: datetime, progress: ProgressFn) -> UserActivity:
        if user_id == "ana":
            started.set()
            while not release.is_set():
                try:
                    progress(0.5)
                except Cancelled:
                    cancelled.set()
                    raise
                release.wait(0.01)
        return real(store, user_id, now, progress)

    monkeypatch.setattr(metrics_module, "compute_user", slow_for_ana)
    shown: list[str] = []
    view.updated.connect(lambda: shown.append(view.activity.user_id if view.activity else "?"))
    view.set_user("ana")
    assert view.loader.busy and view.summary["messages"].text() == "…"
    qtbot.waitUntil(started.is_set, timeout=5_000)
    with qtbot.waitSignal(view.updated, timeout=15_000):
        view.set_user("bo")
    qtbot.waitUntil(cancelled.is_set, timeout=5_000)  # ana's job stopped at its next progress check
    release.set()
    view.loader.wait(5_000)
    QCoreApplication.processEvents()  # deliver whatever the worker queued: none may show ana's charts
    assert shown == ["bo"] and view.activity is not None and view.activity.user_id == "bo"
    assert view.heading.text() == "bo" and view.messages_chart.points("User") == [(D("2025-03-12"), 1)]
    view.set_user(None)
    assert placeholder_shown(view) and shown_activity(view) is None and not view.loader.busy


def test_refresh_recomputes_the_current_user(qtbot: QtBot, view: MetricsView, store: JsonMemoryStore) -> None:
    show_user(qtbot, view, "bo")
    store.add_message("bo", "assistant", "ohayo gozaimasu", timestamp="2025-03-12T01:05:00+00:00")
    with qtbot.waitSignal(view.updated, timeout=15_000):
        view.refresh()
    assert view.messages_chart.points("Assistant") == [(D("2025-03-12"), 1)]
    assert view.summary["messages"].text() == "2"


def test_a_user_without_messages_shows_empty_charts(qtbot: QtBot, view: MetricsView) -> None:
    show_user(qtbot, view, "empty")
    for name in ("messages", "words", "facts", "lengths", "calendar"):
        assert view.charts[name].is_empty, name
    assert view.summary["first"].text() == "—" and view.summary["current"].text() == "0 days"
    assert not view.grab().isNull()


def test_a_damaged_file_is_reported(qtbot: QtBot, view: MetricsView, store: JsonMemoryStore) -> None:
    (store.layout.user_dir("bo") / "user_profile.json").write_text("{not json", encoding="utf-8")
    with qtbot.waitSignal(view.loader.failed, timeout=15_000):
        view.set_user("bo")
    assert view.error.isVisibleTo(view) and "user_profile.json" in view.error.text()


def test_a_damaged_facts_file_hides_only_the_facts(qtbot: QtBot, view: MetricsView,
                                                   store: JsonMemoryStore) -> None:
    (store.layout.user_dir("ana") / "user_facts.json").write_text("{", encoding="utf-8")
    show_user(qtbot, view, "ana")
    assert view.facts_chart.is_empty and not view.messages_chart.is_empty and not view.calendar.is_empty
    assert view.error.isVisibleTo(view) and "user_facts.json" in view.error.text()
    show_user(qtbot, view, "bo")
    assert not view.error.isVisibleTo(view)


def test_export_png_through_the_dialog(qtbot: QtBot, view: MetricsView, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    show_user(qtbot, view, "ana")
    asked: list[str] = []

    def choose(cls: type[ChartPanel], parent: object, suggested: str) -> str:
        asked.append(suggested)
        return str(tmp_path / "chart")

    monkeypatch.setattr(ChartPanel, "ask_export_path", classmethod(choose))
    with qtbot.waitSignal(view.messages_chart.exported, timeout=5_000) as blocker:
        view.messages_chart._export_button.click()
    assert asked == ["messages-per-day.png"] and blocker.args == [str(tmp_path / "chart.png")]
    image = QImage(str(tmp_path / "chart.png"))
    assert not image.isNull() and image.width() == view.messages_chart.width()
    monkeypatch.setattr(ChartPanel, "ask_export_path", classmethod(lambda cls, parent, suggested: ""))
    assert view.calendar.export_png() is None  # cancelled: nothing written
    assert [a.text() for a in view.words_chart.plot.actions()] == ["Export as PNG…", "Show all days"]
    assert [a.text() for a in view.facts_chart.plot.actions()] == ["Export as PNG…"]


def wheel(widget: QWidget, ctrl: bool) -> bool:
    """Send a wheel turn to ``widget``; whether it took it (an ignored one goes on to the scroll area: Qt
    propagates real wheel events, not the synthetic ones of a test)."""
    position = QPointF(widget.width() / 2, widget.height() / 2)
    event = QWheelEvent(position, widget.mapToGlobal(position), QPoint(0, 0), QPoint(0, -120), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.ControlModifier if ctrl else Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)
    return event.isAccepted()


def test_the_wheel_is_left_to_the_page_and_ctrl_wheel_zooms(qtbot: QtBot, view: MetricsView) -> None:
    show_user(qtbot, view, "ana")
    view.grab()
    chart = view.messages_chart
    before = chart.plot.getPlotItem().viewRange()[0]
    assert not wheel(chart.plot.viewport(), ctrl=False)
    assert chart.plot.getPlotItem().viewRange()[0] == before
    assert wheel(chart.plot.viewport(), ctrl=True)
    assert chart.plot.getPlotItem().viewRange()[0] != before
    chart.show_all_days()
    assert chart.plot.getPlotItem().viewRange()[0] == before


def test_another_store_starts_again(qtbot: QtBot, view: MetricsView, tmp_path: Path) -> None:
    show_user(qtbot, view, "ana")
    other = JsonMemoryStore(build_config({"DATA_DIR": tmp_path / "other", "DEFAULT_TIMEZONE": "UTC"}, environ={}))
    try:
        other.add_message("ana", "user", "a different ana", timestamp="2025-03-12T09:00:00+00:00")
        view.store = other
        assert placeholder_shown(view) and view.user_id is None and shown_activity(view) is None
        activity = show_user(qtbot, view, "ana")
        assert activity.message_count == 1
    finally:
        view.loader.wait(5_000)
        other.close()


def _dark_palette() -> QPalette:
    palette = QPalette()
    for role, color in [(QPalette.ColorRole.Window, "#202124"), (QPalette.ColorRole.WindowText, "#e8eaed"),
                        (QPalette.ColorRole.Base, "#17181a"), (QPalette.ColorRole.Text, "#e8eaed"),
                        (QPalette.ColorRole.Button, "#303134"), (QPalette.ColorRole.ButtonText, "#e8eaed"),
                        (QPalette.ColorRole.Highlight, "#8ab4f8")]:
        palette.setColor(role, QColor(color))
    return palette


def _light_palette() -> QPalette:
    palette = QPalette()
    for role, color in [(QPalette.ColorRole.Window, "#efefef"), (QPalette.ColorRole.WindowText, "#000000"),
                        (QPalette.ColorRole.Base, "#ffffff"), (QPalette.ColorRole.Text, "#000000"),
                        (QPalette.ColorRole.Highlight, "#308cc6")]:
        palette.setColor(role, QColor(color))
    return palette


@pytest.mark.parametrize("palette", [_light_palette, _dark_palette], ids=["light", "dark"])
def test_charts_take_their_colors_from_the_palette(qtbot: QtBot, view: MetricsView, palette: Any) -> None:
    view.setPalette(palette())
    show_user(qtbot, view, "ana")
    base = view.palette().color(QPalette.ColorRole.Base)
    text = view.palette().color(QPalette.ColorRole.Text)
    for chart in view.charts.values():
        theme = chart.theme
        assert theme.background == base and theme.foreground == text, chart.title
        assert chart.plot.backgroundBrush().color() == base
        assert chart.plot.getPlotItem().getAxis("left").textPen().color() == text
        for series in (theme.primary, theme.secondary):
            assert contrast(series, base) >= 3.0, (chart.title, series.name())
    curve = view.messages_chart.curves["User"]
    assert curve.opts["pen"].color() == view.messages_chart.theme.primary
    image = view.messages_chart.plot.grab().toImage()
    corner = image.pixelColor(image.width() - 3, 3)  # inside the plot's background
    assert abs(corner.lightness() - base.lightness()) < 10


def test_a_chart_is_made_when_first_shown_in_the_palette_set_meanwhile(qtbot: QtBot, view: MetricsView,
                                                                        tmp_path: Path) -> None:
    """A pane not shown yet holds no pyqtgraph plot (the window's hidden tabs cost the first paint nothing);
    showing it makes every plot, themed with the palette set before, and a never-shown chart still exports."""
    assert all(chart._plot is None for chart in view.charts.values())
    view.setPalette(_dark_palette())
    path = view.facts_chart.export_png(str(tmp_path / "facts.png"))  # made to be drawn, though never shown
    assert path is not None and not QImage(path).isNull()
    view.show()
    qtbot.waitExposed(view)
    assert view.messages_chart._plot is None  # the placeholder shows until a user is chosen
    show_user(qtbot, view, "ana")
    base = view.palette().color(QPalette.ColorRole.Base)
    for chart in view.charts.values():
        assert chart._plot is not None and chart.plot.isVisibleTo(chart), chart.title
        assert chart.plot.backgroundBrush().color() == base, chart.title
    assert view.calendar.plot.maximumHeight() == 190  # heights asked for before the plot existed
    assert [a.text() for a in view.words_chart.plot.actions()] == ["Export as PNG…", "Show all days"]


def test_the_day_axis_draws_one_level_of_labels(qtbot: QtBot, view: MetricsView) -> None:
    """pyqtgraph draws a month level over the day level of a date axis ("Nov 2026" on top of "Oct 29" and
    "Nov 3"); only the finest level is drawn, and its labels name their month."""
    show_user(qtbot, view, "ana")
    view.messages_chart.plot.grab()  # the axis measures its font when first drawn
    axis = view.messages_chart.plot.getPlotItem().getAxis("bottom")
    low, high = day_x(date(2026, 10, 10)), day_x(date(2026, 11, 6))
    levels = axis.tickValues(low, high, 600)
    assert len(levels) == 1 and len(levels[0][1]) >= 3
    spacing, values = levels[0]
    labels = axis.tickStrings(values, 1.0, spacing)
    assert all(label[:3] in ("Oct", "Nov") and label[4:].isdigit() for label in labels), labels


def test_category_labels_too_wide_for_their_bars_go_on_two_staggered_lines(qtbot: QtBot) -> None:
    """The streak histogram's "7–13", "14–29", "30–99" ran into each other in a narrow chart: there every other
    label is drawn a line lower, and the axis grows by a line; wide enough, they are on one line again."""
    from memgui.views.charts import BarChart

    labels = ["0", "1", "2", "3–6", "7–13", "14–29", "30–99", "100+"]
    chart = BarChart("Current streaks (days)", "users")
    qtbot.addWidget(chart)
    chart.resize(300, 240)
    chart.set_data(labels, [("users", [0] * 8, "primary")])  # as in the window: empty until the users are read
    chart.plot.grab()
    chart.set_data(labels, [("users", [30, 2, 0, 1, 4, 12, 3, 1], "primary")])
    chart.plot.grab()  # laid out and drawn: the axis knows its width and its labels' height
    axis = chart.plot.getPlotItem().getAxis("bottom")
    shown = [text for _x, text in axis._tickLevels[0]]
    assert axis.staggered and [t.lstrip("\n") for t in shown] == labels
    assert all(t.startswith("\n") == (i % 2 == 1) for i, t in enumerate(shown))
    line = QFontMetrics(axis.font()).height()
    qtbot.waitUntil(lambda: axis.height() >= 2 * line, timeout=5000)  # room for both lines, laid out
    two_lines = axis.height()
    chart.resize(1400, 240)
    chart.plot.grab()
    assert not axis.staggered and [text for _x, text in axis._tickLevels[0]] == labels
    qtbot.waitUntil(lambda: line <= axis.height() <= two_lines - line / 2, timeout=5000)  # a line less
