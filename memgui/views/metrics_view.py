"""``MetricsView``: one user's activity — messages and words per day, a year of active days with the current
and longest streak, facts by category, message lengths, first and last interaction.

The aggregates (``memgui.store.read.activity.user_activity``) are computed by an ``ActivityLoader`` off the GUI
thread; the newest request wins, so quick changes of selection never show another user's charts.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, timedelta

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from memgui.store.interface import MemoryStore
from memgui.store.read.activity import ProgressFn, UserActivity, user_activity
from memgui.views.activity_pane import ActivityPane
from memgui.views.charts import BarChart, CalendarHeatmap, ChartPanel, DailyChart
from memgui.views.labels import plain_label

LAST_YEAR = 0  # the year selector's "last 12 months"


def when(moment: datetime | None) -> str:
    return f"{moment:%a %d %b %Y, %H:%M} ({moment:%z})" if moment is not None else "—"


def days_text(count: int) -> str:
    return f"{count:,} day{'s' if count != 1 else ''}"


def compute_user(store: MemoryStore, user_id: str, now: datetime, progress: ProgressFn) -> UserActivity:
    """The worker's job (module level, so it holds no reference to a widget)."""
    return user_activity(store, user_id, now, progress)


class MetricsView(ActivityPane):
    """The selected user's charts; ``set_user(None)`` shows an empty state."""

    def __init__(self, store: MemoryStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("metricsView")
        self._store = store
        self._user_id: str | None = None
        self.activity: UserActivity | None = None
        self.loader.ready.connect(self._on_ready)
        self.loader.failed.connect(self._on_failed)

        self._pages = QStackedWidget(self)
        self._placeholder = plain_label("Select a user to see their activity.", self)
        self._placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._placeholder.setEnabled(False)
        self._pages.addWidget(self._placeholder)
        self._pages.addWidget(self.scroll_area)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self._pages)

        body, layout = self.body, self.body_layout
        layout.addLayout(self._build_summary(body))

        self.messages_chart = DailyChart("Messages per day", "messages", body)
        self.words_chart = DailyChart("Words per day", "words", body)
        self.calendar = CalendarHeatmap("Active days", body)
        self.facts_chart = BarChart("Facts by category", "facts", body, horizontal=True, empty_text="No facts")
        self.lengths_chart = BarChart("Message length (words)", "messages", body, empty_text="No messages yet")
        self.charts: dict[str, ChartPanel] = {
            "messages": self.messages_chart, "words": self.words_chart, "calendar": self.calendar,
            "facts": self.facts_chart, "lengths": self.lengths_chart,
        }
        self.year = QComboBox(body)
        self.year.setToolTip("Which year of days the calendar shows")
        self.year.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.year.currentIndexChanged.connect(self._on_year)
        self.calendar.header.insertWidget(2, self.year)
        self.set_rows([(self.messages_chart,), (self.words_chart,), (self.calendar,),
                       (self.facts_chart, self.lengths_chart)])
        self.grid.setColumnStretch(0, 2)
        self.grid.setColumnStretch(1, 3)
        layout.addLayout(self.grid)
        layout.addStretch(1)
        self._show_placeholder()

    def _build_summary(self, parent: QWidget) -> QHBoxLayout:
        self.summary: dict[str, QLabel] = {}
        row = QHBoxLayout()
        names = (("messages", "Messages"), ("words", "Words"), ("active", "Active days"),
                 ("first", "First interaction"), ("last", "Last interaction"),
                 ("current", "Current streak"), ("longest", "Longest streak"), ("zone", "Time zone"))
        forms = [QFormLayout(), QFormLayout()]  # two columns: they fit a laptop's detail pane side by side
        for i, (key, caption) in enumerate(names):
            value = plain_label("—", parent, wrap=True)  # a narrow pane wraps a long value, never scrolls sideways
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.summary[key] = value
            forms[(0, 0, 0, 1, 1, 0, 0, 1)[i]].addRow(plain_label(caption + ":", parent), value)
        row.addLayout(forms[0])
        row.addSpacing(16)
        row.addLayout(forms[1], 1)
        return row

    # -- slots the window calls -----------------------------------------------------------------------
    @property
    def user_id(self) -> str | None:
        return self._user_id

    @property
    def store(self) -> MemoryStore:
        return self._store

    @store.setter
    def store(self, store: MemoryStore) -> None:
        """Another store (File > Open): forget the user and what was computed; ``set_user`` starts again."""
        self.loader.cancel()
        self._store = store
        self._user_id = None
        self.activity = None
        self._show_placeholder()

    @property
    def showing_placeholder(self) -> bool:
        """True while the empty state ("select a user") is shown instead of charts."""
        return self._pages.currentIndex() == 0

    @Slot(object)
    def set_user(self, user_id: str | None) -> None:
        """Show ``user_id``'s charts (None: the empty state)."""
        if user_id == self._user_id and user_id is not None:
            return
        self._user_id = user_id
        self.activity = None
        self.year.clear()  # a new user's calendar opens on their last 12 months (or latest active year)
        if user_id is None:
            self.loader.cancel()
            self._show_placeholder()
            return
        self._pages.setCurrentIndex(1)
        self.heading.setText(user_id)
        for label in self.summary.values():
            label.setText("…")
        for chart in self.charts.values():
            chart.set_empty(True, "Loading…")
        self.refresh()

    @Slot()
    def refresh(self) -> None:
        """Compute again for the current user (what is on screen stays until the new result arrives)."""
        if self._user_id is None:
            return
        self.error.hide()
        self.loader.submit(functools.partial(compute_user, self.store, self._user_id, type(self).clock()))

    # -- results --------------------------------------------------------------------------------------
    def _show_placeholder(self) -> None:
        self._pages.setCurrentIndex(0)
        self.progress.hide()

    @Slot(object)
    def _on_ready(self, activity: UserActivity) -> None:
        if activity.user_id != self._user_id:
            return  # the loader drops stale tickets; this guards a user changed without a new request
        self.activity = activity
        self.error.setText("\n".join(f"⚠ {problem}" for problem in activity.problems))
        self.error.setVisible(bool(activity.problems))
        self._show(activity)
        self.updated.emit()

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.error.setText(f"⚠ Could not compute this user's activity: {message}")
        self.error.show()
        if self.activity is None:
            for chart in self.charts.values():
                chart.set_empty(True, "Not available")
            for label in self.summary.values():
                label.setText("—")

    def progress_wanted(self) -> bool:
        return self._user_id is not None

    def _show(self, a: UserActivity) -> None:
        self.heading.setText(a.name if a.name == a.user_id else f"{a.name} ({a.user_id})")
        s = a.streak
        self.summary["messages"].setText(f"{a.message_count:,}")
        self.summary["words"].setText(f"{a.total_words:,}")
        self.summary["active"].setText(f"{len(a.active_days):,}")
        self.summary["first"].setText(when(a.first_interaction))
        self.summary["last"].setText(when(a.last_interaction))
        current = days_text(s.current)
        if s.current_span is not None:
            current += f" (since {s.current_span.start:%d %b %Y})"
        if s.breaks_today:
            current += " — ends tonight unless they write today"
        self.summary["current"].setText(current)
        longest = days_text(s.longest)
        if s.longest_span is not None and s.longest_span.days == s.longest:
            longest += f" ({s.longest_span.start:%d %b %Y} – {s.longest_span.end:%d %b %Y})"
        self.summary["longest"].setText(longest)
        self.summary["zone"].setText(f"{a.zone} (today is {a.today:%a %d %b %Y})")
        dense = a.daily
        self.messages_chart.set_data(dense.days, [("User", dense.user_messages, "primary"),
                                                      ("Assistant", dense.assistant_messages, "secondary")])
        self.words_chart.set_data(dense.days, [("User", dense.user_words, "primary"),
                                                   ("Assistant", dense.assistant_words, "secondary")])
        facts = a.facts_by_category or ()
        self.facts_chart.set_data([c for c, _n in facts], [("Facts", [n for _c, n in facts], "primary")])
        if a.facts_by_category is None:
            self.facts_chart.set_empty(True, "The facts file could not be read")
        self.lengths_chart.set_data(a.lengths.labels, [("User", a.lengths.user, "primary"),
                                                           ("Assistant", a.lengths.assistant, "secondary")])
        self._fill_years(a)
        self._show_calendar()

    def _fill_years(self, a: UserActivity) -> None:
        chosen = self.year.currentData()
        years = sorted({d.year for d in a.active_days if d <= a.today}, reverse=True)
        self.year.blockSignals(True)
        self.year.clear()
        self.year.addItem("Last 12 months", LAST_YEAR)
        for year in years:
            self.year.addItem(str(year), year)
        index = self.year.findData(chosen)
        if chosen is None and years and a.today - max(d for d in a.active_days if d <= a.today) > timedelta(days=364):
            index = 1  # nothing in the last 12 months: open on the latest year with activity
        self.year.setCurrentIndex(max(index, 0))
        self.year.blockSignals(False)

    @Slot(int)
    def _on_year(self, _index: int) -> None:
        self._show_calendar()

    def _show_calendar(self) -> None:
        a = self.activity
        if a is None:
            return
        year = self.year.currentData()
        end = a.today if not year else min(a.today, date(year, 12, 31))
        s = a.streak
        current = (s.current_span.start, s.current_span.end) if s.current_span else None
        longest = (s.longest_span.start, s.longest_span.end) if s.longest_span else None
        self.calendar.set_data(a.year(end), current, longest)
