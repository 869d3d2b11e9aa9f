"""The transactions of the PostgreSQL store: what a rule reads and stages, written by ``flush`` in one batch
(sent with the commit, ``statements.py``).

A user's kept messages are rows (schema version 3). ``append_message`` does not read the history: it knows
how many rows there are (and whether all are plain) from the transaction's first query, stages one row, and,
when the history is over ``MAX_MESSAGES``, stages "move the k oldest rows to the archive", which the server
does itself. A rule that reads the history (``read("history")``) sees the rows, minus what is being trimmed,
plus what is staged; a rule that writes the history replaces every row.
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

import psycopg

from memgui.store.backend import GlobalTxn, UserTxn
from memgui.store.backends.postgres import rows as pgrows
from memgui.store.backends.postgres.statements import Sink
from memgui.store.codec import dump_json
from memgui.store.config import StoreConfig
from memgui.store.documents import Doc, DocKind, LogKind, normalize_message


class PgHost(Protocol):
    """What a transaction reads through its store (``PostgresMemoryStore``; named here, not imported, so
    the store and its transactions do not import each other)."""

    config: StoreConfig

    def _fetch_doc(self, conn: psycopg.Connection, user_id: str, kind: DocKind) -> Doc | None: ...

    def _fetch_log(self, conn: psycopg.Connection, user_id: str, log: LogKind) -> list[Doc]: ...

    def _fetch_history(self, conn: psycopg.Connection,
                       user_id: str) -> tuple[Doc | None, list[tuple[int, Doc]]]: ...

    def _count_message(self, metrics: Doc, message: Doc, day: date) -> Doc: ...


class PgUserTxn(UserTxn):
    """Staged changes of one user; ``count`` and ``irregular``: the user's message rows and how many of them
    are not plain, as the transaction's first query found them."""

    def __init__(self, store: PgHost, conn: psycopg.Connection, user_id: str, exists: bool,
                 count: int = 0, irregular: int = 0) -> None:
        super().__init__(user_id, exists)
        self.store, self.conn = store, conn
        self.config = store.config
        self.staged: dict[DocKind, Doc] = {}
        self.appends: dict[LogKind, list[Doc]] = {}
        self.replaced: dict[LogKind, list[Doc]] = {}
        self.cache: dict[DocKind, Doc | None] = {}
        self.written: dict[DocKind, str] = {}
        self.count, self.irregular = count, irregular
        self.rows: list[tuple[int, Doc]] | None = None  # the committed rows (seq, message), once a rule read them
        self.server_trim = 0  # the oldest rows the server moves to the archive (or drops) at commit
        self.deleted: list[int] = []  # rows trimmed here (read and archived by this process), after those
        self.added: list[Doc] = []
        self.added_rows: list[pgrows.Row] = []

    @property
    def dirty(self) -> bool:
        return bool(self.staged or self.appends or self.replaced or self.added or self.server_trim or self.deleted)

    @property
    def trimmed(self) -> int:
        return self.server_trim + len(self.deleted)

    def _rows(self) -> list[tuple[int, Doc]]:
        if self.rows is None:
            self.rows = self.store._fetch_history(self.conn, self.user_id)[1] if self.exists else []
        return self.rows

    def read(self, kind: DocKind) -> Doc | None:
        if kind in self.staged:
            return self.staged[kind]
        if not self.exists:
            return None
        if kind not in self.cache:
            self.cache[kind] = self.store._fetch_doc(self.conn, self.user_id, kind)
        if kind != "history":
            return self.cache[kind]
        shell = self.cache[kind]
        messages = [m for _, m in self._rows()[self.trimmed:]] + self.added
        if shell is None and not messages:
            return None
        return {**(shell or {"messages": []}), "messages": messages}

    def write(self, kind: DocKind, doc: Doc) -> None:
        dump_json(doc, f"{self.user_id}: {kind}")  # bad input raises here, before anything is written
        self.staged[kind] = doc
        if kind == "history":  # every row is replaced by the document's messages
            self.added, self.added_rows = [], []

    def append(self, log: LogKind, entries: list[Doc]) -> None:
        self.appends.setdefault(log, []).extend(entries)

    def read_log(self, log: LogKind) -> list[Doc]:
        if log in self.replaced:
            committed = self.replaced[log]
        else:
            committed = self.store._fetch_log(self.conn, self.user_id, log) if self.exists else []
        moving: list[Doc] = []
        if log == "archive" and self.server_trim and self.config.ARCHIVE_TRIMMED:
            moving = [normalize_message(m) for _, m in self._rows()[:self.server_trim]]
        return [*committed, *moving, *self.appends.get(log, [])]

    def replace_log(self, log: LogKind, entries: list[Doc]) -> None:
        self.replaced[log] = entries
        self.appends.pop(log, None)

    def append_message(self, message: Doc, day: date) -> None:
        if "history" in self.staged or not self.exists or self.read_shell() is None:
            self._append_to_document(message)
        else:
            self._append_row(message)
        self.write("metrics", self.store._count_message(self.read("metrics") or {}, message, day))

    def read_shell(self) -> Doc | None:
        if "history" not in self.cache:
            self.cache["history"] = self.store._fetch_doc(self.conn, self.user_id, "history")
        return self.cache["history"]

    def _append_to_document(self, message: Doc) -> None:
        """The history as a whole document (a user made in this transaction, a history a rule wrote)."""
        history = self.read("history") or {"messages": []}
        messages = [*history["messages"], message]
        limit = self.config.MAX_MESSAGES
        if limit and len(messages) > limit:
            trimmed, messages = messages[:-limit], messages[-limit:]
            self._archive(trimmed)
        self.write("history", {**history, "messages": messages})

    def _append_row(self, message: Doc) -> None:
        self.added_rows.append(pgrows.message_row(message, self.user_id))  # bad input raises here
        self.added.append(message)
        limit = self.config.MAX_MESSAGES
        kept = self.count - self.trimmed
        excess = kept + len(self.added) - limit if limit else 0
        if excess <= 0:
            return
        from_rows = min(excess, kept)
        if from_rows and self.rows is None and not self.irregular:
            self.server_trim += from_rows  # plain rows: the server moves them, none is read here
        elif from_rows:
            start = self.trimmed
            gone = self._rows()[start:start + from_rows]
            self.deleted += [seq for seq, _ in gone]
            self._archive([m for _, m in gone])
        rest = excess - from_rows
        if rest:
            self._archive(self.added[:rest])
            del self.added[:rest], self.added_rows[:rest]

    def _archive(self, trimmed: list[Doc]) -> None:
        if trimmed and self.config.ARCHIVE_TRIMMED:
            self.append("archive", [normalize_message(m) for m in trimmed])

    def flush(self, sink: Sink) -> None:
        """Queue every staged change in ``sink`` (nothing waits for an answer)."""
        uid = self.user_id
        if self.staged:
            bodies = {kind: pgrows.shell_of(doc, uid) if kind == "history" else
                      dump_json(doc, f"{uid}: {kind}").decode("utf-8") for kind, doc in self.staged.items()}
            for kind, body in bodies.items():
                sink.run(pgrows.UPSERT_DOC, {"u": uid, "kind": kind, "body": body})
            self.written = bodies
        for log, entries in self.replaced.items():
            sink.run(pgrows.DELETE_LOG, {"u": uid, "log": log})
            pgrows.insert_entries(sink, uid, log, entries)
        pgrows.trim_oldest(sink, uid, self.server_trim, archive=self.config.ARCHIVE_TRIMMED)
        if "history" in self.staged:
            sink.run(pgrows.DELETE_ALL_ROWS, {"u": uid})
            pgrows.insert_messages(sink, uid, self.staged["history"]["messages"])
        else:
            pgrows.delete_rows(sink, uid, self.deleted)
        for log, entries in self.appends.items():
            pgrows.insert_entries(sink, uid, log, entries)
        pgrows.insert_messages(sink, uid, self.added, self.added_rows)

    def committed_documents(self) -> dict[tuple[str, str], tuple[str, Doc]]:
        """What the store may cache after the commit: (user, kind) -> (stored text, decoded document)."""
        out: dict[tuple[str, str], tuple[str, Doc]] = {}
        for kind, body in self.written.items():
            doc = self.staged[kind]
            out[(self.user_id, kind)] = (body, {**doc, "messages": []} if kind == "history" else doc)
        return out


class PgGlobalTxn(GlobalTxn):
    def __init__(self, current: Doc | None) -> None:
        self.current = current
        self.staged: Doc | None = None

    def read(self) -> Doc | None:
        return self.staged if self.staged is not None else self.current

    def write(self, doc: Doc) -> None:
        dump_json(doc, "the global context")
        self.staged = doc
