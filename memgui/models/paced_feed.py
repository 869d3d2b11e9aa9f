"""The users list's results from the store worker, handed on to the GUI thread a slice at a time.

A worker can post results faster than the GUI thread can take them: reading the summary cache of 100,000 users
yields a hundred batches within a second, and Qt delivers every queued signal in one pass of the event loop, so
input and painting would wait for all of them together (two seconds measured at 100,000 users, one batch costing
the GUI thread 15 to 20 ms). ``PacedUsersFeed`` receives the worker's users signals, queues them in the order
they came, and re-emits them from a zero-interval timer for at most ``BUDGET_MS`` per pass of the event loop
(at least one each pass): the loop turns between slices, and the order of batches, relists, single summaries
and "done" is the worker's. Connect to this object's signals instead of the worker's. After each batch of
rows from the summary cache the worker waits (``users_sent``) until this feed has handed it on, and only then
makes the next one or starts its check of every user's files: work that would otherwise compete with the GUI
thread for the GIL while it takes the rows.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, SignalInstance, Slot

from memgui.models.store_worker import StoreWorker

BUDGET_MS = 8.0


class PacedUsersFeed(QObject):
    """The users signals of a ``StoreWorker`` (same names and arguments), paced for the GUI thread."""

    users_batch = Signal(int, object, int, int)  # generation, [UserSummary], done, total
    users_done = Signal(int)
    users_relisted = Signal(int, object, object)  # generation, [user id] now, [UserSummary] of ids not known
    summary_loaded = Signal(int, str, object)  # generation, user id, UserSummary (None: the user is gone)
    users_sent = Signal(int)  # generation; handed on after every batch before it, then answered to the worker

    def __init__(self, worker: StoreWorker, parent: QObject, budget_ms: float = BUDGET_MS) -> None:
        super().__init__(parent)
        self.budget = budget_ms / 1000.0
        self._queue: deque[tuple[SignalInstance, tuple[Any, ...]]] = deque()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._drain)
        worker.users_batch.connect(self._on_batch)
        worker.users_done.connect(self._on_done)
        worker.users_relisted.connect(self._on_relisted)
        worker.summary_loaded.connect(self._on_summary)
        worker.users_sent.connect(self._on_sent)
        # Handed on only after every batch before it, so the window has taken them all: the worker goes on.
        self.users_sent.connect(worker.users_shown)

    def pending(self) -> int:
        """Results received and not handed on yet."""
        return len(self._queue)

    def _push(self, signal: SignalInstance, args: tuple[Any, ...]) -> None:
        self._queue.append((signal, args))
        if not self._timer.isActive():
            self._timer.start()

    @Slot(int, object, int, int)
    def _on_batch(self, generation: int, batch: object, done: int, total: int) -> None:
        self._push(self.users_batch, (generation, batch, done, total))

    @Slot(int)
    def _on_done(self, generation: int) -> None:
        self._push(self.users_done, (generation,))

    @Slot(int, object, object)
    def _on_relisted(self, generation: int, ids: object, added: object) -> None:
        self._push(self.users_relisted, (generation, ids, added))

    @Slot(int, str, object)
    def _on_summary(self, generation: int, user_id: str, summary: object) -> None:
        self._push(self.summary_loaded, (generation, user_id, summary))

    @Slot(int)
    def _on_sent(self, generation: int) -> None:
        self._push(self.users_sent, (generation,))

    @Slot()
    def _drain(self) -> None:
        deadline = time.perf_counter() + self.budget
        while self._queue:
            signal, args = self._queue.popleft()
            signal.emit(*args)
            if time.perf_counter() >= deadline:
                break
        if self._queue:
            self._timer.start()
