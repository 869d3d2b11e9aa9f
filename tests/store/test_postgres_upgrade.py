"""Schema version 2 -> 3 on a real server: a database written by the version-2 code (whole history documents)
opened by this code answers the same, its messages now rows; trimming then moves legacy messages to the
archive as the JSON backend does; a newer version than this program's is refused naming both."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest
from contract_helpers import config_for

from memgui.store import DatabaseError, MemoryStore, create_memory_store
from memgui.store.backends.postgres import schema
from memgui.store.documents import derived_message_id

LEGACY = {"content": "from the old days", "timestamp": "2024-01-01T10:00:00+00:00", "is_user": True}
NEW = {"content": "hello", "timestamp": "2024-01-02T10:00:00+00:00", "is_user": False, "metadata": {"k": 1},
       "word_count": 1, "id": "m2", "role": "assistant"}
ARCHIVED = {**NEW, "content": "older", "id": "m0"}


def _store(conninfo: str, **overrides: Any) -> MemoryStore:
    return create_memory_store(config_for(Path("unused"), STORAGE_BACKEND="postgres", DATABASE_URL=conninfo,
                                          DEFAULT_TIMEZONE="UTC", **overrides))


@pytest.fixture
def version2(pg_server: Any) -> str:
    """A database as the version-2 code left it: user 'ann' with a history document of two messages (one
    written by the older implementation: no id, role, metadata, word count), one archived message, and a
    user 'bad' whose history document is damaged."""
    conninfo = str(pg_server.new_database())
    history = {"note": "kept", "messages": [LEGACY, NEW], "last": 1}
    with psycopg.connect(conninfo, autocommit=True) as conn, conn.transaction():
        conn.execute(schema.V1)
        conn.execute(schema.V2)
        conn.execute("INSERT INTO memgui.users VALUES ('ann'), ('bad')")
        conn.execute("INSERT INTO memgui.documents VALUES ('ann', 'history', %s), ('bad', 'history', '{\"x\": 1}')",
                     (json.dumps(history),))
        conn.execute("INSERT INTO memgui.log_entries VALUES ('ann', 'archive', 1, 'm0', %s)", (json.dumps(ARCHIVED),))
    return conninfo


def test_a_version_2_database_answers_the_same_with_its_messages_as_rows(version2: str) -> None:
    with _store(version2) as store:
        assert store.describe()["schema_version"] == schema.SCHEMA_VERSION == 3
        history = store.get_message_history("ann")
        assert [m["content"] for m in history] == ["from the old days", "hello"]
        assert history[0]["id"] == derived_message_id(LEGACY) and history[0]["role"] == "user"
        assert history[1] == NEW
        assert [m["id"] for m in store.get_message_history("ann", include_archived=True)] == \
            ["m0", derived_message_id(LEGACY), "m2"]
        document = store._read_doc("ann", "history")
        assert document is not None and list(document) == ["note", "messages", "last"]  # key order kept
    with psycopg.connect(version2, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM memgui.messages WHERE user_id = 'ann'").fetchone() == (2,)
        assert json.loads(conn.execute("SELECT body FROM memgui.documents WHERE user_id = 'ann' "
                                       "AND kind = 'history'").fetchone()[0])["messages"] == []  # type: ignore[index]


def test_after_the_upgrade_trimming_archives_the_legacy_message_normalized(version2: str) -> None:
    with _store(version2, MAX_MESSAGES=2) as store:
        store.add_message("ann", "user", "third")
        assert [m["content"] for m in store.get_message_history("ann")] == ["hello", "third"]
        archived = store.get_message_history("ann", include_archived=True)
        assert [m["content"] for m in archived] == ["older", "from the old days", "hello", "third"]
        assert archived[1]["id"] == derived_message_id(LEGACY)
        store.add_message("ann", "user", "fourth")  # a plain row this time: the server moves it
        assert [m["content"] for m in store.get_message_history("ann", include_archived=True)] == \
            ["older", "from the old days", "hello", "third", "fourth"]
        assert [m["content"] for m in store.get_message_history("ann")] == ["third", "fourth"]


def test_a_damaged_history_stays_damaged_and_is_reported(version2: str) -> None:
    from memgui.store import CorruptDataError

    with _store(version2) as store, pytest.raises(CorruptDataError, match="messages"):
        store.get_message_history("bad")


def test_a_newer_version_is_still_refused(version2: str) -> None:
    _store(version2).close()
    with psycopg.connect(version2, autocommit=True) as conn:
        conn.execute("UPDATE memgui.schema_version SET version = 4")
    with pytest.raises(DatabaseError, match=r"version 4, newer than this program's version 3"):
        _store(version2)
