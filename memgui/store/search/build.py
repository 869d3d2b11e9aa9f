"""Building a search index from nothing in a child process.

The first build reads every user of the store and folds every text: minutes of pure Python for a million
messages. In the window's process that work holds the GIL and makes the collector scan what it allocates, and the
event loop stalls (benchmarks/bench_search.py measured 230 ms at a time). A child process (``spawn``: no Qt, no
threads inherited) opens the same store from its configuration, builds the same index file (``placement`` gives
the child the same path) and reports progress through a pipe; the parent only waits on the pipe. An index kept in
memory (an encrypted store) cannot be built elsewhere: it is built in the caller's thread as before.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import time
from multiprocessing.connection import Connection
from typing import Any

from memgui.store.config import StoreConfig
from memgui.store.errors import MemoryStoreError
from memgui.store.search.index import SearchIndex, SyncReport

PROGRESS_S = 0.1  # the child reports progress at most this often


class ChildBuild:
    """A build running in a child process; ``poll`` gives what it said last."""

    def __init__(self, config: StoreConfig, *, read_only: bool, plaintext_ok: bool) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe(duplex=False)
        self._proc = context.Process(target=_run, args=(config, read_only, plaintext_ok, child),
                                     name="memgui-search-build", daemon=True)
        self._proc.start()
        child.close()
        self.done, self.total = 0, 0
        self.report: SyncReport | None = None
        self.error = ""

    @property
    def finished(self) -> bool:
        return self.report is not None or bool(self.error)

    def poll(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for news (the GIL is released meanwhile), then take in all of it."""
        try:
            ready = self._conn.poll(timeout)
            while ready:
                message: Any = self._conn.recv()
                if isinstance(message, SyncReport):
                    self.report = message
                elif isinstance(message, str):
                    self.error = message
                else:
                    self.done, self.total = message
                ready = not self.finished and self._conn.poll(0)
        except (EOFError, OSError):
            self.error = self.error or f"the index builder stopped (exit status {self._proc.exitcode})"
        if self.finished:
            self.close()

    def close(self) -> None:
        """Stop the child if it still runs (another store was opened, the window closes)."""
        if self._proc.is_alive():
            self._proc.terminate()
        self._proc.join(timeout=5)
        with contextlib.suppress(OSError):
            self._conn.close()


def _run(config: StoreConfig, read_only: bool, plaintext_ok: bool, conn: Connection) -> None:
    from memgui.store.factory import create_memory_store

    sent = 0.0

    def progress(done: int, total: int) -> None:
        nonlocal sent
        now = time.monotonic()
        if now - sent >= PROGRESS_S or done == total:
            sent = now
            conn.send((done, total))

    try:
        with create_memory_store(config) as store:
            index = SearchIndex(store, read_only=read_only, plaintext_ok=plaintext_ok)
            try:
                conn.send(index.sync(progress))
            finally:
                index.close()
    except (MemoryStoreError, OSError) as exc:
        conn.send(f"{type(exc).__name__}: {exc}")
    finally:
        conn.close()
