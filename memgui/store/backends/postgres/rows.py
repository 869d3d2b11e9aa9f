"""The rows of a user's conversation (schema version 3): the kept messages in ``memgui.messages``, the logs in
``memgui.log_entries``; each write here is one statement, whatever the number of rows, sent to a ``Sink``
(``statements.py``: a batch of prepared statements sent with the commit, or a cursor).

Sequence numbers and log ordinals are computed by the server from what is there (``max + n``): the client
never reads them first, and a message costs one small row, not a rewrite of the history.
"""

from __future__ import annotations

from memgui.store.backends.postgres.statements import Sink, Statement
from memgui.store.codec import dump_json
from memgui.store.documents import Doc, LogKind, message_id, normalize_message

#: One snapshot of a user's history: the document (seq 0, its messages list empty) and the rows, oldest first.
HISTORY_QUERY = ("SELECT 0 AS seq, body FROM memgui.documents WHERE user_id = %(u)s AND kind = 'history' "
                 "UNION ALL SELECT seq, body FROM memgui.messages WHERE user_id = %(u)s ORDER BY seq")

_U = ("u", "text")
INSERT_MESSAGES = Statement("insert_messages", (_U, ("ids", "text[]"), ("plain", "boolean[]"), ("bodies", "text[]")), (
    "INSERT INTO memgui.messages (user_id, seq, entry_id, plain, body) "
    "SELECT %(u)s, top.m + t.n, t.entry_id, t.plain, t.body "
    "FROM unnest(%(ids)s::text[], %(plain)s::boolean[], %(bodies)s::text[]) "
    "WITH ORDINALITY t(entry_id, plain, body, n), "
    "(SELECT coalesce(max(seq), 0) AS m FROM memgui.messages WHERE user_id = %(u)s) top"))
_OLDEST = "SELECT seq FROM memgui.messages WHERE user_id = %(u)s ORDER BY seq LIMIT %(k)s"
MOVE_OLDEST = Statement("move_oldest", (_U, ("k", "bigint")), (
    f"WITH moved AS (DELETE FROM memgui.messages WHERE user_id = %(u)s AND seq IN ({_OLDEST}) "
    "RETURNING seq, entry_id, body), "
    "top AS (SELECT coalesce(max(ordinal), 0) AS m FROM memgui.log_entries WHERE user_id = %(u)s AND log = 'archive') "
    "INSERT INTO memgui.log_entries (user_id, log, ordinal, entry_id, body) "
    "SELECT %(u)s, 'archive', top.m + row_number() OVER (ORDER BY moved.seq), moved.entry_id, moved.body "
    "FROM moved, top ON CONFLICT (user_id, log, entry_id) DO NOTHING"))
#: MOVE_OLDEST of the one oldest row, what trimming after each message of a full history does. Planned without
#: the IN-subquery, the window and the sort of the general form, it runs in about a third of its time: in
#: bench_postgres the writes of an ``add_message`` alone went from ~1,240 to ~1,890 commits a second.
MOVE_ONE = Statement("move_one", (_U,), (
    "WITH moved AS (DELETE FROM memgui.messages WHERE user_id = %(u)s "
    "AND seq = (SELECT min(seq) FROM memgui.messages WHERE user_id = %(u)s) RETURNING entry_id, body) "
    "INSERT INTO memgui.log_entries (user_id, log, ordinal, entry_id, body) "
    "SELECT %(u)s, 'archive', (SELECT coalesce(max(ordinal), 0) + 1 FROM memgui.log_entries "
    "WHERE user_id = %(u)s AND log = 'archive'), moved.entry_id, moved.body "
    "FROM moved ON CONFLICT (user_id, log, entry_id) DO NOTHING"))
DROP_OLDEST = Statement("drop_oldest", (_U, ("k", "bigint")),
                        f"DELETE FROM memgui.messages WHERE user_id = %(u)s AND seq IN ({_OLDEST})")
DELETE_ROWS = Statement("delete_rows", (_U, ("seqs", "bigint[]")),
                        "DELETE FROM memgui.messages WHERE user_id = %(u)s AND seq = ANY(%(seqs)s::bigint[])")
DELETE_ALL_ROWS = Statement("delete_all_rows", (_U,), "DELETE FROM memgui.messages WHERE user_id = %(u)s")
INSERT_ENTRIES = Statement("insert_entries", (_U, ("log", "text"), ("ids", "text[]"), ("bodies", "text[]")), (
    "INSERT INTO memgui.log_entries (user_id, log, ordinal, entry_id, body) "
    "SELECT %(u)s, %(log)s, top.m + t.n, t.entry_id, t.body "
    "FROM unnest(%(ids)s::text[], %(bodies)s::text[]) WITH ORDINALITY t(entry_id, body, n), "
    "(SELECT coalesce(max(ordinal), 0) AS m FROM memgui.log_entries WHERE user_id = %(u)s AND log = %(log)s) top "
    "ON CONFLICT (user_id, log, entry_id) DO NOTHING"))
DELETE_LOG = Statement("delete_log", (_U, ("log", "text")),
                       "DELETE FROM memgui.log_entries WHERE user_id = %(u)s AND log = %(log)s")
UPSERT_DOC = Statement("upsert_doc", (_U, ("kind", "text"), ("body", "text")), (
    "INSERT INTO memgui.documents (user_id, kind, body) VALUES (%(u)s, %(kind)s, %(body)s) "
    "ON CONFLICT (user_id, kind) DO UPDATE SET body = EXCLUDED.body"))
INSERT_USER = Statement("insert_user", (_U,), "INSERT INTO memgui.users (user_id) VALUES (%(u)s)")

#: Every statement a user's transaction writes with (prepared on each connection of the store).
WRITES = (INSERT_MESSAGES, MOVE_OLDEST, MOVE_ONE, DROP_OLDEST, DELETE_ROWS, DELETE_ALL_ROWS, INSERT_ENTRIES, DELETE_LOG,
          UPSERT_DOC, INSERT_USER)


def is_plain(message: Doc) -> bool:
    """Whether ``message`` is stored in the archive exactly as it is (``normalize_message`` changes nothing)."""
    normal = normalize_message(message)
    return normal == message and all(type(normal[k]) is type(message[k]) for k in normal)


def shell_of(history: Doc, user_id: str) -> str:
    """The text of the history document as stored beside its rows: every key, ``messages`` empty."""
    return dump_json({**history, "messages": []}, f"{user_id}: history").decode("utf-8")


#: A message as a row: its id, whether it is plain, its JSON text.
Row = tuple[str, bool, str]


def message_row(message: Doc, user_id: str) -> Row:
    """``message`` as a row; ``ValidationError`` when it cannot be stored."""
    return message_id(message), is_plain(message), dump_json(message, f"{user_id}: history").decode("utf-8")


def insert_messages(sink: Sink, user_id: str, messages: list[Doc], rows: list[Row] | None = None) -> None:
    """Append ``messages`` (oldest first; or their ``rows`` already made) after the user's last row."""
    made = rows if rows is not None else [message_row(m, user_id) for m in messages]
    if made:
        ids, plain, bodies = (list(column) for column in zip(*made, strict=True))
        sink.run(INSERT_MESSAGES, {"u": user_id, "ids": ids, "plain": plain, "bodies": bodies})


def trim_oldest(sink: Sink, user_id: str, count: int, *, archive: bool) -> None:
    """Remove the user's ``count`` oldest rows, moving them to the end of the archive when ``archive`` (every
    one of them must be plain: the server copies the text as it is)."""
    if count == 1 and archive:
        sink.run(MOVE_ONE, {"u": user_id})
    elif count > 0:
        sink.run(MOVE_OLDEST if archive else DROP_OLDEST, {"u": user_id, "k": count})


def delete_rows(sink: Sink, user_id: str, seqs: list[int]) -> None:
    if seqs:
        sink.run(DELETE_ROWS, {"u": user_id, "seqs": seqs})


def insert_entries(sink: Sink, user_id: str, log: LogKind, entries: list[Doc]) -> None:
    """Append ``entries`` to ``log``; an id already in the log (or twice in ``entries``) is stored once."""
    ids: list[str] = []
    bodies: list[str] = []
    seen: set[str] = set()
    for entry in entries:
        entry_id = message_id(entry)
        if entry_id not in seen:
            seen.add(entry_id)
            ids.append(entry_id)
            bodies.append(dump_json(entry, f"{user_id}: {log}").decode("utf-8"))
    if ids:
        sink.run(INSERT_ENTRIES, {"u": user_id, "log": log, "ids": ids, "bodies": bodies})
