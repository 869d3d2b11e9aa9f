"""``OverviewView``: the whole store at a glance — active users per day, the distribution of current streaks,
the users whose streak breaks today (active yesterday, not yet today, each in their own zone), top users.

Computed by ``memgui.store.read.activity.store_overview`` on an ``ActivityLoader`` worker, from each user's
metrics (not their messages), so it stays quick however long the histories are.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from memgui.store.interface import MemoryStore
from memgui.store.read.activity import ProgressFn, StoreOverview, UserStanding, store_overview
from memgui.views.activity_pane import ActivityPane
from memgui.views.charts import BarChart, ChartPanel, DailyChart
from memgui.views.labels import plain_label

BREAKING_COLUMNS = ("User", "Name", "Streak", "Time zone", "Local time", "Time left")


def compute_overview(store: MemoryStore, now: datetime, progress: ProgressFn) -> StoreOverview:
    """The worker's job (module level, so it holds no reference to a widget)."""
    return store_overview(store, now, progress=progress)


def time_left(user: UserStanding) -> timedelta:
    """How long until midnight in the user's zone, when their streak ends unless they write."""
    local = user.local_now
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tzinfo=local.tzinfo)
    return midnight.astimezone(local.tzinfo) - local


def duration_text(delta: timedelta) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    return f"{minutes // 60} h {minutes % 60:02d} min"


class OverviewView(ActivityPane):
    """Charts and lists for every user of the store."""

    def __init__(self, store: MemoryStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("overviewView")
        self._store = store
        self.overview: StoreOverview | None = None
        self._stale = True  # computed on the next show (or refresh)
        self.loader.ready.connect(self._on_ready)
        self.loader.failed.connect(self._on_failed)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.scroll_area)

        body, layout = self.body, self.body_layout
        self.heading.setText("Overview")
        self.subheading.show()

        self.active_chart = DailyChart("Active users per day (each in their own zone)", "users", body)
        self.active_chart.empty_text = "No active days yet"
        self.streaks_chart = BarChart("Current streaks (days)", "users", body, empty_text="No users")
        self.top_chart = BarChart("Top users by messages", "messages", body, horizontal=True,
                                  empty_text="No messages yet")
        self.top_chart.set_plot_heights(230)
        self.streaks_chart.set_plot_heights(230)
        self.charts: dict[str, ChartPanel] = {"active": self.active_chart, "streaks": self.streaks_chart,
                                              "top": self.top_chart}
        self.breaking = QTableWidget(0, len(BREAKING_COLUMNS), body)
        self.breaking.setObjectName("breakingTodayView")
        self.breaking.setHorizontalHeaderLabels(BREAKING_COLUMNS)
        self.breaking.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.breaking.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.breaking.verticalHeader().hide()
        # Columns share the pane's width (long names elided) rather than push it sideways.
        self.breaking.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.breaking.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.breaking.setMinimumHeight(120)
        self.breaking.hide()
        self.breaking_caption = plain_label("", body, wrap=True)
        box = QFrame(body)
        box.setFrameShape(QFrame.Shape.StyledPanel)
        box_layout = QVBoxLayout(box)
        title = plain_label("Streaks that break today", box)
        bold = title.font()
        bold.setBold(True)
        title.setFont(bold)
        box_layout.addWidget(title)
        box_layout.addWidget(self.breaking_caption)
        box_layout.addWidget(self.breaking, 1)

        self.set_rows([(self.active_chart,), (self.streaks_chart, self.top_chart), (box,)])
        layout.addLayout(self.grid)
        layout.addStretch(1)

    @property
    def store(self) -> MemoryStore:
        return self._store

    @store.setter
    def store(self, store: MemoryStore) -> None:
        """Another store (File > Open): drop what is computing; the new store's overview is computed now if
        the pane shows, else when it is next shown."""
        self.loader.cancel()
        self._store = store
        self._stale = True
        if self.isVisible():
            self.refresh()

    def showEvent(self, event: QShowEvent) -> None:
        """Computed when first shown, so a window can add the pane without driving it."""
        super().showEvent(event)
        if self._stale:
            self.refresh()

    @Slot()
    def refresh(self) -> None:
        """Compute the overview again (what is on screen stays until the new result arrives)."""
        self._stale = False
        self.error.hide()
        self.loader.submit(functools.partial(compute_overview, self.store, type(self).clock()))

    @Slot(object)
    def _on_ready(self, overview: StoreOverview) -> None:
        self.overview = overview
        self._show(overview)
        self.updated.emit()

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.error.setText(f"Could not compute the overview: {message}")
        self.error.show()

    def _show(self, o: StoreOverview) -> None:
        users = len(o.users)
        active_today = sum(u.active_today for u in o.users)
        self.subheading.setText(f"{users:,} user{'s' if users != 1 else ''} · {active_today:,} active today · "
                                f"as of {o.now:%a %d %b %Y, %H:%M %Z}")
        self.active_chart.set_data([d for d, _n in o.active_users_per_day],
                                       [("Active users", [n for _d, n in o.active_users_per_day], "primary")])
        self.streaks_chart.set_data(o.streak_labels, [("Users", o.streak_counts, "primary")])
        self.top_chart.set_data([u.user_id for u in o.top_users],
                                    [("Messages", [u.message_count for u in o.top_users], "primary")])
        self._fill_breaking(o.breaking_today)

    def _fill_breaking(self, users: tuple[UserStanding, ...]) -> None:
        table = self.breaking
        table.setSortingEnabled(False)
        table.setRowCount(len(users))
        for row, user in enumerate(users):
            cells = (user.user_id, user.name, f"{user.current} day{'s' if user.current != 1 else ''}", user.zone,
                     f"{user.local_now:%a %H:%M}", duration_text(time_left(user)))
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
                table.setItem(row, column, item)
        table.setVisible(bool(users))
        shown_rows = min(len(users), 12)  # the page scrolls, so show them all up to a dozen without a scrollbar
        rows_height = sum(table.rowHeight(r) for r in range(shown_rows))
        table.setMinimumHeight(table.horizontalHeader().sizeHint().height() + rows_height + 2 * table.frameWidth())
        self.breaking_caption.setText(
            "Active yesterday and not yet today in their own zone: the streak ends at their midnight."
            if users else "No streak breaks today: everyone active yesterday has already written today.")

    def breaking_user_ids(self) -> list[str]:
        """The user ids listed as breaking today, in the table's order."""
        items = (self.breaking.item(r, 0) for r in range(self.breaking.rowCount()))
        return [item.text() for item in items if item is not None]

