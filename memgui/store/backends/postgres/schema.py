"""The memgui schema in PostgreSQL: created, upgraded and checked by the backend itself.

Everything lives in the schema ``memgui`` of the database ``DATABASE_URL`` names:

- ``schema_version(version)``: one row, the version of the tables below (``SCHEMA_VERSION``).
- ``users(user_id)``: one row per user; a user exists exactly when its row does.
- ``documents(user_id, kind, body)``: the five documents of a user (profile, history, facts, metrics,
  memories) as JSON text. Text rather than JSONB on purpose: JSONB reorders keys, and every read must answer
  exactly as the JSON backend does (fact categories and profile keys in the order they were written).
- ``log_entries(user_id, log, ordinal, entry_id, body)``: the append-only logs (``archive``,
  ``fact_versions``), oldest first by ``ordinal``; ``entry_id`` is unique per log, so an entry is never
  stored twice.
- ``global_context(body)``: one row, the global context document.
- ``revisions(shard, value)`` (since version 2): 64 counters bumped by the triggers on every change; their sum
  is the store's revision (``store_revision()``): it grows with every committed change, and a reader that
  sees it unchanged knows nothing changed. Sharded by user so that writers of different users rarely wait
  for one another's row.

- ``messages(user_id, seq, entry_id, plain, body)`` (since version 3): the kept history, one row per message,
  oldest first by ``seq``; the ``history`` document then holds everything else of the history with an empty
  ``messages`` list. ``plain`` says the body is already as the archive stores it (``normalize_message`` leaves
  it unchanged), so trimming into the archive moves rows inside the server. Adding a message writes one small
  row instead of rewriting the whole history (``upgrade.py`` moved the messages of a version-2 database).

Since version 2, triggers on ``users``, ``documents``, ``log_entries``, ``global_context`` (and ``messages``)
also call ``pg_notify('memgui_changes', payload)`` where the payload is the user id whose data changed
(created, changed, erased or renamed: both ids), or the empty string for the global context. Notifications
are hints (delivered at commit, lost while a listener is disconnected); the revision is the truth. Since
version 3 a transaction bumps a user's revision counter once, however many of its rows it changes (a
transaction-local setting remembers the ids already counted).
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg

from memgui.store.errors import DatabaseError

SCHEMA = "memgui"
SCHEMA_VERSION = 3
CHANNEL = "memgui_changes"
SHARDS = 64

#: Version 1: the tables. Kept verbatim: an older database is brought forward from exactly this.
V1 = """
CREATE SCHEMA IF NOT EXISTS memgui;
CREATE TABLE memgui.schema_version (version integer NOT NULL);
CREATE TABLE memgui.users (user_id text PRIMARY KEY);
CREATE TABLE memgui.documents (
    user_id text NOT NULL REFERENCES memgui.users ON DELETE CASCADE ON UPDATE CASCADE,
    kind text NOT NULL,
    body text NOT NULL,
    PRIMARY KEY (user_id, kind)
);
CREATE TABLE memgui.log_entries (
    user_id text NOT NULL REFERENCES memgui.users ON DELETE CASCADE ON UPDATE CASCADE,
    log text NOT NULL,
    ordinal bigint NOT NULL,
    entry_id text NOT NULL,
    body text NOT NULL,
    PRIMARY KEY (user_id, log, ordinal),
    UNIQUE (user_id, log, entry_id)
);
CREATE TABLE memgui.global_context (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    body text NOT NULL
);
INSERT INTO memgui.schema_version VALUES (1);
"""

#: Version 1 -> 2: the revision counters and the change triggers (live refresh of the window).
V2 = f"""
CREATE TABLE memgui.revisions (shard integer PRIMARY KEY, value bigint NOT NULL DEFAULT 0);
INSERT INTO memgui.revisions (shard) SELECT generate_series(-1, {SHARDS - 1});
CREATE FUNCTION memgui.changed(uid text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE memgui.revisions SET value = value + 1
        WHERE shard = CASE WHEN uid = '' THEN -1 ELSE abs(hashtext(uid)) % {SHARDS} END;
    PERFORM pg_notify('{CHANNEL}', uid);
END $$;
CREATE FUNCTION memgui.row_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'global_context' THEN
        PERFORM memgui.changed('');
    ELSE
        IF TG_OP <> 'DELETE' THEN PERFORM memgui.changed(NEW.user_id); END IF;
        IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.user_id <> NEW.user_id) THEN
            PERFORM memgui.changed(OLD.user_id);
        END IF;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER users_changed AFTER INSERT OR UPDATE OR DELETE ON memgui.users
    FOR EACH ROW EXECUTE FUNCTION memgui.row_changed();
CREATE TRIGGER documents_changed AFTER INSERT OR UPDATE OR DELETE ON memgui.documents
    FOR EACH ROW EXECUTE FUNCTION memgui.row_changed();
CREATE TRIGGER log_entries_changed AFTER INSERT OR UPDATE OR DELETE ON memgui.log_entries
    FOR EACH ROW EXECUTE FUNCTION memgui.row_changed();
CREATE TRIGGER global_context_changed AFTER INSERT OR UPDATE OR DELETE ON memgui.global_context
    FOR EACH ROW EXECUTE FUNCTION memgui.row_changed();
UPDATE memgui.schema_version SET version = 2;
"""

#: Version 2 -> 3: the kept messages as rows; ``changed`` counts a user once per transaction. The messages of
#: the history documents are moved by ``upgrade.messages_to_rows`` (ids and the ``plain`` flag need Python).
V3 = f"""
CREATE TABLE memgui.messages (
    user_id text NOT NULL REFERENCES memgui.users ON DELETE CASCADE ON UPDATE CASCADE,
    seq bigint NOT NULL,
    entry_id text NOT NULL,
    plain boolean NOT NULL,
    body text NOT NULL,
    PRIMARY KEY (user_id, seq)
);
CREATE OR REPLACE FUNCTION memgui.changed(uid text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    seen text := coalesce(current_setting('memgui.counted', true), '');
    mark text := chr(31) || uid || chr(31);
BEGIN
    IF position(mark IN seen) > 0 THEN RETURN; END IF;
    PERFORM set_config('memgui.counted', CASE WHEN length(seen) > 4000 THEN mark ELSE seen || mark END, true);
    UPDATE memgui.revisions SET value = value + 1
        WHERE shard = CASE WHEN uid = '' THEN -1 ELSE abs(hashtext(uid)) % {SHARDS} END;
    PERFORM pg_notify('{CHANNEL}', uid);
END $$;
CREATE TRIGGER messages_changed AFTER INSERT OR UPDATE OR DELETE ON memgui.messages
    FOR EACH ROW EXECUTE FUNCTION memgui.row_changed();
UPDATE memgui.schema_version SET version = 3;
"""


def _v3(conn: psycopg.Connection) -> None:
    from memgui.store.backends.postgres.upgrade import messages_to_rows

    conn.execute(V3)
    messages_to_rows(conn)


#: UPGRADES[n] brings a database of version n to version n + 1 (SQL, or a function of the connection).
UPGRADES: dict[int, str | Callable[[psycopg.Connection], None]] = {1: V2, 2: _v3}
REVISION_QUERY = "SELECT coalesce(sum(value), 0)::bigint FROM memgui.revisions"
_SCHEMA_LOCK = 0x6D656D67  # advisory lock: one process creates or upgrades the schema at a time


def schema_version(conn: psycopg.Connection) -> int | None:
    """The version of the memgui schema in the connected database; None when there is none."""
    row = conn.execute("SELECT to_regclass('memgui.schema_version') IS NOT NULL").fetchone()
    if not row or not row[0]:
        return None
    found = conn.execute("SELECT version FROM memgui.schema_version").fetchone()
    return None if found is None else int(found[0])


def ensure_schema(conn: psycopg.Connection, where: str) -> int:
    """Create the schema, or upgrade an older one, in one transaction; refuse a newer one. The version."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
        version = schema_version(conn)
        if version is None:
            conn.execute(V1)
            version = 1
        if version > SCHEMA_VERSION:
            raise DatabaseError(f"{where}: the memgui schema is version {version}, newer than this program's "
                                f"version {SCHEMA_VERSION}; upgrade memgui to use this database")
        while version < SCHEMA_VERSION:
            step = UPGRADES[version]
            if callable(step):
                step(conn)
            else:
                conn.execute(step)
            version += 1
    return version
