"""``PgChangeFeed``: the PostgreSQL store's changes for the window's live refresh (``ChangeFeed``).

A connection of its own LISTENs on ``schema.CHANNEL``; the triggers announce each changed user id ('' for the
global context) at commit. Announcements are lost while the connection is down, so ``catch_up`` compares the
64 revision counters (one row per shard of users, shard -1 the global context) with the last ones seen and
names the users of every shard that moved: after a reconnect, what changed meanwhile is found all the same.
"""

from __future__ import annotations

import threading

import psycopg

from memgui.store.backend import CaughtUp, ChangeFeed
from memgui.store.backends.postgres import connect as pgconnect
from memgui.store.backends.postgres.schema import CHANNEL, SHARDS
from memgui.store.errors import DatabaseError

SHARDS_QUERY = "SELECT shard, value FROM memgui.revisions"
USERS_IN_SHARDS = "SELECT user_id FROM memgui.users WHERE abs(hashtext(user_id)) %% {shards} = ANY(%s)"


class PgChangeFeed(ChangeFeed):
    """Listens on the store's change channel with its own connection (``conninfo``)."""

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        self._conn: psycopg.Connection | None = None
        self._seen: dict[int, int] | None = None  # the revision counters at the last check
        self._mutex = threading.Lock()  # open() runs in a connecting thread, the rest in the GUI thread

    def describe(self) -> str:
        return pgconnect.where(self.conninfo)

    def open(self) -> int:
        conn = pgconnect.connect(self.conninfo)
        try:
            conn.execute(f"LISTEN {CHANNEL}")
            counters = self._counters(conn)
        except psycopg.Error as exc:
            conn.close()
            raise pgconnect.translate(exc, self.conninfo) from None
        with self._mutex:
            if self._seen is None:  # the first open sets the baseline; a reconnect catches up from the old one
                self._seen = counters
            self._conn = conn
        return conn.fileno()

    def _live(self) -> psycopg.Connection:
        with self._mutex:
            conn = self._conn
        if conn is None or conn.closed or conn.broken:
            raise DatabaseError(f"{self.describe()}: the connection for live refresh is closed")
        return conn

    def read(self) -> list[str]:
        conn = self._live()
        try:
            return [n.payload for n in conn.notifies(timeout=0)]
        except psycopg.Error as exc:
            raise pgconnect.translate(exc, self.conninfo) from None

    def catch_up(self) -> CaughtUp:
        conn = self._live()
        try:
            counters = self._counters(conn)
            moved = {shard for shard, value in counters.items() if (self._seen or {}).get(shard) != value}
            self._seen = counters
            user_shards = sorted(s for s in moved if s >= 0)
            users: frozenset[str] = frozenset()
            if user_shards:
                rows = conn.execute(USERS_IN_SHARDS.format(shards=SHARDS), (user_shards,)).fetchall()
                users = frozenset(row[0] for row in rows)
        except psycopg.Error as exc:
            raise pgconnect.translate(exc, self.conninfo) from None
        return CaughtUp(users, listing=bool(user_shards), global_context=-1 in moved)

    @staticmethod
    def _counters(conn: psycopg.Connection) -> dict[int, int]:
        return {int(shard): int(value) for shard, value in conn.execute(SHARDS_QUERY).fetchall()}

    def close(self) -> None:
        with self._mutex:
            conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
