"""A background thread that checkpoints a user shortly after their last message.

Every message already reaches the v1 files before its call returns (unsynced: the journal covers them) except
in a history too long to rewrite per message (see ``store.EAGER_LIMIT``). ``DELAY`` seconds after a writer goes
quiet, this thread writes what the files still lack, syncs them and starts a fresh, small journal. It never waits
for a lock: a busy user is tried again later.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path

from memgui.store.errors import MemoryStoreError

log = logging.getLogger(__name__)
DELAY = 0.25
Materialize = Callable[[Path, str], bool]
Idle = Callable[[Path], float]
_live: weakref.WeakSet[Materializer] = weakref.WeakSet()


class Materializer:
    """Due times per user folder and one daemon thread, started on first use."""

    def __init__(self, materialize: Materialize, quiet_for: Idle) -> None:
        self._materialize = materialize
        self._quiet_for = quiet_for
        self._due: dict[Path, tuple[float, str]] = {}
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        _live.add(self)

    def schedule(self, folder: Path, user_id: str) -> None:
        with self._cond:
            if folder not in self._due:
                self._due[folder] = (time.monotonic() + DELAY, user_id)
                self._cond.notify()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="memgui-materializer", daemon=True)
                self._thread.start()

    def cancel(self, folder: Path) -> None:
        with self._cond:
            self._due.pop(folder, None)

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._due:  # nothing left: the thread ends (it holds the store; the next schedule restarts it)
                    self._thread = None
                    return
                folder, (when, user_id) = min(self._due.items(), key=lambda item: item[1][0])
                delay = when - time.monotonic()
                if delay > 0:
                    self._cond.wait(timeout=delay)
                    continue
                del self._due[folder]
            self._attempt(folder, user_id)

    def _attempt(self, folder: Path, user_id: str) -> None:
        quiet = self._quiet_for(folder)
        if quiet < DELAY:  # a writer is busy with this user: it materializes by itself; look again later
            with self._cond:
                self._due.setdefault(folder, (time.monotonic() + DELAY - quiet, user_id))
            return
        try:
            done = self._materialize(folder, user_id)
        except (MemoryStoreError, OSError) as exc:
            log.warning("could not write journaled messages of %s into its files: %s", folder, exc)
            return
        if not done:
            with self._cond:
                self._due.setdefault(folder, (time.monotonic() + DELAY, user_id))

    def flush(self) -> None:
        """Materialize everything scheduled now, waiting for locks."""
        with self._cond:
            due, self._due = dict(self._due), {}
        for folder, (_, user_id) in due.items():
            for _attempt in range(200):
                try:
                    if self._materialize(folder, user_id):
                        break
                except (MemoryStoreError, OSError) as exc:
                    log.warning("could not write journaled messages of %s into its files: %s", folder, exc)
                    break
                time.sleep(0.01)


@atexit.register
def _flush_all() -> None:
    for materializer in list(_live):
        materializer.flush()
