"""The window over a PostgreSQL store, on a real server: another process's writes show up by themselves
through LISTEN/NOTIFY (new messages, a new user, an erased user, the global context) with the selection
kept, and after the server is restarted the window reconnects by itself, says so, and catches up."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot
from support.pg_server import PgServer

from memgui.app import MainWindow
from memgui.models.feed_watcher import FeedWatcher
from memgui.store import MemoryStore, build_config, create_memory_store

WAIT_MS = 15_000


def pg_store(conninfo: str) -> MemoryStore:
    return create_memory_store(build_config({"STORAGE_BACKEND": "postgres", "DATABASE_URL": conninfo,
                                             "DEFAULT_TIMEZONE": "UTC"}, environ={}))


def write_elsewhere(conninfo: str, code: str) -> None:
    """Run ``code`` with ``store`` open on the database, in another process."""
    script = ("import sys\nfrom memgui.store import build_config, create_memory_store\n"
              "store = create_memory_store(build_config({'STORAGE_BACKEND': 'postgres', "
              "'DATABASE_URL': sys.argv[1], 'DEFAULT_TIMEZONE': 'UTC'}, environ={}))\n"
              f"{code}\nstore.close()\n")
    subprocess.run([sys.executable, "-c", script, conninfo], check=True, timeout=60)


@pytest.fixture
def conninfo(pg_server: Any) -> str:
    info = str(pg_server.new_database())
    store = pg_store(info)
    for uid in ("alice", "bob"):
        store.add_message(uid, "user", f"hello from {uid}")
    store.close()
    return info


def open_window(qtbot: QtBot, conninfo: str, tmp_path: Any) -> MainWindow:
    settings = QSettings(str(tmp_path / "memgui.ini"), QSettings.Format.IniFormat)
    window = MainWindow(pg_store(conninfo), settings=settings, select="alice")
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.loaded, timeout=WAIT_MS):
        window.show()
    qtbot.waitUntil(lambda: isinstance(window.live.watcher, FeedWatcher) and window.live.watcher.connected,
                    timeout=WAIT_MS)
    return window


def test_other_writers_show_up_through_notifications(qtbot: QtBot, conninfo: str, tmp_path: Any) -> None:
    window = open_window(qtbot, conninfo, tmp_path)
    assert "dbname=" in window.windowTitle() and "password" not in window.windowTitle()
    assert window.conversation_model.rowCount() == 1
    write_elsewhere(conninfo, "store.add_message('alice', 'assistant', 'hi Alice')\n"
                              "store.add_message('carol', 'user', 'I am new')\n"
                              "store.erase_user('bob')\nstore.set_global_context('motd', 'welcome')")
    qtbot.waitUntil(lambda: window.conversation_model.rowCount() == 2, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.users_model.user_ids() == ["alice", "carol"], timeout=WAIT_MS)
    qtbot.waitUntil(lambda: "motd" in [k for k, _v, _e in window.global_model.entries()], timeout=WAIT_MS)
    assert window.users_pane.current_user() == "alice"  # the selection stayed
    window.close()


@pytest.fixture
def own_server() -> Iterator[PgServer]:
    server = PgServer().start()
    yield server
    server.destroy()


def test_search_on_a_database_follows_other_writers(qtbot: QtBot, conninfo: str, tmp_path: Any) -> None:
    """The search pane on PostgreSQL: its index (a cache file, never in the database) is built from the store's
    API, and another process's writes, told by the change feed, bring the shown results up to date."""
    window = open_window(qtbot, conninfo, tmp_path)
    with qtbot.waitSignal(window.search.finished, timeout=WAIT_MS):
        window.search_for("hello")
    model = window.search_model

    def users() -> set[str]:
        return {h.user for h in (model.hit(r) for r in range(model.rowCount())) if h is not None}

    assert users() == {"alice", "bob"}
    write_elsewhere(conninfo, "store.add_message('carol', 'user', 'hello from carol')")
    qtbot.waitUntil(lambda: users() == {"alice", "bob", "carol"}, timeout=WAIT_MS)
    window.search_pane.select_row(model.rowCount() - 1)
    assert window.users_pane.current_user() == model.hit(model.rowCount() - 1).user  # type: ignore[union-attr]


def test_the_window_reconnects_after_a_server_restart(qtbot: QtBot, own_server: PgServer, tmp_path: Any) -> None:
    conninfo = own_server.new_database()
    seed = pg_store(conninfo)
    seed.add_message("alice", "user", "before the restart")
    seed.close()
    window = open_window(qtbot, conninfo, tmp_path)
    watcher = window.live.watcher
    assert isinstance(watcher, FeedWatcher)
    messages: list[str] = []
    watcher.statusChanged.connect(messages.append)
    own_server.stop("fast")
    qtbot.waitUntil(lambda: any("lost the connection" in m for m in messages), timeout=WAIT_MS)
    own_server.start()
    write_elsewhere(conninfo, "store.add_message('alice', 'assistant', 'while the window was away')")
    qtbot.waitUntil(lambda: any("reconnected" in m for m in messages), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.conversation_model.rowCount() == 2, timeout=WAIT_MS)  # caught up
    assert "reconnected" in window.statusBar().currentMessage() or any("reconnected" in m for m in messages)
    window.close()
