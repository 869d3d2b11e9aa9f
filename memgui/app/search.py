"""``StoreSearch``: the window's store-wide search. It runs the search pane's queries on a ``SearchWorker`` in a
thread of its own, fills the results model as hits arrive, asks again (by diff) when another process changed
the store while a query shows, and opens a result: the user selected, the tab of the hit's kind brought up,
the message or fact selected and its match highlighted."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QObject, QTimer, Signal, Slot

from memgui.app.session import WindowSession
from memgui.models.facts_model import FactRow
from memgui.models.jobs import WorkerThread
from memgui.models.memories_model import MemoryRow
from memgui.models.roles import ROW_ROLE
from memgui.models.search_model import SearchResultsModel
from memgui.models.search_worker import SearchDone, SearchWorker
from memgui.store import MemoryStore
from memgui.store.search import Filters, Hit
from memgui.views.pending_select import Match, PendingSelection
from memgui.views.search_view import SearchPane

FOLLOW_MS = 500  # a query that shows is asked again this long after the store changed (not once per write)


class StoreSearch(QObject):
    """``finished`` is emitted when a search has given all its results (tests, ``--screenshot``)."""

    finished = Signal()
    _search = Signal(int, str, object, bool)
    _cancel = Signal()
    _set_store = Signal(object, bool)
    _plaintext = Signal(bool)

    def __init__(self, session: WindowSession, pane: SearchPane, model: SearchResultsModel) -> None:
        super().__init__(session.window)
        self.session, self.pane, self.model = session, pane, model
        self.panes = session.panes
        self.worker = SearchWorker(session.store, read_only=session.read_only)
        self.worker_thread = WorkerThread(self.worker, "memgui-search", self)
        self.worker_thread.qthread.finished.connect(self.worker.close_index)  # in the worker's thread, as it ends
        self.token = 0
        self._asked: tuple[str, Filters] | None = None  # the query whose results show
        self._running = False
        self._stale = False  # the store changed while a search ran: ask again when it ends
        # Changes told so far, and how many of them the index had taken in at the last search that synced.
        self._changes, self._synced, self._asked_changes = 1, 0, 0
        self._follow = QTimer(self)
        self._follow.setSingleShot(True)
        self._follow.setInterval(FOLLOW_MS)
        self._follow.timeout.connect(self._ask_again)
        self._search.connect(self.worker.search)
        self._cancel.connect(self.worker.cancel)
        self._set_store.connect(self.worker.set_store)
        self._plaintext.connect(self.worker.set_plaintext_ok)
        self.worker.progress.connect(self._on_progress)
        self.worker.hits.connect(self._on_hits)
        self.worker.done.connect(self._on_done)
        pane.search_requested.connect(self.ask)
        pane.hit_selected.connect(self.open_hit)
        pane.plaintext_changed.connect(self._on_plaintext)
        pane.set_encrypted(bool(session.store.config.ENCRYPTION_ENABLED))
        self._facts = PendingSelection(self.panes.facts.table)
        self._memories = PendingSelection(self.panes.memories.view)
        self._profile = PendingSelection(self.panes.profile.view)
        self._global = PendingSelection(self.panes.global_context.view)
        self.panes.users.current_changed.connect(self._on_user)
        self._pending_user = ""

    # -- asking ------------------------------------------------------------------------------------------
    @Slot(str, object)
    def ask(self, text: str, filters: Filters) -> None:
        """Search ``text`` with ``filters`` (empty text: nothing, the results cleared)."""
        self._follow.stop()
        if not text:
            self._asked = None
            self.token += 1
            self._running = False
            self._cancel.emit()
            self.model.replace_rows([])
            self.pane.show_cleared()
            return
        follow = self._asked == (text, filters)
        self._asked = (text, filters)
        self.token += 1
        self._running, self._stale = True, False
        self.model.begin(follow=follow)
        if not follow:
            self.pane.show_started()
        self._asked_changes = self._changes
        self._search.emit(self.token, text, filters, self._synced != self._changes)

    @Slot()
    def store_changed(self) -> None:
        """Another process (or this window) changed the store: a query that shows follows, a moment later."""
        self._changes += 1
        if self._asked is None:
            return
        if self._running:
            self._stale = True
        else:
            self._follow.start()

    @Slot()
    def _ask_again(self) -> None:
        if self._asked is not None:
            self.ask(*self._asked)

    @Slot(int, int, int)
    def _on_progress(self, token: int, done: int, total: int) -> None:
        if token == self.token:
            self.pane.show_progress(done, total)

    @Slot(int, object)
    def _on_hits(self, token: int, hits: list[Hit]) -> None:
        if token == self.token:
            self.model.add_hits(hits)

    @Slot(int, object)
    def _on_done(self, token: int, done: SearchDone) -> None:
        if token != self.token:
            return
        self._running = False
        if not done.error:
            self._synced = self._asked_changes  # what a later change adds is still to be taken in
        self.model.finish()
        self.pane.show_done(done)
        self.finished.emit()
        if self._stale:
            self._stale = False
            self._follow.start()

    @Slot(bool)
    def _on_plaintext(self, allowed: bool) -> None:
        self._plaintext.emit(allowed)
        self._changes += 1
        self._ask_again()

    def set_store(self, store: MemoryStore) -> None:
        """Another folder or database is shown: search it (its own index)."""
        self._set_store.emit(store, self.session.read_only)
        self._changes += 1
        self.pane.set_encrypted(bool(store.config.ENCRYPTION_ENABLED))
        self._asked = None  # nothing relates the old results to the new store
        self.pane.request()

    def stop(self) -> None:
        self._follow.stop()
        self.worker_thread.stop()

    # -- opening a result --------------------------------------------------------------------------------
    @Slot(object)
    def open_hit(self, hit: Hit) -> None:
        """Show ``hit`` where it lives: its user selected, its tab up, its row selected and the match marked."""
        for pending in (self._facts, self._memories, self._profile, self._global):
            pending.clear()
        tabs = self.panes.tabs
        if hit.kind == "global":
            tabs.setCurrentWidget(self.panes.global_context)
            self._global.select(_key_is(hit.ref))
            return
        users = self.panes.users
        if users.current_user() != hit.user and not users.select_user(hit.user):
            users.filter_edit.clear()  # the users filter hid the user
            if not users.select_user(hit.user):
                self.session.status(f"User {hit.user!r} is no longer in the store", 8000)
                return
        self._pending_user = hit.user
        if hit.kind == "message":
            tabs.setCurrentWidget(self.panes.conversation)
            self.panes.conversation.show_message(hit.ref, mark=hit.snippet[hit.start:hit.end])
        elif hit.kind == "fact":
            tabs.setCurrentWidget(self.panes.facts)
            self._facts.select(lambda index: _fact_is(index, hit.ref))
        elif hit.kind == "memory":
            tabs.setCurrentWidget(self.panes.memories)
            kind, _, position = hit.ref.rpartition("/")
            self._memories.select(lambda index: _memory_is(index, kind, position))
        elif hit.kind == "profile":
            tabs.setCurrentWidget(self.panes.profile)
            self._profile.select(_key_is(hit.ref))

    @Slot(str)
    def _on_user(self, user_id: str) -> None:
        if user_id != self._pending_user:  # the admin moved on: an older wish must not select later
            for pending in (self._facts, self._memories, self._profile):
                pending.clear()


def _key_is(key: str) -> Match:
    def match(index: QModelIndex) -> bool:
        return bool(index.data() == key)

    return match


def _memory_is(index: QModelIndex, kind: str, position: str) -> bool:
    row = index.data(ROW_ROLE)
    return isinstance(row, MemoryRow) and row.memory_type == kind and str(row.index) == position


def _fact_is(index: QModelIndex, fact_id: str) -> bool:
    row = index.data(ROW_ROLE)
    return isinstance(row, FactRow) and row.id == fact_id
