"""``PostgresMemoryStore``: the seam over PostgreSQL (schema in ``schema.py``).

One connection per store, guarded by a mutex (threads of one process take turns). A user's transaction
takes ``pg_advisory_xact_lock`` on the user id first, so no two transactions of one user interleave in any
process on any machine, including the creation of a user that does not exist yet (no row to lock). Reads
outside transactions are single autocommitted statements. Commits are durable (``synchronous_commit`` as the
server is configured, on by default). Documents are stored as the exact JSON text the JSON backend writes;
the kept messages of a history are rows of their own (``txn.py``, ``rows.py``). A user's transaction is two
round trips of prepared statements (``statements.py``): the lock with the first read, the writes with the commit.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg

from memgui.store.backend import DocOrError, GlobalTxn, UserTxn
from memgui.store.backends.postgres import connect as pgconnect
from memgui.store.backends.postgres import rows as pgrows
from memgui.store.backends.postgres import statements as pgstatements
from memgui.store.backends.postgres.feed import PgChangeFeed
from memgui.store.backends.postgres.schema import REVISION_QUERY, ensure_schema
from memgui.store.backends.postgres.statements import Batch, Statement
from memgui.store.backends.postgres.txn import PgGlobalTxn, PgUserTxn
from memgui.store.codec import decode_text, dump_json, parse_json
from memgui.store.config import StoreConfig
from memgui.store.documents import SHAPE_CHECKS, Doc, DocKind, LogKind, check_message
from memgui.store.errors import ConfigError, ConflictError, MemoryStoreError
from memgui.store.interface import MemoryStore

_USER_LOCK = 0x6D656D75  # first key of the two-key advisory locks of users
_LOCK = Statement("lock_user", (("u", "text"),), f"SELECT pg_advisory_xact_lock({_USER_LOCK}, hashtext(%(u)s))")
#: After the user's lock, one statement: the documents every message reads (profile for the zone, the history
#: document, metrics), whether the user exists ('' row), and how many message rows there are, how many not
#: plain ('#' row).
_TXN_START = Statement("start_user", (("u", "text"),), (
    "SELECT kind, body FROM memgui.documents WHERE user_id = %(u)s AND kind IN ('profile', 'history', 'metrics') "
    "UNION ALL SELECT '', NULL FROM memgui.users WHERE user_id = %(u)s "
    "UNION ALL SELECT '#', count(*) || ' ' || count(*) FILTER (WHERE NOT plain) FROM memgui.messages "
    "WHERE user_id = %(u)s"))
_PREPARED = (_LOCK, _TXN_START, *pgrows.WRITES)
_GLOBAL_LOCK = 0x6D656D63
_BULK_USERS = 1000  # users whose documents one bulk statement reads
_UNNAMED = Path()
_CACHE_DOCS = 256  # decoded documents kept (their text decides whether they are still current)


class PostgresMemoryStore(MemoryStore):
    """The memory store in a PostgreSQL database (``DATABASE_URL``), schema ``memgui``."""

    def __init__(self, config: StoreConfig) -> None:
        super().__init__(config)
        if config.ENCRYPTION_ENABLED:
            raise ConfigError("ENCRYPTION_ENABLED", "the PostgreSQL backend does not encrypt documents; use the "
                                                    "server's own encryption at rest (see README)")
        self.conninfo = config.DATABASE_URL
        self.where = pgconnect.where(self.conninfo)
        self._mutex = threading.RLock()
        self._conn: psycopg.Connection | None = None
        self._prepared: psycopg.Connection | None = None  # the connection ``_PREPARED`` were prepared on
        self._docs: dict[tuple[str, str], tuple[str, Doc]] = {}  # (user, kind) -> (stored text, decoded)
        with self._connection() as conn:
            self.schema_version = ensure_schema(conn, self.where)

    # -- the connection ------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _connection(self) -> Iterator[psycopg.Connection]:
        """The store's connection (reconnected when the server dropped it, also while it was idle:
        ``connect.alive``), errors as ``DatabaseError``.

        A failure may have rolled a transaction back, and psycopg then deallocates every prepared statement
        of the session (``DEALLOCATE ALL``): the next user transaction prepares its statements again."""
        with self._mutex:
            if self._conn is None or not pgconnect.alive(self._conn):
                if self._conn is not None:
                    self._conn.close()
                self._conn = pgconnect.connect(self.conninfo)
            try:
                yield self._conn
            except psycopg.Error as exc:
                self._prepared = None
                raise pgconnect.translate(exc, self.conninfo) from None
            except BaseException:
                self._prepared = None
                raise

    def _path(self, user_id: str, kind: str) -> Path:
        """A name for the document in error messages (``CorruptDataError.path``)."""
        return Path(f"{self.where}/{user_id}/{kind}")

    def _decode(self, body: str, user_id: str, kind: str) -> Any:
        return parse_json(body.encode("utf-8"), self._path(user_id, kind))

    def _fetch_doc(self, conn: psycopg.Connection, user_id: str, kind: DocKind) -> Doc | None:
        row = conn.execute("SELECT body FROM memgui.documents WHERE user_id = %s AND kind = %s",
                           (user_id, kind)).fetchone()
        return None if row is None else self._checked(row[0], user_id, kind)

    def _checked(self, body: str, user_id: str, kind: DocKind) -> Doc:
        """The document stored as ``body``, decoded and shape-checked once: an unchanged text is answered
        from the cache (documents are shared read-only with the rules, as the seam says)."""
        key = (user_id, kind)
        cached = self._docs.get(key)
        if cached is not None and cached[0] == body:
            return cached[1]
        doc = self._decode(body, user_id, kind)
        SHAPE_CHECKS[kind](self._path(user_id, kind), doc)
        self._remember(key, body, doc)
        return doc  # type: ignore[no-any-return]

    def _remember(self, key: tuple[str, str], body: str, doc: Doc) -> None:
        if len(self._docs) >= _CACHE_DOCS:
            self._docs.pop(next(iter(self._docs)))
        self._docs[key] = (body, doc)

    def _fetch_log(self, conn: psycopg.Connection, user_id: str, log: LogKind) -> list[Doc]:
        rows = conn.execute("SELECT body FROM memgui.log_entries WHERE user_id = %s AND log = %s ORDER BY ordinal",
                            (user_id, log)).fetchall()
        return [self._decode(body, user_id, log) for (body,) in rows]

    # -- the seam: transactions ------------------------------------------------------------------------
    def _fetch_history(self, conn: psycopg.Connection, user_id: str) -> tuple[Doc | None, list[tuple[int, Doc]]]:
        """The history document (its messages list empty) and the message rows (seq, message), one snapshot."""
        shell: Doc | None = None
        rows: list[tuple[int, Doc]] = []
        path = self._path(user_id, "history")
        for seq, body in conn.execute(pgrows.HISTORY_QUERY, {"u": user_id}).fetchall():
            if seq == 0:
                shell = self._checked(body, user_id, "history")
            else:
                message = self._decode(body, user_id, "history")
                check_message(path, f"message {seq}", message)
                rows.append((int(seq), message))
        return shell, rows

    # -- the seam: transactions ------------------------------------------------------------------------
    @contextlib.contextmanager
    def _user_txn(self, user_id: str, *, create: bool) -> Iterator[UserTxn]:
        with self._connection() as conn:
            if self._prepared is not conn:
                pgstatements.prepare(conn, _PREPARED)
                self._prepared = conn
            try:
                # The read is a statement of its own after the lock: read committed takes each statement's
                # snapshot after the previous one, so what it reads is what the lock protects.
                start = Batch(conn, b"BEGIN")
                start.run(_LOCK, {"u": user_id})
                start.run(_TXN_START, {"u": user_id})
                txn = self._begin(conn, user_id, dict(start.send().fetchall()))
                existed = txn.exists  # a rule creating the user sets it
                yield txn
                end = Batch(conn)
                if txn.dirty and not existed:
                    if not create:
                        raise ConflictError(f"user {user_id!r} does not exist")
                    end.run(pgrows.INSERT_USER, {"u": user_id})
                if txn.dirty:
                    txn.flush(end)
                end.command(b"COMMIT")
                end.send()
            except BaseException:
                self._rollback(conn)
                raise
        for key, (body, doc) in txn.committed_documents().items():  # the next transaction need not decode them
            self._remember(key, body, doc)

    def _begin(self, conn: psycopg.Connection, user_id: str, found: dict[str, str]) -> PgUserTxn:
        """The transaction over what its first query ``found``."""
        exists = "" in found
        count, irregular = (int(n) for n in found["#"].split())
        txn = PgUserTxn(self, conn, user_id, exists, count, irregular)
        if exists:
            for kind in ("profile", "history", "metrics"):
                txn.cache[kind] = None if kind not in found else self._checked(found[kind], user_id, kind)
        return txn

    @staticmethod
    def _rollback(conn: psycopg.Connection) -> None:
        """End a failed transaction (a broken connection is replaced by the next use)."""
        if not conn.closed and not conn.broken:
            with contextlib.suppress(psycopg.Error):
                conn.execute("ROLLBACK")

    def _read_doc(self, user_id: str, kind: DocKind) -> Doc | None:
        with self._connection() as conn:
            if kind != "history":
                return self._fetch_doc(conn, user_id, kind)
            shell, rows = self._fetch_history(conn, user_id)
        if shell is None and not rows:
            return None
        return {**(shell or {"messages": []}), "messages": [m for _, m in rows]}

    def _read_docs(self, user_ids: list[str], kinds: tuple[DocKind, ...]) -> dict[str, dict[DocKind, DocOrError]]:
        """One statement for every user's documents (the users list of a whole store: a round trip per
        ``_BULK_USERS`` users, not three per user). A history is read as ``_read_doc`` does."""
        if "history" in kinds:
            return super()._read_docs(user_ids, kinds)
        out: dict[str, dict[DocKind, DocOrError]] = {uid: dict.fromkeys(kinds) for uid in user_ids}
        with self._connection() as conn:
            for start in range(0, len(user_ids), _BULK_USERS):
                found = conn.execute(
                    "SELECT user_id, kind, body FROM memgui.documents WHERE user_id = ANY(%s) AND kind = ANY(%s)",
                    (user_ids[start:start + _BULK_USERS], list(kinds))).fetchall()
                for uid, kind, body in found:
                    out[uid][kind] = self._bulk_checked(body, uid, kind)
        return out

    def _row_signatures(self, user_ids: list[str]) -> dict[str, tuple[int, ...]]:
        """Per user, the ``xmin`` and ``ctid`` of the profile, metrics and facts rows (every update of a row
        makes a new version with both new), zeros for a missing one: one statement per ``_BULK_USERS``."""
        found: dict[str, dict[str, tuple[int, int]]] = {uid: {} for uid in user_ids}
        with self._connection() as conn:
            for start in range(0, len(user_ids), _BULK_USERS):
                for uid, kind, xmin, ctid in conn.execute(
                        "SELECT user_id, kind, xmin::text::bigint, ctid::text FROM memgui.documents "
                        "WHERE user_id = ANY(%s) AND kind IN ('profile', 'metrics', 'facts')",
                        (user_ids[start:start + _BULK_USERS],)).fetchall():
                    block, item = ctid.strip("()").split(",")
                    found[uid][kind] = (int(xmin), int(block) << 16 | int(item))
        return {uid: tuple(n for kind in ("profile", "metrics", "facts") for n in docs.get(kind, (0, -1)))
                for uid, docs in found.items()}

    def _identity(self) -> str:
        """The database's OID and the cluster's system identifier (where the role may read it)."""
        with self._connection() as conn:
            oid = conn.execute("SELECT oid FROM pg_database WHERE datname = current_database()").fetchone()
            try:
                system = conn.execute("SELECT system_identifier FROM pg_control_system()").fetchone()
            except psycopg.Error:
                system = None
        return f"{oid[0] if oid else ''}/{system[0] if system else ''}"

    def _bulk_checked(self, body: str, user_id: str, kind: DocKind) -> DocOrError:
        """A document of a bulk read, decoded and shape-checked, or the error naming it. It is first read
        without its name (making a ``Path`` per document costs more than its parse), and again with it only
        when that failed, for the message."""
        try:
            doc = decode_text(body)
            SHAPE_CHECKS[kind](_UNNAMED, doc)
            return doc  # type: ignore[no-any-return]
        except (ValueError, RecursionError, MemoryStoreError):
            pass
        try:
            doc = self._decode(body, user_id, kind)
            SHAPE_CHECKS[kind](self._path(user_id, kind), doc)
        except MemoryStoreError as exc:
            return exc
        return doc  # type: ignore[no-any-return]

    def _read_log(self, user_id: str, log: LogKind) -> list[Doc]:
        with self._connection() as conn:
            return self._fetch_log(conn, user_id, log)

    def _has_user(self, user_id: str) -> bool:
        with self._connection() as conn:
            return conn.execute("SELECT 1 FROM memgui.users WHERE user_id = %s", (user_id,)).fetchone() is not None

    def _list_users(self) -> list[str]:
        with self._connection() as conn:
            rows = conn.execute("SELECT user_id FROM memgui.users").fetchall()
        return sorted(uid for (uid,) in rows)  # Python's order (code points), not the database collation's

    def _erase_user(self, user_id: str) -> list[str]:
        with self._connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_USER_LOCK, user_id))
            docs = conn.execute("SELECT kind FROM memgui.documents WHERE user_id = %s ORDER BY kind",
                                (user_id,)).fetchall()
            logs = conn.execute("SELECT log, count(*) FROM memgui.log_entries WHERE user_id = %(u)s GROUP BY log "
                                "UNION ALL SELECT 'messages', count(*) FROM memgui.messages WHERE user_id = %(u)s "
                                "HAVING count(*) > 0 ORDER BY 1", {"u": user_id}).fetchall()
            conn.execute("DELETE FROM memgui.users WHERE user_id = %s", (user_id,))  # cascades to the rest
        return [f"{user_id}: {kind}" for (kind,) in docs] + [f"{user_id}: {log} ({n} entries)" for log, n in logs]

    def _user_traces(self, user_id: str) -> list[str]:
        with self._connection() as conn:
            rows = conn.execute(
                "SELECT 'users' FROM memgui.users WHERE user_id = %(u)s "
                "UNION ALL SELECT 'documents.' || kind FROM memgui.documents WHERE user_id = %(u)s "
                "UNION ALL (SELECT 'messages' FROM memgui.messages WHERE user_id = %(u)s LIMIT 1) "
                "UNION ALL SELECT DISTINCT 'log_entries.' || log FROM memgui.log_entries WHERE user_id = %(u)s",
                {"u": user_id}).fetchall()
        return [f"{self.where}: {name} of {user_id!r}" for (name,) in rows]

    def _move_user(self, old_id: str, new_id: str) -> None:
        with self._connection() as conn, conn.transaction():
            for uid in sorted((old_id, new_id)):
                conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_USER_LOCK, uid))
            rows = conn.execute("SELECT user_id FROM memgui.users WHERE user_id IN (%s, %s)",
                                (old_id, new_id)).fetchall()
            if [r[0] for r in rows] != [old_id]:
                raise ConflictError(f"cannot move {old_id!r} to {new_id!r}: one of them changed meanwhile")
            conn.execute("UPDATE memgui.users SET user_id = %s WHERE user_id = %s", (new_id, old_id))

    @contextlib.contextmanager
    def _global_txn(self) -> Iterator[GlobalTxn]:
        with self._connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s, 0)", (_GLOBAL_LOCK,))
            txn = PgGlobalTxn(self._fetch_global(conn))
            yield txn
            if txn.staged is not None:
                conn.execute("INSERT INTO memgui.global_context (singleton, body) VALUES (true, %s) "
                             "ON CONFLICT (singleton) DO UPDATE SET body = EXCLUDED.body",
                             (dump_json(txn.staged, "the global context").decode("utf-8"),))

    def _fetch_global(self, conn: psycopg.Connection) -> Doc | None:
        row = conn.execute("SELECT body FROM memgui.global_context").fetchone()
        return None if row is None else self._decode(row[0], "", "global_context")

    def _read_global(self) -> Doc | None:
        with self._connection() as conn:
            return self._fetch_global(conn)

    # -- for the window and operators ----------------------------------------------------------------
    def store_revision(self) -> int:
        """A number that grows with every committed change to the store (the cheap periodic check)."""
        with self._connection() as conn:
            row = conn.execute(REVISION_QUERY).fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        with self._mutex:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def describe(self) -> dict[str, Any]:
        return {"backend": "postgres", "location": pgconnect.masked(self.conninfo),
                "schema_version": self.schema_version}

    def location(self) -> str:
        return pgconnect.without_password(self.conninfo)

    def change_source(self) -> PgChangeFeed:
        """The triggers' announcements and revision counters, on a connection of the feed's own."""
        return PgChangeFeed(self.conninfo)

