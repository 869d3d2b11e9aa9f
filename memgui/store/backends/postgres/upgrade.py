"""Schema version 2 -> 3: the messages of every history document become rows of ``memgui.messages``.

Runs inside ``ensure_schema``'s transaction (after ``schema.V3`` made the table), so a failure leaves the
database at version 2, untouched. Each history document is replaced by its shell (every key kept, in its
order, with an empty ``messages`` list) and its messages are inserted oldest first as the exact JSON text
the store writes. A history document that cannot be read as a history (not JSON, no ``messages`` list) is
left as it is: reading it still reports it as damaged (``CorruptDataError``), as it did before the upgrade.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from memgui.store.backends.postgres.rows import insert_messages, shell_of
from memgui.store.backends.postgres.statements import CursorSink
from memgui.store.codec import parse_json
from memgui.store.errors import MemoryStoreError


def messages_to_rows(conn: psycopg.Connection) -> int:
    """Move the messages of every history document into rows; how many users' histories were moved."""
    moved = 0
    with conn.cursor(name="memgui_upgrade_histories") as histories, conn.cursor() as cur:
        histories.itersize = 200
        histories.execute("SELECT user_id, body FROM memgui.documents WHERE kind = 'history' ORDER BY user_id")
        for user_id, body in histories:
            doc = _history(body)
            if doc is None:
                continue
            cur.execute("UPDATE memgui.documents SET body = %s WHERE user_id = %s AND kind = 'history'",
                        (shell_of(doc, user_id), user_id))
            insert_messages(CursorSink(cur), user_id, doc["messages"])
            moved += 1
    return moved


def _history(body: str) -> dict[str, Any] | None:
    """The history document ``body`` when it is one whose messages can be moved; None otherwise."""
    try:
        doc = parse_json(body.encode("utf-8", "surrogatepass"), Path("history"))
    except MemoryStoreError:
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("messages"), list):
        return None
    if not all(isinstance(m, dict) for m in doc["messages"]):
        return None
    return doc
