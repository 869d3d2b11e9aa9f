"""Live refresh: the open window follows the store on disk while the assistant writes it.

A ``StoreWatcher`` (JSON stores; other backends have no folder to watch) says what changed; this turns it into
reads on the window's store worker, off the GUI thread, and applies the answers as diffs (answers to an older
generation, another folder or File > Reload, are dropped): the users list gains and loses rows, a changed
user's row is updated in place, and for the selected user every pane follows (facts, memories and profile by
diff, the conversation by appending rows, so a reader scrolled up stays where they are and one at the bottom
follows). Charts are computed again only while they show, at most once per ``CHARTS_MS``. A record under an
open editor is kept as it was shown (``EditGuard``): the banner asks, nothing is overwritten silently.

The window's own writes come back through the watcher too; its no-op skip and debounce make that one reload.
With nothing changing, the only timer running is the watcher's slow poll.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from typing import Any

from PySide6.QtCore import QEvent, QObject, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

from memgui.app.session import WindowSession
from memgui.models.edit_commands import EditController
from memgui.models.feed_watcher import FeedWatcher
from memgui.models.store_worker import UserDetails
from memgui.models.users_model import UserSummary
from memgui.models.watcher import StoreWatcher
from memgui.store import MemoryStore
from memgui.store.backend import ChangeFeed, FolderChanges
from memgui.views.edit_guard import EditGuard

CHARTS_MS = 1000  # charts that show are computed again at most this often while changes stream in
SINCE_SLACK_S = 0.05  # file times come from a coarser clock than time.time()
Entries = list[tuple[str, Any, str]]


class LiveRefresh(QObject):
    """The window's side of the watcher. ``reloads`` counts the reads asked for, by kind ("users",
    "summary", "details", "conversation", "global", "charts"): the figure that shows a storm."""

    storeChanged = Signal()  # something changed in the store (any user, the list, the global context)
    _relist = Signal(int, object)  # generation, ids known: queued to the store worker
    _load_summary = Signal(int, str)
    _load_user = Signal(int, str)
    _load_global = Signal(int)

    def __init__(self, session: WindowSession, editor: EditController) -> None:
        super().__init__(session.window)
        self.session = session
        self.window = session.window
        self.panes, self.models = session.panes, session.models
        window = session.window
        self.watcher: StoreWatcher | FeedWatcher | None = None
        self.reloads: Counter[str] = Counter()
        self._users_wanted = False  # the users list changed while it was still being read
        self._early: set[str] = set()  # users changed while the list was still being read
        self._stale_metrics: set[str] = set()  # users whose charts, computed before, are out of date
        self._overview_stale = False
        self._overview: QWidget | None = None
        self._current = ""  # the user shown
        self.guard = EditGuard(self.panes.banner, editor, self)
        for pane in (self.panes.facts, self.panes.memories, self.panes.profile, self.panes.global_context):
            self.guard.guard(pane.view)
        self.guard.released.connect(self._on_released)
        self._charts = QTimer(self)  # the cool-down after charts were computed again
        self._charts.setSingleShot(True)
        self._charts.setInterval(CHARTS_MS)
        self._charts.timeout.connect(self._refresh_charts)
        self.refresh_action = QAction("&Refresh", window)
        self.refresh_action.setObjectName("refreshAction")
        self.refresh_action.setShortcut(QKeySequence("F5"))
        self.refresh_action.setStatusTip("Look for changes on disk now (they also show by themselves)")
        self.refresh_action.triggered.connect(self.refresh_now)
        window.addAction(self.refresh_action)

        worker = self.session.store_worker
        self._relist.connect(worker.relist_users)
        self._load_summary.connect(worker.load_summary)
        self._load_user.connect(worker.load_user)
        self._load_global.connect(worker.load_global)
        feed = self.session.users_feed
        feed.users_relisted.connect(self._on_users_relisted)
        feed.summary_loaded.connect(self._on_summary)
        feed.users_done.connect(self._on_users_done)
        self.panes.tabs.currentChanged.connect(self._on_tab)
        self.panes.users.current_changed.connect(self._on_current_user)

    # -- starting and stopping -------------------------------------------------------------------------
    def start(self, store: MemoryStore) -> None:
        """Watch ``store`` (before its first read: changes from then on are reported)."""
        self.stop()
        source = store.change_source()
        watcher: StoreWatcher | FeedWatcher | None = None
        if isinstance(source, FolderChanges):
            # The users' folders are armed once the list is read (_on_users_done): not competing with it.
            watcher = StoreWatcher.for_source(source, self, since=time.time() - SINCE_SLACK_S, arm=False)
        elif isinstance(source, ChangeFeed):
            watcher = FeedWatcher(source, self)
            watcher.statusChanged.connect(self._on_feed_status)
        if watcher is not None:
            watcher.usersChanged.connect(self._on_users_changed)
            watcher.userChanged.connect(self._on_user_changed)
            watcher.globalChanged.connect(self._on_global_changed)
        self.watcher = watcher
        self.refresh_action.setEnabled(self.watcher is not None)

    @Slot(str)
    def _on_feed_status(self, text: str) -> None:
        self.session.status(text, 15000)

    def stop(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher.deleteLater()
            self.watcher = None
        self.guard.reset()
        self._users_wanted = False
        self._early.clear()
        self._stale_metrics.clear()
        self._charts.stop()

    @Slot()
    def refresh_now(self) -> None:
        """View > Refresh: check every user's files now (what a lost event could have hidden)."""
        if self.watcher is not None:
            self.watcher.poll_now(full=True)

    # -- what the watcher says ---------------------------------------------------------------------------
    @Slot()
    def _on_users_changed(self) -> None:
        self.storeChanged.emit()
        self._overview_changed()
        if not self.session.users_done:  # the list being read may or may not hold the change: relist once it is done
            self._users_wanted = True
            return
        self.reloads["users"] += 1
        self._relist.emit(self.session.generation, frozenset(self.models.users.user_ids()))

    @Slot(str)
    def _on_user_changed(self, user_id: str) -> None:
        self.storeChanged.emit()
        if self.session.users_done:
            self._reload_summary(user_id)
        else:  # its row may be on its way with older data: read it again after the list
            self._early.add(user_id)
        if user_id == self.session.shown_user:
            self.reloads["details"] += 1
            self._load_user.emit(self.session.generation, user_id)
            self.reloads["conversation"] += 1
            self.models.conversation.refresh()
        if getattr(self.panes.metrics, "user_id", None) == user_id:
            self._stale_metrics.add(user_id)
        self._overview_changed()
        self._charts_changed()

    @Slot()
    def _on_global_changed(self) -> None:
        self.storeChanged.emit()
        self.reloads["global"] += 1
        self._load_global.emit(self.session.generation)

    def _reload_summary(self, user_id: str) -> None:
        if self.models.users.knows(user_id):  # new users come with the users list
            self.reloads["summary"] += 1
            self._load_summary.emit(self.session.generation, user_id)

    # -- answers -------------------------------------------------------------------------------------
    @Slot(int)
    def _on_users_done(self, generation: int) -> None:
        if generation != self.session.generation:
            return
        if isinstance(self.watcher, StoreWatcher):
            self.watcher.arm_folders()
        early, self._early = self._early, set()
        for user_id in sorted(early):
            self._reload_summary(user_id)
        if self._users_wanted:
            self._users_wanted = False
            self._on_users_changed()

    @Slot(int, object, object)
    def _on_users_relisted(self, generation: int, ids: list[str], added: list[UserSummary]) -> None:
        if generation != self.session.generation:
            return
        model = self.models.users
        present = set(ids)
        for user_id in [u for u in model.user_ids() if u not in present]:
            model.remove_user(user_id)  # the current row moves to a neighbour, whose panes then load
        model.append_users(added)
        current = self.panes.users.current_user()
        if not current:
            self.session.commands.select_first()
        elif not self.panes.users.view.selectionModel().hasSelection():
            self.panes.users.select_user(current)
        self.session.commands.update_status()
        self.session.commands.check_loaded()

    @Slot(int, str, object)
    def _on_summary(self, generation: int, user_id: str, summary: UserSummary | None) -> None:
        old = self.models.users.summary(user_id)
        if generation != self.session.generation or summary is None or old is None:
            return  # gone: the users list follows through usersChanged
        self.models.users.apply_user(summary)
        if user_id == self.panes.users.current_user():
            self.panes.header.show_user(summary)
        if old.error != summary.error:
            self.session.commands.update_status()

    @Slot(object)
    def _on_released(self, view: QWidget) -> None:
        """An editor closed after its record was held: read that pane's data again."""
        if view is self.panes.global_context.view:
            self._on_global_changed()
        elif self.session.shown_user:
            self.reloads["details"] += 1
            self._load_user.emit(self.session.generation, self.session.shown_user)

    # -- filters the window applies to what its workers read ---------------------------------------------
    def guard_details(self, details: UserDetails) -> UserDetails:
        """``details`` with a record under an open editor kept as shown (same user only)."""
        w = self.window
        if details.user_id != getattr(w, "_details_user", None):
            return details
        g = self.guard
        return dataclasses.replace(
            details,
            facts=None if details.facts is None else g.rows(self.panes.facts.view, self.models.facts, details.facts),
            memories=None if details.memories is None else g.rows(self.panes.memories.view, self.models.memories,
                                                                  details.memories),
            profile=None if details.profile is None else g.entries(self.panes.profile.view, self.models.profile,
                                                                   details.profile))

    def guard_global(self, entries: Entries | None) -> Entries | None:
        if entries is None:
            return None
        return self.guard.entries(self.panes.global_context.view, self.models.global_context, entries)

    # -- charts ----------------------------------------------------------------------------------------
    @property
    def overview(self) -> QWidget | None:
        """The store overview (``OverviewView``, objectName "overviewView") when the window has one."""
        if self._overview is None:
            self._overview = self.window.findChild(QWidget, "overviewView")
            if self._overview is not None:
                self._overview.installEventFilter(self)  # its Show: computed again if out of date
        return self._overview

    def _overview_changed(self) -> None:
        if self.overview is not None:
            self._overview_stale = True
            self._charts_changed()

    def _charts_changed(self) -> None:
        """Compute what shows and is out of date now, unless that was done within the cool-down (its end
        takes this change in)."""
        if not self._charts.isActive():
            self._refresh_charts()

    @Slot()
    def _refresh_charts(self) -> None:
        refreshed = False
        metrics_user = getattr(self.panes.metrics, "user_id", None)
        if self.panes.tabs.currentWidget() is self.panes.metrics and metrics_user in self._stale_metrics:
            self._stale_metrics.discard(metrics_user)
            self.panes.metrics.refresh()
            refreshed = True
        if self._overview_stale and self.overview is not None and self.overview.isVisible():
            self._overview_stale = False
            self.overview.refresh()  # type: ignore[attr-defined]
            refreshed = True
        if refreshed:
            self.reloads["charts"] += 1
            self._charts.start()

    @Slot(int)
    def _on_tab(self, _index: int) -> None:
        """Runs after the window's own handler, which gives the charts a newly selected user."""
        self._charts_changed()

    @Slot(str)
    def _on_current_user(self, user_id: str) -> None:
        if user_id != self._current:  # the panes were reset for the new user: no editor is open any more
            self._current = user_id
            self.guard.reset()
        if self.panes.tabs.currentWidget() is self.panes.metrics:
            self._stale_metrics.discard(user_id)  # the window just gave the charts this user: computed afresh

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # getattr: as in ActivityPane.eventFilter, the collector may have cleared this wrapper's attributes
        if watched is getattr(self, "overview", None) and event.type() == QEvent.Type.Show and self._overview_stale:
            self._charts_changed()
        return False
