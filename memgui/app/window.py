"""``MainWindow``: the users list on the left, the selected user's panes on the right, wired to two
workers (the store reader and the conversation reader) that run in their own threads."""

from __future__ import annotations

import gc
import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QProgressBar,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from memgui.app.actions import WindowActions
from memgui.app.live_refresh import LiveRefresh
from memgui.app.search import StoreSearch
from memgui.app.session import Models, Panes, WindowSession
from memgui.models.conversation_model import ConversationModel
from memgui.models.conversation_worker import ConversationWorker
from memgui.models.facts_model import FactsModel
from memgui.models.jobs import WorkerThread
from memgui.models.json_tree_model import GlobalContextModel, ProfileModel
from memgui.models.memories_model import MemoriesModel
from memgui.models.paced_feed import PacedUsersFeed
from memgui.models.search_model import SearchResultsModel
from memgui.models.store_worker import StoreWorker, UserDetails
from memgui.models.users_model import UsersModel, UserSummary
from memgui.store import MemoryStore, MemoryStoreError
from memgui.store.locations import open_location
from memgui.views.conflict_banner import EditBanner
from memgui.views.conversation_view import ConversationPane
from memgui.views.dialogs import Dialogs
from memgui.views.empty_state import EmptyState
from memgui.views.facts_view import FactsPane
from memgui.views.global_context_view import GlobalContextPane
from memgui.views.memories_view import MemoriesPane
from memgui.views.metrics_view import MetricsView
from memgui.views.overview_view import OverviewView
from memgui.views.profile_view import ProfilePane
from memgui.views.search_view import SearchPane
from memgui.views.user_header import UserHeader
from memgui.views.users_view import UsersPane
from memgui.views.window_state import WindowState

STYLE_SHEET = Path(__file__).resolve().parents[2] / "resources" / "style.qss"


def style_sheet() -> str:
    """The shipped style sheet ('' when the resources folder is missing, as in a bare wheel)."""
    try:
        return STYLE_SHEET.read_text("utf-8")
    except OSError:
        return ""


class MainWindow(QMainWindow):
    """The admin window over ``store``. ``loaded`` is emitted once the first load is complete (users,
    global context, and the first selected user's panes)."""

    loaded = Signal()
    _list_users = Signal(int, bool)  # generation, whether the users' summary cache may be written
    _load_user = Signal(int, str)
    _load_global = Signal(int)
    _set_store = Signal(object)

    def __init__(self, store: MemoryStore, parent: QWidget | None = None, *, settings: QSettings | None = None,
                 read_only: bool = False, select: str | None = None, tab: str | None = None) -> None:
        super().__init__(parent)
        self._store = store  # until the session holds it (_build_menu)
        self._read_only = read_only
        self.state = WindowState(settings or QSettings("memgui", "memgui"), self)
        self._pending_select = select
        self._global_done = self._user_done = False
        self._was_loaded = False
        self.setObjectName("mainWindow")
        self.setMinimumSize(780, 520)

        self.store_worker = StoreWorker(store)
        self.store_thread = WorkerThread(self.store_worker, "memgui-store", self)
        self.users_feed = PacedUsersFeed(self.store_worker, self)  # its users signals, paced for this thread
        self.conversation_worker = ConversationWorker(store)
        self.conversation_thread = WorkerThread(self.conversation_worker, "memgui-conversation", self)

        self.users_model = UsersModel(self)
        self.conversation_model = ConversationModel(self.conversation_worker, self)
        self.facts_model = FactsModel(self)
        self.memories_model = MemoriesModel(self)
        self.profile_model = ProfileModel(self)
        self.global_model = GlobalContextModel(self)
        self.search_model = SearchResultsModel(self)
        self._build()
        self.setStyleSheet(style_sheet())  # once built: set before, it polished every widget again as it was added
        self._connect()
        self.live = LiveRefresh(self.session, self.window_actions.editor)  # follows changes on disk
        self.window_actions.view_menu.addAction(self.live.refresh_action)
        self.live.start(store)
        self.search = StoreSearch(self.session, self.search_pane, self.search_model)
        self.live.storeChanged.connect(self.search.store_changed)
        if tab:
            self.show_tab(tab)
        self.state.restore(self)
        self.reload()

    @property
    def store(self) -> MemoryStore:
        return self.session.store

    @property
    def read_only(self) -> bool:
        return self._read_only

    # -- building ------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.users_pane = UsersPane(self.users_model, self)
        self.users_pane.setMinimumWidth(300)
        self.search_pane = SearchPane(self.search_model, self)
        self.side_tabs = QTabWidget(self)  # the users list, or the store-wide search over it
        self.side_tabs.setObjectName("sideTabs")
        self.side_tabs.setDocumentMode(True)
        self.side_tabs.addTab(self.users_pane, "Users")
        self.side_tabs.addTab(self.search_pane, "Search")
        self.side_tabs.setTabToolTip(1, "Search every user's messages, facts, memories and profile (Ctrl+Shift+F)")
        self.header = UserHeader(self)
        self.conversation_pane = ConversationPane(self.conversation_model, self)
        self.facts_pane = FactsPane(self.facts_model, self)
        self.memories_pane = MemoriesPane(self.memories_model, self)
        self.profile_pane = ProfilePane(self.profile_model, self)
        self.global_pane = GlobalContextPane(self.global_model, self)
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("detailTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.conversation_pane, "Conversation")
        self.tabs.addTab(self.facts_pane, "Facts")
        self.tabs.addTab(self.memories_pane, "Memories")
        self.tabs.addTab(self.profile_pane, "Profile")
        self.tabs.addTab(self.global_pane, "Global")
        self.metrics_view = MetricsView(self._store, self)
        self.tabs.addTab(self.metrics_view, "Metrics")
        self.overview_view = OverviewView(self._store, self)  # the whole store; computes itself when shown
        self.tabs.addTab(self.overview_view, "All users")
        bar = self.tabs.tabBar()
        for index, name, tip in ((4, "global context", "The global context, shared by every user"),
                                 (6, "overview", "Overview of the whole store: activity, streaks, who is about "
                                                 "to break one")):
            self.tabs.setTabToolTip(index, tip)
            bar.setTabData(index, name)  # the longer names --tab and show_tab know too
        # Every tab in view at a laptop's width: names elided before any scrolling.
        bar.setUsesScrollButtons(False)
        bar.setElideMode(Qt.TextElideMode.ElideRight)
        right = QWidget(self)
        right.setMinimumWidth(460)
        layout = QVBoxLayout(right)
        layout.setContentsMargins(8, 0, 0, 0)
        layout.addWidget(self.header)
        self.edit_banner = EditBanner(self)
        layout.addWidget(self.edit_banner)
        layout.addWidget(self.tabs, 1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(self.side_tabs)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setChildrenCollapsible(False)
        self.empty_state = EmptyState(self)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.splitter)
        self.stack.addWidget(self.empty_state)
        self.setCentralWidget(self.stack)

        self.status_label = QLabel(self)
        self.status_label.setObjectName("statusCounts")
        self.progress = QProgressBar(self)
        self.progress.setObjectName("loadProgress")
        self.progress.setMaximumWidth(180)
        self.progress.setMaximumHeight(14)
        self.progress.hide()
        self.mode_label = QLabel(self)
        self.mode_label.setObjectName("readOnlyBadge" if self.read_only else "modeLabel")
        self.status_label.setTextFormat(Qt.TextFormat.PlainText)
        self.mode_label.setTextFormat(Qt.TextFormat.PlainText)
        self.statusBar().addWidget(self.status_label, 1)
        self.statusBar().addPermanentWidget(self.progress)
        self.statusBar().addPermanentWidget(self.mode_label)
        self._build_menu()

    def _build_menu(self) -> None:
        """The session the window's parts share, then the menus, their actions and the editing side."""
        models = Models(self.users_model, self.conversation_model, self.facts_model, self.memories_model,
                        self.profile_model, self.global_model)
        panes = Panes(self.tabs, self.users_pane, self.header, self.edit_banner, self.conversation_pane,
                      self.facts_pane, self.memories_pane, self.profile_pane, self.global_pane, self.metrics_view,
                      self.overview_view)
        self.session = WindowSession(self, self, self._store, read_only=self._read_only, models=models,
                                     panes=panes, store_worker=self.store_worker, users_feed=self.users_feed)
        self.window_actions = WindowActions(self.session)
        self.recent_menu = self.window_actions.recent_menu

    def _connect(self) -> None:
        self._set_store.connect(self.store_worker.set_store)
        self._set_store.connect(self.conversation_worker.set_store)
        self._list_users.connect(self.store_worker.list_users)
        self._load_user.connect(self.store_worker.load_user)
        self._load_global.connect(self.store_worker.load_global)
        self.users_feed.users_batch.connect(self._on_users_batch)
        self.users_feed.users_done.connect(self._on_users_done)
        self.store_worker.user_loaded.connect(self._on_user_loaded)
        self.store_worker.global_loaded.connect(self._on_global_loaded)
        self.store_worker.failed.connect(self._on_worker_failed)
        self.conversation_worker.failed.connect(self._on_worker_failed)
        self.users_pane.current_changed.connect(self._on_current_user)
        self.users_pane.proxy.rowsInserted.connect(self.update_status)
        self.users_pane.proxy.rowsRemoved.connect(self.update_status)
        self.users_pane.proxy.modelReset.connect(self.update_status)
        self.conversation_model.loading.connect(self._on_conversation_loading)
        self.empty_state.open_requested.connect(self.choose_folder)
        self.tabs.currentChanged.connect(self._sync_metrics)

    # -- loading -------------------------------------------------------------------------------------
    @Slot()
    def reload(self) -> None:
        """Read the store again from scratch (another folder, or File > Reload)."""
        self.session.generation += 1
        self.session.users_done = self._global_done = False
        self._user_done = True
        self.session.shown_user = ""
        self.users_model.clear_users()
        self.header.show_user(None)
        self.show_details(None)
        self.conversation_model.set_user(None)
        root = self.store.location()
        title = f"memgui — {root}" if root else "memgui"
        self.setWindowTitle(f"{title} [read-only]" if self.read_only else title)
        self.mode_label.setText("Read-only: editing is off" if self.read_only else root)
        self.stack.setCurrentWidget(self.splitter)
        self.progress.setRange(0, 0)
        self.progress.show()
        self.status_label.setText("Loading users…")
        self._list_users.emit(self.session.generation, not self.read_only)
        self._load_global.emit(self.session.generation)

    @Slot(int, object, int, int)
    def _on_users_batch(self, generation: int, batch: list[UserSummary], done: int, total: int) -> None:
        if generation != self.session.generation:
            return
        self.users_model.append_users(batch)
        # QProgressBar.setValue repaints at once when the value moved by 1% or more, and that paints every dirty
        # widget of the window with it (the users table being filled: ~12 ms a batch). With updates off it only
        # asks for a paint in the next pass of the event loop, with everything else.
        self.progress.setUpdatesEnabled(False)
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.progress.setUpdatesEnabled(True)
        # The rows just added live as long as the list: left out of the cyclic collector's later passes, which
        # would otherwise scan every row of the list again each time (0.1 s and more at 100,000 users, several
        # times while a list loads). Garbage cycles alive at this moment stay until the window closes.
        gc.freeze()
        current = self.users_pane.current_user()
        if current and current in {s.user_id for s in batch}:  # its columns arrived after the first paint
            self.header.show_user(self.users_model.summary(current))
        if not current:
            wanted = self._pending_select
            if wanted and self.users_model.knows(wanted):
                self._pending_select = None
                self.users_pane.select_user(wanted)
            elif not wanted:
                self.select_first()
        self.update_status()

    def select_first(self) -> None:
        index = self.users_pane.proxy.index(0, 0)
        if index.isValid():
            self.users_pane.select_user(self.users_pane.user_at(index))

    @Slot(int)
    def _on_users_done(self, generation: int) -> None:
        if generation != self.session.generation:
            return
        self.session.users_done = True
        if self._pending_select:
            self.statusBar().showMessage(f"No user {self._pending_select!r} in this store", 8000)
            self._pending_select = None
            self.select_first()
        self.update_status()
        self.check_loaded()

    @Slot(int, object, str)
    def _on_global_loaded(self, generation: int, entries: list[tuple[str, Any, str]] | None, error: str) -> None:
        if generation != self.session.generation:
            return
        self._global_done = True
        entries = self.live.guard_global(entries)
        if entries is not None and self.global_model.entries():
            self.global_model.apply_entries(entries)
        else:
            self.global_model.replace_entries(entries or [])
        self.global_pane.set_state(error or None, len(entries or []))
        self.check_loaded()

    @Slot(str)
    def _on_current_user(self, user_id: str) -> None:
        summary = self.users_model.summary(user_id) if user_id else None
        self.header.show_user(summary)
        if user_id == self.session.shown_user:
            return
        self.session.shown_user = user_id
        self._user_done = not user_id
        self.show_details(None)
        self.conversation_model.set_user(user_id or None)
        self._sync_metrics()
        if user_id:
            self._load_user.emit(self.session.generation, user_id)

    def show_details(self, details: UserDetails | None) -> None:
        errors = details.errors if details else {}
        same = details is not None and details.user_id == getattr(self, "_details_user", None)
        self._details_user = details.user_id if details else None
        for model, rows in ((self.facts_model, details.facts if details else None),
                            (self.memories_model, details.memories if details else None)):
            if same:
                model.apply_rows(rows or [])
            else:
                model.replace_rows(rows or [])
        profile = (details.profile if details else None) or []
        if same:
            self.profile_model.apply_entries(profile)
        else:
            self.profile_model.replace_entries(profile)
        self.facts_pane.set_state(errors.get("facts"), self.facts_model.rowCount())
        self.memories_pane.set_state(errors.get("memories"), self.memories_model.rowCount())
        self.profile_pane.set_state(errors.get("profile"), self.profile_model.rowCount())

    @Slot(int, object)
    def _on_user_loaded(self, generation: int, details: UserDetails) -> None:
        if generation != self.session.generation or details.user_id != self.session.shown_user:
            return
        self.show_details(self.live.guard_details(details))
        self._user_done = True
        self.check_loaded()

    @Slot()
    def _sync_metrics(self) -> None:
        """Charts are computed only while their tab shows: the computation scans the whole archive, which
        would compete with the conversation for the GIL and delay the newest messages."""
        # The overview covers every user: the selected user's header above it would mislead.
        self.header.setVisible(self.tabs.currentWidget() is not self.overview_view)
        if self.tabs.currentWidget() is not self.metrics_view:
            return
        if self.metrics_view.user_id != (self.session.shown_user or None):
            self.metrics_view.set_user(self.session.shown_user or None)

    @Slot(int, int)
    def _on_conversation_loading(self, _done: int, total: int) -> None:
        if total <= 0:
            self.check_loaded()

    @Slot(str)
    def _on_worker_failed(self, error: str) -> None:
        self.statusBar().showMessage(f"Error: {error}", 15000)

    def is_loaded(self) -> bool:
        """True when the users, the global context and the selected user's panes are all in."""
        return (self.session.users_done and self._global_done and self._user_done
                and not self.conversation_model.is_loading)

    def check_loaded(self) -> None:
        if not self.is_loaded():
            return
        self.progress.hide()
        empty = self.users_model.total_count() == 0 and self.global_model.rowCount() == 0
        if empty:
            self.empty_state.set_folder(self.store.location() or "this store")
        self.stack.setCurrentWidget(self.empty_state if empty else self.splitter)
        if not self._was_loaded:
            self._was_loaded = True
            self.loaded.emit()

    @Slot()
    def update_status(self) -> None:
        total = self.users_model.total_count()
        shown = self.users_pane.shown_count()
        damaged = self.users_model.error_count()
        parts = [f"{total:,} user{'s' if total != 1 else ''}"]
        if shown != total:
            parts.append(f"{shown:,} shown")
        if damaged:
            parts.append(f"{damaged:,} damaged")
        if not self.session.users_done:
            parts.append("loading…")
        self.status_label.setText("  ·  ".join(parts))

    # -- navigation ----------------------------------------------------------------------------------
    def show_tab(self, name: str) -> bool:
        """Bring the tab called ``name`` (case-insensitive, a prefix will do) to the front."""
        wanted = name.strip().casefold().replace("-", " ").replace("_", " ")
        for i in range(self.tabs.count()):
            names = (self.tabs.tabText(i), str(self.tabs.tabBar().tabData(i) or ""))
            if any(n.casefold().startswith(wanted) for n in names if n):
                self.tabs.setCurrentIndex(i)
                return True
        return False

    @Slot()
    def focus_find(self) -> None:
        self.tabs.setCurrentWidget(self.conversation_pane)
        self.conversation_pane.find_edit.setFocus()

    @Slot()
    def focus_search(self) -> None:
        """View > Search the whole store (Ctrl+Shift+F)."""
        self.side_tabs.setCurrentWidget(self.search_pane)
        self.search_pane.focus()

    def search_for(self, text: str) -> None:
        """Show the search pane asking ``text`` (``memgui --search``)."""
        self.side_tabs.setCurrentWidget(self.search_pane)
        self.search_pane.field.setText(text)
        self.search_pane.request()

    @Slot()
    def choose_folder(self) -> None:
        start = self.store.folder()
        folder = Dialogs.open_folder(self, "Open a memory store folder", str(start) if start else "")
        if folder:
            self.open_folder(folder)

    @Slot()
    def choose_database(self) -> None:
        """File > Open database: a PostgreSQL address (URL or libpq words)."""
        current = self.store.location() if self.store.folder() is None else ""
        address = Dialogs.ask_text(self, "Open a database", "PostgreSQL address (postgresql://user@host/dbname, "
                                   "or host=... dbname=...). A password is better kept in ~/.pgpass.", current)
        if address.strip():
            self.open_location(address)

    def open_folder(self, folder: str | os.PathLike[str]) -> None:
        """Show the JSON store in ``folder`` instead (the environment's other settings, another DATA_DIR)."""
        self.open_location(Path(folder))

    def open_location(self, location: str | os.PathLike[str]) -> None:
        """Show the store at ``location`` (a folder, or a PostgreSQL address) instead, built by the factory; one
        that cannot be opened is said in a warning, naming the problem, and the current store stays."""
        try:
            store = open_location(location)
        except MemoryStoreError as exc:
            Dialogs.warn(self, "Cannot open this store", str(exc))
            return
        self.set_store(store)

    def set_store(self, store: MemoryStore) -> None:
        old = self.store
        self.session.store = store
        self.window_actions.set_store(store)
        self.live.start(store)  # before the first read of the new store
        self.search.set_store(store)
        self._set_store.emit(store)  # queued: each worker switches in its own thread, before the next request
        self.metrics_view.store = store
        self.overview_view.store = store
        where = store.folder() or store.location()
        if where:
            self.state.remember_folder(str(where))
        self.reload()
        if old is not store:
            old.close()

    @Slot()
    def fill_recent(self) -> None:
        self.recent_menu.clear()
        for folder in self.state.recent_folders():
            action = self.recent_menu.addAction(folder)
            action.setData(folder)
            action.triggered.connect(self._open_recent)
        self.recent_menu.setEnabled(True)

    @Slot()
    def _open_recent(self) -> None:
        action = self.sender()
        if isinstance(action, QAction):
            self.open_location(str(action.data()))

    # -- closing ---------------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop the workers (idempotent); the window stays on screen."""
        self.conversation_model.set_user(None)
        self.live.stop()
        self.search.stop()
        self.store_thread.stop()
        self.conversation_thread.stop()
        self.window_actions.transfer.stop()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.state.save(self)
        self.shutdown()
        super().closeEvent(event)
        gc.unfreeze()  # what loading froze (``_on_users_batch``) is collected as usual again
