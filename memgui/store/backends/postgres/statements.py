"""Named statements, prepared once per connection, and batches of them sent as one query.

A user's transaction costs two round trips whatever it writes: ``BEGIN`` with the lock and the first read,
then every write with ``COMMIT``. Each round trip is one simple-protocol query string of ``EXECUTE`` calls of
statements the connection prepared (``PREPARE``, planned once per session), their arguments written as
literals quoted by libpq (``PQescapeLiteral``). Pipeline mode would send each statement as a message of its
own, and on a busy machine every message wakes the server and the client once more.

A ``Statement`` keeps its SQL with named placeholders (``%(u)s``), so that it also runs as an ordinary query
(``CursorSink``: the schema upgrade, which runs before the statements can be prepared).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import psycopg
from psycopg.pq import Escaping

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@dataclass(frozen=True)
class Statement:
    """``sql`` with ``%(name)s`` placeholders; ``params``: (name, SQL type) in the prepared order."""

    name: str
    params: tuple[tuple[str, str], ...]
    sql: str

    def prepare_sql(self) -> str:
        order = {name: i for i, (name, _) in enumerate(self.params, 1)}
        body = _PLACEHOLDER.sub(lambda m: f"${order[m.group(1)]}", self.sql)
        types = ", ".join(kind for _, kind in self.params)
        return f"PREPARE memgui_{self.name} ({types}) AS {body}"

    def execute_sql(self, values: list[bytes]) -> bytes:
        return b"EXECUTE memgui_%s (%s)" % (self.name.encode("ascii"), b", ".join(values))


class Sink(Protocol):
    """Where a statement goes: run at once, or queued in a batch."""

    def run(self, statement: Statement, params: Mapping[str, Any]) -> None: ...


class CursorSink:
    """Runs each statement at once on ``cursor`` (no prepared statement needed)."""

    def __init__(self, cursor: psycopg.Cursor[Any]) -> None:
        self.cursor = cursor

    def run(self, statement: Statement, params: Mapping[str, Any]) -> None:
        self.cursor.execute(statement.sql, dict(params))


class Batch:
    """Statements (and plain commands such as ``BEGIN``) queued, then sent as one query."""

    def __init__(self, conn: psycopg.Connection, *commands: bytes) -> None:
        self.conn = conn
        self.escaping = Escaping(conn.pgconn)
        self.parts: list[bytes] = list(commands)

    def run(self, statement: Statement, params: Mapping[str, Any]) -> None:
        self.parts.append(statement.execute_sql([self._literal(params[name]) for name, _ in statement.params]))

    def command(self, text: bytes) -> None:
        self.parts.append(text)

    def send(self) -> psycopg.Cursor[Any]:
        """One round trip; the cursor is on the last statement's result."""
        cursor = self.conn.execute(b"; ".join(self.parts), prepare=False)
        while cursor.nextset():
            pass
        return cursor

    def _literal(self, value: Any) -> bytes:
        """``value`` (text, a whole number, a truth value, or a list of one kind of them) as an SQL literal."""
        if isinstance(value, bool):
            return b"true" if value else b"false"
        if isinstance(value, int):
            return str(value).encode("ascii")
        text = b"{%s}" % b",".join(_array_element(v) for v in value) if isinstance(value, list) else \
            str(value).encode("utf-8")
        if b"\x00" in text:  # the query is a C string: a NUL would cut it short
            raise psycopg.DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes")
        return self.escaping.escape_literal(text)


def _array_element(value: Any) -> bytes:
    if isinstance(value, bool):
        return b"t" if value else b"f"
    if isinstance(value, int):
        return str(value).encode("ascii")
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return b'"%s"' % text.encode("utf-8")


def prepare(conn: psycopg.Connection, statements: Iterable[Statement]) -> None:
    """Prepare those of ``statements`` the session ``conn`` has not prepared (or psycopg deallocated)."""
    have = {name for (name,) in conn.execute("SELECT name FROM pg_prepared_statements").fetchall()}
    missing = [s.prepare_sql() for s in statements if f"memgui_{s.name}" not in have]
    if missing:
        conn.execute("; ".join(missing).encode("utf-8"))
