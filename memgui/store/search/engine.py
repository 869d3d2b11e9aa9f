"""The index itself: one SQLite database with an FTS5 table (trigram tokenizer) over folded text.

Tables: ``meta`` (schema and folding versions, the store it indexes), ``sources`` (per user: the signature of
what was indexed), ``docs`` (one row per entry: user, kind, ref, timestamp, role, field and the original text),
and ``fts``, a contentless FTS5 table of the folded text keyed by ``docs.id``. The trigram tokenizer matches any
substring of three characters or more, whatever the script (Japanese has no spaces between words); the table
keeps no positions (``detail=none``), so a query asks for every trigram of its terms and each candidate is
checked exactly afterwards. A query whose every term is shorter than three characters scans ``docs`` instead
(only its non-ASCII texts for a non-ASCII term: 東京). A file that cannot be read as this schema is deleted and
made again: the index is derived data, never trusted over the store.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from memgui.store.search.sources import Entry
from memgui.store.search.text import Query, fold

SCHEMA_VERSION = 3
FOLD_VERSION = "1"
MIN_TRIGRAM = 3
_SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sources(user TEXT PRIMARY KEY, signature TEXT);
CREATE TABLE docs(id INTEGER PRIMARY KEY, user TEXT NOT NULL, kind TEXT NOT NULL, ref TEXT NOT NULL,
                  ts TEXT NOT NULL, role TEXT NOT NULL, field TEXT NOT NULL, text TEXT NOT NULL,
                  wide INTEGER NOT NULL);
CREATE INDEX docs_user ON docs(user, kind, ref);
CREATE INDEX docs_wide ON docs(id) WHERE wide = 1;
CREATE VIRTUAL TABLE fts USING fts5(body, content='', tokenize='trigram', columnsize=0, detail=none);
"""
Row = tuple[int, str, str, str, str, str, str, str]  # id, user, kind, ref, ts, role, field, text


def trigrams(terms: list[str]) -> list[str]:
    """The distinct three-character pieces of ``terms``: the index keeps no positions (``detail=none``, a
    third of the size), so a term is looked up as all of its trigrams and each candidate checked after."""
    seen: dict[str, None] = {}
    for term in terms:
        for i in range(len(term) - MIN_TRIGRAM + 1):
            seen.setdefault(term[i: i + MIN_TRIGRAM])
    return list(seen)


class DamagedIndex(Exception):
    """The index file is not a readable index of this version (it is then made again)."""


def _fold_sql(text: object) -> str:
    return fold(text) if isinstance(text, str) else ""


def _connect(target: str, location: str) -> sqlite3.Connection:
    conn = sqlite3.connect(target, timeout=10.0, isolation_level=None, check_same_thread=False)
    try:
        conn.create_function("memgui_fold", 1, _fold_sql, deterministic=True)
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version == 0:
            if target != ":memory:":
                conn.execute("PRAGMA journal_mode=WAL")
            with _transaction(conn):  # another process may be making it at the same moment: look again inside
                if not conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchone():
                    for statement in filter(str.strip, _SCHEMA.split(";")):
                        conn.execute(statement)
                    conn.executemany("INSERT INTO meta VALUES (?, ?)",
                                     [("fold", FOLD_VERSION), ("location", location)])
                    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version != SCHEMA_VERSION:
                raise DamagedIndex("the index file holds tables of something else")
        if version != SCHEMA_VERSION:
            raise DamagedIndex(f"index version {version}, this program writes {SCHEMA_VERSION}")
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        if meta.get("fold") != FOLD_VERSION or meta.get("location") != location:
            raise DamagedIndex("the index was made by another version or for another store")
        conn.execute("SELECT count(*) FROM sources").fetchone()
    except (sqlite3.DatabaseError, DamagedIndex):
        conn.close()
        raise
    return conn


@contextlib.contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class Engine:
    """One open index (a file, or ``None`` for memory). ``rebuilt`` tells that a damaged file was replaced.
    Thread-safe: one lock around the connection."""

    def __init__(self, path: Path | None, location: str) -> None:
        self.path = path
        self.location = location
        self.rebuilt = False
        self.lock = threading.RLock()
        self._ino = 0
        self.conn = self._open()

    def _open(self) -> sqlite3.Connection:
        if self.path is None:
            return _connect(":memory:", self.location)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = _connect(str(self.path), self.location)
        except (sqlite3.DatabaseError, DamagedIndex):
            self.discard_files()
            self.rebuilt = True
            conn = _connect(str(self.path), self.location)
        self._ino = self.path.stat().st_ino
        return conn

    def discard_files(self) -> None:
        assert self.path is not None
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                Path(str(self.path) + suffix).unlink()

    def reset(self, *, damaged: bool) -> None:
        """Start over with an empty index (after a damage found in use, or the file deleted meanwhile)."""
        with self.lock:
            with contextlib.suppress(sqlite3.Error):
                self.conn.close()
            if self.path is not None and damaged:
                self.discard_files()
            self.rebuilt = self.rebuilt or damaged
            self.conn = self._open()

    def check_file(self) -> None:
        """Reopen when the file was deleted or replaced since it was opened."""
        if self.path is None:
            return
        try:
            same = self.path.stat().st_ino == self._ino
        except FileNotFoundError:
            same = False
        if not same:
            self.reset(damaged=False)

    def close(self) -> None:
        with self.lock, contextlib.suppress(sqlite3.Error):
            self.conn.close()

    # -- bookkeeping ---------------------------------------------------------------------------------
    def signatures(self) -> dict[str, str | None]:
        with self.lock:
            return dict(self.conn.execute("SELECT user, signature FROM sources").fetchall())

    def size(self) -> int:
        """Bytes the index takes on disk (or in memory)."""
        with self.lock:
            pages = self.conn.execute("PRAGMA page_count").fetchone()[0]
            page = self.conn.execute("PRAGMA page_size").fetchone()[0]
        wal = Path(str(self.path) + "-wal") if self.path else None
        return int(pages * page) + (wal.stat().st_size if wal and wal.exists() else 0)

    def count(self) -> int:
        with self.lock:
            return int(self.conn.execute("SELECT count(*) FROM docs").fetchone()[0])

    # -- writing -------------------------------------------------------------------------------------
    def replace_user(self, user: str, entries: Iterable[Entry], signature: str | None) -> int:
        """Make the index hold exactly ``entries`` for ``user``, changing only what differs; the number of
        entries added or removed."""
        wanted = {(e.kind, e.ref): e for e in entries}
        with self.lock, _transaction(self.conn):
            have = self.conn.execute("SELECT id, kind, ref, ts, role, field, text FROM docs WHERE user = ?",
                                     (user,)).fetchall()
            stale: list[tuple[int, str]] = []
            for rid, kind, ref, ts, role, field, text in have:
                entry = wanted.get((kind, ref))
                if entry is not None and (entry.ts, entry.role, entry.field, entry.text) == (ts, role, field, text):
                    del wanted[(kind, ref)]
                else:
                    stale.append((rid, text))
            self._delete(stale)
            self._insert(user, wanted.values())
            self.conn.execute("INSERT OR REPLACE INTO sources VALUES (?, ?)", (user, signature))
        return len(stale) + len(wanted)

    def drop_user(self, user: str) -> None:
        with self.lock, _transaction(self.conn):
            self._delete(self.conn.execute("SELECT id, text FROM docs WHERE user = ?", (user,)).fetchall())
            self.conn.execute("DELETE FROM sources WHERE user = ?", (user,))

    def _delete(self, rows: list[tuple[int, str]]) -> None:
        if rows:
            self.conn.executemany("INSERT INTO fts(fts, rowid, body) VALUES('delete', ?, ?)",
                                  ((rid, fold(text)) for rid, text in rows))
            self.conn.executemany("DELETE FROM docs WHERE id = ?", ((rid,) for rid, _ in rows))

    def _insert(self, user: str, entries: Iterable[Entry]) -> None:
        start = self.conn.execute("SELECT coalesce(max(id), 0) FROM docs").fetchone()[0] + 1
        rows = [(start + i, user, e.kind, e.ref, e.ts, e.role, e.field, e.text, int(not e.text.isascii()))
                for i, e in enumerate(entries)]
        if rows:
            self.conn.executemany("INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            self.conn.executemany("INSERT INTO fts(rowid, body) VALUES (?, ?)", ((r[0], fold(r[7])) for r in rows))

    # -- reading -------------------------------------------------------------------------------------
    def candidates(self, query: Query, where: str, params: list[object]) -> Iterator[Row]:
        """Rows that may match (every term of three characters or more is in them), newest indexed first;
        the caller checks each with ``query.matches``. Holds the lock while iterating."""
        long_terms = [t.text for t in query.terms if len(t.text) >= MIN_TRIGRAM]
        cols = "d.id, d.user, d.kind, d.ref, d.ts, d.role, d.field, d.text"
        if long_terms:
            match = " AND ".join('"' + g.replace('"', '""') + '"' for g in trigrams(long_terms))
            sql = (f"SELECT {cols} FROM fts JOIN docs d ON d.id = fts.rowid WHERE fts MATCH ?{where} "
                   "ORDER BY fts.rowid DESC")
            args: list[object] = [match, *params]
        else:
            terms = [t.text for t in query.terms]
            # Folded ASCII is ASCII: a term with other characters can only be in a text that has some
            # (``wide``, indexed), so only those are folded and looked at.
            wide = " AND d.wide = 1" if not all(map(str.isascii, terms)) else ""
            sql = (f"SELECT {cols} FROM docs d WHERE 1{wide} AND "
                   + " AND ".join("instr(memgui_fold(d.text), ?) > 0" for _ in terms)
                   + f"{where} ORDER BY d.id DESC")
            args = [*terms, *params]
        with self.lock:
            yield from self.conn.execute(sql, args)
