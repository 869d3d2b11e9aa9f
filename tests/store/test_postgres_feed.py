"""The PostgreSQL store's change feed on a real server: announcements of every kind of write, and the revision
check that finds what was written while the feed's connection was closed (users, an erase, the global context)."""

from __future__ import annotations

import select
import time
from collections.abc import Iterator
from typing import Any

import pytest

from memgui.store import DatabaseError, MemoryStore, build_config, create_memory_store
from memgui.store.backend import CaughtUp
from memgui.store.backends.postgres.feed import PgChangeFeed


@pytest.fixture
def database(pg_server: Any) -> str:
    return str(pg_server.new_database())


@pytest.fixture
def store(database: str) -> Iterator[MemoryStore]:
    s = create_memory_store(build_config({"STORAGE_BACKEND": "postgres", "DATABASE_URL": database,
                                          "DEFAULT_TIMEZONE": "UTC"}, environ={}))
    yield s
    s.close()


def announced(feed: PgChangeFeed, fd: int, count: int) -> list[str]:
    """The next ``count`` announcements, waiting on the feed's socket (bounded: 10 s)."""
    got: list[str] = []
    deadline = time.monotonic() + 10
    while len(got) < count and time.monotonic() < deadline:
        select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        got += feed.read()
    return got


def test_every_write_is_announced_with_its_user(store: MemoryStore) -> None:
    feed = store.change_source()
    assert isinstance(feed, PgChangeFeed)
    fd = feed.open()
    try:
        store.add_message("alice", "user", "hello")
        store.add_user_fact("bob", "Likes tea", "preferences")
        store.set_global_context("release", "1.2")
        got = announced(feed, fd, 3)
        assert set(got) >= {"alice", "bob", ""} and set(got) <= {"alice", "bob", ""}
    finally:
        feed.close()


def test_the_revision_check_finds_what_happened_while_the_feed_was_closed(store: MemoryStore) -> None:
    store.add_message("carol", "user", "first")
    store.add_message("dave", "user", "first")
    feed = store.change_source()
    assert isinstance(feed, PgChangeFeed)
    feed.open()
    assert feed.catch_up() == CaughtUp()  # nothing since the baseline
    feed.close()  # the window lost its connection: announcements now go nowhere
    store.add_message("carol", "assistant", "while you were away")
    store.erase_user("dave")
    store.set_global_context("motd", "hi")
    feed.open()  # reconnected
    found = feed.catch_up()
    assert "carol" in found.users and "dave" not in found.users
    assert found.listing and found.global_context
    assert feed.catch_up() == CaughtUp()
    feed.close()


def test_a_feed_that_cannot_connect_names_the_server(tmp_path: Any) -> None:
    feed = PgChangeFeed(f"host={tmp_path} dbname=nothing connect_timeout=2")
    started = time.monotonic()
    with pytest.raises(DatabaseError, match="down or unreachable"):
        feed.open()
    assert time.monotonic() - started < 10
    with pytest.raises(DatabaseError):
        feed.read()
