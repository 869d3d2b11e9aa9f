"""``FeedWatcher`` over a feed whose socket is a real socket pair: announcements become debounced signals,
the revision check reports what was never announced, a lost or refused connection is retried and said in the
status, and after a reconnect what changed meanwhile is reported. (The PostgreSQL feed itself is tested on a
real server in tests/store.)"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from memgui.models.feed_watcher import FeedWatcher
from memgui.store import MemoryStoreError
from memgui.store.backend import CaughtUp, ChangeFeed


class SocketFeed(ChangeFeed):
    """Announcements are lines written to ``self.writer``; ``changes`` is what the revision check finds."""

    def __init__(self) -> None:
        self.refuse = 0  # how many next opens fail
        self.opens = 0
        self.catch_ups = 0
        self.changes = CaughtUp()
        self.reader: socket.socket | None = None
        self.writer: socket.socket | None = None
        self.broken = False

    def open(self) -> int:
        self.opens += 1
        if self.refuse:
            self.refuse -= 1
            raise MemoryStoreError("connection refused")
        self.reader, self.writer = socket.socketpair()
        self.reader.setblocking(False)
        self.broken = False
        return self.reader.fileno()

    def read(self) -> list[str]:
        assert self.reader is not None
        data = b""
        try:
            while True:
                chunk = self.reader.recv(65536)
                if not chunk:  # the other end closed
                    self.broken = True
                    break
                data += chunk
        except BlockingIOError:  # nothing more to read now
            pass
        if self.broken:
            raise MemoryStoreError("server closed the connection")
        return data.decode().splitlines()

    def catch_up(self) -> CaughtUp:
        self.catch_ups += 1
        if self.broken:
            raise MemoryStoreError("server closed the connection")
        found, self.changes = self.changes, CaughtUp()
        return found

    def close(self) -> None:
        for sock in (self.reader, self.writer):
            if sock is not None:
                sock.close()
        self.reader = self.writer = None

    def announce(self, *payloads: str) -> None:
        assert self.writer is not None
        self.writer.sendall("".join(f"{p}\n" for p in payloads).encode())


class Seen:
    def __init__(self, watcher: FeedWatcher) -> None:
        self.users: list[str] = []
        self.lists = 0
        self.globals = 0
        self.status: list[str] = []
        watcher.userChanged.connect(self.users.append)
        watcher.usersChanged.connect(self.on_list)
        watcher.globalChanged.connect(self.on_global)
        watcher.statusChanged.connect(self.status.append)

    def on_list(self) -> None:
        self.lists += 1

    def on_global(self) -> None:
        self.globals += 1


@pytest.fixture
def feed() -> Iterator[SocketFeed]:
    made = SocketFeed()
    yield made
    made.close()


def start(qtbot: QtBot, feed: SocketFeed) -> tuple[FeedWatcher, Seen]:
    watcher = FeedWatcher(feed, None, debounce_ms=20, check_ms=60_000, retry_ms=(10, 20))
    seen = Seen(watcher)
    qtbot.waitUntil(lambda: watcher.connected, timeout=5000)
    return watcher, seen


def test_announcements_arrive_once_each_after_a_burst(qtbot: QtBot, feed: SocketFeed) -> None:
    watcher, seen = start(qtbot, feed)
    feed.announce("alice", "bob", "alice", "")
    qtbot.waitUntil(lambda: seen.globals == 1, timeout=5000)
    assert sorted(seen.users) == ["alice", "bob"] and seen.lists == 1
    feed.announce("carol")
    qtbot.waitUntil(lambda: "carol" in seen.users, timeout=5000)
    assert seen.users.count("alice") == 1 and seen.lists == 2 and seen.globals == 1
    watcher.stop()


def test_the_revision_check_reports_what_was_never_announced(qtbot: QtBot, feed: SocketFeed) -> None:
    watcher, seen = start(qtbot, feed)
    feed.changes = CaughtUp(frozenset({"dora"}), global_context=True)
    watcher.poll_now(full=True)
    qtbot.waitUntil(lambda: seen.users == ["dora"] and seen.globals == 1, timeout=5000)
    assert seen.lists == 1
    feed.changes = CaughtUp(listing=True)  # a user erased: nobody left to name, the list changed
    watcher.poll_now()
    qtbot.waitUntil(lambda: seen.lists == 2, timeout=5000)
    assert seen.users == ["dora"] and seen.globals == 1
    watcher.stop()


def test_a_lost_connection_is_said_retried_and_caught_up(qtbot: QtBot, feed: SocketFeed) -> None:
    watcher, seen = start(qtbot, feed)
    feed.broken = True
    feed.refuse = 1  # the first attempt to reconnect fails too
    feed.announce("lost-in-transit")  # makes the socket readable: the read finds the connection broken
    qtbot.waitUntil(lambda: any("lost the connection" in s for s in seen.status), timeout=5000)
    feed.changes = CaughtUp(frozenset({"erin"}))  # written while the connection was down
    qtbot.waitUntil(lambda: any("reconnected" in s for s in seen.status), timeout=5000)
    assert feed.opens == 3 and any("cannot reach" in s and "connection refused" in s for s in seen.status)
    qtbot.waitUntil(lambda: seen.users == ["erin"], timeout=5000)
    assert watcher.connected
    watcher.stop()
    assert not watcher.connected and feed.reader is None


def test_a_store_down_at_start_is_retried_until_it_answers(qtbot: QtBot, feed: SocketFeed) -> None:
    feed.refuse = 2
    watcher = FeedWatcher(feed, None, debounce_ms=20, check_ms=60_000, retry_ms=(10,))
    seen = Seen(watcher)
    qtbot.waitUntil(lambda: watcher.connected, timeout=5000)
    assert feed.opens == 3 and len([s for s in seen.status if "cannot reach" in s]) == 2
    watcher.stop()
