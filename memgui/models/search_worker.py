"""Store-wide search off the GUI thread: a ``SearchWorker`` (a ``JobWorker`` in its own thread) holds the
store's ``SearchIndex``, brings it up to date one user at a time before each search (the first search builds
it, with progress), then sends the hits in batches as they are found. A newer search replaces the one running
(its answers carry a token; the window drops older tokens).

Where the index lives is ``memgui.store.search.placement``'s decision: the store's bookkeeping folder for a
writable plain folder, the user's cache folder for a read-only folder or a database, memory for an encrypted
store unless ``plaintext_ok``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Generator

from PySide6.QtCore import Signal, Slot

from memgui.models.jobs import Job, JobWorker
from memgui.store import MemoryStore, MemoryStoreError
from memgui.store.search import Filters, SearchIndex, SyncReport
from memgui.store.search.build import ChildBuild

LIMIT = 500  # hits shown at most for one search
PROGRESS_S = 0.05  # progress is sent at most this often while indexing
CHILD_MIN_USERS = 50  # an index built from nothing for at least this many users is built in a child process


@dataclasses.dataclass(frozen=True)
class SearchDone:
    """How a search ended: hits sent, whether more were left out (``LIMIT``), the time it took, where the
    index is and its size, whether a damaged index was made again, and the error that stopped it ('')."""

    count: int
    truncated: bool
    seconds: float
    indexed: int  # users read again before searching
    where: str
    size: int
    rebuilt: bool
    error: str = ""


class SearchWorker(JobWorker):
    """``search(token, text, filters)`` answers with ``progress`` while indexing, ``hits`` per batch, then
    ``done``; all carry the token."""

    progress = Signal(int, int, int)  # token, users indexed, users to index
    hits = Signal(int, object)  # token, list[Hit]
    done = Signal(int, object)  # token, SearchDone

    def __init__(self, store: MemoryStore, *, read_only: bool, plaintext_ok: bool = False) -> None:
        super().__init__()
        self.store = store
        self.read_only = read_only
        self.plaintext_ok = plaintext_ok
        self.index: SearchIndex | None = None
        self.build: ChildBuild | None = None  # the first build, running in a child process
        self._child_rebuilt = False
        self._child_reindexed = 0  # users the child read, counted in the search's report

    @Slot(object, bool)
    def set_store(self, store: MemoryStore, read_only: bool) -> None:
        """Search ``store`` from now on (another folder or database was opened)."""
        self.cancel_job("search")
        self.close_index()
        self.store, self.read_only = store, read_only

    @Slot(bool)
    def set_plaintext_ok(self, allowed: bool) -> None:
        """For an encrypted store: keep the index on disk (unencrypted) or in memory only."""
        if allowed != self.plaintext_ok:
            self.cancel_job("search")
            self.close_index()
            self.plaintext_ok = allowed

    @Slot()
    def close_index(self) -> None:
        if self.build is not None:
            self.build.close()
            self.build = None
        if self.index is not None:
            self.index.close()
            self.index = None

    @Slot(int, str, object, bool)
    def search(self, token: int, text: str, filters: Filters, sync: bool = True) -> None:
        """Search ``text``; ``sync`` False: nothing changed since the last search (the window's watcher says so),
        the index built is asked as it is, without looking at every user's signature first."""
        self.start_job("search", self._search(token, text, filters, sync))

    @Slot()
    def cancel(self) -> None:
        self.cancel_job("search")

    def _search(self, token: int, text: str, filters: Filters, sync: bool) -> Job:
        started = time.perf_counter()
        try:
            if self.index is None:
                self.index = SearchIndex(self.store, read_only=self.read_only, plaintext_ok=self.plaintext_ok)
            index = self.index
            yield from self._build_elsewhere(token, index)
            steps = index.syncing() if sync or not index.indexed_users() else _unchanged()
            sent = 0.0
            while True:
                try:
                    done, total = next(steps)
                except StopIteration as stop:
                    report = stop.value
                    break
                now = time.perf_counter()
                if total and (now - sent >= PROGRESS_S or done == total):
                    sent = now
                    self.progress.emit(token, done, total)
                yield
            count, truncated = 0, False
            for batch in index.search(text, filters, LIMIT + 1):  # one more than shown: are there more?
                if count + len(batch) > LIMIT:
                    truncated, batch = True, batch[: LIMIT - count]
                count += len(batch)
                if batch:
                    self.hits.emit(token, batch)
                yield
        except (MemoryStoreError, OSError) as exc:
            where = self.index.where() if self.index is not None else ""
            self.done.emit(token, SearchDone(0, False, time.perf_counter() - started, 0, where, 0, False, str(exc)))
            return
        rebuilt, reindexed = report.rebuilt or self._child_rebuilt, report.reindexed + self._child_reindexed
        self._child_rebuilt, self._child_reindexed = False, 0
        self.done.emit(token, SearchDone(count, truncated, time.perf_counter() - started, reindexed,
                                         index.where(), index.size(), rebuilt))

    def _build_elsewhere(self, token: int, index: SearchIndex) -> Job:
        """An index file not built yet, for a store of many users: built by a child process while this job
        only waits on its pipe (see ``memgui.store.search.build``). A failed child leaves the work to
        ``syncing``, in this thread."""
        if self.build is None:
            if index.path is None or index.indexed_users() or len(self.store.get_all_users()) < CHILD_MIN_USERS:
                return
            self.build = ChildBuild(self.store.config, read_only=self.read_only, plaintext_ok=self.plaintext_ok)
        build = self.build
        while not build.finished:
            build.poll(PROGRESS_S)
            if build.total:
                self.progress.emit(token, build.done, build.total)
            yield
        self.build = None
        self._child_rebuilt = bool(build.report and build.report.rebuilt)
        self._child_reindexed = build.report.reindexed if build.report else 0


def _unchanged() -> Generator[tuple[int, int], None, SyncReport]:
    """What ``syncing`` reports when nothing was looked at."""
    yield 0, 0
    return SyncReport(0, 0, 0, 0.0, False)
