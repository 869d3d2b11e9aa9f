"""``SearchIndex``: store-wide search over any ``MemoryStore`` — conversations (archive included), facts,
permanent memories, profiles and the global context of every user.

Where the index lives (``placement``): a writable plain JSON store keeps it in its bookkeeping folder
(``.memgui/search.sqlite3``); a read-only store, or a store without a folder that has a location (a database),
in the user's cache folder keyed by the location; an encrypted store, or one with no location, in memory only —
unless the caller passes ``plaintext_ok=True`` for an encrypted store. ``sync`` brings the index up to date from
what changed (per user signatures, or the store's ``ChangeFeed``), reading users off the caller's thread as it
is called; ``search`` yields hits in batches, newest indexed first. Any SQLite error of the index makes it start
over (the index is derived data): the user never sees it, only a slower first search.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import sqlite3
import time
from collections.abc import Callable, Generator, Iterator
from datetime import date, timedelta
from pathlib import Path

from memgui.store import fileio
from memgui.store.backend import ChangeFeed
from memgui.store.documents import META_DIR
from memgui.store.errors import MemoryStoreError
from memgui.store.interface import MemoryStore
from memgui.store.search.engine import Engine
from memgui.store.search.sources import GLOBAL_USER, KINDS, folder_signatures, global_entries, user_entries
from memgui.store.search.text import Query, fold, parse_query, snippet

INDEX_NAME = "search.sqlite3"
BATCH = 50  # hits per batch yielded by ``search``
Progress = Callable[[int, int], None]  # users done, users to do


@dataclasses.dataclass(frozen=True)
class Filters:
    """What a search is limited to: kinds (empty: all), one user (''), one message role (''), a date range
    (inclusive; dates as written in the record's timestamp)."""

    kinds: frozenset[str] = frozenset()
    user: str = ""
    role: str = ""
    since: date | None = None
    until: date | None = None

    def sql(self) -> tuple[str, list[object]]:
        parts: list[str] = []
        params: list[object] = []
        if self.kinds:
            unknown = self.kinds - set(KINDS)
            if unknown:
                raise MemoryStoreError(f"unknown kind {sorted(unknown)[0]!r}: one of {', '.join(KINDS)}")
            parts.append(f"d.kind IN ({', '.join('?' * len(self.kinds))})")
            params.extend(sorted(self.kinds))
        if self.user:
            parts.append("d.user = ?")
            params.append(self.user)
        if self.role:
            parts.append("d.role = ?")
            params.append(self.role)
        if self.since:
            parts.append("d.ts >= ?")
            params.append(self.since.isoformat())
        if self.until:
            parts.append("d.ts < ? AND d.ts != ''")
            params.append((self.until + timedelta(days=1)).isoformat())
        return "".join(" AND " + p for p in parts), params


@dataclasses.dataclass(frozen=True, slots=True)
class Hit:
    """One result: where it is (user, kind, ref: message id, fact id, 'type/index', key), when, and a
    one-line plain-text ``snippet`` of the original text with the match at ``[start:end]``."""

    user: str
    kind: str
    ref: str
    ts: str
    role: str
    field: str
    snippet: str
    start: int
    end: int


@dataclasses.dataclass(frozen=True)
class SyncReport:
    users: int  # users (and the global context) looked at
    reindexed: int  # of them, read again
    changed: int  # entries added or removed
    seconds: float
    rebuilt: bool  # a damaged index was thrown away first


def cache_folder() -> Path:
    return fileio.user_cache_folder("search")


def placement(store: MemoryStore, *, read_only: bool, plaintext_ok: bool = False) -> Path | None:
    """The index file for ``store`` (see the module's doc); None: kept in memory."""
    if store.config.ENCRYPTION_ENABLED and not plaintext_ok:
        return None
    folder = store.folder()
    if folder is not None and not read_only:
        return folder / META_DIR / INDEX_NAME
    location = store.location()
    if not location:
        return None
    key = hashlib.blake2b(location.encode("utf-8"), digest_size=12).hexdigest()
    return cache_folder() / f"{key}.sqlite3"


class SearchIndex:
    """The search index of ``store``; ``read_only``: nothing is written in the store's folder."""

    def __init__(self, store: MemoryStore, *, read_only: bool = False, plaintext_ok: bool = False) -> None:
        self.store = store
        self.path = placement(store, read_only=read_only, plaintext_ok=plaintext_ok)
        in_folder = self.path is not None and store.folder() is not None and not read_only
        self.engine = Engine(self.path, "" if in_folder else store.location())
        self._feed: ChangeFeed | None = None
        self._feed_ready = False

    def close(self) -> None:
        if self._feed is not None:
            self._feed.close()
        self.engine.close()

    def where(self) -> str:
        return str(self.path) if self.path else "memory"

    def size(self) -> int:
        return self.engine.size()

    def indexed_users(self) -> int:
        """How many users (the global context counted as one) the index holds; 0: not built yet."""
        try:
            return len(self.engine.signatures())
        except sqlite3.DatabaseError:
            return 0

    # -- keeping up to date ---------------------------------------------------------------------------
    def sync(self, progress: Progress | None = None, cancelled: Callable[[], bool] = lambda: False) -> SyncReport:
        """Bring the index up to date with the store; a damaged index is thrown away and made again."""
        steps = self.syncing(cancelled)
        while True:
            try:
                done, total = next(steps)
            except StopIteration as stop:
                report: SyncReport = stop.value
                return report
            if progress:
                progress(done, total)

    def syncing(self, cancelled: Callable[[], bool] = lambda: False) -> Generator[tuple[int, int], None, SyncReport]:
        """``sync`` one user at a time, for a caller that keeps its own loop going (the window's worker): yields
        (users done, users to do) before each user and once at the end, and returns the ``SyncReport``."""
        started = time.perf_counter()
        self.engine.check_file()
        try:
            users, reindexed, changed = yield from self._sync(cancelled)
        except sqlite3.DatabaseError:
            self.engine.reset(damaged=True)
            users, reindexed, changed = yield from self._sync(cancelled)
        rebuilt, self.engine.rebuilt = self.engine.rebuilt, False
        return SyncReport(users, reindexed, changed, time.perf_counter() - started, rebuilt)

    def _to_check(self, indexed: dict[str, str | None]) -> tuple[dict[str, str | None], set[str]]:
        """The users to look at, each with its current signature (None: compare entries), and the users the
        index holds that no longer exist."""
        signatures = folder_signatures(self.store, skip=INDEX_NAME)
        if signatures is not None:
            current: dict[str, str | None] = dict(signatures)
            return current, set(indexed) - set(current)
        source = self.store.change_source()
        if isinstance(source, ChangeFeed) and indexed and self._feed_ready and self._feed is not None:
            with contextlib.suppress(MemoryStoreError):
                caught = self._feed.catch_up()
                wanted = set(caught.users)
                if caught.global_context:
                    wanted.add(GLOBAL_USER)
                if caught.listing:
                    listed = set(self.store.get_all_users())
                    wanted |= listed - set(indexed)
                    gone = set(indexed) - listed - {GLOBAL_USER}
                else:
                    gone = set()
                return {u: None for u in wanted}, gone
        if isinstance(source, ChangeFeed) and self._feed is None:
            self._feed = source
            with contextlib.suppress(MemoryStoreError):
                self._feed.open()  # the baseline of the revision counters, before reading everything
                self._feed_ready = True
        listed = set(self.store.get_all_users()) | {GLOBAL_USER}
        return {u: None for u in listed}, set(indexed) - listed

    def _sync(self, cancelled: Callable[[], bool]) -> Generator[tuple[int, int], None, tuple[int, int, int]]:
        indexed = self.engine.signatures()
        current, gone = self._to_check(indexed)
        for user in gone:
            self.engine.drop_user(user)
        todo = [u for u, sig in sorted(current.items()) if sig is None or indexed.get(u) != sig]
        changed = 0
        for done, user in enumerate(todo):
            if cancelled():
                break
            yield done, len(todo)
            try:
                entries = global_entries(self.store) if user == GLOBAL_USER else user_entries(self.store, user)
            except MemoryStoreError:
                entries = []  # a damaged user: what can be read is nothing; the window reports the damage
                current[user] = None  # read again next time
            changed += self.engine.replace_user(user, entries, current[user])
        yield len(todo), len(todo)
        return len(current), len(todo), changed

    # -- asking ---------------------------------------------------------------------------------------
    def search(self, text: str | Query, filters: Filters | None = None, limit: int = 200) -> Iterator[list[Hit]]:
        """Hits of ``text`` (the query language of ``memgui.store.search.text``) in batches as they are found,
        at most ``limit``; nothing for an empty query. The index is as fresh as the last ``sync``."""
        query = parse_query(text) if isinstance(text, str) else text
        if not query.terms:
            return
        where, params = (filters or Filters()).sql()
        batch: list[Hit] = []
        found = 0
        try:
            for _rid, user, kind, ref, ts, role, field, body in self.engine.candidates(query, where, params):
                if not query.matches(fold(body)):
                    continue
                shown, start, end = snippet(body, query)
                batch.append(Hit(user, kind, ref, ts, role, field, shown, start, end))
                found += 1
                if len(batch) >= BATCH or found >= limit:
                    yield batch
                    batch = []
                if found >= limit:
                    return
        except sqlite3.DatabaseError:
            self.engine.reset(damaged=True)  # the next sync fills it again
            return
        if batch:
            yield batch
