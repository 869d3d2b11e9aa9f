"""``ActivityLoader``: runs an aggregate computation (``memgui.store.read.activity``) off the GUI thread and
delivers only the newest request's result.

Each ``submit`` gets a ticket. The job runs in the loader's own one-thread ``QThreadPool``; its progress
callback raises ``Cancelled`` as soon as a newer ticket exists, so switching users never waits for a million
messages nobody wants any more, and a result that still arrives for an old ticket is dropped in the GUI
thread. Signals are emitted from the worker through a relay ``QObject`` owned by the loader and delivered
queued, so only the GUI thread touches widgets. Deleting the loader cancels the job and waits for it (the
pool is a child: ``~QThreadPool`` waits), so no worker outlives the objects it reports to.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, Signal, Slot

from memgui.store.errors import MemoryStoreError
from memgui.store.read.activity import Cancelled, ProgressFn

log = logging.getLogger(__name__)
Job = Callable[[ProgressFn], Any]
PROGRESS_INTERVAL = 0.1  # seconds between progress signals: enough for a progress bar, few events


class _Relay(QObject):
    """Carries results from the worker thread to the GUI thread (queued connections)."""

    done = Signal(int, object)
    failed = Signal(int, str)
    progress = Signal(int, float)


class _Tickets:
    """The newest ticket, shared with the worker thread (a plain int read under the GIL)."""

    def __init__(self) -> None:
        self.latest = 0
        self.closed = threading.Event()

    def close(self, *_args: object) -> None:
        self.closed.set()

    def current(self, ticket: int) -> bool:
        return ticket == self.latest and not self.closed.is_set()


class ActivityLoader(QObject):
    """Computes on a worker thread; emits ``ready(result)`` for the newest request only."""

    ready = Signal(object)
    failed = Signal(str)
    progressChanged = Signal(float)  # 0..1 for the request being computed
    busyChanged = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)  # created before the relay: deleted (and waited for) first
        self._pool.setMaxThreadCount(1)
        self._relay = _Relay(self)
        self._relay.done.connect(self._on_done)
        self._relay.failed.connect(self._on_failed)
        self._relay.progress.connect(self._on_progress)
        self._tickets = _Tickets()
        self._busy = False
        # A plain callable, not a slot of self: it must still run while this object is being destroyed.
        self.destroyed.connect(self._tickets.close)

    @property
    def busy(self) -> bool:
        return self._busy

    @property
    def ticket(self) -> int:
        """The newest request's ticket (tests use it to check that stale results are dropped)."""
        return self._tickets.latest

    def submit(self, job: Job) -> int:
        """Run ``job(progress)`` on the worker; earlier requests are cancelled. Returns the ticket."""
        tickets = self._tickets
        tickets.latest += 1
        ticket = tickets.latest
        relay = self._relay
        self._set_busy(True)

        def run() -> None:
            if not tickets.current(ticket):
                return
            last = [0.0]

            def progress(fraction: float) -> None:
                if not tickets.current(ticket):
                    raise Cancelled
                now = time.monotonic()
                if now - last[0] >= PROGRESS_INTERVAL:
                    last[0] = now
                    relay.progress.emit(ticket, fraction)

            try:
                result = job(progress)
            except Cancelled:
                return
            except (MemoryStoreError, OSError, ValueError) as exc:
                relay.failed.emit(ticket, str(exc))
                return
            except Exception as exc:  # a bug must reach the pane, not die silently on a pool thread
                log.exception("activity computation failed")
                relay.failed.emit(ticket, f"{type(exc).__name__}: {exc}")
                return
            if tickets.current(ticket):
                relay.done.emit(ticket, result)

        self._pool.start(run)
        return ticket

    def cancel(self) -> None:
        """Forget every request: a running job stops at its next progress check."""
        self._tickets.latest += 1
        self._set_busy(False)

    def wait(self, msecs: int = -1) -> bool:
        """Wait for the worker to finish what it runs (for shutdown and benchmarks)."""
        return self._pool.waitForDone(msecs)

    def _set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            self.busyChanged.emit(busy)

    @Slot(int, object)
    def _on_done(self, ticket: int, result: object) -> None:
        if ticket != self._tickets.latest:
            return  # a newer request was made after this one finished: its result is stale
        self._set_busy(False)
        self.ready.emit(result)

    @Slot(int, str)
    def _on_failed(self, ticket: int, message: str) -> None:
        if ticket != self._tickets.latest:
            return
        self._set_busy(False)
        self.failed.emit(message)

    @Slot(int, float)
    def _on_progress(self, ticket: int, fraction: float) -> None:
        if ticket == self._tickets.latest:
            self.progressChanged.emit(fraction)
