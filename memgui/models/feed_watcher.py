"""``FeedWatcher``: live refresh from a store that announces its changes (``ChangeFeed``: PostgreSQL's
LISTEN/NOTIFY), with the same signals as the folder watcher (``StoreWatcher``).

The feed's socket is watched with a ``QSocketNotifier``: no polling loop, no thread waiting on it. Announced
user ids are gathered for a short debounce and reported once each; ``usersChanged`` follows every batch, since
an announcement may be a user created or erased. Announcements are hints: every ``CHECK_MS`` the feed's
revision counters are compared (one cheap query), which catches what a dropped connection missed. A lost
connection is retried with a growing pause, off the GUI thread (connecting may take the connect timeout), and
``statusChanged`` says so; after a reconnect the revision check reports everything that changed meanwhile.
"""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import QObject, QSocketNotifier, QTimer, Signal, Slot

from memgui.store.backend import ChangeFeed
from memgui.store.errors import MemoryStoreError

log = logging.getLogger(__name__)

DEBOUNCE_MS = 30  # announcements of one burst of writes become one round of reloads
CHECK_MS = 2000  # the revision check: what a lost announcement would hide shows within this
RETRY_MS = (500, 1000, 2000, 5000, 10000)  # pauses between reconnection attempts (the last one repeats)


class FeedWatcher(QObject):
    """Turns a ``ChangeFeed`` into ``userChanged(user_id)``, ``usersChanged()`` and ``globalChanged()``.
    ``connected`` tells whether the feed is open; ``statusChanged(text)`` reports losing and regaining it."""

    userChanged = Signal(str)
    usersChanged = Signal()
    globalChanged = Signal()
    statusChanged = Signal(str)
    _opened = Signal(int, object, str)  # attempt, socket (None: failed), error — from the connecting thread

    def __init__(self, feed: ChangeFeed, parent: QObject | None = None, *, debounce_ms: int = DEBOUNCE_MS,
                 check_ms: int = CHECK_MS, retry_ms: tuple[int, ...] = RETRY_MS) -> None:
        super().__init__(parent)
        self.feed = feed
        self.connected = False
        self._stopped = False
        self._attempt = 0
        self._failures = 0
        self._was_connected = False
        self._retry_ms = retry_ms
        self._notifier: QSocketNotifier | None = None
        self._users: set[str] = set()
        self._listing = False  # the users list may have changed even with no user to name
        self._global = False
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(debounce_ms)
        self._debounce.timeout.connect(self._flush)
        self._check = QTimer(self)
        self._check.setInterval(check_ms)
        self._check.timeout.connect(self._catch_up)
        self._retry = QTimer(self)
        self._retry.setSingleShot(True)
        self._retry.timeout.connect(self._connect)
        self._opened.connect(self._on_opened)
        self._connect()

    # -- connecting ----------------------------------------------------------------------------------
    @Slot()
    def _connect(self) -> None:
        if self._stopped:
            return
        self._attempt += 1
        threading.Thread(target=self._open, args=(self._attempt,), name="memgui-feed-connect", daemon=True).start()

    def _open(self, attempt: int) -> None:
        """In the connecting thread: the feed's socket, or why not, handed to the GUI thread by a signal."""
        try:
            fd: int | None = self.feed.open()
            error = ""
        except MemoryStoreError as exc:
            fd, error = None, str(exc)
        try:
            self._opened.emit(attempt, fd, error)
        except RuntimeError:  # the watcher was deleted meanwhile: nobody listens any more
            self.feed.close()

    @Slot(int, object, str)
    def _on_opened(self, attempt: int, fd: int | None, error: str) -> None:
        if self._stopped or attempt != self._attempt:
            if fd is not None and not self.connected:
                self.feed.close()
            return
        if fd is None:
            pause = self._retry_ms[min(self._failures, len(self._retry_ms) - 1)]
            self._failures += 1
            self.statusChanged.emit(f"Live refresh: cannot reach {self.feed.describe()} ({error}); "
                                    f"trying again in {pause / 1000:g} s")
            self._retry.start(pause)
            return
        self._failures = 0
        self.connected = True
        self._notifier = QSocketNotifier(fd, QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._on_readable)
        self._check.start()
        if self._was_connected:
            self.statusChanged.emit(f"Live refresh: reconnected to {self.feed.describe()}")
            self._catch_up()  # what changed while the connection was down
        self._was_connected = True

    def _lost(self, error: MemoryStoreError) -> None:
        log.info("live refresh lost its connection: %s", error)
        self._drop_connection()
        self.statusChanged.emit(f"Live refresh: lost the connection to {self.feed.describe()} ({error}); "
                                "reconnecting")
        self._retry.start(self._retry_ms[0])

    def _drop_connection(self) -> None:
        self.connected = False
        self._check.stop()
        if self._notifier is not None:
            self._notifier.setEnabled(False)
            self._notifier.deleteLater()
            self._notifier = None
        self.feed.close()

    # -- what arrives --------------------------------------------------------------------------------
    @Slot()
    def _on_readable(self) -> None:
        self._drain()

    def _drain(self) -> None:
        try:
            payloads = self.feed.read()
        except MemoryStoreError as exc:
            self._lost(exc)
            return
        self._note(set(payloads) - {""}, "" in payloads)

    def _note(self, users: set[str], global_changed: bool) -> None:
        if not users and not global_changed and not self._listing:
            return
        self._users |= users
        self._global = self._global or global_changed
        if not self._debounce.isActive():
            self._debounce.start()

    @Slot()
    def _catch_up(self) -> None:
        if not self.connected:
            return
        try:
            found = self.feed.catch_up()
        except MemoryStoreError as exc:
            self._lost(exc)
            return
        self._listing = self._listing or found.listing
        self._note(set(found.users), found.global_context)
        self._drain()  # announcements that came in during the query are no longer on the socket

    @Slot()
    def _flush(self) -> None:
        users, self._users = sorted(self._users), set()
        global_changed, self._global = self._global, False
        listing, self._listing = self._listing, False
        if users or listing:
            self.usersChanged.emit()
        for user_id in users:
            self.userChanged.emit(user_id)
        if global_changed:
            self.globalChanged.emit()

    # -- the window's side -----------------------------------------------------------------------------
    @property
    def is_ready(self) -> bool:
        """True while the feed is open: changes made from now on are reported."""
        return self.connected

    def poll_now(self, full: bool = False) -> None:
        """View > Refresh: compare the revision counters now (``full`` changes nothing: they cover all)."""
        self._catch_up()

    def stop(self) -> None:
        """Stop listening and close the feed's connection (idempotent)."""
        self._stopped = True
        self._debounce.stop()
        self._retry.stop()
        self._drop_connection()
