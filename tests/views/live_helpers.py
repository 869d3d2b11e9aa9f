"""Helpers of the live refresh tests: a writer in a separate process (tests/models/workers/store_writer.py,
driven by JSON lines) and a seeded store for the window to follow."""

from __future__ import annotations

import contextlib
import itertools
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, Slot
from pytestqt.qtbot import QtBot
from support.writer_process import Writer

from memgui.app import MainWindow
from memgui.models.json_tree_model import COL_VALUE, JsonTreeModel
from memgui.models.users_model import UserSummary
from memgui.store import JsonMemoryStore, build_config

WAIT_MS = 10_000



def open_store(data_dir: Path, key: str | None = None) -> JsonMemoryStore:
    overrides: dict[str, Any] = {"DATA_DIR": data_dir, "DEFAULT_TIMEZONE": "UTC", "DURABLE_WRITES": False}
    if key:
        overrides.update(ENCRYPTION_ENABLED=True, ENCRYPTION_KEY=key)
    return JsonMemoryStore(build_config(overrides, environ={}))


def seed(data_dir: Path, key: str | None = None) -> JsonMemoryStore:
    """alice (400 messages, two facts, a memory, a profile), bob and carol (a few messages), global context."""
    store = open_store(data_dir, key)
    store.add_messages("alice", [{"role": "user" if i % 2 else "assistant", "content": f"old {i}"}
                                 for i in range(400)])
    store.update_user_profile("alice", {"name": "Alice", "city": "Lyon"})
    store.add_user_fact("alice", "likes tea", "general")
    store.add_user_fact("alice", "has a cat", "pets")
    store.store_permanent_memory("alice", "met on a Tuesday", "milestones")
    for user in ("bob", "carol"):
        store.add_messages(user, [{"role": "user", "content": f"{user} {i}"} for i in range(5)])
    store.set_global_context("motd", "hello")
    store.set_global_context("sentinel", 0)
    store.flush()
    return store


def handful(times: list[float]) -> int:
    """The reloads a burst of writes at ``times`` may cost (as in the watcher tests): the first, one per
    150 ms (the longest a stream is held back), one per pause longer than the quiet time (a loaded machine
    spaces the writes out), and one for the journal written into the files afterwards."""
    pauses = sum(b - a > 0.025 for a, b in itertools.pairwise(times))
    return 3 + math.ceil((times[-1] - times[0]) / 0.15) + pauses


# -- reading the window --------------------------------------------------------------------------------------
def summary(window: MainWindow, user_id: str) -> UserSummary:
    found = window.users_model.summary(user_id)
    assert found is not None, user_id
    return found


def message(window: MainWindow, row: int) -> str | None:
    """The content of conversation row ``row`` (None while its block is fetched: the fetch is asked for)."""
    msg = window.conversation_model.message(row)
    return None if msg is None else msg.content


def last_message(window: MainWindow) -> str | None:
    return message(window, window.conversation_model.rowCount() - 1)


def top_index(model: JsonTreeModel, key: str, column: int = COL_VALUE) -> QModelIndex:
    for row in range(model.rowCount()):
        if model.index(row, 0).data() == key:
            return model.index(row, column)
    raise AssertionError(f"no key {key!r} shown")


def value(model: JsonTreeModel, key: str) -> Any:
    return next((v for k, v, _ in model.entries() if k == key), None)


def settle(qtbot: QtBot, window: MainWindow, writer: Writer, n: int) -> None:
    """Returns once the window handled every change the watcher saw before this call."""
    writer.call("set_global", key="sentinel", value=n)
    qtbot.waitUntil(lambda: value(window.global_model, "sentinel") == n, timeout=WAIT_MS)


class InsertCounter(QObject):
    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.calls = 0

    @Slot(QModelIndex, int, int)
    def count(self, _parent: QModelIndex, _first: int, _last: int) -> None:
        self.calls += 1


@contextlib.contextmanager
def no_resets(window: MainWindow, qtbot: QtBot) -> Iterator[None]:
    """Fails if any model of the window is reset inside the block (a diff exists for every change)."""
    models = (window.users_model, window.conversation_model, window.facts_model, window.memories_model,
              window.profile_model, window.global_model)
    with contextlib.ExitStack() as stack:
        for model in models:
            stack.enter_context(qtbot.assertNotEmitted(model.modelReset))
        yield
